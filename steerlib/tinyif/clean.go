package tinyif

import (
	"fmt"
	"math"
	"strings"
	"unicode"

	"github.com/gosteer/gosteer/steerlib/model"
)

// Degenerate answers. A steered answer can pass a format check without being
// an answer (a run of quotation marks passes startend:quotation), so the
// demo counts clean passes: the answer passes the IFEval loose check, names
// the topic, and is not degenerate, where degenerate means any of
//
//   - its perplexity under the (unsteered) model itself, exp(−(1/n)·Σ log p(a_i | prompt, a_<i))
//     over its n generated tokens, is below MinPerplexity: the text is a loop
//     the model predicts almost surely;
//   - some token 3-gram occurs more than MaxTrigramRepeats times;
//   - it holds fewer than MinDistinctWords distinct words (letter runs,
//     case-folded).
//
// Why MinPerplexity = 1.05: every corpus sentence draws at least one word
// (an adjective, country, time, setting, …) uniformly from a list of 8 or
// more, and an answer has at least two sentences, so a model that learned
// the corpus puts at most about 1/4 on the greedy choice at ≥ 2 of an
// answer's ≤ 70 tokens: log-perplexity ≥ 2·ln 4/70 ≈ 0.04, perplexity ≥ 1.04
// even if every other token were certain, and the with-instruction answers
// the demo measures sit well above that (their perplexities are printed by
// `steer demo`). A loop ("InInIn…", "sssss") has nothing to choose and
// drives it towards 1.
const (
	MinPerplexity     = 1.05
	MaxTrigramRepeats = 3
	MinDistinctWords  = 6
)

// Verdict is the judgement of one steered answer.
type Verdict struct {
	Pass          bool    `json:"pass"` // IFEval loose check
	NamesTopic    bool    `json:"names_topic"`
	Perplexity    float64 `json:"perplexity"`
	MaxTrigram    int     `json:"max_trigram_count"`
	DistinctWords int     `json:"distinct_words"`
	Clean         bool    `json:"clean"` // Pass && NamesTopic && !Degenerate()
	DegenerateWhy string  `json:"degenerate,omitempty"`
}

// Degenerate reports whether the answer is degenerate (see MinPerplexity).
func (v Verdict) Degenerate() bool { return v.DegenerateWhy != "" }

// JudgeAnswer measures answer (text and generated ids; ppl its perplexity
// under the model, NaN when unknown) against the degeneracy rules; Pass and
// Clean are left to the caller, who knows the instruction.
func JudgeAnswer(topic, text string, ids []int, ppl float64) Verdict {
	v := Verdict{NamesTopic: MentionsTopic(topic, text), Perplexity: ppl, MaxTrigram: maxTrigramCount(ids),
		DistinctWords: distinctWords(text)}
	if math.IsNaN(ppl) {
		v.Perplexity = 0 // unknown (JSON has no NaN)
	}
	var why []string
	if !math.IsNaN(ppl) && ppl < MinPerplexity {
		why = append(why, fmt.Sprintf("perplexity %.3f < %.2f", ppl, MinPerplexity))
	}
	if v.MaxTrigram > MaxTrigramRepeats {
		why = append(why, fmt.Sprintf("a token 3-gram occurs %d times", v.MaxTrigram))
	}
	if v.DistinctWords < MinDistinctWords {
		why = append(why, fmt.Sprintf("%d distinct words", v.DistinctWords))
	}
	v.DegenerateWhy = strings.Join(why, "; ")
	return v
}

// maxTrigramCount returns the largest number of occurrences of one token
// 3-gram in ids.
func maxTrigramCount(ids []int) int {
	counts := map[[3]int]int{}
	best := 0
	for i := 0; i+2 < len(ids); i++ {
		k := [3]int{ids[i], ids[i+1], ids[i+2]}
		counts[k]++
		best = max(best, counts[k])
	}
	return best
}

// distinctWords counts the distinct case-folded letter runs of text.
func distinctWords(text string) int {
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		words[w] = true
	}
	return len(words)
}

// Perplexities returns, for each prompt and its generated answer ids, the
// perplexity of the answer under m (unsteered): exp of the mean negative
// log-likelihood of the answer's tokens, from model.TokenLogProbs over
// prompt + answer, at most batch rows per forward pass. An empty answer gets
// NaN.
func Perplexities(m *model.Model, prompts, answers [][]int, batch int) ([]float64, error) {
	out := make([]float64, len(prompts))
	for start := 0; start < len(prompts); start += batch {
		end := min(len(prompts), start+batch)
		rows := make([][]int, 0, end-start)
		for i := start; i < end; i++ {
			rows = append(rows, append(append([]int(nil), prompts[i]...), answers[i]...))
		}
		lps, err := m.TokenLogProbs(rows)
		if err != nil {
			return nil, fmt.Errorf("perplexity: %w", err)
		}
		for i := start; i < end; i++ {
			n := len(answers[i])
			if n == 0 {
				out[i] = math.NaN()
				continue
			}
			lp, nll := lps[i-start], 0.0
			for _, x := range lp[len(lp)-n:] {
				nll -= float64(x)
			}
			out[i] = math.Exp(nll / float64(n))
		}
	}
	return out, nil
}
