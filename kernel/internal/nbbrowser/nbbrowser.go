// Package nbbrowser runs Jupyter notebooks through the classic Jupyter
// Notebook web UI in a real, headless Chromium driven over the DevTools
// protocol (chromedp), the way a person runs them: it opens the notebook page,
// clicks Cell → Run All, waits until every cell has finished, and then reads
// what the page shows.
//
// For each notebook it reports the in-memory notebook (outputs included, as
// Jupyter.notebook.toJSON() gives it; nothing is saved to disk: autosave is
// switched off before the cells run), the error outputs drawn on the page, the
// size of every SVG and PNG output as laid out, and a full-page screenshot.
package nbbrowser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gosteer/gosteer/kernel/internal/nbrun"
)

// Flags are the Chromium switches the browser starts with (besides
// --user-data-dir, a new empty folder, and the window size): headless, no
// sandbox (containers and root), no GPU, and none of the background traffic
// a fresh profile would otherwise start (QUIC, component updates, sync).
var Flags = []string{
	"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync",
}

// FindChromium returns the path of the system Chromium (Debian's package
// installs /usr/bin/chromium), or an error naming what was looked for.
func FindChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium: no chromium, chromium-browser or google-chrome in PATH (run `go run ./kernel install`)")
}

// Browser is a running headless Chromium.
type Browser struct {
	ctx     context.Context
	cancel  context.CancelFunc
	profile string
}

// Start launches Chromium (execPath, or FindChromium's when "") with Flags,
// a new empty profile folder and a width×height window.
func Start(ctx context.Context, execPath string, width, height int) (*Browser, error) {
	if execPath == "" {
		var err error
		if execPath, err = FindChromium(); err != nil {
			return nil, err
		}
	}
	profile, err := os.MkdirTemp("", "gosteer-chromium-")
	if err != nil {
		return nil, fmt.Errorf("chromium profile: %w", err)
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(execPath), chromedp.UserDataDir(profile), chromedp.WindowSize(width, height)}
	for _, f := range Flags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		bcancel()
		acancel()
		os.RemoveAll(profile)
		return nil, fmt.Errorf("start %s: %w", execPath, err)
	}
	return &Browser{ctx: bctx, cancel: func() { bcancel(); acancel() }, profile: profile}, nil
}

// Close stops Chromium and removes its profile folder.
func (b *Browser) Close() {
	b.cancel()
	for range 50 { // Chromium's helpers may still write there for a moment
		if os.RemoveAll(b.profile) == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Image is one SVG or PNG output as laid out on the page (CSS pixels).
type Image struct {
	Cell          int // index of the cell in the notebook
	Kind          string
	Width, Height float64
}

// Result is what one notebook run through the UI produced.
type Result struct {
	// Notebook is the notebook as the page holds it after the run, outputs
	// included.
	Notebook *nbrun.Notebook
	// ErrorOutputs are the texts of the error outputs drawn on the page.
	ErrorOutputs []string
	// Images are the SVG and PNG outputs drawn on the page.
	Images []Image
	// Screenshot is a PNG of the whole page after the run.
	Screenshot []byte
	// Duration is the time from the click on Run All to the last cell's end.
	Duration time.Duration
}

// Run opens notebook (a path relative to the server's notebook folder) on
// the Jupyter server at base (e.g. http://127.0.0.1:8888) with token, runs
// all its cells through the UI, waits at most timeout for them, and reports
// the page. While the cells run, progress (if not nil) receives a line each
// time another cell finishes. The notebook's kernel is shut down before Run
// returns.
func (b *Browser) Run(notebook, base, token string, timeout time.Duration, progress func(string)) (Result, error) {
	var res Result
	tctx, cancel := chromedp.NewContext(b.ctx) // a new tab
	defer cancel()
	ctx, cancelT := context.WithTimeout(tctx, timeout+2*time.Minute)
	defer cancelT()
	u := strings.TrimSuffix(base, "/") + "/notebooks/" + (&url.URL{Path: path.Clean(notebook)}).EscapedPath() + "?token=" + url.QueryEscape(token)
	err := chromedp.Do(ctx,
		chromedp.Navigate(u),
		chromedp.Poll[chromedp.Void](jsReady, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(2*time.Minute)),
		chromedp.Evaluate[chromedp.Void](jsPrepare),
		chromedp.Click(chromedp.ID("celllink")),
		chromedp.Click(chromedp.CSS("#run_all_cells > a")),
	)
	if err != nil {
		return res, fmt.Errorf("open %s and run all cells: %w", notebook, err)
	}
	start := time.Now()
	err = waitCells(ctx, timeout, func(done, total int) {
		if progress != nil {
			progress(fmt.Sprintf("%s: %d of %d code cells finished (%s)", notebook, done, total, time.Since(start).Round(time.Second)))
		}
	})
	res.Duration = time.Since(start)
	if err != nil { // still read the page and take the screenshot, to see where it stopped
		pctx, cancelP := context.WithTimeout(tctx, time.Minute)
		defer cancelP()
		_ = b.inspect(pctx, &res)
		return res, fmt.Errorf("%s: %w", notebook, err)
	}
	if err := b.inspect(ctx, &res); err != nil {
		return res, fmt.Errorf("%s: %w", notebook, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](jsShutdown, chromedp.EvalAwaitPromise)); err != nil {
		return res, fmt.Errorf("%s: shut down kernel: %w", notebook, err)
	}
	return res, nil
}

// cellState is what jsState reports.
type cellState struct {
	Done, Total int
	Finished    bool
}

// waitCells polls the page every second until all cells have finished,
// calling progress whenever the count of finished code cells changes.
func waitCells(ctx context.Context, timeout time.Duration, progress func(done, total int)) error {
	deadline := time.Now().Add(timeout)
	last := -1
	for {
		st, err := chromedp.Run(ctx, chromedp.Evaluate[cellState](jsState))
		if err != nil {
			return fmt.Errorf("read cell state: %w", err)
		}
		if st.Done != last {
			last = st.Done
			progress(st.Done, st.Total)
		}
		if st.Finished {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cells did not finish within %s (%d of %d done)", timeout, st.Done, st.Total)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for cells: %w", ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// inspect reads the notebook, the error outputs and the image sizes off the
// page, then takes the full-page screenshot.
func (b *Browser) inspect(ctx context.Context, res *Result) error {
	var page struct {
		Notebook json.RawMessage `json:"notebook"`
		Errors   []string        `json:"errors"`
		Images   []Image         `json:"images"`
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](jsInspect))
	if err != nil {
		return fmt.Errorf("read page: %w", err)
	}
	if err := json.Unmarshal([]byte(raw), &page); err != nil {
		return fmt.Errorf("read page: %w", err)
	}
	if res.Notebook, err = nbrun.Parse(page.Notebook); err != nil {
		return fmt.Errorf("notebook from page: %w", err)
	}
	res.ErrorOutputs, res.Images = page.Errors, page.Images
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](jsUnclip)); err != nil {
		return fmt.Errorf("unclip page: %w", err)
	}
	if res.Screenshot, err = chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("body"))); err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	return nil
}

// jsReady is true once the notebook is loaded and its kernel connected.
const jsReady = `typeof Jupyter !== "undefined" && Jupyter.notebook && Jupyter.notebook._fully_loaded &&
	Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected() &&
	document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null`

// jsPrepare switches autosave off (the source notebook must stay as it is),
// clears old outputs, and lets the page close without a "leave page?" prompt.
const jsPrepare = `Jupyter.notebook.set_autosave_interval(0);
	Jupyter.notebook.clear_all_output();
	window.onbeforeunload = null;`

// jsState counts the code cells that have finished (their prompt is no
// longer "*" nor empty) and says whether all have: none is queued or running,
// at least one has run, and the kernel is idle.
const jsState = `(() => {
	const code = Jupyter.notebook.get_cells().filter(c => c.cell_type === "code");
	const done = code.filter(c => c.input_prompt_number !== "*" && c.input_prompt_number !== null).length;
	const finished = !code.some(c => c.input_prompt_number === "*") &&
		code.some(c => c.input_prompt_number !== null) &&
		document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
	return {Done: done, Total: code.length, Finished: finished};
})()`

// jsInspect returns, as a JSON string, the notebook, the texts of the error
// outputs, and the laid-out size of every SVG and PNG output.
const jsInspect = `(() => {
	const cells = Array.from(document.querySelectorAll("#notebook-container > .cell"));
	const images = [];
	cells.forEach((cell, i) => {
		cell.querySelectorAll(".output_subarea svg, .output_subarea img").forEach(e => {
			if (e.tagName.toLowerCase() === "svg" && e.parentElement.closest("svg")) return;
			const r = e.getBoundingClientRect();
			const kind = e.tagName.toLowerCase() === "svg" ? "svg" : (e.src.startsWith("data:image/png") ? "png" : "img");
			images.push({Cell: i, Kind: kind, Width: r.width, Height: r.height});
		});
	});
	const errors = Array.from(document.querySelectorAll(".output_error")).map(e => e.innerText);
	return JSON.stringify({notebook: Jupyter.notebook.toJSON(), errors: errors, images: images});
})()`

// jsUnclip lets the page grow to its content, so that a full-page screenshot
// shows every cell (the classic UI scrolls inside #site, not the window) and
// every output (it puts tall outputs in a scroll box). A style sheet with
// !important rules wins over the heights the UI's resize handler sets inline
// when the screenshot resizes the view.
const jsUnclip = `(() => {
	const st = document.createElement("style");
	st.textContent = "html, body, #site { position: static !important; height: auto !important; overflow: visible !important; }" +
		" .output_scroll { height: auto !important; max-height: none !important; overflow: visible !important; box-shadow: none !important; }";
	document.head.appendChild(st);
	window.scrollTo(0, 0);
})()`

// jsShutdown marks the notebook clean and deletes its session (stopping its
// kernel), so that closing the tab neither prompts nor leaves a kernel behind.
const jsShutdown = `new Promise(resolve => {
	Jupyter.notebook.set_dirty(false);
	Jupyter.notebook.session.delete(() => resolve(true), () => resolve(false));
})`
