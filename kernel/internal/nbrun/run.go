package nbrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrCellsFailed is wrapped by Run's error when the notebook executed but
// some cell failed (see Notebook.Problems).
var ErrCellsFailed = errors.New("cells failed")

// Options configures Run. Zero values pick the defaults noted per field.
type Options struct {
	// Jupyter is the jupyter command. Default: "jupyter" from PATH.
	Jupyter string
	// OutDir receives <name>.ipynb (executed) and <name>.html. Default: the
	// "executed" folder beside the notebook. It must not be the notebook's own
	// folder (the executed copy would replace the source).
	OutDir string
	// Kernel is the Jupyter kernel name. Default: "gonb".
	Kernel string
	// CellTimeout bounds each cell's execution. Default: 30 minutes (the first
	// cell that imports GoMLX compiles it, which takes minutes on 2 cores).
	CellTimeout time.Duration
	// Log receives nbconvert's own messages. Default: io.Discard.
	Log io.Writer
}

// Result is what Run produced for one notebook.
type Result struct {
	Notebook string        // the source notebook
	Executed string        // executed copy (.ipynb); "" if nbconvert wrote none
	HTML     string        // HTML rendering of the executed copy; "" if none
	Duration time.Duration // wall time of execution and conversion
	Problems []Problem     // failed cells
	Summary  string        // outputs summary of the executed copy
}

// Run executes the notebook at path with nbconvert (errors allowed, so every
// cell runs and the executed copy is always written), renders it to HTML, and
// returns an error if nbconvert failed or if any cell failed.
func Run(ctx context.Context, path string, opts Options) (Result, error) {
	start := time.Now()
	res := Result{Notebook: path}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Kernel == "" {
		opts.Kernel = "gonb"
	}
	if opts.CellTimeout <= 0 {
		opts.CellTimeout = 30 * time.Minute
	}
	if opts.Jupyter == "" {
		j, err := exec.LookPath("jupyter")
		if err != nil {
			return res, fmt.Errorf("run %s: jupyter not found (run `go run ./kernel install`): %w", path, err)
		}
		opts.Jupyter = j
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return res, fmt.Errorf("run %s: %w", path, err)
	}
	if _, err := ReadFile(abs); err != nil {
		return res, fmt.Errorf("run: %w", err)
	}
	srcDir := filepath.Dir(abs)
	outDir := opts.OutDir
	if outDir == "" {
		outDir = filepath.Join(srcDir, "executed")
	}
	if outDir, err = filepath.Abs(outDir); err != nil {
		return res, fmt.Errorf("run %s: %w", path, err)
	}
	if filepath.Clean(outDir) == filepath.Clean(srcDir) {
		return res, fmt.Errorf("run %s: output folder %s is the notebook's own folder; pick another", path, outDir)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return res, fmt.Errorf("run %s: %w", path, err)
	}
	base := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
	executed := filepath.Join(outDir, base+".ipynb")
	html := filepath.Join(outDir, base+".html")
	for _, p := range []string{executed, html} { // never report a stale file
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return res, fmt.Errorf("run %s: %w", path, err)
		}
	}

	execArgs := []string{"nbconvert", "--to", "notebook", "--execute", "--allow-errors",
		"--ExecutePreprocessor.kernel_name=" + opts.Kernel,
		fmt.Sprintf("--ExecutePreprocessor.timeout=%d", int(opts.CellTimeout.Seconds())),
		"--output-dir", outDir, "--output", base, abs}
	if err := runJupyter(ctx, opts, srcDir, execArgs); err != nil {
		res.Duration = time.Since(start)
		return res, fmt.Errorf("run %s: %w", path, err)
	}
	res.Executed = executed
	nb, err := ReadFile(executed)
	if err != nil {
		res.Duration = time.Since(start)
		return res, fmt.Errorf("run %s: executed copy: %w", path, err)
	}
	res.Problems = nb.Problems()
	res.Summary = nb.Summary()

	htmlArgs := []string{"nbconvert", "--to", "html", "--output-dir", outDir, "--output", base, executed}
	if err := runJupyter(ctx, opts, srcDir, htmlArgs); err != nil {
		res.Duration = time.Since(start)
		return res, fmt.Errorf("run %s: html: %w", path, err)
	}
	res.HTML = html
	res.Duration = time.Since(start)
	if len(res.Problems) > 0 {
		lines := make([]string, len(res.Problems))
		for i, p := range res.Problems {
			lines[i] = "  " + p.String()
		}
		return res, fmt.Errorf("run %s: %w (%d):\n%s", path, ErrCellsFailed, len(res.Problems), strings.Join(lines, "\n"))
	}
	return res, nil
}

// runJupyter runs jupyter with args in dir, copying its output to opts.Log
// and keeping the tail of it for the error message.
func runJupyter(ctx context.Context, opts Options, dir string, args []string) error {
	var tail tailBuffer
	cmd := exec.CommandContext(ctx, opts.Jupyter, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOSTEER_HEADLESS=1") // notebooks skip widgets (no browser)
	cmd.Stdout = io.MultiWriter(opts.Log, &tail)
	cmd.Stderr = io.MultiWriter(opts.Log, &tail)
	// On cancellation, interrupt rather than kill nbconvert, so it shuts its
	// kernel down instead of leaving it running.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("jupyter %s: %w\n%s", args[0]+" --to "+args[2], err, tail.String())
	}
	return nil
}

// tailBuffer keeps the last few KiB written to it.
type tailBuffer struct{ b []byte }

const tailMax = 4096

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailMax {
		t.b = append([]byte(nil), t.b[len(t.b)-tailMax:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(bytes.TrimSpace(t.b)) }
