package paper

import (
	"fmt"
	"math"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
)

// DegenerateBelow is the perplexity under which a response counts as
// degenerate (the reference's threshold).
const DegenerateBelow = 2.5

// pplWindow is the number of trailing tokens a perplexity is computed over.
const pplWindow = 1024

// Perplexity scores responses under a reference language model.
type Perplexity struct {
	Model *model.Model
	Tok   *tokenizer.Tokenizer
	// BatchSize is the number of responses per forward pass (default 8).
	BatchSize int
}

// Of returns the perplexity of each text: exp of the mean negative
// log-likelihood of tokens 2..T of its last 1024 tokens (no special tokens
// added). A text of fewer than two tokens gets 1 (degenerate).
func (p *Perplexity) Of(texts []string) ([]float64, error) {
	out := make([]float64, len(texts))
	var rows [][]int
	var at []int
	for i, t := range texts {
		ids, err := p.Tok.Encode(t, false)
		if err != nil {
			return nil, fmt.Errorf("perplexity: encode: %w", err)
		}
		if len(ids) > pplWindow {
			ids = ids[len(ids)-pplWindow:]
		}
		out[i] = 1
		if len(ids) >= 2 {
			rows, at = append(rows, ids), append(at, i)
		}
	}
	bs := p.BatchSize
	if bs <= 0 {
		bs = 8
	}
	for s := 0; s < len(rows); s += bs {
		e := min(len(rows), s+bs)
		ppl, err := p.batch(rows[s:e])
		if err != nil {
			return nil, err
		}
		for k, v := range ppl {
			out[at[s+k]] = v
		}
	}
	return out, nil
}

// batch computes the perplexities of left-padded rows in one forward pass.
func (p *Perplexity) batch(rows [][]int) ([]float64, error) {
	b, err := model.LeftPad(rows, 0)
	if err != nil {
		return nil, fmt.Errorf("perplexity: %w", err)
	}
	res, err := p.Model.Forward(b, model.ForwardOptions{Logits: model.LogitsAll})
	if err != nil {
		return nil, fmt.Errorf("perplexity: %w", err)
	}
	T, V := res.T, res.V
	out := make([]float64, len(rows))
	for i, r := range rows {
		off := T - len(r)
		nll := 0.0
		for t := 0; t+1 < len(r); t++ {
			lg := res.Logits[(i*T+off+t)*V : (i*T+off+t+1)*V]
			nll -= logSoftmaxAt(lg, r[t+1])
		}
		out[i] = math.Exp(nll / float64(len(r)-1))
	}
	return out, nil
}

// logSoftmaxAt returns log softmax(logits)[k].
func logSoftmaxAt(logits []float32, k int) float64 {
	m := math.Inf(-1)
	for _, v := range logits {
		m = math.Max(m, float64(v))
	}
	s := 0.0
	for _, v := range logits {
		s += math.Exp(float64(v) - m)
	}
	return float64(logits[k]) - m - math.Log(s)
}
