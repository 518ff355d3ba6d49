package model

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readConfigMap(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir(name), "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func parseMap(t *testing.T, m map[string]any) (*Config, error) {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return ParseConfig(data)
}

// TestConfigOldAndNewRoPE: a transformers-4 style config (top-level
// rope_theta / rope_scaling, Gemma 3's rope_local_base_freq and
// sliding_window_pattern, no layer_types) parses to the same architecture as
// the transformers-5 fixture config.
func TestConfigOldAndNewRoPE(t *testing.T) {
	for _, name := range fixtureNames {
		if name == "gpt2" {
			continue // learned positions: no RoPE settings
		}
		t.Run(name, func(t *testing.T) {
			raw := readConfigMap(t, name)
			newCfg, err := parseMap(t, raw)
			if err != nil {
				t.Fatal(err)
			}
			old := map[string]any{}
			for k, v := range raw {
				old[k] = v
			}
			rp := old["rope_parameters"].(map[string]any)
			delete(old, "rope_parameters")
			if full, ok := rp["full_attention"].(map[string]any); ok {
				old["rope_theta"] = full["rope_theta"]
				old["rope_local_base_freq"] = rp["sliding_attention"].(map[string]any)["rope_theta"]
			} else {
				old["rope_theta"] = rp["rope_theta"]
			}
			if name == "gemma2" || name == "gemma3" {
				delete(old, "layer_types")
				if name == "gemma3" {
					old["sliding_window_pattern"] = 2.0 // sliding, full, sliding, full
				}
			}
			oldCfg, err := parseMap(t, old)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(oldCfg.LayerTypes, newCfg.LayerTypes) {
				t.Errorf("layer types: old %v new %v", oldCfg.LayerTypes, newCfg.LayerTypes)
			}
			if !reflect.DeepEqual(oldCfg.RoPE, newCfg.RoPE) {
				t.Errorf("rope: old %+v new %+v", oldCfg.RoPE, newCfg.RoPE)
			}
		})
	}
}

func TestConfigFields(t *testing.T) {
	g3, err := LoadConfig(fixtureDir("gemma3"))
	if err != nil {
		t.Fatal(err)
	}
	if g3.RoPE["full_attention"].Theta != 1e6 || g3.RoPE["sliding_attention"].Theta != 1e4 {
		t.Errorf("gemma3 rope bases %+v", g3.RoPE)
	}
	if g3.Window(0) != 8 || g3.Window(1) != 0 || !g3.QKNorm || !g3.GemmaNorms || g3.AttnSoftcap != 0 {
		t.Errorf("gemma3 config %+v", g3)
	}
	if math.Abs(g3.AttnScale-0.25) > 1e-12 {
		t.Errorf("gemma3 attention scale %g, want 16^-1/2", g3.AttnScale)
	}
	phi, err := LoadConfig(fixtureDir("phi3"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(phi.EOS, []int{32000}) {
		t.Errorf("phi3 EOS %v", phi.EOS)
	}
	gpt2, err := LoadConfig(fixtureDir("gpt2"))
	if err != nil {
		t.Fatal(err)
	}
	if !gpt2.LearnedPositions || !gpt2.LayerNorm || !gpt2.PlainMLP || !gpt2.TieEmbeddings || gpt2.Activation != "gelu_tanh" ||
		gpt2.IntermediateSize != 256 || gpt2.HeadDim != 16 || gpt2.MaxPositions != 128 || gpt2.RMSNormEps != 1e-5 ||
		!gpt2.QKVBias || !gpt2.OutBias || !gpt2.MLPBias || !reflect.DeepEqual(gpt2.EOS, []int{299}) {
		t.Errorf("gpt2 config %+v", gpt2)
	}
	if math.Abs(gpt2.AttnScale-0.25) > 1e-12 {
		t.Errorf("gpt2 attention scale %g, want 16^-1/2", gpt2.AttnScale)
	}
	// generation_config.json with a list of EOS ids overrides config.json.
	d := copyFixture(t, "llama", nil)
	os.WriteFile(filepath.Join(d, "generation_config.json"), []byte(`{"eos_token_id":[128001,128008,128009]}`), 0o644)
	c, err := LoadConfig(d)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.EOS, []int{128001, 128008, 128009}) || !c.IsEOS(128008) || c.IsEOS(2) {
		t.Errorf("EOS list %v", c.EOS)
	}
}

// TestRoPEScaling checks the llama3 and linear rules on Llama 3.1's settings:
// high frequencies (wavelength < original/high_freq_factor) are kept, low
// frequencies (wavelength > original/low_freq_factor) are divided by factor,
// and the band between interpolates smoothly between the two.
func TestRoPEScaling(t *testing.T) {
	base := RoPE{Theta: 500000, Type: "default"}
	l3 := RoPE{Theta: 500000, Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192}
	lin := RoPE{Theta: 500000, Type: "linear", Factor: 4}
	b, s, li := base.InvFreq(128), l3.InvFreq(128), lin.InvFreq(128)
	var kept, divided, between int
	for i := range b {
		wl := 2 * math.Pi / float64(b[i])
		switch {
		case wl < 8192/4.0:
			kept++
			if s[i] != b[i] {
				t.Errorf("i=%d high frequency changed: %g -> %g", i, b[i], s[i])
			}
		case wl > 8192/1.0:
			divided++
			if math.Abs(float64(s[i])-float64(b[i])/8) > 1e-6*float64(b[i]) {
				t.Errorf("i=%d low frequency %g, want %g/8", i, s[i], b[i])
			}
		default:
			between++
			if !(s[i] < b[i] && s[i] > b[i]/8) {
				t.Errorf("i=%d medium frequency %g not in (%g, %g)", i, s[i], b[i]/8, b[i])
			}
		}
		if math.Abs(float64(li[i])-float64(b[i])/4) > 1e-6*float64(b[i]) {
			t.Errorf("linear i=%d: %g, want %g/4", i, li[i], b[i])
		}
	}
	if kept == 0 || divided == 0 || between == 0 {
		t.Errorf("frequency bands not all exercised: %d %d %d", kept, divided, between)
	}
	// Parsed from a transformers-4 style rope_scaling.
	raw := readConfigMap(t, "llama")
	delete(raw, "rope_parameters")
	raw["rope_theta"] = 500000.0
	raw["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192.0}
	c, err := parseMap(t, raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.RoPE["full_attention"], l3) {
		t.Errorf("parsed llama3 rope %+v, want %+v", c.RoPE["full_attention"], l3)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"no architectures", func(m map[string]any) { delete(m, "architectures") }, "unsupported architecture"},
		{"bad heads", func(m map[string]any) { m["num_key_value_heads"] = 3.0 }, "not a multiple"},
		{"zero hidden", func(m map[string]any) { m["hidden_size"] = 0.0 }, "hidden_size must be positive"},
		{"string size", func(m map[string]any) { m["vocab_size"] = "384" }, `"vocab_size": want an integer`},
		{"activation", func(m map[string]any) { m["hidden_act"] = "relu2" }, "unsupported activation"},
		{"longrope", func(m map[string]any) {
			delete(m, "rope_parameters")
			m["rope_scaling"] = map[string]any{"type": "longrope"}
		}, "unsupported rope type \"longrope\""},
		{"gpt2 activation", func(m map[string]any) { gpt2Config(m); m["activation_function"] = "relu" }, "unsupported GPT-2 activation_function"},
		{"gpt2 layer-index scaling", func(m map[string]any) { gpt2Config(m); m["scale_attn_by_inverse_layer_idx"] = true }, "not supported"},
		{"gpt2 heads", func(m map[string]any) { gpt2Config(m); m["n_head"] = 5.0 }, "n_embd 64 is not a multiple of n_head 5"},
		{"gpt2 no positions", func(m map[string]any) { gpt2Config(m); m["n_positions"] = 0.0 }, "learned position embeddings need"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := readConfigMap(t, "llama")
			tc.edit(raw)
			_, err := parseMap(t, raw)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want error containing %q", err, tc.want)
			}
		})
	}
}

// gpt2Config replaces m with the gpt2 fixture's config.
func gpt2Config(m map[string]any) {
	data, err := os.ReadFile(filepath.Join(fixtureDir("gpt2"), "config.json"))
	if err != nil {
		panic(err)
	}
	for k := range m {
		delete(m, k)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		panic(err)
	}
}
