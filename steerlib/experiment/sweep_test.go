package experiment

import (
	"slices"
	"testing"

	"github.com/gosteer/gosteer/steerlib/vectors"
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
		{"best accuracy", []cs{{Layer: vectors.NoLayer, Accuracy: 0.25}, {Layer: 2, Accuracy: 0.75}, {Layer: 4, Accuracy: 0.5}}, false, 1, []float64{0.25, 0.75, 0.5}},
		{"tie goes to no steering", []cs{{Layer: vectors.NoLayer, Accuracy: 0.5}, {Layer: 2, Accuracy: 0.5}}, false, 0, []float64{0.5, 0.5}},
		{"tie between layers goes to the earlier", []cs{{Layer: vectors.NoLayer}, {Layer: 2, Accuracy: 0.5}, {Layer: 4, Accuracy: 0.5}}, false, 1, []float64{0, 0.5, 0.5}},
		{"degenerate scores 0", []cs{{Layer: vectors.NoLayer, Accuracy: 0.25}, {Layer: 2, Accuracy: 1, Degenerate: 0.125}, {Layer: 4, Accuracy: 0.5}}, false, 2, []float64{0.25, 0, 0.5}},
		{"base model baseline", []cs{{Layer: vectors.NoLayer, Accuracy: 0.25, Degenerate: 0.25}, {Layer: 2, Accuracy: 1, Degenerate: 0.25}, {Layer: 4, Accuracy: 0.75, Degenerate: 0.5}}, true, 1, []float64{0.25, 1, 0}},
		{"instruct baseline is 0", []cs{{Layer: vectors.NoLayer, Accuracy: 0.25, Degenerate: 0.25}, {Layer: 2, Accuracy: 1, Degenerate: 0.25}}, false, 0, []float64{0, 0}},
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

func TestCandidates(t *testing.T) {
	path := t.TempDir() + "/v.safetensors"
	writeTestSet(t, path, "keywords:existence", 8, 4) // ‖v‖ = 2, z̄ = 1.5 at every layer
	set, err := vectors.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		op     string
		layers []int
		coefs  []float64
		want   []string
	}{
		{OpClamp, []int{-1, 0, 2}, nil, []string{"none", "L0:clamp=1.5", "L2:clamp=1.5"}},
		{OpAdd, []int{-1, 1}, nil, []string{"none", "L1:add=2"}},
		{OpAdd, []int{1, 3}, []float64{-4, 8}, []string{"L1:add=-4", "L1:add=8", "L3:add=-4", "L3:add=8"}},
	}
	for _, c := range cases {
		cs, err := candidates(set, c.op, c.layers, c.coefs, 4)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range cs {
			got = append(got, x.key())
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s %v %v: %v, want %v", c.op, c.layers, c.coefs, got, c.want)
		}
	}
	for _, bad := range []struct {
		op     string
		layers []int
	}{{OpClamp, []int{4}}, {"ablate", []int{1}}} {
		if _, err := candidates(set, bad.op, bad.layers, nil, 4); err == nil {
			t.Errorf("%s %v: no error", bad.op, bad.layers)
		}
	}
	if DefaultOp("keywords:existence") != OpAdd || DefaultOp("length_constraints:number_words") != OpAdd || DefaultOp("language:response_language_kn") != OpClamp {
		t.Error("DefaultOp")
	}
}
