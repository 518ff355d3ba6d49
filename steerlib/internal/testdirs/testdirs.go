// Package testdirs holds folders with special properties for tests.
package testdirs

import (
	"os"
	"path/filepath"
	"testing"
)

// ReadOnly returns a folder in which this process cannot create files: a
// new 0555 folder, or /sys/fs when running as root (root ignores mode bits;
// sysfs refuses new files to everyone).
func ReadOnly(tb testing.TB) string {
	tb.Helper()
	if os.Geteuid() == 0 {
		return "/sys/fs"
	}
	d := filepath.Join(tb.TempDir(), "ro")
	if err := os.Mkdir(d, 0o555); err != nil {
		tb.Fatal(err)
	}
	return d
}
