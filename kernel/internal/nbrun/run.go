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
	opts, err := opts.withDefaults()
	if err != nil {
		return res, fmt.Errorf("run %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return res, fmt.Errorf("run %s: %w", path, err)
	}
	if _, err := ReadFile(abs); err != nil {
		return res, fmt.Errorf("run: %w", err)
	}
	out, err := prepareOutput(abs, opts.OutDir)
	if err != nil {
		return res, fmt.Errorf("run %s: %w", path, err)
	}
	err = execute(ctx, opts, out, &res)
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("run %s: %w", path, err)
	}
	if len(res.Problems) > 0 {
		return res, fmt.Errorf("run %s: %w", path, cellsFailed(res.Problems))
	}
	return res, nil
}

// withDefaults fills in the defaults documented on Options, looking jupyter
// up on PATH.
func (opts Options) withDefaults() (Options, error) {
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
			return opts, fmt.Errorf("jupyter not found (run `go run ./kernel install`): %w", err)
		}
		opts.Jupyter = j
	}
	return opts, nil
}

// runPaths are the files of one run: the source notebook (absolute), its
// folder, the output folder, and the executed copy and HTML written there
// under the notebook's base name.
type runPaths struct {
	notebook, srcDir, outDir string
	base, executed, html     string
}

// prepareOutput resolves the output folder for the notebook at abs (outDir,
// or "executed" beside the notebook when empty), refuses the notebook's own
// folder, creates it and removes a previous run's files, so that a stale file
// is never reported.
func prepareOutput(abs, outDir string) (runPaths, error) {
	p := runPaths{notebook: abs, srcDir: filepath.Dir(abs)}
	if outDir == "" {
		outDir = filepath.Join(p.srcDir, "executed")
	}
	var err error
	if p.outDir, err = filepath.Abs(outDir); err != nil {
		return p, err
	}
	if filepath.Clean(p.outDir) == filepath.Clean(p.srcDir) {
		return p, fmt.Errorf("output folder %s is the notebook's own folder; pick another", p.outDir)
	}
	if err := os.MkdirAll(p.outDir, 0o755); err != nil {
		return p, err
	}
	p.base = strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
	p.executed = filepath.Join(p.outDir, p.base+".ipynb")
	p.html = filepath.Join(p.outDir, p.base+".html")
	for _, f := range []string{p.executed, p.html} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return p, err
		}
	}
	return p, nil
}

// execute runs the notebook into the executed copy, records its failed cells
// and summary in res, and renders the copy to HTML; res.Executed and res.HTML
// are set once each file exists.
func execute(ctx context.Context, opts Options, p runPaths, res *Result) error {
	execArgs := []string{"nbconvert", "--to", "notebook", "--execute", "--allow-errors",
		"--ExecutePreprocessor.kernel_name=" + opts.Kernel,
		fmt.Sprintf("--ExecutePreprocessor.timeout=%d", int(opts.CellTimeout.Seconds())),
		"--output-dir", p.outDir, "--output", p.base, p.notebook}
	if err := runJupyter(ctx, opts, p.srcDir, execArgs); err != nil {
		return err
	}
	res.Executed = p.executed
	nb, err := ReadFile(p.executed)
	if err != nil {
		return fmt.Errorf("executed copy: %w", err)
	}
	res.Problems = nb.Problems()
	res.Summary = nb.Summary()
	htmlArgs := []string{"nbconvert", "--to", "html", "--output-dir", p.outDir, "--output", p.base, p.executed}
	if err := runJupyter(ctx, opts, p.srcDir, htmlArgs); err != nil {
		return fmt.Errorf("html: %w", err)
	}
	res.HTML = p.html
	return nil
}

// cellsFailed is the error for failed cells: ErrCellsFailed, their count and
// one line per cell.
func cellsFailed(problems []Problem) error {
	lines := make([]string, len(problems))
	for i, p := range problems {
		lines[i] = "  " + p.String()
	}
	return fmt.Errorf("%w (%d):\n%s", ErrCellsFailed, len(problems), strings.Join(lines, "\n"))
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
