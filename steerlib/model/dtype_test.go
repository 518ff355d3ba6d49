package model

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
)

// TestBFloat16Compute runs a fixture with bf16 weights and activations (the
// GPU setting) and checks it stays close to the float32 reference: bf16 has
// 8 bits of mantissa, so agreement is ~1e-2, not 1e-4.
func TestBFloat16Compute(t *testing.T) {
	for _, name := range []string{"llama", "gemma2", "phi3"} {
		t.Run(name, func(t *testing.T) {
			m, err := Load(fixtureDir(name), WithDType(dtypes.BFloat16))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			ref := openReference(t, name)
			ids, shape := ref.ints(t, "input_ids")
			u, _ := ref.floats(t, "steer_u")
			layer := ref.metaInt(t, "steer_layer")
			res, err := m.Forward(Batch{B: shape[0], T: shape[1], IDs: ids}, ForwardOptions{Steer: []SteerOp{{Layer: layer, Kind: OpClamp, U: u, C: 3}}})
			if err != nil {
				t.Fatal(err)
			}
			want, _ := ref.floats(t, "logits_steer_clamp")
			e := relErr(res.Logits, want, nil)
			t.Logf("bf16 steered logits rel err %.3g", e)
			if e > 0.05 || e == 0 {
				t.Errorf("bf16 rel err %.3g, want in (0, 0.05]", e)
			}
			prompt, _ := ref.ints(t, "gen_prompt")
			if _, err := m.Generate([][]int{intsOf(prompt)}, GenerateOptions{MaxNewTokens: 4}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
