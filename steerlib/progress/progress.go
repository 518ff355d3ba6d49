// Package progress reports the progress of long computations (vector
// extraction, training, the demo) to a person: a bar redrawn in place on a
// terminal, periodic lines in logs and CI, or any other display through
// New (plots/gonbplot renders the same state as an HTML bar in a notebook).
//
// A display shows, for a task of total units of which done are finished
// after elapsed time e:
//
//	done/total  100·done/total %   rate r = done/e per second   ETA (total − done)/r
//
// and is redrawn at most once per interval (rate limiting), except when a
// task starts or finishes.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Reporter receives the progress of a long computation.
type Reporter interface {
	// Start begins a task of total units (≤ 0 if unknown).
	Start(label string, total int)
	// Set reports that done units are finished.
	Set(done int)
	// Finish ends the task.
	Finish()
}

// None discards progress reports.
type None struct{}

// Start implements Reporter.
func (None) Start(string, int) {}

// Set implements Reporter.
func (None) Set(int) {}

// Finish implements Reporter.
func (None) Finish() {}

// Or returns r, or None when r is nil.
func Or(r Reporter) Reporter {
	if r == nil {
		return None{}
	}
	return r
}

// StartAt starts a task on r of which done units were finished by an
// earlier run: Display.Resume when r supports it, else Set.
func StartAt(r Reporter, label string, total, done int) {
	r.Start(label, total)
	if d, ok := r.(interface{ Resume(done int) }); ok {
		d.Resume(done)
	} else {
		r.Set(done)
	}
}

// State is the progress of a task at one moment.
type State struct {
	Label       string
	Total, Done int
	// Base is what was done before this run started (a resumed run): rate
	// and ETA count only Done − Base.
	Base    int
	Elapsed time.Duration
	// Note is appended to the line (e.g. "loss 1.234").
	Note string
}

// Line renders "label 45/100  45% 3.2/s ETA 17s elapsed 14s note" (the
// count only when the total is unknown).
func (s State) Line() string {
	el := s.Elapsed.Seconds()
	var b strings.Builder
	b.WriteString(s.Label)
	if s.Total > 0 {
		fmt.Fprintf(&b, " %d/%d %3.0f%%", s.Done, s.Total, 100*float64(s.Done)/float64(s.Total))
	} else {
		fmt.Fprintf(&b, " %d", s.Done)
	}
	if run := s.Done - s.Base; el > 0 && run > 0 {
		rate := float64(run) / el
		fmt.Fprintf(&b, " %.3g/s", rate)
		if s.Total > 0 && s.Done < s.Total {
			eta := time.Duration(float64(s.Total-s.Done) / rate * float64(time.Second))
			fmt.Fprintf(&b, " ETA %s", eta.Round(time.Second))
		}
	}
	fmt.Fprintf(&b, " elapsed %s", s.Elapsed.Round(time.Second))
	if s.Note != "" {
		b.WriteString(" " + s.Note)
	}
	return b.String()
}

// Fraction returns done/total clipped to [0, 1] (0 when the total is unknown).
func (s State) Fraction() float64 {
	if s.Total <= 0 {
		return 0
	}
	return min(1, float64(s.Done)/float64(s.Total))
}

// Display is a Reporter that hands its State to a render function, at most
// once per Interval except at Start and Finish (final is true at Finish).
// It is safe for concurrent use.
type Display struct {
	mu       sync.Mutex
	label    string
	total    int
	done     int
	base     int
	note     string
	start    time.Time
	last     time.Time
	render   func(s State, final bool)
	interval time.Duration
	// Now is the clock (time.Now by default; tests replace it).
	Now func() time.Time
}

// New returns a Display that calls render at most once per interval.
func New(interval time.Duration, render func(s State, final bool)) *Display {
	return &Display{render: render, interval: interval, Now: time.Now}
}

// Start implements Reporter.
func (d *Display) Start(label string, total int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.label, d.total, d.done, d.base, d.note = label, total, 0, 0, ""
	d.start = d.Now()
	d.show(true, false)
}

// Resume reports that a resumed task starts with done units already
// finished by an earlier run (call it right after Start): they count in the
// fraction but not in the rate.
func (d *Display) Resume(done int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done, d.base = done, done
	d.show(true, false)
}

// Note sets a short text shown after the progress (e.g. the current loss),
// from the next render on.
func (d *Display) Note(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.note = s
}

// Set implements Reporter.
func (d *Display) Set(done int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done = done
	d.show(false, false)
}

// Finish implements Reporter.
func (d *Display) Finish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.show(true, true)
}

// show renders the state when forced or when interval has passed since the
// last render.
func (d *Display) show(force, final bool) {
	now := d.Now()
	if !force && now.Sub(d.last) < d.interval {
		return
	}
	d.last = now
	d.render(State{Label: d.label, Total: d.total, Done: d.done, Base: d.base, Elapsed: now.Sub(d.start), Note: d.note}, final)
}

// Terminal returns a Display writing to w: a bar redrawn in place (carriage
// return, every 200 ms at most) when w is a terminal, and otherwise one line
// at most every 10 s (log files and CI stay readable).
func Terminal(w io.Writer) *Display {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	if !tty {
		return New(10*time.Second, func(s State, _ bool) { fmt.Fprintln(w, s.Line()) })
	}
	return New(200*time.Millisecond, func(s State, final bool) {
		const width = 30
		bar := ""
		if s.Total > 0 {
			n := int(s.Fraction() * width)
			bar = "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "] "
		}
		fmt.Fprintf(w, "\r\033[K%s%s", bar, s.Line())
		if final {
			fmt.Fprintln(w)
		}
	})
}
