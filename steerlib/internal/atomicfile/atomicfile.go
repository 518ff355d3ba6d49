// Package atomicfile writes output files so that no reader ever finds a
// partial one under the final name: the content goes to a temporary file in
// the same folder (".NAME.tmp-PID-RANDOM"), is optionally validated by the
// reader of its format, and is renamed over the final name only when
// complete. A crash or a kill leaves at most the temporary file, never a
// truncated NAME.
//
// Files are created with mode 0666 minus the process umask (usually 0644),
// like os.Create, whichever code path writes them.
//
// Temporary files in flight are tracked, so a signal handler can remove them
// (RemoveTemps) before the process exits.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// tempMarker is part of every temporary name; IsTemp recognizes it.
const tempMarker = ".tmp-"

var (
	mu       sync.Mutex
	inFlight = map[string]bool{}
)

// Write creates a temporary file next to path, lets write fill it (write
// may reopen the name with os.Create or write to the open file), runs
// validate on it when validate is not nil, and renames it to path. On any
// error the temporary file is removed and path is left as it was.
func Write(path string, write func(f *os.File) error, validate func(tmp string) error) (err error) {
	tmp, f, err := create(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
		forget(tmp)
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if validate != nil {
		if err = validate(tmp); err != nil {
			return fmt.Errorf("%s: the file written does not read back (not kept): %w", path, err)
		}
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteBytes writes data to path through a temporary file (see Write).
func WriteBytes(path string, data []byte, validate func(tmp string) error) error {
	return Write(path, func(f *os.File) error {
		if _, err := f.Write(data); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}, validate)
}

// create reserves a fresh temporary name next to path (O_EXCL, mode 0666
// before the umask) and records it as in flight.
func create(path string) (string, *os.File, error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	if base == "." || base == string(filepath.Separator) || strings.HasSuffix(path, string(filepath.Separator)) {
		return "", nil, fmt.Errorf("write %q: not a file name", path)
	}
	for range 8 {
		var r [6]byte
		if _, err := rand.Read(r[:]); err != nil {
			return "", nil, fmt.Errorf("write %s: %w", path, err)
		}
		tmp := filepath.Join(dir, "."+base+tempMarker+strconv.Itoa(os.Getpid())+"-"+hex.EncodeToString(r[:]))
		mu.Lock()
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil {
			inFlight[tmp] = true
		}
		mu.Unlock()
		if err == nil {
			return tmp, f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", nil, fmt.Errorf("write %s: %w", path, describeDirErr(dir, err))
		}
	}
	return "", nil, fmt.Errorf("write %s: could not create a temporary file", path)
}

func forget(tmp string) {
	mu.Lock()
	delete(inFlight, tmp)
	mu.Unlock()
}

// RemoveTemps removes the temporary files of writes in flight and returns
// their names. A signal handler calls it before exiting.
func RemoveTemps() []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for tmp := range inFlight {
		os.Remove(tmp)
		out = append(out, tmp)
		delete(inFlight, tmp)
	}
	return out
}

// IsTemp reports whether name (a base name or a path) is a temporary file of
// this package.
func IsTemp(name string) bool {
	b := filepath.Base(name)
	return strings.HasPrefix(b, ".") && strings.Contains(b, tempMarker)
}

// CheckDir checks, before any work is done, that path can be written: its
// folder exists, is a folder, and accepts a new file (tried with a
// temporary file that is removed at once), and path itself is not a folder.
func CheckDir(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return describeDirErr(dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a folder, not a file", path)
	}
	tmp, f, err := create(path)
	if err != nil {
		return err
	}
	f.Close()
	os.Remove(tmp)
	forget(tmp)
	return nil
}

// describeDirErr names what is wrong with an output folder.
func describeDirErr(dir string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("folder %s does not exist", dir)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("folder %s is not writable", dir)
	}
	return err
}

// SameFile reports whether a and b name the same file: the same existing
// file (os.SameFile, so links and relative paths count), or the same
// cleaned absolute path.
func SameFile(a, b string) bool {
	sa, ea := os.Stat(a)
	sb, eb := os.Stat(b)
	if ea == nil && eb == nil {
		return os.SameFile(sa, sb)
	}
	aa, e1 := filepath.Abs(a)
	ab, e2 := filepath.Abs(b)
	return e1 == nil && e2 == nil && aa == ab
}
