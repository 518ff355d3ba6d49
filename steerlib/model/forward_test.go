package model

import (
	"fmt"
	"testing"
)

const tol = 1e-4

// TestForwardMatchesTransformers checks logits of the plain batch, and
// logits_padded plus every resid_post.<l> of the left-padded batch (the
// fixture captured resid_post during the padded forward), where mask is 1.
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
			res, err = m.Forward(Batch{B: B, T: T, IDs: ids, Mask: mask, Positions: pos}, ForwardOptions{Layers: layers})
			if err != nil {
				t.Fatal(err)
			}
			V, D := m.Config.VocabSize, m.Config.HiddenSize
			want, _ = ref.floats(t, "logits_padded")
			ep := relErr(res.Logits, want, func(i int) bool { return mask[i/V] == 1 })
			if ep > tol {
				t.Errorf("logits_padded rel err %.3g > %g", ep, tol)
			}
			var worstResid float64
			for l := 0; l < L; l++ {
				want, _ := ref.floats(t, fmt.Sprintf("resid_post.%d", l))
				e := relErr(res.Resid[l], want, func(i int) bool { return mask[i/D] == 1 })
				if e > tol {
					t.Errorf("resid_post.%d rel err %.3g > %g", l, e, tol)
				}
				worstResid = max(worstResid, e)
			}
			t.Logf("rel err: logits %.2g, logits_padded %.2g, worst resid_post %.2g", worst, ep, worstResid)
		})
	}
}
