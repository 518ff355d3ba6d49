package experiment

import (
	"fmt"
	"math"
	"slices"

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
//
// The log-probabilities come from model.TokenLogProbs (log-softmax inside the
// graph, float32), summed in float64. Rows run in small groups of similar
// length padded on the left, at shapes fixed by each row's own length (see
// perplexityGroups), so a row's perplexity does not depend on the rows it
// came with (TestPerplexityAnyGroup checks it bit for bit).
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
	for _, group := range perplexityGroups(order, trimmed, cfg.VocabSize) {
		batch := make([][]int, len(group))
		for k, i := range group {
			batch[k] = []int{0} // a one-token filler row (no log-probs)
			if i >= 0 {
				batch[k] = trimmed[i]
			}
		}
		lps, err := m.TokenLogProbs(batch)
		if err != nil {
			return nil, fmt.Errorf("perplexity: %w", err)
		}
		for k, i := range group {
			if i >= 0 {
				out[i] = perplexityOf(lps[k])
			}
		}
	}
	return out, nil
}

// Perplexity groups: the graph holds [B, T, V] float32 logits, so a group
// holds at most perplexityGroupBytes of them (a GPT-2 row of 1024 tokens is
// 206 MB: such rows run alone), and at most perplexityGroupRows rows.
const (
	perplexityGroupBytes = 256 << 20
	perplexityGroupRows  = 4
)

// perplexityGroups splits the row indices order into groups that the model
// runs at one compiled shape each, fixed by the rows' own lengths: the rows
// of a group share their length bucket T = model.BucketLen(len), and every
// group of that bucket has the same number of rows G(T) (a power of two,
// ≤ perplexityGroupRows, G·T·V·4 ≤ perplexityGroupBytes, at least 1), the
// last one filled up with index −1 (a filler row). The float32 kernels'
// rounding depends on the shapes they run at, not on the other rows, so a
// row's perplexity is the same in any set of rows (sharded and unsharded
// runs record the same value).
func perplexityGroups(order []int, rows [][]int, vocab int) [][]int {
	order = slices.Clone(order)
	slices.SortStableFunc(order, func(a, b int) int { return len(rows[a]) - len(rows[b]) })
	var out [][]int
	for len(order) > 0 {
		T := model.BucketLen(len(rows[order[0]]))
		g := 1
		for g*2 <= perplexityGroupRows && g*2*T*max(vocab, 1)*4 <= perplexityGroupBytes {
			g *= 2
		}
		n := 0
		for n < len(order) && n < g && model.BucketLen(len(rows[order[n]])) == T {
			n++
		}
		group := append(slices.Clone(order[:n]), slices.Repeat([]int{-1}, g-n)...)
		out = append(out, group)
		order = order[n:]
	}
	return out
}

// perplexityOf returns exp(−mean) of a row's token log-probabilities,
// summed in float64.
func perplexityOf(lps []float32) float64 {
	nll := 0.0
	for _, lp := range lps {
		nll -= float64(lp)
	}
	return math.Exp(nll / float64(len(lps)))
}

// Degenerate reports whether a perplexity marks a degenerate response.
func Degenerate(ppl float64) bool { return ppl < DegenerateBelow }
