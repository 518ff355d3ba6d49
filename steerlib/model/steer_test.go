package model

import (
	"math"
	"strings"
	"testing"
)

// TestSteerLogitsMatchTransformers: add (c=4) and clamp (z̄=3) after block
// steer_layer at every position match logits_steer_add / logits_steer_clamp.
func TestSteerLogitsMatchTransformers(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			m := loadFixture(t, name)
			ref := openReference(t, name)
			ids, shape := ref.ints(t, "input_ids")
			u, _ := ref.floats(t, "steer_u")
			layer := ref.metaInt(t, "steer_layer")
			batch := Batch{B: shape[0], T: shape[1], IDs: ids}
			for _, c := range []struct {
				ref string
				op  SteerOp
			}{
				{"logits_steer_add", SteerOp{Layer: layer, Kind: OpAdd, U: u, C: 4}},
				{"logits_steer_clamp", SteerOp{Layer: layer, Kind: OpClamp, U: u, C: 3}},
			} {
				res, err := m.Forward(batch, ForwardOptions{Steer: []SteerOp{c.op}, Layers: []int{layer}})
				if err != nil {
					t.Fatal(err)
				}
				want, _ := ref.floats(t, c.ref)
				if e := relErr(res.Logits, want, nil); e > tol {
					t.Errorf("%s rel err %.3g > %g", c.ref, e, tol)
				}
				if c.op.Kind == OpClamp {
					// After clamping, every position's projection on u is z̄.
					D := m.Config.HiddenSize
					for p := 0; p < batch.B*batch.T; p++ {
						var dot float64
						for d := 0; d < D; d++ {
							dot += float64(res.Resid[layer][p*D+d]) * float64(u[d])
						}
						if math.Abs(dot-3) > 1e-4 {
							t.Fatalf("clamp: projection at %d is %g, want 3", p, dot)
						}
					}
				}
			}
		})
	}
}

// TestSteerOperators checks add, clamp, ablate, their order on one layer and
// position gating on a captured residual, and that changing U/C reuses the
// compiled graph.
func TestSteerOperators(t *testing.T) {
	m := loadFixture(t, "llama")
	D := m.Config.HiddenSize
	batch, err := LeftPad([][]int{{5, 6, 7, 8}, {9, 10}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	base, err := m.Forward(batch, ForwardOptions{Layers: []int{1}, Logits: LogitsNone})
	if err != nil {
		t.Fatal(err)
	}
	u := make([]float32, D)
	u[3] = 0.6
	u[7] = 0.8
	x := base.Resid[1]
	proj := func(v []float32, p int) float64 {
		return float64(v[p*D+3])*0.6 + float64(v[p*D+7])*0.8
	}
	tests := []struct {
		name string
		ops  []SteerOp
		want func(p0 float64) float64 // expected projection after the ops
	}{
		{"add", []SteerOp{{Layer: 1, Kind: OpAdd, U: u, C: 2.5}}, func(p float64) float64 { return p + 2.5 }},
		{"clamp", []SteerOp{{Layer: 1, Kind: OpClamp, U: u, C: -1}}, func(p float64) float64 { return -1 }},
		{"ablate", []SteerOp{{Layer: 1, Kind: OpAblate, U: u}}, func(p float64) float64 { return 0 }},
		{"clamp then add", []SteerOp{{Layer: 1, Kind: OpClamp, U: u, C: 1}, {Layer: 1, Kind: OpAdd, U: u, C: 2}}, func(p float64) float64 { return 3 }},
		{"add then clamp", []SteerOp{{Layer: 1, Kind: OpAdd, U: u, C: 2}, {Layer: 1, Kind: OpClamp, U: u, C: 1}}, func(p float64) float64 { return 1 }},
		{"generated only is inactive in a forward", []SteerOp{{Layer: 1, Kind: OpAdd, U: u, C: 9, Scope: SteerGenerated}}, func(p float64) float64 { return p }},
		{"prompt only", []SteerOp{{Layer: 1, Kind: OpAdd, U: u, C: 9, Scope: SteerPrompt}}, func(p float64) float64 { return p + 9 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := m.Forward(batch, ForwardOptions{Layers: []int{1}, Logits: LogitsNone, Steer: tc.ops})
			if err != nil {
				t.Fatal(err)
			}
			for p := 0; p < batch.B*batch.T; p++ {
				if batch.Mask[p] == 0 {
					continue
				}
				got, want := proj(res.Resid[1], p), tc.want(proj(x, p))
				if math.Abs(got-want) > 1e-4 {
					t.Fatalf("position %d: projection %g, want %g", p, got, want)
				}
				// Components orthogonal to u are untouched.
				if d := res.Resid[1][p*D]; math.Abs(float64(d-x[p*D])) > 1e-6 {
					t.Fatalf("position %d: orthogonal component changed %g -> %g", p, x[p*D], d)
				}
			}
		})
	}
	// Same structure, new values: no new graph.
	n := m.NumCompiled()
	u2 := make([]float32, D)
	u2[0] = 1
	if _, err := m.Forward(batch, ForwardOptions{Layers: []int{1}, Logits: LogitsNone, Steer: []SteerOp{{Layer: 1, Kind: OpClamp, U: u2, C: 7}, {Layer: 1, Kind: OpAblate, U: u}}}); err != nil {
		t.Fatal(err)
	}
	if m.NumCompiled() != n {
		t.Errorf("changing U/C/kind compiled a new graph: %d -> %d", n, m.NumCompiled())
	}
}

func TestSteerValidation(t *testing.T) {
	m := loadFixture(t, "llama")
	D := m.Config.HiddenSize
	good := make([]float32, D)
	good[0] = 1
	nan := make([]float32, D)
	nan[1] = float32(math.NaN())
	batch := Batch{B: 1, T: 2, IDs: []int32{1, 2}}
	for _, tc := range []struct {
		name string
		op   SteerOp
		want string
	}{
		{"layer", SteerOp{Layer: 4, U: good}, "at layer 4): layer out of range: the model has 4 layers"},
		{"negative layer", SteerOp{Layer: -1, U: good}, "out of range"},
		{"dimension", SteerOp{Layer: 0, U: good[:3]}, "hidden size is 64"},
		{"nan", SteerOp{Layer: 0, U: nan}, "NaN"},
		{"kind", SteerOp{Layer: 0, U: good, Kind: 7}, "unknown kind"},
		{"inf coef", SteerOp{Layer: 0, U: good, C: float32(math.Inf(1))}, "coefficient"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Forward(batch, ForwardOptions{Steer: []SteerOp{tc.op}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want error containing %q", err, tc.want)
			}
		})
	}
}
