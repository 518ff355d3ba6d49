package experiment

import (
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/vectors"
)

func TestCleanResponse(t *testing.T) {
	cases := []struct {
		text  string
		plain bool
		want  string
	}{
		{" An answer.\n", false, "An answer."},
		{" An answer.\nQ: Next question?\nA:", true, "An answer."},
		{" An answer with Q: inside.", false, "An answer with Q: inside."},
		{"Q: at once", true, ""},
		{"no stop", true, "no stop"},
	}
	for _, c := range cases {
		if got := cleanResponse(c.text, c.plain); got != c.want {
			t.Errorf("cleanResponse(%q, %v) = %q, want %q", c.text, c.plain, got, c.want)
		}
	}
}

func TestBatchesSplitInOrder(t *testing.T) {
	st := func(l Layer, c float64) []Steering {
		return []Steering{{ID: "x", Vector: "v", Layer: l, Op: OpAdd, Coef: c}}
	}
	units := []Unit{
		{Key: "a"}, {Key: "b", Steering: st(1, 2)}, {Key: "c"}, {Key: "d", Steering: st(1, 2)},
		{Key: "e", Steering: st(1, 3)}, {Key: "f"}, {Key: "g", Steering: []Steering{{ID: "y", Layer: vectors.NoLayer}}},
	}
	cases := []struct {
		size int
		want string
	}{
		{2, "ab cd ef g"}, // steerings mix within a batch (per-row steering)
		{3, "abc def g"},
		{0, "abcdefg"}, // default 8
		{7, "abcdefg"},
	}
	for _, c := range cases {
		var got []string
		for _, b := range (&Runner{BatchSize: c.size}).batches(units) {
			s := ""
			for _, u := range b {
				s += u.Key
			}
			got = append(got, s)
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("batch size %d: batches %q, want %q", c.size, g, c.want)
		}
	}
}
