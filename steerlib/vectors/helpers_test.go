package vectors

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randUnit returns a random unit vector of length d (float64-normalized).
func randUnit(r *rand.Rand, d int) []float32 {
	v := make([]float64, d)
	var n float64
	for i := range v {
		v[i] = r.NormFloat64()
		n += v[i] * v[i]
	}
	n = math.Sqrt(n)
	out := make([]float32, d)
	for i := range v {
		out[i] = float32(v[i] / n)
	}
	return out
}

// testSet returns a set with the given layers, random unit directions and
// distinct statistics.
func testSet(layers []int, d int, seed uint64) *Set {
	r := rand.New(rand.NewPCG(seed, 7))
	s := &Set{ModelHint: "llama", Method: MethodMeanDiff, InstructionID: "change_case:english_lowercase",
		Hidden: d, NumLayers: 6, NPairs: 37, ChosenLayer: layers[len(layers)/2]}
	for _, l := range layers {
		s.Layers = append(s.Layers, Direction{Layer: l, U: randUnit(r, d), Norm: 1 + r.Float64(),
			ZBar: 3*r.Float64() - 1, MeanProjWithout: r.Float64() - 2, Coef: math.NaN()})
	}
	return s
}

// sameFloat compares float64s treating NaN as equal to NaN.
func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

// equalSets reports the first difference between two sets ("" if equal,
// bit-exact directions and statistics).
func equalSets(t *testing.T, got, want *Set) {
	t.Helper()
	if got.ModelHint != want.ModelHint || got.Method != want.Method || got.InstructionID != want.InstructionID ||
		got.Hidden != want.Hidden || got.NumLayers != want.NumLayers || got.NPairs != want.NPairs || got.ChosenLayer != want.ChosenLayer {
		t.Fatalf("header differs:\n got %+v\nwant %+v", *got, *want)
	}
	if len(got.Layers) != len(want.Layers) {
		t.Fatalf("%d layers, want %d", len(got.Layers), len(want.Layers))
	}
	for i := range got.Layers {
		g, w := got.Layers[i], want.Layers[i]
		if g.Layer != w.Layer || !sameFloat(g.Norm, w.Norm) || !sameFloat(g.ZBar, w.ZBar) ||
			!sameFloat(g.MeanProjWithout, w.MeanProjWithout) || !sameFloat(g.Coef, w.Coef) {
			t.Fatalf("layer %d stats differ: got %+v want %+v", w.Layer, g, w)
		}
		for j := range w.U {
			if math.Float32bits(g.U[j]) != math.Float32bits(w.U[j]) {
				t.Fatalf("layer %d: U[%d] = %v, want %v (not bit-exact)", w.Layer, j, g.U[j], w.U[j])
			}
		}
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 99)) }
