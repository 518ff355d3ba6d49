package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gosteer/gosteer/steerlib/internal/testdirs"
)

func TestWrite(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	errBad := errors.New("bad content")
	cases := []struct {
		name     string
		path     string
		prev     string // content already at path
		validate func(string) error
		err      string
		want     string // content at path afterwards ("" absent)
	}{
		{"new file", filepath.Join(dir, "a.json"), "", nil, "", "new"},
		{"replaces", filepath.Join(dir, "b.json"), "old", nil, "", "new"},
		{"validated", filepath.Join(dir, "c.json"), "", func(tmp string) error {
			b, err := os.ReadFile(tmp)
			if err != nil || string(b) != "new" {
				return errBad
			}
			return nil
		}, "", "new"},
		{"validation fails, previous kept", filepath.Join(dir, "d.json"), "old", func(string) error { return errBad }, "does not read back", "old"},
		{"missing folder", filepath.Join(dir, "nope", "e.json"), "", nil, "folder " + filepath.Join(dir, "nope") + " does not exist", ""},
		{"read-only folder", filepath.Join(testdirs.ReadOnly(t), "f.json"), "", nil, "not writable", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.prev != "" {
				if err := os.WriteFile(c.path, []byte(c.prev), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := WriteBytes(c.path, []byte("new"), c.validate)
			if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
				t.Fatalf("err = %v, want containing %q", err, c.err)
			}
			b, rerr := os.ReadFile(c.path)
			if got := string(b); got != c.want || (c.want == "") != (rerr != nil) {
				t.Fatalf("content %q (%v), want %q", got, rerr, c.want)
			}
			if c.want != "" && c.prev == "" {
				st, _ := os.Stat(c.path)
				if st.Mode().Perm() != 0o644 {
					t.Errorf("mode %v, want 0644 (umask 022)", st.Mode().Perm())
				}
			}
			if ents, _ := os.ReadDir(filepath.Dir(c.path)); c.err == "" || strings.Contains(c.err, "read back") {
				for _, e := range ents {
					if IsTemp(e.Name()) {
						t.Errorf("temporary file %s left behind", e.Name())
					}
				}
			}
			if len(inFlight) != 0 {
				t.Errorf("%d temporary files still tracked", len(inFlight))
			}
		})
	}
}

func TestCheckDirAndTemps(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ path, err string }{
		{filepath.Join(dir, "ok.json"), ""},
		{filepath.Join(dir, "missing", "x.json"), "does not exist"},
		{dir, "is a folder"},
		{filepath.Join(testdirs.ReadOnly(t), "x.json"), "not writable"},
	} {
		err := CheckDir(c.path)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("CheckDir(%s) = %v, want containing %q", c.path, err, c.err)
		}
	}
	// A write in flight is removed by RemoveTemps.
	path := filepath.Join(dir, "slow.bin")
	var removed []string
	err := Write(path, func(f *os.File) error {
		removed = RemoveTemps()
		return errors.New("interrupted")
	}, nil)
	if err == nil || len(removed) != 1 || !IsTemp(removed[0]) {
		t.Fatalf("err %v, removed %v", err, removed)
	}
	if _, err := os.Stat(removed[0]); !os.IsNotExist(err) {
		t.Errorf("temporary file %s still exists", removed[0])
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s exists after a failed write", path)
	}
	if !SameFile(path, dir+"/./slow.bin") || SameFile(path, path+"x") {
		t.Error("SameFile")
	}
}
