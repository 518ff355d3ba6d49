package model

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// tinyFiniteConfig is a 3-layer Llama small enough to compile in a moment.
const tinyFiniteConfig = `{"architectures":["LlamaForCausalLM"],"vocab_size":64,"hidden_size":16,"intermediate_size":32,
	"num_hidden_layers":3,"num_attention_heads":2,"num_key_value_heads":1,"max_position_embeddings":64,
	"rope_theta":10000.0,"rms_norm_eps":1e-5,"eos_token_id":1,"tie_word_embeddings":false}`

// poison sets the value at flat index at of weight name of m (in its stored
// layout: matrices transposed, see storedShape) to v.
func poison(t *testing.T, m *Model, name string, at int, v float32) {
	t.Helper()
	w, ok := m.weights[name]
	if !ok {
		t.Fatalf("no weight %s", name)
	}
	flat, err := tensors.CopyFlatData[float32](w)
	if err != nil {
		t.Fatal(err)
	}
	flat[at] = v
	m.weights[name] = tensors.FromFlatDataAndDimensions(flat, w.Shape().Dimensions...)
	w.FinalizeAll()
}

// TestNonFiniteNamed checks that Forward and Generate fail on a NaN or an
// infinity in the weights, naming the first layer whose output holds one
// (or the logits), and that a clean model passes.
func TestNonFiniteNamed(t *testing.T) {
	cfg, err := ParseConfig([]byte(tinyFiniteConfig))
	if err != nil {
		t.Fatal(err)
	}
	nan := float32(math.NaN())
	cases := []struct {
		name, weight string
		at           int
		value        float32
		want         string // "" : no error
	}{
		{"clean", "", 0, 0, ""},
		{"nan-layer-1-mlp", LayerWeight(1, WDown), 0, nan, "output of layer 1"},
		{"inf-layer-2-attn", LayerWeight(2, WO), 0, float32(math.Inf(1)), "output of layer 2"},
		{"nan-embedding-of-a-prompt-token", WEmbed, 3, nan, "output of layer 0"},
		{"nan-final-norm", WNorm, 0, nan, "in the logits"},
		{"nan-lm-head", WLMHead, 0, nan, "in the logits"},
	}
	prompts := [][]int{{3, 4, 5, 6}, {7, 8}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := NewRandom(cfg, 7)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if c.weight != "" {
				poison(t, m, c.weight, c.at, c.value)
			}
			batch, err := LeftPad(prompts, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, ferr := m.Forward(batch, ForwardOptions{Layers: []int{0, 2}, Logits: LogitsLast})
			_, gerr := m.Generate(prompts, GenerateOptions{MaxNewTokens: 3, Greedy: true})
			for what, err := range map[string]error{"forward": ferr, "generate": gerr} {
				switch {
				case c.want == "" && err != nil:
					t.Errorf("%s: %v", what, err)
				case c.want != "" && (!errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), c.want)):
					t.Errorf("%s: error %v, want ErrNonFinite naming %q", what, err, c.want)
				}
			}
		})
	}
}
