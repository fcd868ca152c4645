package run

import "context"

// Sequential makes a run look at its evidence as the records arrive and stop
// calling once the verdict is settled (run.sequential). The engine knows
// nothing of verdicts: it counts the samples whose every record is written,
// in the order the dataset yields them (the caller orders them), and asks
// Look at each of Looks.
type Sequential struct {
	// Looks are the interim looks, increasing: look k is due once every
	// record of the first Looks[k] samples is written.
	Looks []int
	// Look judges the first n samples, the last of which has id last. stop
	// ends the run's calls (in-flight ones are cancelled; every record
	// already written stays). An error ends the looks, not the run: its
	// records are still worth their calls, and the verdict after the run
	// reports what failed.
	Look func(ctx context.Context, k, n int, last string) (stop bool, err error)
}

// ReasonSettled is the stop of a sequential run whose verdict was settled
// at a look: the run is complete, having called what the verdict needed.
const ReasonSettled = "verdict settled"

// looker tracks which samples are finished, in the order they were handed
// out, and says when a look is due. It lives in the goroutine that writes
// the records.
type looker struct {
	seq *Sequential
	// left counts, by rank, the records a sample still waits for; ranks
	// below frontier are finished and forgotten.
	left     map[int]int
	ids      map[int]string
	frontier int
	// due are the looks whose samples are all finished, not yet taken;
	// next is the first look not yet due.
	due  []dueLook
	next int
	// done is set once the looks are over: the run stopped, or a look failed.
	done bool
}

// dueLook is look k, whose last sample has id last.
type dueLook struct {
	k    int
	last string
}

func newLooker(s *Sequential) *looker {
	if s == nil || len(s.Looks) == 0 {
		return nil
	}
	return &looker{seq: s, left: map[int]int{}, ids: map[int]string{}}
}

// add counts a written record of job j.
func (l *looker) add(j job) {
	if l == nil || l.done {
		return
	}
	if _, ok := l.left[j.rank]; !ok {
		l.left[j.rank] = j.want
		l.ids[j.rank] = j.sample.ID
	}
	l.left[j.rank]--
	for {
		id, ok := l.ids[l.frontier]
		if !ok || l.left[l.frontier] > 0 {
			break
		}
		if l.next < len(l.seq.Looks) && l.frontier+1 == l.seq.Looks[l.next] {
			l.due = append(l.due, dueLook{l.next, id})
			l.next++
		}
		delete(l.left, l.frontier)
		delete(l.ids, l.frontier)
		l.frontier++
	}
}

// look takes the looks that are due, in order, until one stops the run; it
// reports whether the run must stop.
func (l *looker) look(ctx context.Context) bool {
	for l != nil && !l.done && len(l.due) > 0 {
		d := l.due[0]
		l.due = l.due[1:]
		stop, err := l.seq.Look(ctx, d.k, l.seq.Looks[d.k], d.last)
		// A failed look ends the looks: the caller knows why, and the
		// run goes on to its end.
		l.done = stop || err != nil
		if stop && err == nil {
			return true
		}
	}
	return false
}
