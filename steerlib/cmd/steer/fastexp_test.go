package main

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWithGODEBUG(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want []string
	}{
		{[]string{"A=1"}, []string{"A=1", "GODEBUG=cpu.fma=off"}},
		{[]string{"GODEBUG=", "A=1"}, []string{"A=1", "GODEBUG=cpu.fma=off"}},
		{[]string{"GODEBUG=x=1", "B=2", "GODEBUG=y=2"}, []string{"B=2", "GODEBUG=cpu.fma=off"}},
	} {
		if got := withGODEBUG(tc.env, fastExpGODEBUG); !slices.Equal(got, tc.want) {
			t.Errorf("withGODEBUG(%q) = %q, want %q", tc.env, got, tc.want)
		}
	}
}

// TestReexecTerminates runs the real binary with GODEBUG set to values that
// do and do not mention cpu.fma: each run must finish (no re-exec loop) and
// print the version.
func TestReexecTerminates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the steer binary")
	}
	bin := t.TempDir() + "/steer"
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = os.Environ()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, godebug := range []string{"", "madvdontneed=1", "cpu.fma=off"} {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin, "version")
		cmd.Env = withGODEBUG(os.Environ(), godebug)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil || !strings.Contains(string(out), "gosteer") {
			t.Errorf("GODEBUG=%q: steer version: %v (a re-exec loop is killed after 30 s)\n%s", godebug, err, out)
		}
	}
}
