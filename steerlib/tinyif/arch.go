package tinyif

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gosteer/gosteer/steerlib/internal/atomicfile"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/safetensors"
)

// Arch is the size of a tinyif Llama model.
type Arch struct {
	Hidden       int `json:"hidden"`
	Layers       int `json:"layers"`
	Heads        int `json:"heads"`
	KVHeads      int `json:"kv_heads"`
	Intermediate int `json:"intermediate"`
	MaxPositions int `json:"max_positions"`
}

// DefaultArch is the architecture of the embedded model.
var DefaultArch = Arch{Hidden: 96, Layers: 8, Heads: 4, KVHeads: 2, Intermediate: 256, MaxPositions: 256}

// Validate checks that the sizes are positive and divisible as Llama needs.
func (a Arch) Validate() error {
	if a.Hidden <= 0 || a.Layers <= 0 || a.Heads <= 0 || a.KVHeads <= 0 || a.Intermediate <= 0 || a.MaxPositions <= 0 {
		return fmt.Errorf("tinyif: architecture %+v has a non-positive size", a)
	}
	if a.Hidden%a.Heads != 0 || a.Heads%a.KVHeads != 0 || (a.Hidden/a.Heads)%2 != 0 {
		return fmt.Errorf("tinyif: hidden %d / heads %d / kv heads %d are not divisible (and head_dim must be even)", a.Hidden, a.Heads, a.KVHeads)
	}
	return nil
}

// ConfigJSON returns a Hugging Face LlamaForCausalLM config.json for a model
// of this size over the tokenizer tok.
func (a Arch) ConfigJSON(tok *BPE) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	cfg := map[string]any{
		"architectures":           []string{"LlamaForCausalLM"},
		"model_type":              "llama",
		"vocab_size":              len(tok.Vocab),
		"hidden_size":             a.Hidden,
		"intermediate_size":       a.Intermediate,
		"num_hidden_layers":       a.Layers,
		"num_attention_heads":     a.Heads,
		"num_key_value_heads":     a.KVHeads,
		"head_dim":                a.Hidden / a.Heads,
		"max_position_embeddings": a.MaxPositions,
		"rms_norm_eps":            1e-5,
		"rope_theta":              10000.0,
		"rope_scaling":            nil,
		"hidden_act":              "silu",
		"attention_bias":          false,
		"attention_dropout":       0.0,
		"mlp_bias":                false,
		"tie_word_embeddings":     true,
		"initializer_range":       0.02,
		"bos_token_id":            tok.ID(TokImStart),
		"eos_token_id":            tok.ID(TokImEnd),
		"pad_token_id":            tok.ID(TokEndOfText),
		"torch_dtype":             "float32",
		"use_cache":               true,
	}
	return json.MarshalIndent(cfg, "", "  ")
}

// GenerationConfigJSON returns generation_config.json (EOS = <|im_end|>).
func GenerationConfigJSON(tok *BPE) ([]byte, error) {
	return json.MarshalIndent(map[string]any{
		"eos_token_id": []int{tok.ID(TokImEnd)},
		"pad_token_id": tok.ID(TokEndOfText),
		"do_sample":    false,
	}, "", "  ")
}

// hfName maps a canonical weight name of steerlib/model (see
// model.WeightShapes) to its Hugging Face Llama tensor name.
func hfName(canonical string) (string, error) {
	switch canonical {
	case model.WEmbed:
		return "model.embed_tokens.weight", nil
	case model.WNorm:
		return "model.norm.weight", nil
	case model.WLMHead:
		return "lm_head.weight", nil
	}
	rest, ok := strings.CutPrefix(canonical, "layers.")
	if !ok {
		return "", fmt.Errorf("tinyif: unknown weight %q", canonical)
	}
	ls, name, ok := strings.Cut(rest, ".")
	if _, err := strconv.Atoi(ls); !ok || err != nil {
		return "", fmt.Errorf("tinyif: unknown weight %q", canonical)
	}
	suffix := map[string]string{
		model.WAttnNorm: "input_layernorm.weight",
		model.WMLPNorm:  "post_attention_layernorm.weight",
		model.WQ:        "self_attn.q_proj.weight",
		model.WK:        "self_attn.k_proj.weight",
		model.WV:        "self_attn.v_proj.weight",
		model.WO:        "self_attn.o_proj.weight",
		model.WGate:     "mlp.gate_proj.weight",
		model.WUp:       "mlp.up_proj.weight",
		model.WDown:     "mlp.down_proj.weight",
	}[name]
	if suffix == "" {
		return "", fmt.Errorf("tinyif: unknown weight %q", canonical)
	}
	return "model.layers." + ls + "." + suffix, nil
}

// weightNames returns the canonical weight names of cfg in a fixed order.
func weightNames(cfg *model.Config) []string {
	shapes := model.WeightShapes(cfg)
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// initWeights draws the initial weights: norms are 1, other matrices
// N(0, 0.02²), the residual output projections (o, down) scaled by
// 1/√(2·layers) as in GPT-2.
func initWeights(cfg *model.Config, seed uint64) map[string][]float32 {
	r := rand.New(rand.NewPCG(seed, 0x1717))
	shapes := model.WeightShapes(cfg)
	out := map[string][]float32{}
	for _, n := range weightNames(cfg) {
		size := 1
		for _, d := range shapes[n] {
			size *= d
		}
		v := make([]float32, size)
		if len(shapes[n]) == 1 {
			for i := range v {
				v[i] = 1
			}
		} else {
			std := 0.02
			if strings.HasSuffix(n, "."+model.WO) || strings.HasSuffix(n, "."+model.WDown) {
				std /= math.Sqrt(2 * float64(cfg.NumLayers))
			}
			for i := range v {
				v[i] = float32(r.NormFloat64() * std)
			}
		}
		out[n] = v
	}
	return out
}

// writeModelDir writes config.json, generation_config.json and
// model.safetensors (F32, Hugging Face names) into dir.
func writeModelDir(dir string, configJSON, genJSON []byte, cfg *model.Config, weights map[string][]float32, meta map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tinyif: create %s: %w", dir, err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "config.json"), append(configJSON, '\n'), nil); err != nil {
		return fmt.Errorf("tinyif: write config.json: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "generation_config.json"), append(genJSON, '\n'), nil); err != nil {
		return fmt.Errorf("tinyif: write generation_config.json: %w", err)
	}
	shapes := model.WeightShapes(cfg)
	var ts []safetensors.Tensor
	for _, n := range weightNames(cfg) {
		hn, err := hfName(n)
		if err != nil {
			return err
		}
		v, ok := weights[n]
		if !ok {
			return fmt.Errorf("tinyif: weight %q missing", n)
		}
		ts = append(ts, safetensors.F32(hn, shapes[n], v))
	}
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), ts, meta); err != nil {
		return fmt.Errorf("tinyif: write model.safetensors: %w", err)
	}
	return nil
}
