package fuzzpass

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// fuzzTime is how long each target fuzzes in the pass.
const fuzzTime = "3s"

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w+)\(f \*testing\.F\)`)

// target is one fuzz function and the package folder holding it.
type target struct{ dir, name string }

// findTargets lists the fuzz targets under root, sorted.
func findTargets(t *testing.T, root string) []target {
	var out []target
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_fuzz_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range fuzzFunc.FindAllSubmatch(src, -1) {
			out = append(out, target{filepath.Dir(p), string(m[1])})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dir+out[i].name < out[j].dir+out[j].name })
	return out
}

// TestFuzzPass runs each fuzz target for fuzzTime with one worker. A crash,
// hang or failed property fails the test with the target's output (the
// failing input is then in that package's testdata/fuzz).
func TestFuzzPass(t *testing.T) {
	if testing.Short() {
		t.Skip("the fuzz pass is skipped with -short")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	targets := findTargets(t, root)
	if len(targets) < 7 {
		t.Fatalf("found %d fuzz targets, want at least the 7 parsers' (%v)", len(targets), targets)
	}
	for _, tg := range targets {
		rel, _ := filepath.Rel(root, tg.dir)
		t.Run(rel+"/"+tg.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "go", "test", "-run=^$", "-fuzz=^"+tg.name+"$", "-fuzztime="+fuzzTime,
				"-fuzzminimizetime=5s", "-parallel=1", ".")
			cmd.Dir = tg.dir
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s: %v after %v\n%s", tg.name, err, time.Since(start).Round(time.Second), tail(out.String(), 4000))
			}
			if !strings.Contains(out.String(), "PASS") {
				t.Fatalf("%s: no PASS in the output:\n%s", tg.name, tail(out.String(), 4000))
			}
		})
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
