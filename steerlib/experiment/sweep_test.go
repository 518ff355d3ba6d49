package experiment

import (
	"slices"
	"testing"
)

func TestDefaultCandidates(t *testing.T) {
	cases := []struct {
		layers int
		want   []int
	}{
		{4, []int{-1, 0, 2}},
		{32, []int{-1, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30}}, // Phi-3-mini
		{26, []int{-1, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25}},          // Gemma-2-2B
	}
	for _, c := range cases {
		if got := DefaultCandidates(c.layers); !slices.Equal(got, c.want) {
			t.Errorf("L=%d: %v, want %v", c.layers, got, c.want)
		}
	}
}

func TestChoose(t *testing.T) {
	type cs = CandidateScore
	cases := []struct {
		name   string
		scores []cs
		base   bool
		want   int
		score  []float64
	}{
		{"best accuracy", []cs{{Layer: NoLayer, Accuracy: 0.25}, {Layer: 2, Accuracy: 0.75}, {Layer: 4, Accuracy: 0.5}}, false, 1, []float64{0.25, 0.75, 0.5}},
		{"tie goes to no steering", []cs{{Layer: NoLayer, Accuracy: 0.5}, {Layer: 2, Accuracy: 0.5}}, false, 0, []float64{0.5, 0.5}},
		{"tie between layers goes to the earlier", []cs{{Layer: NoLayer}, {Layer: 2, Accuracy: 0.5}, {Layer: 4, Accuracy: 0.5}}, false, 1, []float64{0, 0.5, 0.5}},
		{"degenerate scores 0", []cs{{Layer: NoLayer, Accuracy: 0.25}, {Layer: 2, Accuracy: 1, Degenerate: 0.125}, {Layer: 4, Accuracy: 0.5}}, false, 2, []float64{0.25, 0, 0.5}},
		{"base model baseline", []cs{{Layer: NoLayer, Accuracy: 0.25, Degenerate: 0.25}, {Layer: 2, Accuracy: 1, Degenerate: 0.25}, {Layer: 4, Accuracy: 0.75, Degenerate: 0.5}}, true, 1, []float64{0.25, 1, 0}},
		{"instruct baseline is 0", []cs{{Layer: NoLayer, Accuracy: 0.25, Degenerate: 0.25}, {Layer: 2, Accuracy: 1, Degenerate: 0.25}}, false, 0, []float64{0, 0}},
	}
	for _, c := range cases {
		got := Choose(c.scores, c.base)
		var score []float64
		for _, s := range c.scores {
			score = append(score, s.Score)
		}
		if got != c.want || !slices.Equal(score, c.score) {
			t.Errorf("%s: chose %d scores %v, want %d %v", c.name, got, score, c.want, c.score)
		}
	}
}

func TestSampleRecords(t *testing.T) {
	recs, err := ReadRecords("testdata/validation.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	const id = "change_case:english_capital"
	a, b := sampleRecords(recs, id, 2, 42), sampleRecords(recs, id, 2, 42)
	if len(a) != 2 || a[0].Key != b[0].Key || a[1].Key != b[1].Key || a[0].Line >= a[1].Line {
		t.Fatalf("sample %v / %v", a, b)
	}
	for _, r := range a {
		if r.SteerID() != id {
			t.Errorf("sampled %s", r.SteerID())
		}
	}
	if all := sampleRecords(recs, id, 8, 42); len(all) != 3 {
		t.Errorf("n beyond the pool: %d records", len(all))
	}
}
