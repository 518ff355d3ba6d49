package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosteer/gosteer/kernel/internal/nbbrowser"
	"github.com/gosteer/gosteer/kernel/internal/nbrun"
	"github.com/gosteer/gosteer/kernel/internal/setup"
)

// browserArtifacts is where TestNotebooksInBrowser saves its screenshots
// (under the git-ignored out/ folder of the repository).
const browserArtifacts = "out/browser"

// requireBrowser is requireNotebooks plus Chromium: it returns Chromium's
// path, skips when it is missing, and fails instead under CI=true.
func requireBrowser(t *testing.T) string {
	t.Helper()
	requireNotebooks(t)
	p, err := nbbrowser.FindChromium()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", err)
		}
		t.Skipf("skipping browser test: %v", err)
	}
	return p
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a server's
// stdout and stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startNotebookServer runs `kernel notebook` for dir ("": notebooks/) on a
// free port of 127.0.0.1 with a random token until the test ends, and
// returns its base URL and token once the server answers.
func startNotebookServer(t *testing.T, dir string) (base, token string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	tok := make([]byte, 16)
	rand.Read(tok)
	token = hex.EncodeToString(tok)
	ctx, cancel := context.WithCancel(context.Background())
	var log syncBuffer
	done := make(chan error, 1)
	args := []string{"notebook", "-port", fmt.Sprint(port), "-token", token}
	if dir != "" {
		args = append(args, "-dir", dir)
	}
	go func() { done <- run(ctx, args, &log, &log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("kernel notebook: %v\n%s", err, log.String())
		}
	})
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(base + "/api/status?token=" + token)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, token
			}
		}
		select {
		case err := <-done:
			t.Fatalf("kernel notebook exited: %v\n%s", err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("Jupyter did not answer on %s within a minute:\n%s", base, log.String())
		}
	}
}

// imageOutputs counts the outputs of nb that a page shows as an SVG or PNG
// image: image/png, image/svg+xml, and HTML holding an <svg> element (GoNB's
// gonbui.DisplaySvg).
func imageOutputs(nb *nbrun.Notebook) int {
	n := len(nb.OutputsOf("image/png")) + len(nb.OutputsOf("image/svg+xml"))
	for _, h := range nb.OutputsOf("text/html") {
		n += strings.Count(h, "<svg")
	}
	return n
}

// TestNotebooksInBrowser runs every notebook under notebooks/ through the
// classic Jupyter UI in headless Chromium: `kernel notebook` serves them,
// the browser clicks Cell → Run All and waits, and the test requires no
// failed cell (the same criteria as `kernel run`), no error output on the
// page, and every SVG/PNG output laid out with a non-zero size. It saves a
// full-page screenshot of each notebook under out/browser/.
//
// Every notebook is run here even though TestNotebooks also executes them
// headless: nbconvert never draws a page, so only this test sees what a
// person sees. The Go build cache the headless run fills makes GoNB's
// compilations here quick; the model's work is paid twice.
func TestNotebooksInBrowser(t *testing.T) {
	chromium := requireBrowser(t)
	paths, err := filepath.Glob(filepath.Join("..", "notebooks", "*.ipynb"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no notebooks in ../notebooks (err %v)", err)
	}
	root, err := setup.RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	artifacts := filepath.Join(root, browserArtifacts)
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	base, token := startNotebookServer(t, "")
	b, err := nbbrowser.Start(context.Background(), chromium, 1280, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t.Logf("screenshots: %s", artifacts)
	for _, p := range paths {
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			before, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			res, err := b.Run(name, base, token, 30*time.Minute, func(line string) { t.Log(line) })
			if res.Screenshot != nil {
				shot := filepath.Join(artifacts, strings.TrimSuffix(name, ".ipynb")+".png")
				if err := os.WriteFile(shot, res.Screenshot, 0o644); err != nil {
					t.Error(err)
				}
				t.Logf("%s: ran in %s, screenshot %s", name, res.Duration.Round(time.Second), shot)
			}
			if err != nil {
				t.Fatal(err)
			}
			checkBrowserResult(t, res)
			if after, err := os.ReadFile(p); err != nil || !bytes.Equal(before, after) {
				t.Errorf("%s changed on disk during the browser run (err %v)", p, err)
			}
		})
	}
}

// checkBrowserResult requires no failed cell, no error output on the page,
// every image output drawn with a non-zero size, and a screenshot that
// decodes.
func checkBrowserResult(t *testing.T, res nbbrowser.Result) {
	t.Helper()
	for _, p := range res.Notebook.Problems() {
		t.Errorf("failed cell: %s\n%s", p, p.Context)
	}
	for _, e := range res.ErrorOutputs {
		t.Errorf("error output on the page: %s", e)
	}
	drawn := 0
	for _, im := range res.Images {
		if im.Width < 1 || im.Height < 1 {
			t.Errorf("cell %d: %s output drawn at %.0fx%.0f", im.Cell, im.Kind, im.Width, im.Height)
			continue
		}
		drawn++
	}
	if want := imageOutputs(res.Notebook); drawn < want {
		t.Errorf("%d SVG/PNG outputs drawn with a size, want %d (the notebook's image outputs)", drawn, want)
	}
	img, err := png.Decode(bytes.NewReader(res.Screenshot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 500 {
		t.Errorf("screenshot is %dx%d", b.Dx(), b.Dy())
	}
}

// TestBrowserTestdata runs the notebooks of testdata/ through the browser:
// the failing ones must be found failing — a compile error (an error output
// on the page) and a panic (GoNB's "exit status 2" on stderr) — and
// charts.ipynb, every chart kind of package plots and the token view, must
// pass with all its images drawn (its screenshot: out/browser/charts.png).
func TestBrowserTestdata(t *testing.T) {
	chromium := requireBrowser(t)
	base, token := startNotebookServer(t, "testdata")
	b, err := nbbrowser.Start(context.Background(), chromium, 1280, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tests := []struct {
		notebook  string
		problem   string // in a Problem; "" for none
		pageError bool   // an error output is drawn on the page
		images    int    // SVG/PNG outputs drawn, at least
	}{
		{"panic.ipynb", "exit status 2", false, 0},
		{"compile_error.ipynb", `cannot use "not an int"`, true, 0},
		{"charts.ipynb", "", false, 5},
	}
	for _, tc := range tests {
		t.Run(tc.notebook, func(t *testing.T) {
			res, err := b.Run(tc.notebook, base, token, 10*time.Minute, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.problem == "" {
				checkBrowserResult(t, res)
				checkCharts(t, res, tc.images)
				return
			}
			var found bool
			for _, p := range res.Notebook.Problems() {
				found = found || strings.Contains(p.String()+"\n"+p.Context, tc.problem)
			}
			if !found {
				t.Errorf("problems %v lack %q", res.Notebook.Problems(), tc.problem)
			}
			if got := len(res.ErrorOutputs) > 0; got != tc.pageError {
				t.Errorf("error outputs on the page: %q, want some: %v", res.ErrorOutputs, tc.pageError)
			}
		})
	}
}

// checkCharts requires at least want images drawn and the token view among
// the outputs, and saves the screenshot as out/browser/charts.png.
func checkCharts(t *testing.T, res nbbrowser.Result, want int) {
	t.Helper()
	if len(res.Images) < want {
		t.Errorf("%d images drawn, want at least %d", len(res.Images), want)
	}
	tokens := false
	for _, h := range res.Notebook.OutputsOf("text/html") {
		tokens = tokens || strings.Contains(h, `class="gosteer-tokens"`)
	}
	if !tokens {
		t.Error("no token view among the outputs")
	}
	root, err := setup.RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(root, browserArtifacts, "charts.png")
	if err := os.MkdirAll(filepath.Dir(shot), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shot, res.Screenshot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", shot)
}
