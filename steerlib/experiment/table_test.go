package experiment

import (
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	res := func(id, cond string, strict, loose bool) Result {
		return Result{Key: id + cond, Instructions: []string{id}, Condition: cond, Strict: strict, Loose: loose}
	}
	rs := []Result{
		res("a:x", CondWithout, false, false), res("a:x", CondWithout, false, true),
		res("a:x", CondWith, true, true), res("a:x", CondWith, false, true),
		res("b:y", CondWithout, true, true), res("b:y", CondWith, true, true),
		{Key: "sweep", Instructions: []string{"a:x"}, Condition: CondWithoutSteer, Candidate: "L2:clamp=1", Loose: true}, // a search line: ignored
	}
	tb := Summarize(rs)
	if strings.Join(tb.Conditions, ",") != "without,with" || len(tb.Rows) != 2 || tb.Rows[0].ID != "a:x" {
		t.Fatalf("table %+v", tb)
	}
	cases := []struct {
		row        TableRow
		cond       string
		n, st, loo int
	}{
		{tb.Rows[0], CondWithout, 2, 0, 1},
		{tb.Rows[0], CondWith, 2, 1, 2},
		{tb.Rows[1], CondWith, 1, 1, 1},
		{tb.Overall, CondWithout, 3, 1, 2},
		{tb.Overall, CondWith, 3, 2, 3},
	}
	for _, c := range cases {
		a := c.row.Cells[c.cond]
		if a.N != c.n || a.Strict != c.st || a.Loose != c.loo {
			t.Errorf("%s %s: %+v, want n %d strict %d loose %d", c.row.ID, c.cond, a, c.n, c.st, c.loo)
		}
	}
	md := tb.Markdown()
	for _, w := range []string{"| instruction | n | w/o | w/ |", "| `a:x` | 2 | 0.500 | 1.000 |", "| **overall** | 3 | 0.667 | 1.000 |", "IFEval strict accuracy", "| `a:x` | 2 | 0.000 | 0.500 |"} {
		if !strings.Contains(md, w) {
			t.Errorf("markdown lacks %q:\n%s", w, md)
		}
	}
	csv := tb.CSV()
	if !strings.Contains(csv, "a:x,without,2,0.000,0.500,0,1\n") || !strings.Contains(csv, "overall,with,3,0.667,1.000,2,3\n") {
		t.Errorf("csv:\n%s", csv)
	}
}
