//go:build unix

package results

import (
	"errors"
	"os"
	"syscall"
)

// lockPartial opens (creating) the partial file name and takes an exclusive
// lock on it without waiting; it returns ErrInUse when another process holds
// it. The lock goes with the process, so a killed run leaves no stale lock.
func lockPartial(name string) (*os.File, error) {
	for {
		// O_NOFOLLOW: a partial file planted as a link (say, by a pull
		// request) must not make evalgate truncate the file it points to.
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, ErrInUse
			}
			return nil, err
		}
		// Between our open and our lock the run that held the lock may have
		// renamed this file onto its results: then we locked the finished
		// results, not a partial file. Try again with a fresh one.
		locked, err1 := f.Stat()
		current, err2 := os.Stat(name)
		if err1 == nil && err2 == nil && os.SameFile(locked, current) {
			return f, nil
		}
		f.Close()
	}
}
