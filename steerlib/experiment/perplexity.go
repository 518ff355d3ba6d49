package experiment

import (
	"fmt"
	"math"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
)

// Perplexity screen constants (the reference code's values).
const (
	// DegenerateBelow: a response whose perplexity is below it is degenerate
	// (repetitive text the reference LM finds trivially predictable).
	DegenerateBelow = 2.5
	// PerplexityWindow is the number of last tokens scored.
	PerplexityWindow = 1024
)

// Screen scores responses by their perplexity under a reference LM.
type Screen struct {
	Model *model.Model
	Tok   *tokenizer.Tokenizer
	// Window is the number of last tokens scored (default PerplexityWindow,
	// capped by the model's context length).
	Window int
}

// LoadScreen loads a reference LM and its tokenizer from a model folder.
func LoadScreen(dir string, opts ...model.Option) (*Screen, error) {
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("perplexity model %s: its tokenizer is needed: %w", dir, err)
	}
	m, err := model.Load(dir, opts...)
	if err != nil {
		return nil, fmt.Errorf("perplexity model %s: %w", dir, err)
	}
	return &Screen{Model: m, Tok: tok}, nil
}

// Close releases the reference LM.
func (s *Screen) Close() error { return s.Model.Close() }

// Perplexities returns the perplexity of each text: its tokens without added
// special tokens, the last Window of them, exp of the mean negative
// log-likelihood of tokens 2..T. A text of fewer than two tokens gets 1.
func (s *Screen) Perplexities(texts []string) ([]float64, error) {
	rows := make([][]int, len(texts))
	for i, t := range texts {
		ids, err := s.Tok.Encode(t, false)
		if err != nil {
			return nil, fmt.Errorf("perplexity: tokenize: %w", err)
		}
		rows[i] = ids
	}
	w := s.Window
	if w <= 0 {
		w = PerplexityWindow
	}
	return PerplexityIDs(s.Model, rows, w)
}

// PerplexityIDs returns exp(−1/(T−1)·Σ_{i=2..T} log p(tᵢ|t<ᵢ)) for each row
// of token ids, keeping each row's last window tokens (window ≤ 0: all; also
// capped by the model's context length). Rows of fewer than two tokens get 1.
// Log-probabilities are accumulated in float64. Each row runs alone, so its
// perplexity does not depend on the rows it came with (sharded and unsharded
// runs record the same value); the screen model is small next to generation.
func PerplexityIDs(m *model.Model, rows [][]int, window int) ([]float64, error) {
	cfg := m.Config
	if cfg.MaxPositions > 0 && (window <= 0 || window > cfg.MaxPositions) {
		window = cfg.MaxPositions
	}
	out := make([]float64, len(rows))
	var order []int // rows to score
	trimmed := make([][]int, len(rows))
	for i, r := range rows {
		if window > 0 && len(r) > window {
			r = r[len(r)-window:]
		}
		trimmed[i] = r
		if len(r) < 2 {
			out[i] = 1
			continue
		}
		order = append(order, i)
	}
	pad := max(cfg.Pad, 0)
	for _, i := range order {
		ppl, err := batchPerplexity(m, [][]int{trimmed[i]}, pad)
		if err != nil {
			return nil, err
		}
		out[i] = ppl[0]
	}
	return out, nil
}

// batchPerplexity runs one left-padded forward pass and scores each row.
func batchPerplexity(m *model.Model, rows [][]int, pad int) ([]float64, error) {
	b, err := model.LeftPad(rows, pad)
	if err != nil {
		return nil, fmt.Errorf("perplexity: %w", err)
	}
	res, err := m.Forward(b, model.ForwardOptions{Logits: model.LogitsAll})
	if err != nil {
		return nil, fmt.Errorf("perplexity: %w", err)
	}
	out := make([]float64, len(rows))
	for r, ids := range rows {
		at := r * res.T * res.V
		out[r] = logitsPerplexity(res.Logits[at:at+res.T*res.V], res.V, ids)
	}
	return out, nil
}

// logitsPerplexity scores ids (len ≥ 2) against one row of [T, V] logits
// whose last len(ids) positions hold them (left padding before).
func logitsPerplexity(logits []float32, v int, ids []int) float64 {
	off := len(logits)/v - len(ids)
	nll := 0.0
	for i := 1; i < len(ids); i++ {
		at := (off + i - 1) * v
		nll -= logProb(logits[at:at+v], ids[i])
	}
	return math.Exp(nll / float64(len(ids)-1))
}

// logProb returns log softmax(logits)[id] in float64.
func logProb(logits []float32, id int) float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = max(mx, float64(v))
	}
	sum := 0.0
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	return float64(logits[id]) - mx - math.Log(sum)
}

// Degenerate reports whether a perplexity marks a degenerate response.
func Degenerate(ppl float64) bool { return ppl < DegenerateBelow }
