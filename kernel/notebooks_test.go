package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosteer/gosteer/kernel/internal/nbrun"
	"github.com/gosteer/gosteer/kernel/internal/setup"
)

// requireNotebooks skips the test when Jupyter or GoNB is not installed,
// except under CI=true, where .ci/run installs them first and a missing piece
// is a failure.
func requireNotebooks(t *testing.T) {
	t.Helper()
	ci := os.Getenv("CI") == "true"
	st := setup.Check("")
	if !st.Ready() {
		if ci {
			t.Fatalf("CI=true and %s missing: .ci/run must run `go run ./kernel install` first", st.Missing())
		}
		t.Skipf("skipping notebook execution: %s missing (run `go run ./kernel install`)", st.Missing())
	}
	if testing.Short() && !ci {
		t.Skip("skipping notebook execution in -short mode")
	}
}

func runKernel(t *testing.T, args ...string) (stdout string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	err = run(ctx, args, &out, &errb)
	t.Logf("kernel %s:\n%s%s", strings.Join(args, " "), out.String(), errb.String())
	return out.String(), err
}

// TestSmokeNotebook executes notebooks/00_smoke.ipynb headless through
// `kernel run` and checks what it shows: the steer version, the backend table,
// the SVG heatmap and the PNG strip plot, in the executed notebook and in its
// HTML rendering.
func TestSmokeNotebook(t *testing.T) {
	requireNotebooks(t)
	out := t.TempDir()
	stdout, err := runKernel(t, "run", "-out", out, filepath.Join("..", "notebooks", "00_smoke.ipynb"))
	if err != nil {
		t.Fatalf("kernel run: %v", err)
	}
	executed := filepath.Join(out, "00_smoke.ipynb")
	htmlPath := filepath.Join(out, "00_smoke.html")
	for _, want := range []string{"ok   ", "executed notebook: " + executed, "HTML:              " + htmlPath} {
		if !strings.Contains(stdout, want) {
			t.Errorf("kernel run output lacks %q", want)
		}
	}
	nb, err := nbrun.ReadFile(executed)
	if err != nil {
		t.Fatal(err)
	}
	if ps := nb.Problems(); len(ps) > 0 {
		t.Fatalf("executed notebook has problems: %v", ps)
	}

	var stdoutText strings.Builder
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			if o.OutputType == "stream" && o.Name == "stdout" {
				stdoutText.WriteString(string(o.Text))
			}
		}
	}
	for _, want := range []string{"gosteer ", "max |backend - plain Go| = "} {
		if !strings.Contains(stdoutText.String(), want) {
			t.Errorf("notebook stdout lacks %q:\n%s", want, stdoutText.String())
		}
	}

	var table, svg bool
	for _, h := range nb.OutputsOf("text/html") {
		if strings.Contains(h, "<table>") && strings.Contains(h, "<td>backend</td>") && strings.Contains(h, "<td>simd</td>") {
			table = true
		}
		if strings.HasPrefix(strings.TrimSpace(h), "<div><svg") && strings.Contains(h, "Cosine similarity") {
			svg = true
		}
	}
	if !table {
		t.Error("no HTML table with the backend and GOEXPERIMENT=simd rows")
	}
	if !svg {
		t.Error("no SVG heatmap output")
	}
	pngs := nb.OutputsOf("image/png")
	if len(pngs) != 1 {
		t.Fatalf("%d PNG outputs, want 1", len(pngs))
	}
	raw, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(pngs[0], "\n", ""))
	if err != nil {
		t.Fatalf("PNG output is not base64: %v", err)
	}
	if img, err := png.Decode(bytes.NewReader(raw)); err != nil {
		t.Fatalf("PNG output does not decode: %v", err)
	} else if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("PNG output is %dx%d", b.Dx(), b.Dy())
	}

	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<td>backend</td>", "Cosine similarity", "data:image/png;base64,"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("HTML rendering lacks %q", want)
		}
	}
}

// TestNotebooks executes every other notebook under notebooks/ through
// `kernel run` and requires it to succeed (no error output, no "exit status N"
// on stderr). 00_smoke.ipynb has its own, more detailed test.
func TestNotebooks(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "notebooks", "*.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	var others []string
	for _, p := range paths {
		if filepath.Base(p) != "00_smoke.ipynb" {
			others = append(others, p)
		}
	}
	if len(others) == 0 {
		t.Skip("no notebooks besides 00_smoke.ipynb")
	}
	requireNotebooks(t)
	for _, p := range others {
		t.Run(filepath.Base(p), func(t *testing.T) {
			if _, err := runKernel(t, "run", "-out", t.TempDir(), p); err != nil {
				t.Fatalf("kernel run: %v", err)
			}
		})
	}
}

// TestFailingNotebooks checks that `kernel run` fails on the ways a GoNB cell
// fails (GoNB itself reports no failure for a panic), with the executed copy
// still written and every cell run.
func TestFailingNotebooks(t *testing.T) {
	requireNotebooks(t)
	tests := []struct {
		notebook string
		want     string
	}{
		{"panic.ipynb", "cell 1: exit status: exit status 2"},
		{"compile_error.ipynb", `cannot use "not an int"`},
		{"shell_failure.ipynb", "cell 1: exit status: exit status 2"},
	}
	for _, tc := range tests {
		t.Run(tc.notebook, func(t *testing.T) {
			out := t.TempDir()
			stdout, err := runKernel(t, "run", "-out", out, filepath.Join("testdata", tc.notebook))
			if err == nil {
				t.Fatal("kernel run succeeded, want failure")
			}
			if !strings.Contains(stdout, "FAIL ") || !strings.Contains(stdout, tc.want) {
				t.Errorf("kernel run output lacks FAIL and %q", tc.want)
			}
			nb, err := nbrun.ReadFile(filepath.Join(out, strings.TrimSuffix(tc.notebook, ".ipynb")+".ipynb"))
			if err != nil {
				t.Fatal(err)
			}
			last := nb.Cells[len(nb.Cells)-1]
			if len(last.Outputs) == 0 || !strings.Contains(string(last.Outputs[0].Text), "after the failure") {
				t.Errorf("the cell after the failure did not run: %+v", last.Outputs)
			}
		})
	}
}
