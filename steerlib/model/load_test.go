package model

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/safetensors"
)

// copyFixture copies a fixture folder to a temp dir, applying edit to the
// decoded config.json when not nil.
func copyFixture(t *testing.T, name string, edit func(cfg map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"config.json", "generation_config.json", "model.safetensors"} {
		data, err := os.ReadFile(filepath.Join(fixtureDir(name), f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "config.json" && edit != nil {
			var cfg map[string]any
			if err := json.Unmarshal(data, &cfg); err != nil {
				t.Fatal(err)
			}
			edit(cfg)
			if data, err = json.Marshal(cfg); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// rewriteWeights rewrites model.safetensors of dir through edit.
func rewriteWeights(t *testing.T, dir string, edit func([]safetensors.Tensor) []safetensors.Tensor) {
	t.Helper()
	path := filepath.Join(dir, "model.safetensors")
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	for _, n := range f.Names() {
		tt, _ := f.Tensor(n)
		tt.Data = append([]byte(nil), tt.Data...)
		ts = append(ts, tt)
	}
	f.Close()
	if err := safetensors.Write(path, edit(ts), nil); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	const embed = "model.embed_tokens.weight"
	tests := []struct {
		name  string
		setup func(t *testing.T) string
		want  string
	}{
		{"missing folder", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, "no such file"},
		{"missing safetensors", func(t *testing.T) string {
			d := copyFixture(t, "llama", nil)
			os.Remove(filepath.Join(d, "model.safetensors"))
			return d
		}, "no model.safetensors"},
		{"truncated safetensors", func(t *testing.T) string {
			d := copyFixture(t, "llama", nil)
			p := filepath.Join(d, "model.safetensors")
			data, _ := os.ReadFile(p)
			os.WriteFile(p, data[:len(data)/2], 0o644)
			return d
		}, "safetensors"},
		{"oversized header", func(t *testing.T) string {
			d := copyFixture(t, "llama", nil)
			p := filepath.Join(d, "model.safetensors")
			data, _ := os.ReadFile(p)
			binary.LittleEndian.PutUint64(data[:8], 1<<40)
			os.WriteFile(p, data, 0o644)
			return d
		}, "header"},
		{"unknown architecture", func(t *testing.T) string {
			return copyFixture(t, "llama", func(c map[string]any) { c["architectures"] = []string{"FooForCausalLM"} })
		}, "unsupported architecture \"FooForCausalLM\" (supported: GPT2LMHeadModel, Gemma2ForCausalLM"},
		{"shape mismatch", func(t *testing.T) string {
			return copyFixture(t, "llama", func(c map[string]any) { c["intermediate_size"] = 96 })
		}, "mlp.down_proj.weight has shape [64 128], config implies [64 96]"},
		{"missing tensor", func(t *testing.T) string {
			d := copyFixture(t, "llama", nil)
			rewriteWeights(t, d, func(ts []safetensors.Tensor) []safetensors.Tensor {
				var out []safetensors.Tensor
				for _, x := range ts {
					if x.Name != "lm_head.weight" {
						out = append(out, x)
					}
				}
				return out
			})
			return d
		}, "lacks tensors required by config.json: lm_head.weight"},
		{"dtype mismatch", func(t *testing.T) string {
			d := copyFixture(t, "llama", nil)
			rewriteWeights(t, d, func(ts []safetensors.Tensor) []safetensors.Tensor {
				for i := range ts {
					if ts[i].Name == embed {
						ts[i].DType = safetensors.Int32
					}
				}
				return ts
			})
			return d
		}, "model.embed_tokens.weight has dtype I32"},
		{"unsupported rope", func(t *testing.T) string {
			return copyFixture(t, "llama", func(c map[string]any) {
				c["rope_parameters"] = map[string]any{"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0}
			})
		}, "unsupported rope type \"yarn\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Load(tc.setup(t))
			if err == nil {
				m.Close()
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "goroutine ") {
				t.Errorf("error carries a panic trace: %v", err)
			}
		})
	}
}

// TestLoadBF16AndShards: a BF16 checkpoint split in two shards with an index
// loads (converted to f32) and computes nearly the same logits.
func TestLoadBF16AndShards(t *testing.T) {
	d := copyFixture(t, "qwen2", nil)
	path := filepath.Join(d, "model.safetensors")
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var a, b []safetensors.Tensor
	index := map[string]string{}
	for i, n := range f.Names() {
		tt, _ := f.Tensor(n)
		v, _ := tt.Float32s()
		bf := make([]byte, 2*len(v))
		for j, x := range v {
			binary.LittleEndian.PutUint16(bf[2*j:], uint16(math.Float32bits(x)>>16))
		}
		bt := safetensors.Tensor{Name: n, DType: safetensors.BFloat16, Shape: tt.Shape, Data: bf}
		if i%2 == 0 {
			a, index[n] = append(a, bt), "model-00001-of-00002.safetensors"
		} else {
			b, index[n] = append(b, bt), "model-00002-of-00002.safetensors"
		}
	}
	f.Close()
	os.Remove(path)
	if err := safetensors.Write(filepath.Join(d, "model-00001-of-00002.safetensors"), a, nil); err != nil {
		t.Fatal(err)
	}
	if err := safetensors.Write(filepath.Join(d, "model-00002-of-00002.safetensors"), b, nil); err != nil {
		t.Fatal(err)
	}
	idx, _ := json.Marshal(map[string]any{"weight_map": index})
	os.WriteFile(filepath.Join(d, "model.safetensors.index.json"), idx, 0o644)

	m, err := Load(d)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ref := openReference(t, "qwen2")
	ids, shape := ref.ints(t, "input_ids")
	res, err := m.Forward(Batch{B: shape[0], T: shape[1], IDs: ids}, ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ref.floats(t, "logits")
	// bf16 rounding of the weights: close, but not 1e-4.
	if e := relErr(res.Logits, want, nil); e > 0.05 || e == 0 {
		t.Errorf("bf16 checkpoint logits rel err %.3g, want (0, 0.05]", e)
	}
}

// TestLocalFolderNeverTouchesNetwork: with the Hub endpoint pointing nowhere
// and offline mode off, a local folder loads.
func TestLocalFolderNeverTouchesNetwork(t *testing.T) {
	t.Setenv("HF_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("HF_TOKEN", "")
	m, err := Load(fixtureDir("llama"))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	dir, err := ResolveDir(fixtureDir("llama"), false)
	if err != nil || dir != fixtureDir("llama") {
		t.Errorf("ResolveDir = %q, %v", dir, err)
	}
	// A Hub id that is not cached fails offline with a clear error.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	if _, err := ResolveDir("hf://nobody/missing-model", true); err == nil || !strings.Contains(err.Error(), "offline and not in the Hub cache") {
		t.Errorf("offline missing repo: %v", err)
	}
	// A path that is neither a folder nor an org/name id.
	if _, err := Load("./does/not/exist"); err == nil {
		t.Error("Load of a missing path succeeded")
	}
}

// TestGPT2Layouts: the gpt2 fixture rewritten as save_pretrained writes it
// ("transformer." prefix, a tied lm_head.weight copy) and as older files do
// (attn.bias / attn.masked_bias buffers) loads and gives the same logits.
func TestGPT2Layouts(t *testing.T) {
	ref := openReference(t, "gpt2")
	ids, shape := ref.ints(t, "input_ids")
	want, _ := ref.floats(t, "logits")
	buffer := func(name string) safetensors.Tensor {
		return safetensors.F32(name, []int{1, 1, 4, 4}, make([]float32, 16))
	}
	for _, tc := range []struct {
		name string
		edit func([]safetensors.Tensor) []safetensors.Tensor
	}{
		{"transformer prefix and lm_head", func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == "wte.weight" {
					head := ts[i]
					head.Name = "lm_head.weight"
					ts = append(ts, head)
				}
				ts[i].Name = "transformer." + ts[i].Name
			}
			return ts
		}},
		{"attention buffers", func(ts []safetensors.Tensor) []safetensors.Tensor {
			return append(ts, buffer("h.0.attn.bias"), buffer("h.0.attn.masked_bias"), buffer("h.1.attn.bias"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := copyFixture(t, "gpt2", nil)
			rewriteWeights(t, d, tc.edit)
			m, err := Load(d)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			res, err := m.Forward(Batch{B: shape[0], T: shape[1], IDs: ids}, ForwardOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(res.Logits, want, nil); e > tol {
				t.Errorf("logits rel err %.3g > %g", e, tol)
			}
		})
	}
	// A Conv1D weight in Linear's [out, in] layout is reported with its name.
	d := copyFixture(t, "gpt2", nil)
	rewriteWeights(t, d, func(ts []safetensors.Tensor) []safetensors.Tensor {
		for i := range ts {
			if ts[i].Name == "h.0.mlp.c_fc.weight" {
				ts[i].Shape = []int{256, 64}
			}
		}
		return ts
	})
	if _, err := Load(d); err == nil || !strings.Contains(err.Error(), "tensor h.0.mlp.c_fc.weight has shape [256 64], config implies [64 256]") {
		t.Errorf("transposed Conv1D weight: %v", err)
	}
}
