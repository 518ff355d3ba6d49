package model

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseConfig feeds config.json variants of every fixture architecture
// to ParseConfig: it must return a config that passes Validate (positive,
// bounded sizes; one layer type per layer; a usable RoPE per layer type) or
// an error — no panic, no hang, and no allocation the input does not justify
// (a huge num_hidden_layers is refused before the per-layer tables exist).
func FuzzParseConfig(f *testing.F) {
	paths, err := filepath.Glob("testdata/hf-tiny/*/config.json")
	if err != nil || len(paths) == 0 {
		f.Fatalf("no fixture configs: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"architectures":["Gemma3ForCausalLM"],"vocab_size":8,"hidden_size":8,"intermediate_size":8,` +
		`"num_hidden_layers":1e12,"num_attention_heads":2,"sliding_window_pattern":0,"sliding_window":4}`))
	f.Add([]byte(`{"architectures":["LlamaForCausalLM"],"vocab_size":4294967296,"hidden_size":4294967296,` +
		`"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":1,"eos_token_id":[1e300]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseConfig returned a config that fails Validate: %v", err)
		}
		for l := 0; l < c.NumLayers; l++ {
			if _, ok := c.RoPE[c.LayerTypes[l]]; !ok && !c.LearnedPositions {
				t.Fatalf("layer %d (%s) has no RoPE settings", l, c.LayerTypes[l])
			}
			_ = c.Window(l)
		}
		if d := c.RotaryDim(); d > 0 && d <= c.HeadDim && !c.LearnedPositions {
			_ = c.RoPE[c.LayerTypes[0]].InvFreq(d)
		}
	})
}

// TestConfigSizeLimits: sizes that would overflow or exhaust memory are
// refused with the field named, before any table is built.
func TestConfigSizeLimits(t *testing.T) {
	base := `{"architectures":["%s"],"vocab_size":%s,"hidden_size":%s,"intermediate_size":8,"num_hidden_layers":%s,` +
		`"num_attention_heads":2,"sliding_window":4,"sliding_window_pattern":%s,"eos_token_id":%s}`
	for _, c := range []struct {
		arch, vocab, hidden, layers, pattern, eos, want string
	}{
		{"LlamaForCausalLM", "8", "8", "1000000000000", "6", "1", "num_hidden_layers 1000000000000 exceeds"},
		{"Gemma3ForCausalLM", "8", "8", "2", "0", "1", "sliding_window_pattern must be positive"},
		{"LlamaForCausalLM", "2147483649", "8", "1", "6", "1", "vocab_size 2147483649 exceeds"},
		{"LlamaForCausalLM", "2000000000", "2000000000", "1", "6", "1", "vocab_size × hidden_size overflows"},
		{"LlamaForCausalLM", "8", "8", "1", "6", "1e300", "eos_token_id: want a token id"},
		{"LlamaForCausalLM", "1e300", "8", "1", "6", "1", `"vocab_size": want an integer`},
	} {
		_, err := ParseConfig([]byte(fmt.Sprintf(base, c.arch, c.vocab, c.hidden, c.layers, c.pattern, c.eos)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s layers=%s vocab=%s: got %v, want %q", c.arch, c.layers, c.vocab, err, c.want)
		}
	}
}
