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
	// wait says why the run is waiting, shown until waitEnd; lastWait is
	// when it was last printed.
	wait              string
	waitEnd, lastWait time.Time
	stats             Stats
}

var _ Waiter = (*Printer)(nil)

// Waiting says why calls are paused: a throttled or failing target waits
// before its retry, perhaps for as long as the service asked. Without it a
// stalled progress line looks like a hung run.
func (p *Printer) Waiting(w Wait) {
	p.mu.Lock()
	defer p.mu.Unlock()
	why := fmt.Sprintf("waiting %s to retry %s (%s", w.Delay.Round(time.Second), w.Target, w.Kind)
	switch {
	case w.Capped:
		why += fmt.Sprintf("; the service asked for %s, capped by run.max_retry_wait", w.Asked.Round(time.Second))
	case w.Asked > 0:
		why += "; Retry-After"
	}
	why += ")"
	now := time.Now()
	if why == p.wait && now.Sub(p.lastWait) < p.every() {
		return
	}
	p.wait, p.lastWait = why, now
	if end := now.Add(w.Delay); end.After(p.waitEnd) {
		p.waitEnd = end
	}
	p.print(p.stats, false)
}

// every is the least time between two progress lines.
func (p *Printer) every() time.Duration {
	switch {
	case p.Interactive:
		return 100 * time.Millisecond
	case p.Interval <= 0:
		return 5 * time.Second
	}
	return p.Interval
}

// Update is called after every record.
func (p *Printer) Update(s Stats) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats = s
	now := time.Now()
	if now.After(p.waitEnd) {
		p.wait = ""
	}
	if now.Sub(p.last) < p.every() {
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
	errs := fmt.Sprintf("%d errors", s.Errors)
	if s.Infra > 0 {
		errs += fmt.Sprintf(" (%d of the service)", s.Infra)
	}
	detail := fmt.Sprintf("%s records, %s, %d cached, %d retries, $%.4f, %.1f/s, %s",
		line, errs, s.Cached, s.Retries, s.CostUSD, rate, s.Elapsed.Round(time.Second))
	if p.wait != "" && !final {
		detail += ", " + p.wait
	}
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
