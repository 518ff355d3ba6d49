package tinyif

import (
	"math"
	"strings"
	"testing"
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

func TestRowPerplexity(t *testing.T) {
	// Two positions of a 3-token vocabulary after a 1-token prompt: the
	// answer [2, 0] has probabilities e²/(e²+2) and 1/3.
	logits := []float32{0, 0, 2, 0, 0, 0}
	p1, p2 := math.Exp(2)/(math.Exp(2)+2), 1.0/3
	want := math.Exp(-(math.Log(p1) + math.Log(p2)) / 2)
	if got := rowPerplexity(logits, 3, 1, []int{2, 0}); math.Abs(got-want) > 1e-12 {
		t.Errorf("rowPerplexity = %v, want %v", got, want)
	}
	if got := rowPerplexity(logits, 3, 1, nil); !math.IsNaN(got) {
		t.Errorf("empty answer: %v, want NaN", got)
	}
}
