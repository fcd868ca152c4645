//go:build !unix

package results

import "os"

// lockPartial opens (creating) the partial file name. Without flock(2) there
// is no lock: two runs on one results path are not detected on this system.
func lockPartial(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
}
