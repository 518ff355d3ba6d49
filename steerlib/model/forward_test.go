package model

import (
	"fmt"
	"math"
	"testing"
)

const tol = 1e-4

// TestForwardMatchesTransformers checks logits of the plain batch,
// logits_padded where mask is 1, and every resid_post.<l> of the run the
// fixture captured them in (the padded one where mask is 1, or for gpt2 the
// unpadded one).
func TestForwardMatchesTransformers(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			m := loadFixture(t, name)
			ref := openReference(t, name)
			ids, shape := ref.ints(t, "input_ids")
			B, T := shape[0], shape[1]
			L := m.Config.NumLayers
			res, err := m.Forward(Batch{B: B, T: T, IDs: ids}, ForwardOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want, _ := ref.floats(t, "logits")
			e := relErr(res.Logits, want, nil)
			if e > tol {
				t.Errorf("logits rel err %.3g > %g", e, tol)
			}
			worst := e

			mask, _ := ref.ints(t, "pad_mask")
			pos, _ := ref.ints(t, "pad_position_ids")
			layers := make([]int, L)
			for l := range layers {
				layers[l] = l
			}
			padded, err := m.Forward(Batch{B: B, T: T, IDs: ids, Mask: mask, Positions: pos}, ForwardOptions{Layers: layers})
			if err != nil {
				t.Fatal(err)
			}
			V, D := m.Config.VocabSize, m.Config.HiddenSize
			want, _ = ref.floats(t, "logits_padded")
			ep := relErr(padded.Logits, want, func(i int) bool { return mask[i/V] == 1 })
			if ep > tol {
				t.Errorf("logits_padded rel err %.3g > %g", ep, tol)
			}
			resid, keep := padded.Resid, func(i int) bool { return mask[i/D] == 1 }
			if !residFromPadded(name) {
				unpadded, err := m.Forward(Batch{B: B, T: T, IDs: ids}, ForwardOptions{Layers: layers, Logits: LogitsNone})
				if err != nil {
					t.Fatal(err)
				}
				resid, keep = unpadded.Resid, nil
			}
			var worstResid float64
			for l := 0; l < L; l++ {
				want, _ := ref.floats(t, fmt.Sprintf("resid_post.%d", l))
				e := relErr(resid[l], want, keep)
				if e > tol {
					t.Errorf("resid_post.%d rel err %.3g > %g", l, e, tol)
				}
				worstResid = max(worstResid, e)
			}
			t.Logf("rel err: logits %.2g, logits_padded %.2g, worst resid_post %.2g", worst, ep, worstResid)
		})
	}
}

// TestPerplexityMatchesReference recomputes the gpt2 fixture's perplexity
// (exp of the mean NLL of tokens 2..T, as llm-steer-instruct's screen does)
// from Forward's logits and from TokenLogProbs, rows batched with padding.
func TestPerplexityMatchesReference(t *testing.T) {
	m := loadFixture(t, "gpt2")
	ref := openReference(t, "gpt2")
	ids, shape := ref.ints(t, "input_ids")
	want, _ := ref.floats(t, "perplexity")
	B, T, V := shape[0], shape[1], m.Config.VocabSize
	res, err := m.Forward(Batch{B: B, T: T, IDs: ids}, ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Row 1 shortened by 4 tokens, so the batch is padded: only its own tokens count.
	rows := [][]int{intsOf(ids[:T]), intsOf(ids[T+4 : 2*T])}
	lps, err := m.TokenLogProbs(rows)
	if err != nil {
		t.Fatal(err)
	}
	short, err := m.Forward(Batch{B: 1, T: T - 4, IDs: ids[T+4 : 2*T]}, ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b < B; b++ {
		fromLogits := perplexityFromLogits(res.Logits[b*T*V:(b+1)*T*V], intsOf(ids[b*T:(b+1)*T]), V)
		if e := math.Abs(fromLogits-float64(want[b])) / float64(want[b]); e > tol {
			t.Errorf("row %d: perplexity from logits %g, reference %g (rel err %.3g)", b, fromLogits, want[b], e)
		}
		if len(lps[b]) != len(rows[b])-1 {
			t.Fatalf("row %d: %d log-probs for %d tokens", b, len(lps[b]), len(rows[b]))
		}
		wantRow := fromLogits
		if b == 1 {
			wantRow = perplexityFromLogits(short.Logits, rows[1], V)
		}
		var nll float64
		for _, lp := range lps[b] {
			nll -= float64(lp)
		}
		got := math.Exp(nll / float64(len(lps[b])))
		if e := math.Abs(got-wantRow) / wantRow; e > 1e-5 {
			t.Errorf("row %d: TokenLogProbs perplexity %g, from logits %g", b, got, wantRow)
		}
	}
}

// perplexityFromLogits is exp(mean over t ≥ 1 of −log softmax(logits[t−1])[ids[t]]).
func perplexityFromLogits(logits []float32, ids []int, V int) float64 {
	var nll float64
	for t := 1; t < len(ids); t++ {
		row := logits[(t-1)*V : t*V]
		top := math.Inf(-1)
		for _, x := range row {
			top = math.Max(top, float64(x))
		}
		var sum float64
		for _, x := range row {
			sum += math.Exp(float64(x) - top)
		}
		nll -= float64(row[ids[t]]) - top - math.Log(sum)
	}
	return math.Exp(nll / float64(len(ids)-1))
}
