package run

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Printer shows progress: a live bar redrawn in place on a terminal, or a
// plain line every Interval in CI logs (where \r redraws pile up as noise).
type Printer struct {
	W           io.Writer
	Interactive bool
	// Total is the number of planned records, 0 when unknown.
	Total    int
	Interval time.Duration

	mu   sync.Mutex
	last time.Time
}

// Update is called after every record.
func (p *Printer) Update(s Stats) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	every := p.Interval
	if p.Interactive {
		every = 100 * time.Millisecond
	} else if every <= 0 {
		every = 5 * time.Second
	}
	if now.Sub(p.last) < every {
		return
	}
	p.last = now
	p.print(s, false)
}

// Done prints the final line.
func (p *Printer) Done(s Stats) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.print(s, true)
}

func (p *Printer) print(s Stats, final bool) {
	line := fmt.Sprintf("%d", s.Done)
	if p.Total > 0 {
		line = fmt.Sprintf("%d/%d", s.Done, p.Total)
	}
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Done) / s.Elapsed.Seconds()
	}
	detail := fmt.Sprintf("%s records, %d errors, %d cached, %d retries, $%.4f, %.1f/s, %s",
		line, s.Errors, s.Cached, s.Retries, s.CostUSD, rate, s.Elapsed.Round(time.Second))
	if p.Interactive {
		bar := ""
		if p.Total > 0 {
			const width = 24
			n := min(width, s.Done*width/p.Total)
			bar = "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "] "
		}
		end := ""
		if final {
			end = "\n"
		}
		fmt.Fprintf(p.W, "\r\033[K%s%s%s", bar, detail, end)
		return
	}
	fmt.Fprintf(p.W, "progress: %s\n", detail)
}
