package tinyif

import (
	"math"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/model"
)

func TestJudgeAnswer(t *testing.T) {
	seq := func(n int, ids ...int) []int { // ids repeated n times
		var out []int
		for range n {
			out = append(out, ids...)
		}
		return out
	}
	cases := []struct {
		name, topic, text string
		ids               []int
		ppl               float64
		names, degenerate bool
		why               string
	}{
		{"clean", "owls", "Owls can be calm and quiet at night.", []int{1, 2, 3, 4, 5, 6, 7, 8}, 1.4, true, false, ""},
		{"low perplexity", "owls", "Owls can be calm and quiet at night.", []int{1, 2, 3, 4, 5, 6, 7, 8}, 1.01, true, true, "perplexity"},
		{"unknown perplexity", "owls", "Owls can be calm and quiet at night.", []int{1, 2, 3, 4, 5, 6, 7, 8}, math.NaN(), true, false, ""},
		{"3-gram four times", "owls", "Owls can be calm and quiet at night.", seq(4, 7, 8, 9), 1.4, true, true, "3-gram occurs 4 times"},
		{"3-gram three times", "owls", "Owls can be calm and quiet at night.", seq(3, 7, 8, 9), 1.4, true, false, ""},
		{"quotation marks", "owls", `""""""""""""`, seq(1, 5, 5, 5, 5), 1.4, false, true, "0 distinct words"},
		{"five words", "harbor towns", "Harbor towns are very old.", []int{1, 2, 3, 4, 5}, 1.4, true, true, "5 distinct words"},
		{"off topic", "owls", "Kettles can be calm and quiet at night.", []int{1, 2, 3, 4, 5, 6, 7, 8}, 1.4, false, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := JudgeAnswer(c.topic, c.text, c.ids, c.ppl)
			if v.NamesTopic != c.names || v.Degenerate() != c.degenerate || !strings.Contains(v.DegenerateWhy, c.why) {
				t.Errorf("JudgeAnswer = %+v, want names topic %v, degenerate %v (%q)", v, c.names, c.degenerate, c.why)
			}
		})
	}
}

// TestPerplexities checks the in-graph perplexities (model.TokenLogProbs)
// against a log-softmax computed here from the full logits of each row run
// alone, in every batch grouping; an empty answer gets NaN.
func TestPerplexities(t *testing.T) {
	dir, err := EmbeddedModelDir()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	prompts := [][]int{{5, 9, 40, 7}, {12, 3}, {8, 8, 8, 8, 8, 8}}
	answers := [][]int{{30, 31, 32}, {100, 7, 7, 7, 7, 9}, nil}
	want := make([]float64, len(prompts))
	for i := range prompts {
		row := append(append([]int(nil), prompts[i]...), answers[i]...)
		b := model.Batch{B: 1, T: len(row), IDs: make([]int32, len(row))}
		for j, id := range row {
			b.IDs[j] = int32(id)
		}
		res, err := m.Forward(b, model.ForwardOptions{Logits: model.LogitsAll})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = math.NaN()
		if len(answers[i]) > 0 {
			nll := 0.0
			for j, id := range answers[i] {
				logits := res.Logits[(len(prompts[i])-1+j)*res.V : (len(prompts[i])+j)*res.V]
				mx := math.Inf(-1)
				for _, x := range logits {
					mx = max(mx, float64(x))
				}
				sum := 0.0
				for _, x := range logits {
					sum += math.Exp(float64(x) - mx)
				}
				nll += mx + math.Log(sum) - float64(logits[id])
			}
			want[i] = math.Exp(nll / float64(len(answers[i])))
		}
	}
	for _, batch := range []int{1, 2, 3} {
		got, err := Perplexities(m, prompts, answers, batch)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.IsNaN(want[i]) != math.IsNaN(got[i]) || math.Abs(got[i]-want[i]) > 1e-5*want[i] {
				t.Errorf("batch %d row %d: perplexity %v, want %v", batch, i, got[i], want[i])
			}
		}
	}
}
