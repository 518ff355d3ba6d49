package nbrun

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeJupyter writes a script standing in for jupyter: for "--to notebook" it
// copies executedDoc to <output-dir>/<output>.ipynb (or fails when
// executedDoc is empty); for "--to html" it writes a small HTML file.
func fakeJupyter(t *testing.T, executedDoc []byte) string {
	t.Helper()
	dir := t.TempDir()
	doc := filepath.Join(dir, "executed.json")
	if executedDoc != nil {
		if err := os.WriteFile(doc, executedDoc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `#!/bin/sh
to= out= name=
while [ $# -gt 0 ]; do
  case "$1" in
    --to) to=$2; shift;;
    --output-dir) out=$2; shift;;
    --output) name=$2; shift;;
  esac
  shift
done
case "$to" in
  notebook) [ -f '` + doc + `' ] || { echo "kernel died" >&2; exit 1; }; cp '` + doc + `' "$out/$name.ipynb";;
  html) echo '<html>ok</html>' > "$out/$name.html";;
esac
`
	p := filepath.Join(dir, "jupyter")
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeSource(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "demo.ipynb")
	if err := os.WriteFile(path, nb(`[]`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

func TestRunOutcomes(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh for the fake jupyter")
	}
	tests := []struct {
		name        string
		executed    []byte
		wantErr     string // "" for success
		wantCells   bool   // errors.Is(err, ErrCellsFailed)
		wantOutputs bool   // executed notebook and HTML written
	}{
		{"success", nb(`[{"output_type":"display_data","metadata":{},"data":{"text/html":"<table></table>"}}]`), "", false, true},
		{"panic", nb(`[{"output_type":"stream","name":"stderr","text":"panic: x\nexit status 2\n"}]`), "cell 2: exit status: exit status 2", true, true},
		{"error output", nb(`[{"output_type":"error","ename":"ERROR","evalue":"bad","traceback":[]}]`), "cell 2: error output: ERROR: bad", true, true},
		{"nbconvert fails", nil, "kernel died", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, path := writeSource(t)
			res, err := Run(context.Background(), path, Options{Jupyter: fakeJupyter(t, tc.executed)})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Run error = %v, want it to contain %q", err, tc.wantErr)
			}
			if got := errors.Is(err, ErrCellsFailed); got != tc.wantCells {
				t.Errorf("errors.Is(err, ErrCellsFailed) = %v, want %v", got, tc.wantCells)
			}
			wantExec := filepath.Join(src, "executed", "demo.ipynb")
			wantHTML := filepath.Join(src, "executed", "demo.html")
			if tc.wantOutputs {
				if res.Executed != wantExec || res.HTML != wantHTML {
					t.Errorf("outputs %q, %q; want %q, %q", res.Executed, res.HTML, wantExec, wantHTML)
				}
				for _, p := range []string{wantExec, wantHTML} {
					if _, err := os.Stat(p); err != nil {
						t.Errorf("output missing: %v", err)
					}
				}
			} else if res.Executed != "" || res.HTML != "" {
				t.Errorf("outputs %q, %q reported after a failed conversion", res.Executed, res.HTML)
			}
		})
	}
}

func TestRunRemovesStaleOutputs(t *testing.T) {
	src, path := writeSource(t)
	stale := filepath.Join(src, "executed", "demo.ipynb")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, nb(`[]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), path, Options{Jupyter: fakeJupyter(t, nil)}); err == nil {
		t.Fatal("want error from failing nbconvert")
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale executed notebook still there (stat error %v)", err)
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	src, path := writeSource(t)
	if _, err := Run(context.Background(), path, Options{Jupyter: "/bin/false", OutDir: src}); err == nil || !strings.Contains(err.Error(), "own folder") {
		t.Errorf("out dir = source dir: got %v", err)
	}
	bad := filepath.Join(src, "bad.ipynb")
	if err := os.WriteFile(bad, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), bad, Options{Jupyter: "/bin/false"}); err == nil || !strings.Contains(err.Error(), "parse notebook") {
		t.Errorf("bad notebook: got %v", err)
	}
	if _, err := Run(context.Background(), filepath.Join(src, "missing.ipynb"), Options{Jupyter: "/bin/false"}); err == nil {
		t.Error("missing notebook: want error")
	}
}
