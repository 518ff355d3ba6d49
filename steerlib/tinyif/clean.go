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
// perplexity of the answer under m (unsteered), from one forward pass per
// batch of at most batch sequences (prompt + answer, right-padded). An
// empty answer gets NaN.
func Perplexities(m *model.Model, prompts, answers [][]int, batch int) ([]float64, error) {
	out := make([]float64, len(prompts))
	for start := 0; start < len(prompts); start += batch {
		end := min(len(prompts), start+batch)
		T := 1
		for i := start; i < end; i++ {
			T = max(T, len(prompts[i])+len(answers[i]))
		}
		B := end - start
		b := model.Batch{B: B, T: T, IDs: make([]int32, B*T), Mask: make([]int32, B*T), Positions: make([]int32, B*T)}
		for i := start; i < end; i++ {
			row := append(append([]int(nil), prompts[i]...), answers[i]...)
			for j, id := range row {
				k := (i-start)*T + j
				b.IDs[k], b.Mask[k], b.Positions[k] = int32(id), 1, int32(j)
			}
		}
		res, err := m.Forward(b, model.ForwardOptions{Logits: model.LogitsAll})
		if err != nil {
			return nil, fmt.Errorf("perplexity: %w", err)
		}
		for i := start; i < end; i++ {
			out[i] = rowPerplexity(res.Logits[(i-start)*T*res.V:], res.V, len(prompts[i]), answers[i])
		}
	}
	return out, nil
}

// rowPerplexity is exp of the mean negative log-likelihood of answer, whose
// first token follows position p−1 of the row's logits [T, V].
func rowPerplexity(logits []float32, V, p int, answer []int) float64 {
	if len(answer) == 0 {
		return math.NaN()
	}
	nll := 0.0
	for j, id := range answer {
		row := logits[(p-1+j)*V : (p+j)*V]
		mx := math.Inf(-1)
		for _, x := range row {
			mx = max(mx, float64(x))
		}
		sum := 0.0
		for _, x := range row {
			sum += math.Exp(float64(x) - mx)
		}
		nll += mx + math.Log(sum) - float64(row[id])
	}
	return math.Exp(nll / float64(len(answer)))
}
