package experiment

import (
	"fmt"
	"math"
	"sort"

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

// logitsBudget bounds the logits of one screen batch (B·T·V float32 values).
const logitsBudget = 64 << 20

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
// Log-probabilities are accumulated in float64.
func PerplexityIDs(m *model.Model, rows [][]int, window int) ([]float64, error) {
	cfg := m.Config
	if cfg.MaxPositions > 0 && (window <= 0 || window > cfg.MaxPositions) {
		window = cfg.MaxPositions
	}
	out := make([]float64, len(rows))
	var order []int
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
	sort.SliceStable(order, func(a, b int) bool { return len(trimmed[order[a]]) < len(trimmed[order[b]]) })
	pad := max(cfg.Pad, 0)
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && (end-start+1)*len(trimmed[order[end]])*cfg.VocabSize <= logitsBudget {
			end++
		}
		batch := make([][]int, 0, end-start)
		for _, i := range order[start:end] {
			batch = append(batch, trimmed[i])
		}
		ppl, err := batchPerplexity(m, batch, pad)
		if err != nil {
			return nil, err
		}
		for k, i := range order[start:end] {
			out[i] = ppl[k]
		}
		start = end
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
		off := res.T - len(ids)
		nll := 0.0
		for i := 1; i < len(ids); i++ {
			at := (r*res.T + off + i - 1) * res.V
			nll -= logProb(res.Logits[at:at+res.V], ids[i])
		}
		out[r] = math.Exp(nll / float64(len(ids)-1))
	}
	return out, nil
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
