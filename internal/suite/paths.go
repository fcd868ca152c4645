package suite

import (
	"fmt"
	"io/fs"
	"os"
)

// notRegular returns why the file at path cannot be read as a file: a named
// pipe waits forever for a writer, a device such as /dev/zero never ends,
// and a directory holds no data. It returns nil for a regular file (symlinks
// followed) and the stat error when there is none.
func notRegular(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch t := fi.Mode().Type(); {
	case t&fs.ModeDir != 0:
		what = "a directory"
	case t&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case t&fs.ModeDevice != 0:
		what = "a device"
	case t&fs.ModeSocket != 0:
		what = "a socket"
	}
	return fmt.Errorf("%s is %s, not a regular file; save the content to a file and name that", path, what)
}
