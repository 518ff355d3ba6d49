package vectors

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gosteer/gosteer/steerlib/model"
)

// fixtureModel loads a tiny fixture model copied by the runtime into
// steerlib/model/testdata/hf-tiny.
func fixtureModel(t *testing.T, name string) *model.Model {
	t.Helper()
	dir := filepath.Join("..", "model", "testdata", "hf-tiny", name)
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		t.Skipf("fixture %s not available: %v", name, err)
	}
	m, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// modBytes encodes a prompt as its bytes folded into the vocabulary (the
// fixtures have no tokenizer; any ids exercise the same computation).
func modBytes(vocab int) Encoder {
	return func(s string) ([]int, error) {
		ids := make([]int, len(s))
		for i := range s {
			ids[i] = int(s[i]) % vocab
		}
		return ids, nil
	}
}

// TestVectorsOnFixtureModel computes vectors from pairs on a tiny model with
// the batched, left-padded extraction and checks them against the paper's
// formulas evaluated in float64 on activations captured one prompt at a
// time (no padding, every position, the last one taken).
func TestVectorsOnFixtureModel(t *testing.T) {
	for _, arch := range []string{"llama", "gemma2"} {
		t.Run(arch, func(t *testing.T) {
			m := fixtureModel(t, arch)
			L, D := m.Config.NumLayers, m.Config.HiddenSize
			enc := modBytes(m.Config.VocabSize)
			ps := testPairs(5, "change_case:english_lowercase")
			ps[2].With = "Short."
			acc := NewAccumulator(L, D, true)
			acc.ModelHint = arch
			if err := Extract(context.Background(), acc, &SliceSource{Pairs: ps}, enc, ModelCapture(m), ExtractOptions{BatchSize: 2}); err != nil {
				t.Fatal(err)
			}
			// Compute (the notebook entry point) filters one instruction out of
			// a mixed list and gives the same vectors as Extract.
			mixed := append(testPairs(3, "punctuation:no_comma"), ps...)
			viaCompute, err := Compute(context.Background(), m, enc, mixed, ComputeOptions{BatchSize: 2, InstructionID: ps[0].InstructionID, ModelHint: arch})
			if err != nil {
				t.Fatal(err)
			}
			if viaCompute.NPairs != len(ps) || viaCompute.InstructionID != ps[0].InstructionID {
				t.Fatalf("Compute used %d pairs of %q", viaCompute.NPairs, viaCompute.InstructionID)
			}
			viaExtract, _ := acc.Vectors(MethodMeanDiff)
			equalSets(t, viaCompute, viaExtract)
			// Direct capture, one unpadded prompt at a time.
			last := func(s string) [][]float32 {
				ids, _ := enc(s)
				b := model.Batch{B: 1, T: len(ids), IDs: make([]int32, len(ids))}
				for i, id := range ids {
					b.IDs[i] = int32(id)
				}
				all := make([]int, L)
				for l := range all {
					all[l] = l
				}
				res, err := m.Forward(b, model.ForwardOptions{Layers: all, At: model.AllPositions, Logits: model.LogitsNone})
				if err != nil {
					t.Fatal(err)
				}
				out := make([][]float32, L)
				for l := range L {
					out[l] = res.Resid[l][(len(ids)-1)*D : len(ids)*D]
				}
				return out
			}
			var with, without [][][]float32
			for _, p := range ps {
				with = append(with, last(p.With))
				without = append(without, last(p.Without))
			}
			for _, method := range []string{MethodMeanDiff, MethodPCADiff} {
				worstU, worstStat := 0.0, 0.0
				s, err := acc.Vectors(method)
				if err != nil {
					t.Fatal(err)
				}
				for l := range L {
					u, norm, _, _ := refMeanDiff(with, without, l)
					if method == MethodPCADiff {
						u = refPCA(with, without, l)
					}
					var zbar, mproj, du, nu float64
					for i := range with {
						for j := range D {
							zbar += float64(with[i][l][j]) * u[j] / float64(len(with))
							mproj += float64(without[i][l][j]) * u[j] / float64(len(with))
						}
					}
					for j := range D {
						du += (float64(s.Layers[l].U[j]) - u[j]) * (float64(s.Layers[l].U[j]) - u[j])
						nu += u[j] * u[j]
					}
					worstU = math.Max(worstU, math.Sqrt(du/nu))
					if e := math.Sqrt(du / nu); e > 1e-4 {
						t.Errorf("%s layer %d: ‖U−u‖/‖u‖ = %.2e", method, l, e)
					}
					for _, c := range []struct {
						name      string
						got, want float64
					}{{"norm", s.Layers[l].Norm, norm}, {"zbar", s.Layers[l].ZBar, zbar}, {"mean_proj_without", s.Layers[l].MeanProjWithout, mproj}} {
						if c.name == "norm" && method == MethodPCADiff {
							c.want = norm // ‖v‖ is reported for both methods
						}
						worstStat = math.Max(worstStat, math.Abs(c.got-c.want)/math.Max(math.Abs(c.want), 1e-6))
						if e := math.Abs(c.got-c.want) / math.Max(math.Abs(c.want), 1e-6); e > 1e-4 {
							t.Errorf("%s layer %d: %s = %v, direct %v (rel err %.2e)", method, l, c.name, c.got, c.want, e)
						}
					}
				}
				t.Logf("%s: max rel err of U %.2e, of norm/z̄/mean_proj_without %.2e", method, worstU, worstStat)
			}
		})
	}
}
