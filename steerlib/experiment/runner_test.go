package experiment

import "testing"

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

func TestBatchesGroupBySteering(t *testing.T) {
	st := func(l Layer, c float64) []Steering {
		return []Steering{{ID: "x", Vector: "v", Layer: l, Op: OpAdd, Coef: c}}
	}
	units := []Unit{
		{Key: "a"}, {Key: "b", Steering: st(1, 2)}, {Key: "c"}, {Key: "d", Steering: st(1, 2)},
		{Key: "e", Steering: st(1, 3)}, {Key: "f"}, {Key: "g", Steering: []Steering{{ID: "y", Layer: NoLayer}}},
	}
	r := &Runner{BatchSize: 2}
	var got []string
	for _, b := range r.batches(units) {
		s := ""
		for _, u := range b {
			s += u.Key
		}
		got = append(got, s)
	}
	want := []string{"ac", "fg", "bd", "e"} // unsteered (and "none") together, then each steering
	if len(got) != len(want) {
		t.Fatalf("batches %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("batches %v, want %v", got, want)
		}
	}
}
