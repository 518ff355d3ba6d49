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

// throttled is the state, locking and rate limit shared by the progress
// displays; show renders the current state (force: regardless of the rate).
type throttled struct {
	mu   sync.Mutex
	st   progressState
	last time.Time
	show func(force bool)
}

func (p *throttled) init(show func(force bool)) {
	p.st.now = time.Now
	p.show = show
}

// Start implements Progress.
func (p *throttled) Start(label string, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.label, p.st.total, p.st.done = label, total, 0
	p.st.start = p.st.now()
	p.last = time.Time{}
	p.show(true)
}

// Set implements Progress.
func (p *throttled) Set(done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.done = done
	p.show(false)
}

// due reports whether to render now (forced, or at least every since the last
// render) and, if so, records the time.
func (p *throttled) due(force bool, every time.Duration) bool {
	now := p.st.now()
	if !force && now.Sub(p.last) < every {
		return false
	}
	p.last = now
	return true
}

// TerminalProgress draws a bar redrawn in place (carriage return) when its
// writer is a terminal, and otherwise prints a line at most every Interval
// (log files and CI stay readable).
type TerminalProgress struct {
	throttled
	w        io.Writer
	tty      bool
	Interval time.Duration // minimum time between lines when not a terminal (default 10 s)
}

// NewTerminalProgress returns a TerminalProgress writing to w.
func NewTerminalProgress(w io.Writer) *TerminalProgress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	t := &TerminalProgress{w: w, tty: tty, Interval: 10 * time.Second}
	t.init(t.draw)
	return t
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
	every := t.Interval
	if t.tty {
		every = 200 * time.Millisecond
	}
	if !t.due(force, every) {
		return
	}
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
	throttled
	update   func(html string)
	Interval time.Duration // minimum time between updates (default 250 ms)
}

// NewHTMLProgress returns an HTMLProgress that calls update with the bar.
func NewHTMLProgress(update func(html string)) *HTMLProgress {
	h := &HTMLProgress{update: update, Interval: 250 * time.Millisecond}
	h.init(h.render)
	return h
}

// NotebookProgress returns an HTMLProgress that updates one output block of
// the current GoNB cell.
func NotebookProgress() *HTMLProgress {
	id := "gosteer_progress_" + gonbui.UniqueID()
	return NewHTMLProgress(func(h string) { gonbui.UpdateHTML(id, h) })
}

// Finish implements Progress.
func (h *HTMLProgress) Finish() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.render(true)
}

func (h *HTMLProgress) render(force bool) {
	if !h.due(force, h.Interval) {
		return
	}
	max := h.st.total
	if max <= 0 {
		max = 1
	}
	h.update(fmt.Sprintf(`<div style="font-family:monospace"><progress value="%d" max="%d" style="width:40%%"></progress> %s</div>`,
		min(h.st.done, max), max, html.EscapeString(h.st.line())))
}
