package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestTerminalLines checks the rate limit and the lines written to a
// non-terminal writer.
func TestTerminalLines(t *testing.T) {
	now := time.Unix(1000, 0)
	var buf bytes.Buffer
	tp := Terminal(&buf) // a bytes.Buffer is not a terminal: periodic lines
	tp.Now = func() time.Time { return now }
	tp.Start("pairs", 100)
	now = now.Add(time.Second)
	tp.Set(10) // within the interval: no line
	now = now.Add(10 * time.Second)
	tp.Set(50)
	tp.Finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "pairs 0/100") || !strings.Contains(lines[1], "50/100  50%") || !strings.Contains(lines[1], "ETA 11s") {
		t.Fatalf("terminal lines:\n%s", buf.String())
	}
}

func TestStateLine(t *testing.T) {
	cases := []struct {
		s    State
		want []string
		not  []string
	}{
		{State{Label: "x", Total: 10, Done: 5, Elapsed: 5 * time.Second}, []string{"x 5/10  50%", "1/s", "ETA 5s", "elapsed 5s"}, nil},
		{State{Label: "x", Total: 0, Done: 7, Elapsed: 7 * time.Second}, []string{"x 7 ", "1/s"}, []string{"ETA", "%"}},
		{State{Label: "x", Total: 4, Done: 4, Elapsed: 2 * time.Second}, []string{"4/4 100%", "2/s"}, []string{"ETA"}},
		{State{Label: "x", Total: 4, Done: 0}, []string{"0/4   0%"}, []string{"/s", "ETA"}},
		{State{Label: "x", Total: 100, Done: 60, Base: 50, Elapsed: 10 * time.Second, Note: "loss 1.5"}, []string{"60/100  60%", " 1/s", "ETA 40s", "elapsed 10s loss 1.5"}, nil},
		{State{Label: "x", Total: 100, Done: 50, Base: 50, Elapsed: 10 * time.Second}, []string{"50/100"}, []string{"/s", "ETA"}},
	}
	for _, c := range cases {
		got := c.s.Line()
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%+v: %q lacks %q", c.s, got, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(got, w) {
				t.Errorf("%+v: %q has %q", c.s, got, w)
			}
		}
	}
	for _, c := range []struct {
		s    State
		want float64
	}{{State{Total: 4, Done: 1}, 0.25}, {State{Total: 0, Done: 3}, 0}, {State{Total: 2, Done: 5}, 1}} {
		if got := c.s.Fraction(); got != c.want {
			t.Errorf("Fraction(%+v) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestDisplayFinalAndOr(t *testing.T) {
	var finals []bool
	d := New(time.Hour, func(_ State, final bool) { finals = append(finals, final) })
	d.Start("a", 3)
	d.Set(1) // rate limited
	d.Finish()
	if len(finals) != 2 || finals[0] || !finals[1] {
		t.Fatalf("renders %v, want [false true]", finals)
	}
	var last State
	r := New(time.Hour, func(s State, _ bool) { last = s })
	r.Start("steps", 10)
	r.Resume(4)
	r.Note("loss 2")
	r.Finish()
	if last.Done != 4 || last.Base != 4 || last.Note != "loss 2" {
		t.Errorf("after Resume and Note: %+v", last)
	}
	StartAt(r, "again", 10, 3)
	if last.Done != 3 || last.Base != 3 || last.Label != "again" || last.Note != "" {
		t.Errorf("after StartAt: %+v", last)
	}
	if _, ok := Or(nil).(None); !ok {
		t.Error("Or(nil) is not None")
	}
	if Or(d) != Reporter(d) {
		t.Error("Or(d) is not d")
	}
}
