package vectors

import (
	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"golang.org/x/term"
)

// Progress reports the progress of a long computation. Implementations:
// TerminalProgress (a redrawn bar on a terminal, periodic lines otherwise),
// HTMLProgress (an updatable HTML bar, e.g. a GoNB notebook cell) and
// NoProgress.
type Progress interface {
	// Start begins a task of total units (≤ 0 if unknown).
	Start(label string, total int)
	// Set reports that done units are finished.
	Set(done int)
	// Finish ends the task.
	Finish()
}

// NoProgress discards progress reports.
type NoProgress struct{}

// Start implements Progress.
func (NoProgress) Start(string, int) {}

// Set implements Progress.
func (NoProgress) Set(int) {}

// Finish implements Progress.
func (NoProgress) Finish() {}

// AutoProgress returns an HTML bar in a GoNB notebook and a TerminalProgress
// writing to w otherwise.
func AutoProgress(w io.Writer) Progress {
	if gonbui.IsNotebook {
		return NotebookProgress()
	}
	return NewTerminalProgress(w)
}

// progressState is the bookkeeping shared by the implementations.
type progressState struct {
	label       string
	total, done int
	start       time.Time
	now         func() time.Time
}

// line renders "label  45/100  45%  3.2/s  ETA 17s" (counts only when the total is unknown).
func (p *progressState) line() string {
	el := p.now().Sub(p.start).Seconds()
	var b strings.Builder
	b.WriteString(p.label)
	if p.total > 0 {
		fmt.Fprintf(&b, " %d/%d %3.0f%%", p.done, p.total, 100*float64(p.done)/float64(p.total))
	} else {
		fmt.Fprintf(&b, " %d", p.done)
	}
	if el > 0 && p.done > 0 {
		rate := float64(p.done) / el
		fmt.Fprintf(&b, " %.3g/s", rate)
		if p.total > 0 && p.done < p.total {
			eta := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
			fmt.Fprintf(&b, " ETA %s", eta.Round(time.Second))
		}
	}
	fmt.Fprintf(&b, " elapsed %s", time.Duration(el*float64(time.Second)).Round(time.Second))
	return b.String()
}

func (p *progressState) frac() float64 {
	if p.total <= 0 {
		return 0
	}
	return min(1, float64(p.done)/float64(p.total))
}

// TerminalProgress draws a bar redrawn in place (carriage return) when its
// writer is a terminal, and otherwise prints a line at most every Interval
// (log files and CI stay readable).
type TerminalProgress struct {
	w        io.Writer
	tty      bool
	Interval time.Duration // minimum time between lines when not a terminal (default 10 s)
	mu       sync.Mutex
	st       progressState
	last     time.Time
}

// NewTerminalProgress returns a TerminalProgress writing to w.
func NewTerminalProgress(w io.Writer) *TerminalProgress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &TerminalProgress{w: w, tty: tty, Interval: 10 * time.Second, st: progressState{now: time.Now}}
}

// Start implements Progress.
func (t *TerminalProgress) Start(label string, total int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.st.label, t.st.total, t.st.done = label, total, 0
	t.st.start = t.st.now()
	t.last = time.Time{}
	t.draw(true)
}

// Set implements Progress.
func (t *TerminalProgress) Set(done int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.st.done = done
	t.draw(false)
}

// Finish implements Progress.
func (t *TerminalProgress) Finish() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.draw(true)
	if t.tty {
		fmt.Fprintln(t.w)
	}
}

func (t *TerminalProgress) draw(force bool) {
	now := t.st.now()
	every := t.Interval
	if t.tty {
		every = 200 * time.Millisecond
	}
	if !force && now.Sub(t.last) < every {
		return
	}
	t.last = now
	if !t.tty {
		fmt.Fprintln(t.w, t.st.line())
		return
	}
	const width = 30
	bar := ""
	if t.st.total > 0 {
		n := int(t.st.frac() * width)
		bar = "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "] "
	}
	fmt.Fprintf(t.w, "\r\033[K%s%s", bar, t.st.line())
}

// HTMLProgress renders an HTML progress bar and hands it to update on every
// change (throttled to Interval). In a GoNB notebook use NotebookProgress.
type HTMLProgress struct {
	update   func(html string)
	Interval time.Duration // minimum time between updates (default 250 ms)
	mu       sync.Mutex
	st       progressState
	last     time.Time
}

// NewHTMLProgress returns an HTMLProgress that calls update with the bar.
func NewHTMLProgress(update func(html string)) *HTMLProgress {
	return &HTMLProgress{update: update, Interval: 250 * time.Millisecond, st: progressState{now: time.Now}}
}

// NotebookProgress returns an HTMLProgress that updates one output block of
// the current GoNB cell.
func NotebookProgress() *HTMLProgress {
	id := "gosteer_progress_" + gonbui.UniqueID()
	return NewHTMLProgress(func(h string) { gonbui.UpdateHTML(id, h) })
}

// Start implements Progress.
func (h *HTMLProgress) Start(label string, total int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.st.label, h.st.total, h.st.done = label, total, 0
	h.st.start = h.st.now()
	h.last = time.Time{}
	h.render(true)
}

// Set implements Progress.
func (h *HTMLProgress) Set(done int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.st.done = done
	h.render(false)
}

// Finish implements Progress.
func (h *HTMLProgress) Finish() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.render(true)
}

func (h *HTMLProgress) render(force bool) {
	now := h.st.now()
	if !force && now.Sub(h.last) < h.Interval {
		return
	}
	h.last = now
	max := h.st.total
	if max <= 0 {
		max = 1
	}
	h.update(fmt.Sprintf(`<div style="font-family:monospace"><progress value="%d" max="%d" style="width:40%%"></progress> %s</div>`,
		min(h.st.done, max), max, html.EscapeString(h.st.line())))
}
