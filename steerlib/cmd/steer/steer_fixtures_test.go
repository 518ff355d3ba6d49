package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/safetensors"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// steerFixtureNames are the architectures of steerlib/model/testdata/hf-tiny.
var steerFixtureNames = []string{"llama", "llama_tied", "qwen2", "qwen3", "mistral", "phi3", "gemma2", "gemma3", "gpt2"}

// steerFixture is one fixture's reference outputs for steering.
type steerFixture struct {
	dir        string
	ref        *safetensors.File
	layer      int
	addC       float64 // logits_steer_add coefficient
	genAddC    float64 // gen_steer_add coefficient
	clampZ     float64 // clamp target of logits_steer_clamp and gen_steer_clamp
	numLayers  int
	hiddenSize int
}

func openSteerFixture(t *testing.T, name string) *steerFixture {
	t.Helper()
	dir := filepath.Join("..", "..", "model", "testdata", "hf-tiny", name)
	ref, err := safetensors.Open(filepath.Join(dir, "reference.safetensors"))
	if err != nil {
		t.Skipf("fixture %s not available: %v", name, err)
	}
	t.Cleanup(func() { ref.Close() })
	md := ref.Metadata()
	f := &steerFixture{dir: dir, ref: ref}
	num := func(k string) float64 {
		v, err := strconv.ParseFloat(md[k], 64)
		if err != nil {
			t.Fatalf("%s: metadata %s=%q: %v", name, k, md[k], err)
		}
		return v
	}
	f.layer = int(num("steer_layer"))
	f.addC, f.genAddC, f.clampZ = num("add_c"), num("gen_add_c"), num("clamp_zbar")
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := model.ParseConfig(b) // GPT-2 names them n_layer and n_embd
	if err != nil {
		t.Fatal(err)
	}
	f.numLayers, f.hiddenSize = cfg.NumLayers, cfg.HiddenSize
	return f
}

func (f *steerFixture) tensor(t *testing.T, name string) safetensors.Tensor {
	t.Helper()
	tt, ok := f.ref.Tensor(name)
	if !ok {
		t.Fatalf("reference lacks %s", name)
	}
	return tt
}

func (f *steerFixture) floats(t *testing.T, name string) []float32 {
	t.Helper()
	v, err := f.tensor(t, name).Float32s()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (f *steerFixture) ints(t *testing.T, name string) ([]int32, []int) {
	t.Helper()
	tt := f.tensor(t, name)
	v, err := tt.Int32s()
	if err != nil {
		t.Fatal(err)
	}
	return v, tt.Shape
}

// writeVectorFile stores the fixture's steer_u as direction.<steer_layer>.
func (f *steerFixture) writeVectorFile(t *testing.T, dir string) string {
	t.Helper()
	set := &vectors.Set{ModelHint: filepath.Base(f.dir), Method: vectors.MethodMeanDiff, Hidden: f.hiddenSize,
		NumLayers: f.numLayers, ChosenLayer: f.layer,
		Layers: []vectors.Direction{{Layer: f.layer, U: f.floats(t, "steer_u"), Norm: math.NaN(), ZBar: math.NaN(), MeanProjWithout: math.NaN(), Coef: math.NaN()}}}
	path := filepath.Join(dir, "u.safetensors")
	if err := set.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func sfWriteIDs(t *testing.T, path string, ids []int32, shape []int) {
	t.Helper()
	if err := safetensors.Write(path, []safetensors.Tensor{safetensors.I32("input_ids", shape, ids)}, nil); err != nil {
		t.Fatal(err)
	}
}

func sfRelErr(got, want []float32) float64 {
	var d, n float64
	for i := range want {
		e := float64(got[i]) - float64(want[i])
		d += e * e
		n += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(d / n)
}

func sfRun(t *testing.T, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("steer %v: exit %d\nstdout: %s\nstderr: %s", args, code, out.String(), errb.String())
	}
}

// TestSteerFixtures runs `steer activations` and `steer generate` with
// --steer specs on a vector file holding each fixture's steer_u and compares
// with the transformers references.
func TestSteerFixtures(t *testing.T) {
	for _, name := range steerFixtureNames {
		t.Run(name, func(t *testing.T) {
			f := openSteerFixture(t, name)
			tmp := t.TempDir()
			vec := f.writeVectorFile(t, tmp)
			L := strconv.Itoa(f.layer)
			fmtC := func(c float64) string { return strconv.FormatFloat(c, 'g', -1, 64) }

			ids, shape := f.ints(t, "input_ids")
			in := filepath.Join(tmp, "in.safetensors")
			sfWriteIDs(t, in, ids, shape)
			for _, c := range []struct{ spec, ref string }{
				{vec + "@" + L + ":add=" + fmtC(f.addC), "logits_steer_add"},
				{vec + "@" + L + ":clamp=" + fmtC(f.clampZ), "logits_steer_clamp"},
			} {
				out := filepath.Join(tmp, "out.safetensors")
				sfRun(t, "activations", "--model", f.dir, "--input", in, "--out", out, "--steer", c.spec)
				got, err := safetensors.Open(out)
				if err != nil {
					t.Fatal(err)
				}
				lt, ok := got.Tensor("logits")
				if !ok {
					t.Fatal("activations output lacks logits")
				}
				lv, err := lt.Float32s()
				if err != nil {
					t.Fatal(err)
				}
				want := f.floats(t, c.ref)
				if len(lv) != len(want) {
					t.Fatalf("%s: %d logits, reference has %d", c.ref, len(lv), len(want))
				}
				e := sfRelErr(lv, want)
				t.Logf("%s: rel err %.2e", c.ref, e)
				if e > 1e-4 {
					t.Errorf("%s: relative error %.3e > 1e-4", c.ref, e)
				}
				// Steering must matter: the unsteered logits are far from the steered reference.
				if plain := sfRelErr(f.floats(t, "logits"), want); plain < 1e-3 {
					t.Errorf("%s: reference barely differs from the unsteered logits (%.2e); the test would not detect missing steering", c.ref, plain)
				}
				got.Close()
			}

			pids, pshape := f.ints(t, "gen_prompt")
			gin := filepath.Join(tmp, "gen_in.safetensors")
			sfWriteIDs(t, gin, pids, pshape)
			for _, c := range []struct{ spec, ref string }{
				{vec + "@" + L + ":add=" + fmtC(f.genAddC), "gen_steer_add"},
				{vec + "@" + L + ":clamp=" + fmtC(f.clampZ), "gen_steer_clamp"},
			} {
				out := filepath.Join(tmp, "gen.json")
				sfRun(t, "generate", "--model", f.dir, "--input", gin, "--greedy", "--max-new-tokens", "10", "--steer", c.spec, "--out", out)
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				var res struct {
					IDs [][]int `json:"ids"`
				}
				if err := json.Unmarshal(b, &res); err != nil {
					t.Fatalf("generate output %s: %v", b, err)
				}
				want, _ := f.ints(t, c.ref)
				if len(res.IDs) != 1 || len(res.IDs[0]) != len(want) {
					t.Fatalf("%s: got %v, want %v", c.ref, res.IDs, want)
				}
				for i := range want {
					if res.IDs[0][i] != int(want[i]) {
						t.Fatalf("%s: got %v, want %v", c.ref, res.IDs[0], want)
					}
				}
			}
		})
	}
}
