package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/safetensors"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

var runtimeFixtures = []string{"llama", "llama_tied", "qwen2", "qwen3", "mistral", "phi3", "gemma2", "gemma3"}

func runtimeFixture(name string) string {
	return filepath.Join("..", "..", "model", "testdata", "hf-tiny", name)
}

// fixtureRef opens a fixture's reference.safetensors.
func fixtureRef(t *testing.T, name string) *safetensors.File {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(runtimeFixture(name), "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func refTensor(t *testing.T, f *safetensors.File, name string) safetensors.Tensor {
	t.Helper()
	x, ok := f.Tensor(name)
	if !ok {
		t.Fatalf("%s: no tensor %s", f.Path(), name)
	}
	return x
}

func refFloats(t *testing.T, f *safetensors.File, name string) []float32 {
	t.Helper()
	v, err := refTensor(t, f, name).Float32s()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func refInts(t *testing.T, f *safetensors.File, name string) ([]int32, []int) {
	t.Helper()
	x := refTensor(t, f, name)
	v, err := x.Int32s()
	if err != nil {
		t.Fatal(err)
	}
	return v, x.Shape
}

func relErrMasked(out, ref []float32, keep func(int) bool) float64 {
	var num, den float64
	for i := range ref {
		if keep != nil && !keep(i) {
			continue
		}
		d := float64(out[i]) - float64(ref[i])
		num += d * d
		den += float64(ref[i]) * float64(ref[i])
	}
	return math.Sqrt(num / den)
}

// steerVectorFile writes the fixture's steer_u as a native vector file at its
// steer_layer (z̄ = 3) and returns the path and layer.
func steerVectorFile(t *testing.T, ref *safetensors.File) (string, int) {
	t.Helper()
	layer, err := strconv.Atoi(ref.Metadata()["steer_layer"])
	if err != nil {
		t.Fatal(err)
	}
	u := refFloats(t, ref, "steer_u")
	nan := math.NaN()
	s := &vectors.Set{Hidden: len(u), ChosenLayer: vectors.NoLayer, Method: vectors.MethodMeanDiff,
		Layers: []vectors.Direction{{Layer: layer, U: u, Norm: nan, ZBar: 3, MeanProjWithout: nan, Coef: nan}}}
	path := filepath.Join(t.TempDir(), "u.safetensors")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	return path, layer
}

func runSteer(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestActivationsCLI runs `steer activations` on every fixture: plain logits,
// the left-padded batch (logits_padded and every resid_post where mask is 1)
// and steered logits through --steer.
func TestActivationsCLI(t *testing.T) {
	const tol = 1e-4
	for _, name := range runtimeFixtures {
		t.Run(name, func(t *testing.T) {
			ref := fixtureRef(t, name)
			dir := t.TempDir()
			ids, shape := refInts(t, ref, "input_ids")
			mask, _ := refInts(t, ref, "pad_mask")
			pos, _ := refInts(t, ref, "pad_position_ids")
			plainIn, paddedIn := filepath.Join(dir, "plain.safetensors"), filepath.Join(dir, "padded.safetensors")
			if err := safetensors.Write(plainIn, []safetensors.Tensor{safetensors.I32("input_ids", shape, ids)}, nil); err != nil {
				t.Fatal(err)
			}
			if err := safetensors.Write(paddedIn, []safetensors.Tensor{safetensors.I32("input_ids", shape, ids),
				safetensors.I32("attention_mask", shape, mask), safetensors.I32("position_ids", shape, pos)}, nil); err != nil {
				t.Fatal(err)
			}
			vec, layer := steerVectorFile(t, ref)
			check := func(args []string, refName string, keep func(int) bool) *safetensors.File {
				out := filepath.Join(dir, refName+".out.safetensors")
				code, _, stderr := runSteer(append([]string{"activations", "--model", runtimeFixture(name), "--out", out}, args...)...)
				if code != 0 {
					t.Fatalf("%v: exit %d: %s", args, code, stderr)
				}
				f, err := safetensors.Open(out)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
				if e := relErrMasked(refFloats(t, f, "logits"), refFloats(t, ref, refName), keep); e > tol {
					t.Errorf("%s rel err %.3g", refName, e)
				}
				return f
			}
			check([]string{"--input", plainIn}, "logits", nil)
			check([]string{"--input", plainIn, "--steer", fmt.Sprintf("%s@%d:add=4", vec, layer)}, "logits_steer_add", nil)
			check([]string{"--input", plainIn, "--steer", fmt.Sprintf("%s@%d:clamp", vec, layer)}, "logits_steer_clamp", nil)
			V := refTensor(t, ref, "logits").Shape[2]
			out := check([]string{"--input", paddedIn}, "logits_padded", func(i int) bool { return mask[i/V] == 1 })
			for l := 0; ; l++ {
				key := fmt.Sprintf("resid_post.%d", l)
				want, ok := ref.Tensor(key)
				if !ok {
					if l == 0 {
						t.Fatal("no resid_post in reference")
					}
					if _, extra := out.Tensor(key); extra {
						t.Errorf("output has %s beyond the model's layers", key)
					}
					break
				}
				got := refTensor(t, out, key)
				if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) || got.DType != safetensors.Float32 {
					t.Fatalf("%s: %s %v, want F32 %v", key, got.DType, got.Shape, want.Shape)
				}
				D := want.Shape[2]
				if e := relErrMasked(refFloats(t, out, key), refFloats(t, ref, key), func(i int) bool { return mask[i/D] == 1 }); e > tol {
					t.Errorf("%s rel err %.3g", key, e)
				}
			}
		})
	}
}

// TestRuntimeCLIErrors: bad inputs exit 1 with a clear message, no panic.
func TestRuntimeCLIErrors(t *testing.T) {
	dir := t.TempDir()
	model := runtimeFixture("llama")
	write := func(name string, ts ...safetensors.Tensor) string {
		p := filepath.Join(dir, name)
		if err := safetensors.Write(p, ts, nil); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.safetensors", safetensors.I32("input_ids", []int{1, 3}, []int32{1, 2, 3}))
	empty := write("empty.safetensors", safetensors.I32("input_ids", []int{0, 3}, nil))
	long := write("long.safetensors", safetensors.I32("input_ids", []int{1, 300}, make([]int32, 300)))
	noIDs := write("noids.safetensors", safetensors.F32("x", []int{1}, []float32{1}))
	badMask := write("badmask.safetensors", safetensors.I32("input_ids", []int{1, 3}, []int32{1, 2, 3}),
		safetensors.I32("attention_mask", []int{1, 2}, []int32{1, 1}))
	// Broken inputs and models.
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.safetensors")
	os.WriteFile(truncated, raw[:len(raw)-5], 0o644)
	oversized := filepath.Join(dir, "oversized.safetensors")
	big := append([]byte(nil), raw...)
	binary.LittleEndian.PutUint64(big[:8], 1<<40)
	os.WriteFile(oversized, big, 0o644)
	editedModel := func(name string, edit func(map[string]any)) string {
		d := filepath.Join(dir, name)
		os.MkdirAll(d, 0o755)
		for _, f := range []string{"config.json", "model.safetensors"} {
			data, err := os.ReadFile(filepath.Join(model, f))
			if err != nil {
				t.Fatal(err)
			}
			if f == "config.json" {
				var c map[string]any
				json.Unmarshal(data, &c)
				edit(c)
				data, _ = json.Marshal(c)
			}
			os.WriteFile(filepath.Join(d, f), data, 0o644)
		}
		return d
	}
	unknownArch := editedModel("unknown", func(c map[string]any) { c["architectures"] = []string{"BertForMaskedLM"} })
	badShape := editedModel("badshape", func(c map[string]any) { c["hidden_size"] = 32.0 })
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"truncated input", []string{"activations", "--model", model, "--input", truncated, "--out", filepath.Join(dir, "o")}, "safetensors"},
		{"oversized header", []string{"activations", "--model", model, "--input", oversized, "--out", filepath.Join(dir, "o")}, "header"},
		{"unknown architecture", []string{"activations", "--model", unknownArch, "--input", good, "--out", filepath.Join(dir, "o")}, `unsupported architecture "BertForMaskedLM"`},
		{"weight shape mismatch", []string{"generate", "--model", badShape, "--input", good, "--max-new-tokens", "2"}, "config implies"},
		{"missing input", []string{"activations", "--model", model, "--input", filepath.Join(dir, "nope.safetensors"), "--out", filepath.Join(dir, "o")}, "no such file"},
		{"empty batch", []string{"activations", "--model", model, "--input", empty, "--out", filepath.Join(dir, "o")}, "empty"},
		{"prompt longer than context", []string{"activations", "--model", model, "--input", long, "--out", filepath.Join(dir, "o")}, "outside the context of 256"},
		{"no input_ids", []string{"activations", "--model", model, "--input", noIDs, "--out", filepath.Join(dir, "o")}, "no input_ids tensor"},
		{"mask shape", []string{"activations", "--model", model, "--input", badMask, "--out", filepath.Join(dir, "o")}, "attention_mask has shape [1 2]"},
		{"missing model", []string{"activations", "--model", filepath.Join(dir, "none"), "--input", good, "--out", filepath.Join(dir, "o")}, "no such file"},
		{"bad steer spec", []string{"activations", "--model", model, "--input", good, "--out", filepath.Join(dir, "o"), "--steer", "x.safetensors@1:push=3"}, "unknown operator"},
		{"generate too long", []string{"generate", "--model", model, "--input", long, "--max-new-tokens", "2"}, "outside the context"},
		{"generate empty", []string{"generate", "--model", model, "--input", empty, "--max-new-tokens", "2"}, "empty"},
		{"bench shape", []string{"bench", "--shape", "gpt-5"}, "unknown shape"},
		{"text prompt without tokenizer", []string{"generate", "--model", model, "--prompt", "hi", "--max-new-tokens", "2"}, "tokenizer"},
		{"sampling and greedy", []string{"generate", "--model", model, "--input", good, "--max-new-tokens", "2", "--greedy", "--temperature", "0.7"}, "contradict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runSteer(tc.args...)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, stderr, tc.want)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("panic trace in stderr: %s", stderr)
			}
		})
	}
}
