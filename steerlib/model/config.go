package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gosteer/gosteer/steerlib/safetensors"
)

// Family is the block layout a checkpoint uses.
type Family string

// The supported families. Each maps to one or more Hugging Face
// "architectures" strings (see SupportedArchitectures).
const (
	FamilyLlama   Family = "llama"   // Llama 2/3.x, SmolLM/SmolLM2, TinyLlama
	FamilyMistral Family = "mistral" // Llama block, optional sliding window
	FamilyQwen2   Family = "qwen2"   // Llama block with q/k/v biases
	FamilyQwen3   Family = "qwen3"   // Llama block with per-head q/k RMSNorm
	FamilyPhi3    Family = "phi3"    // fused qkv_proj and gate_up_proj
	FamilyGemma2  Family = "gemma2"  // four (1+w) norms, soft-capping, GELU-tanh
	FamilyGemma3  Family = "gemma3"  // Gemma 2 block + q/k norms, local/global RoPE
	FamilyGPT2    Family = "gpt2"    // learned positions, LayerNorm, fused Conv1D q|k|v, plain MLP
)

var archFamilies = map[string]Family{
	"LlamaForCausalLM":   FamilyLlama,
	"MistralForCausalLM": FamilyMistral,
	"Qwen2ForCausalLM":   FamilyQwen2,
	"Qwen3ForCausalLM":   FamilyQwen3,
	"Phi3ForCausalLM":    FamilyPhi3,
	"Gemma2ForCausalLM":  FamilyGemma2,
	"Gemma3ForCausalLM":  FamilyGemma3,
	"GPT2LMHeadModel":    FamilyGPT2,
}

// SupportedArchitectures lists the Hugging Face "architectures" values Load accepts.
func SupportedArchitectures() []string {
	names := make([]string, 0, len(archFamilies))
	for n := range archFamilies {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RoPE describes the rotary embedding of one attention layer type.
type RoPE struct {
	Theta float64 // base
	Type  string  // "default", "linear" or "llama3"
	// Factor is the scaling factor for "linear" and "llama3".
	Factor float64
	// LowFreqFactor, HighFreqFactor and OriginalMaxPositions parameterize "llama3".
	LowFreqFactor, HighFreqFactor float64
	OriginalMaxPositions          int
}

// InvFreq returns the rotary inverse frequencies for a rotary dimension dim
// (dim/2 values), with the scaling of r.Type applied, as transformers computes them.
func (r RoPE) InvFreq(dim int) []float32 {
	out := make([]float32, dim/2)
	for i := range out {
		// transformers computes base**(2i/dim) in float32 then 1/x.
		exp := float32(2*i) / float32(dim)
		inv := 1.0 / math.Pow(r.Theta, float64(exp))
		switch r.Type {
		case "linear":
			inv /= r.Factor
		case "llama3":
			old := float64(r.OriginalMaxPositions)
			lowWavelen := old / r.LowFreqFactor
			highWavelen := old / r.HighFreqFactor
			wavelen := 2 * math.Pi / inv
			scaled := inv
			if wavelen > lowWavelen {
				scaled = inv / r.Factor
			}
			if !(wavelen < highWavelen) && !(wavelen > lowWavelen) {
				smooth := (old/wavelen - r.LowFreqFactor) / (r.HighFreqFactor - r.LowFreqFactor)
				scaled = (1-smooth)*scaled/r.Factor + smooth*scaled
			}
			inv = scaled
		}
		out[i] = float32(inv)
	}
	return out
}

// Config is the architecture of a decoder-only causal LM, read from a
// Hugging Face config.json (+ generation_config.json).
type Config struct {
	Architecture string // e.g. "LlamaForCausalLM"
	Family       Family

	VocabSize        int
	HiddenSize       int
	IntermediateSize int
	NumLayers        int
	NumHeads         int
	NumKVHeads       int
	HeadDim          int
	MaxPositions     int
	// RMSNormEps is the epsilon of every norm (GPT-2: layer_norm_epsilon).
	RMSNormEps float64

	TieEmbeddings bool
	// Activation of the MLP: "silu" or "gelu_tanh" (also GPT-2's gelu_new).
	Activation string
	// PlainMLP: down(act(up(x))) without a gate (GPT-2).
	PlainMLP bool
	// LayerNorm: norms are LayerNorm with a bias instead of RMSNorm (GPT-2).
	LayerNorm bool
	// LearnedPositions: a position embedding table is added to the token
	// embeddings and there is no RoPE (GPT-2).
	LearnedPositions bool
	// QKVBias: q/k/v projections have biases; OutBias: o_proj has one; MLPBias: gate/up/down have biases.
	QKVBias, OutBias, MLPBias bool
	// QKNorm: per-head RMSNorm on queries and keys before RoPE (Qwen3, Gemma 3).
	QKNorm bool
	// GemmaNorms: RMSNorm scales by (1+w), four norms per block, embeddings scaled by √hidden.
	GemmaNorms bool
	// AttnScale multiplies q·k (1/√head_dim, or query_pre_attn_scalar^-½ for Gemma).
	AttnScale float64
	// AttnSoftcap and FinalSoftcap: tanh soft-capping of attention scores / logits (0 = off).
	AttnSoftcap, FinalSoftcap float64
	// PartialRotary is the fraction of head_dim that is rotated (1 for the RoPE families here).
	PartialRotary float64

	// LayerTypes holds "full_attention" or "sliding_attention" per layer.
	LayerTypes []string
	// SlidingWindow is the window of sliding layers (a key k is visible to query q when q-k < SlidingWindow).
	SlidingWindow int
	// RoPE per layer type ("full_attention", "sliding_attention").
	RoPE map[string]RoPE

	BOS   int   // -1 if unknown
	Pad   int   // -1 if unknown
	EOS   []int // from generation_config.json, else config.json
	Extra map[string]any
}

// Window returns the sliding window of layer l, or 0 for full attention.
func (c *Config) Window(l int) int {
	if l < len(c.LayerTypes) && c.LayerTypes[l] == "sliding_attention" {
		return c.SlidingWindow
	}
	return 0
}

// RotaryDim is the number of rotated dimensions per head.
func (c *Config) RotaryDim() int {
	d := int(math.Round(float64(c.HeadDim) * c.PartialRotary))
	return d - d%2
}

// IsEOS reports whether id is one of the end-of-sequence ids.
func (c *Config) IsEOS(id int) bool {
	for _, e := range c.EOS {
		if e == id {
			return true
		}
	}
	return false
}

// LoadConfig reads config.json and, if present, generation_config.json from dir.
func LoadConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("load config %s: %w", path, err)
	}
	genPath := filepath.Join(dir, "generation_config.json")
	if gdata, err := os.ReadFile(genPath); err == nil {
		var g map[string]any
		if err := json.Unmarshal(gdata, &g); err != nil {
			return nil, fmt.Errorf("load %s: %w", genPath, err)
		}
		if ids, ok, err := intList(g["eos_token_id"]); err != nil {
			return nil, fmt.Errorf("load %s: eos_token_id: %w", genPath, err)
		} else if ok {
			cfg.EOS = ids
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("load %s: %w", genPath, err)
	}
	return cfg, nil
}

// ParseConfig parses the contents of a Hugging Face config.json.
func ParseConfig(data []byte) (*Config, error) {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse config.json: %w", err)
	}
	// Gemma 3 multimodal checkpoints nest the text model.
	if tc, ok := raw["text_config"].(map[string]any); ok && raw["hidden_size"] == nil {
		for k, v := range tc {
			raw[k] = v
		}
	}
	c, err := newConfig(raw)
	if err != nil {
		return nil, err
	}
	r := &reader{raw: raw}
	if c.Family == FamilyGPT2 {
		err = c.readGPT2(r)
	} else {
		err = c.readRoPEDecoder(r)
	}
	if err != nil {
		return nil, err
	}
	if err := c.readSpecialTokens(raw); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

// newConfig reads the architecture and its family.
func newConfig(raw map[string]any) (*Config, error) {
	archs, _ := raw["architectures"].([]any)
	c := &Config{Extra: raw, BOS: -1, Pad: -1}
	for _, a := range archs {
		if s, ok := a.(string); ok {
			if f, ok := archFamilies[s]; ok {
				c.Architecture, c.Family = s, f
				break
			}
			if c.Architecture == "" {
				c.Architecture = s
			}
		}
	}
	if c.Family == "" {
		return nil, fmt.Errorf("unsupported architecture %q (supported: %s)", c.Architecture, strings.Join(SupportedArchitectures(), ", "))
	}
	return c, nil
}

// readRoPEDecoder reads a Llama-like config: sizes, activation, block
// variant, attention layer types and RoPE.
func (c *Config) readRoPEDecoder(r *reader) error {
	c.VocabSize = r.int("vocab_size", 0)
	c.HiddenSize = r.int("hidden_size", 0)
	c.IntermediateSize = r.int("intermediate_size", 0)
	c.NumLayers = r.int("num_hidden_layers", 0)
	c.NumHeads = r.int("num_attention_heads", 0)
	c.NumKVHeads = r.int("num_key_value_heads", c.NumHeads)
	if c.NumHeads > 0 {
		if _, ok := r.raw["head_dim"]; !ok && c.HiddenSize%c.NumHeads != 0 {
			return fmt.Errorf("config: hidden_size %d is not a multiple of num_attention_heads %d (and no head_dim is given)", c.HiddenSize, c.NumHeads)
		}
		c.HeadDim = r.int("head_dim", c.HiddenSize/c.NumHeads)
	}
	c.MaxPositions = r.int("max_position_embeddings", 0)
	c.RMSNormEps = r.float("rms_norm_eps", 1e-6)
	c.TieEmbeddings = r.bool("tie_word_embeddings", c.Family == FamilyGemma2 || c.Family == FamilyGemma3)
	c.PartialRotary = r.float("partial_rotary_factor", 1)
	if err := c.readActivation(r); err != nil {
		return err
	}
	c.readBlockVariant(r)
	if err := c.readLayerTypes(r); err != nil {
		return err
	}
	if err := c.parseRoPE(r.raw); err != nil {
		return err
	}
	if c.Family == FamilyPhi3 {
		if s, ok := r.raw["rope_scaling"].(map[string]any); ok && s != nil {
			return fmt.Errorf("phi3 rope_scaling %v is not supported (only checkpoints without rope scaling)", s["type"])
		}
	}
	return nil
}

// readActivation reads hidden_act / hidden_activation (Gemma defaults to GELU-tanh).
func (c *Config) readActivation(r *reader) error {
	c.Activation = "silu"
	act := r.str("hidden_act", "")
	if a := r.str("hidden_activation", ""); a != "" {
		act = a
	}
	switch act {
	case "", "silu", "swish":
		if act == "" && (c.Family == FamilyGemma2 || c.Family == FamilyGemma3) {
			c.Activation = "gelu_tanh"
		}
	case "gelu_pytorch_tanh", "gelu_tanh":
		c.Activation = "gelu_tanh"
	default:
		return fmt.Errorf("unsupported activation %q", act)
	}
	return r.err
}

// readBlockVariant sets the per-family block flags: Gemma norms and
// soft-capping, q/k norms, biases.
func (c *Config) readBlockVariant(r *reader) {
	c.AttnScale = 1 / math.Sqrt(float64(c.HeadDim))
	if c.Family == FamilyGemma2 || c.Family == FamilyGemma3 {
		c.GemmaNorms = true
		c.AttnScale = 1 / math.Sqrt(r.float("query_pre_attn_scalar", float64(c.HeadDim)))
		c.AttnSoftcap = r.float("attn_logit_softcapping", 0)
		c.FinalSoftcap = r.float("final_logit_softcapping", 0)
	}
	c.QKNorm = c.Family == FamilyQwen3 || c.Family == FamilyGemma3
	switch c.Family {
	case FamilyQwen2:
		c.QKVBias = true
	case FamilyLlama, FamilyMistral, FamilyQwen3:
		c.QKVBias = r.bool("attention_bias", false)
		c.OutBias = c.QKVBias
		c.MLPBias = r.bool("mlp_bias", false)
	}
}

// readLayerTypes reads layer_types or derives them from the family's
// sliding-window settings.
func (c *Config) readLayerTypes(r *reader) error {
	c.SlidingWindow = r.int("sliding_window", 0)
	if err := c.checkLayerTable(r); err != nil {
		return err
	}
	if lt, ok := r.raw["layer_types"].([]any); ok && len(lt) > 0 {
		for _, v := range lt {
			s, _ := v.(string)
			c.LayerTypes = append(c.LayerTypes, s)
		}
	} else {
		for l := 0; l < c.NumLayers; l++ {
			c.LayerTypes = append(c.LayerTypes, c.defaultLayerType(r, l))
		}
	}
	if r.err != nil {
		return r.err
	}
	for _, t := range c.LayerTypes {
		if t != "full_attention" && t != "sliding_attention" {
			return fmt.Errorf("unsupported layer type %q", t)
		}
		if t == "sliding_attention" && c.SlidingWindow <= 0 {
			return fmt.Errorf("layer type sliding_attention without a positive sliding_window")
		}
	}
	return nil
}

// defaultLayerType is layer l's attention type for configs without layer_types.
func (c *Config) defaultLayerType(r *reader, l int) string {
	sliding := false
	switch c.Family {
	case FamilyGemma2:
		sliding = l%2 == 0
	case FamilyGemma3:
		sliding = (l+1)%r.int("sliding_window_pattern", 6) != 0
	case FamilyMistral:
		sliding = c.SlidingWindow > 0
	case FamilyQwen2, FamilyQwen3:
		sliding = r.bool("use_sliding_window", false) && l >= r.int("max_window_layers", 0)
	}
	if sliding {
		return "sliding_attention"
	}
	return "full_attention"
}

// readGPT2 reads a GPT2LMHeadModel config: n_embd, n_layer, n_head,
// n_positions, n_inner (default 4·n_embd), layer_norm_epsilon,
// activation_function (gelu_new), and the attention-scaling flags.
func (c *Config) readGPT2(r *reader) error {
	c.VocabSize = r.int("vocab_size", 0)
	c.HiddenSize = r.int("n_embd", 0)
	c.IntermediateSize = r.int("n_inner", 4*c.HiddenSize)
	c.NumLayers = r.int("n_layer", 0)
	c.NumHeads = r.int("n_head", 0)
	c.NumKVHeads = c.NumHeads
	if c.NumHeads > 0 {
		if c.HiddenSize%c.NumHeads != 0 {
			return fmt.Errorf("config: n_embd %d is not a multiple of n_head %d", c.HiddenSize, c.NumHeads)
		}
		c.HeadDim = c.HiddenSize / c.NumHeads
	}
	c.MaxPositions = r.int("n_positions", 0)
	c.RMSNormEps = r.float("layer_norm_epsilon", 1e-5)
	c.TieEmbeddings = r.bool("tie_word_embeddings", true)
	c.PlainMLP, c.LayerNorm, c.LearnedPositions = true, true, true
	c.QKVBias, c.OutBias, c.MLPBias = true, true, true
	switch act := r.str("activation_function", "gelu_new"); act {
	case "gelu_new", "gelu_pytorch_tanh":
		c.Activation = "gelu_tanh"
	default:
		return fmt.Errorf("unsupported GPT-2 activation_function %q (supported: gelu_new)", act)
	}
	c.AttnScale = 1
	if r.bool("scale_attn_weights", true) && c.HeadDim > 0 {
		c.AttnScale = 1 / math.Sqrt(float64(c.HeadDim))
	}
	if r.bool("scale_attn_by_inverse_layer_idx", false) || r.bool("reorder_and_upcast_attn", false) {
		return errors.New("GPT-2 scale_attn_by_inverse_layer_idx and reorder_and_upcast_attn are not supported")
	}
	for l := 0; l < c.NumLayers; l++ {
		c.LayerTypes = append(c.LayerTypes, "full_attention")
	}
	return r.err
}

// readSpecialTokens reads bos_token_id, pad_token_id and eos_token_id.
func (c *Config) readSpecialTokens(raw map[string]any) error {
	if v, ok, _ := intList(raw["bos_token_id"]); ok && len(v) > 0 {
		c.BOS = v[0]
	}
	if v, ok, _ := intList(raw["pad_token_id"]); ok && len(v) > 0 {
		c.Pad = v[0]
	}
	if v, ok, err := intList(raw["eos_token_id"]); err != nil {
		return fmt.Errorf("eos_token_id: %w", err)
	} else if ok {
		c.EOS = v
	}
	return nil
}

// Validate checks that the sizes are positive and consistent.
func (c *Config) Validate() error {
	for _, f := range c.requiredSizes() {
		if f.v <= 0 {
			return fmt.Errorf("config: %s must be positive, got %d", f.name, f.v)
		}
	}
	if c.MaxPositions < 0 {
		return fmt.Errorf("config: max_position_embeddings must not be negative, got %d", c.MaxPositions)
	}
	if math.IsNaN(c.RMSNormEps) || math.IsInf(c.RMSNormEps, 0) || c.RMSNormEps < 0 {
		return fmt.Errorf("config: the norm epsilon (rms_norm_eps, layer_norm_epsilon) must be a finite number ≥ 0, got %g (a negative epsilon gives NaN activations)", c.RMSNormEps)
	}
	if err := c.checkSizes(); err != nil {
		return err
	}
	if c.NumHeads%c.NumKVHeads != 0 {
		return fmt.Errorf("config: num_attention_heads %d is not a multiple of num_key_value_heads %d", c.NumHeads, c.NumKVHeads)
	}
	if len(c.LayerTypes) != c.NumLayers {
		return fmt.Errorf("config: %d layer_types for %d layers", len(c.LayerTypes), c.NumLayers)
	}
	if c.LearnedPositions && c.MaxPositions <= 0 {
		return fmt.Errorf("config: learned position embeddings need a positive number of positions, got %d", c.MaxPositions)
	}
	if !c.LearnedPositions && (c.RotaryDim() <= 0 || c.RotaryDim() > c.HeadDim) {
		return fmt.Errorf("config: rotary dimension %d invalid for head_dim %d", c.RotaryDim(), c.HeadDim)
	}
	return nil
}

// checkLayerTable runs before the per-layer tables are built: a layer count
// beyond MaxConfigSize would make them exhaust memory, and Gemma 3's
// sliding_window_pattern divides the layer index.
func (c *Config) checkLayerTable(r *reader) error {
	if c.NumLayers > MaxConfigSize {
		return fmt.Errorf("config: num_hidden_layers %d exceeds %d", c.NumLayers, MaxConfigSize)
	}
	if p := r.int("sliding_window_pattern", 6); c.Family == FamilyGemma3 && p <= 0 {
		return fmt.Errorf("config: sliding_window_pattern must be positive, got %d", p)
	}
	return nil
}

// sizeField is a named size of a config.
type sizeField struct {
	name string
	v    int
}

// requiredSizes are the sizes every config must give as positive integers.
func (c *Config) requiredSizes() []sizeField {
	return []sizeField{{"vocab_size", c.VocabSize}, {"hidden_size", c.HiddenSize}, {"intermediate_size", c.IntermediateSize},
		{"num_hidden_layers", c.NumLayers}, {"num_attention_heads", c.NumHeads}, {"num_key_value_heads", c.NumKVHeads},
		{"head_dim", c.HeadDim}}
}

// MaxConfigSize bounds every size in a config (vocab, widths, layers, heads,
// positions): 2^31, far beyond any real model, so that products of sizes
// computed from a config never overflow int64 unnoticed.
const MaxConfigSize = 1 << 31

// checkSizes bounds each size by MaxConfigSize and checks that the largest
// weight matrices (vocab_size × hidden_size, hidden_size × intermediate_size,
// and num_attention_heads × head_dim × hidden_size), times num_hidden_layers
// and 8 bytes per element, fit in an int64.
func (c *Config) checkSizes() error {
	for _, f := range append(c.requiredSizes(), sizeField{"max_position_embeddings", c.MaxPositions}, sizeField{"sliding_window", c.SlidingWindow}) {
		if f.v > MaxConfigSize {
			return fmt.Errorf("config: %s %d exceeds %d", f.name, f.v, MaxConfigSize)
		}
	}
	for _, p := range []struct {
		name string
		dims []int
	}{{"vocab_size × hidden_size", []int{c.VocabSize, c.HiddenSize, 8}},
		{"num_hidden_layers × hidden_size × intermediate_size", []int{c.NumLayers, c.HiddenSize, c.IntermediateSize, 8}},
		{"num_hidden_layers × num_attention_heads × head_dim × hidden_size", []int{c.NumLayers, c.NumHeads, c.HeadDim, c.HiddenSize, 8}}} {
		if _, ok := safetensors.Elements(p.dims); !ok {
			return fmt.Errorf("config: %s overflows (sizes %v)", p.name, p.dims[:len(p.dims)-1])
		}
	}
	return nil
}

// parseRoPE reads rotary settings from transformers-5 "rope_parameters" (flat or
// keyed by layer type) or from the older top-level "rope_theta"/"rope_scaling"
// (+ Gemma 3's "rope_local_base_freq").
func (c *Config) parseRoPE(raw map[string]any) error {
	c.RoPE = map[string]RoPE{}
	if rp, ok := raw["rope_parameters"].(map[string]any); ok && rp != nil {
		_, keyed := rp["full_attention"]
		_, keyedS := rp["sliding_attention"]
		if keyed || keyedS {
			for t, v := range rp {
				m, ok := v.(map[string]any)
				if !ok {
					return fmt.Errorf("rope_parameters[%q]: not an object", t)
				}
				r, err := parseRoPEDict(m, 10000, c.MaxPositions)
				if err != nil {
					return fmt.Errorf("rope_parameters[%q]: %w", t, err)
				}
				c.RoPE[t] = r
			}
		} else {
			r, err := parseRoPEDict(rp, 10000, c.MaxPositions)
			if err != nil {
				return fmt.Errorf("rope_parameters: %w", err)
			}
			c.RoPE["full_attention"] = r
			c.RoPE["sliding_attention"] = r
		}
		if _, ok := c.RoPE["full_attention"]; !ok {
			c.RoPE["full_attention"] = c.RoPE["sliding_attention"]
		}
		if _, ok := c.RoPE["sliding_attention"]; !ok {
			c.RoPE["sliding_attention"] = c.RoPE["full_attention"]
		}
		return nil
	}
	r := reader{raw: raw}
	theta := r.float("rope_theta", 10000)
	if r.err != nil {
		return r.err
	}
	scaling := map[string]any{}
	if s, ok := raw["rope_scaling"].(map[string]any); ok && s != nil {
		scaling = s
	}
	scaling["rope_theta"] = theta
	full, err := parseRoPEDict(scaling, theta, c.MaxPositions)
	if err != nil {
		return fmt.Errorf("rope_scaling: %w", err)
	}
	c.RoPE["full_attention"] = full
	local := full
	if c.Family == FamilyGemma3 {
		// Gemma 3: sliding layers use rope_local_base_freq without scaling.
		local = RoPE{Theta: r.float("rope_local_base_freq", 10000), Type: "default"}
	}
	c.RoPE["sliding_attention"] = local
	return r.err
}

func parseRoPEDict(m map[string]any, defTheta float64, maxPos int) (RoPE, error) {
	r := reader{raw: m}
	out := RoPE{Theta: r.float("rope_theta", defTheta)}
	t := r.str("rope_type", "")
	if t == "" {
		t = r.str("type", "default")
	}
	out.Type = t
	switch t {
	case "default":
	case "linear":
		out.Factor = r.float("factor", 1)
	case "llama3":
		out.Factor = r.float("factor", 8)
		out.LowFreqFactor = r.float("low_freq_factor", 1)
		out.HighFreqFactor = r.float("high_freq_factor", 4)
		out.OriginalMaxPositions = r.int("original_max_position_embeddings", maxPos)
		if out.HighFreqFactor == out.LowFreqFactor || out.OriginalMaxPositions <= 0 {
			return out, fmt.Errorf("llama3 rope scaling needs high_freq_factor != low_freq_factor and original_max_position_embeddings")
		}
	default:
		return out, fmt.Errorf("unsupported rope type %q (supported: default, linear, llama3)", t)
	}
	if r.err != nil {
		return out, r.err
	}
	if out.Theta <= 0 {
		return out, fmt.Errorf("rope_theta must be positive, got %g", out.Theta)
	}
	if (t == "linear" || t == "llama3") && out.Factor <= 0 {
		return out, fmt.Errorf("rope factor must be positive, got %g", out.Factor)
	}
	return out, nil
}

// reader extracts typed values from a decoded JSON object, remembering the first error.
type reader struct {
	raw map[string]any
	err error
}

func (r *reader) fail(key string, v any, want string) {
	if r.err == nil {
		r.err = fmt.Errorf("config field %q: want %s, got %v", key, want, v)
	}
}

func (r *reader) float(key string, def float64) float64 {
	v, ok := r.raw[key]
	if !ok || v == nil {
		return def
	}
	f, ok := v.(float64)
	if !ok {
		r.fail(key, v, "a number")
		return def
	}
	return f
}

func (r *reader) int(key string, def int) int {
	v, ok := r.raw[key]
	if !ok || v == nil {
		return def
	}
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		r.fail(key, v, "an integer")
		return def
	}
	return int(f)
}

func (r *reader) bool(key string, def bool) bool {
	v, ok := r.raw[key]
	if !ok || v == nil {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		r.fail(key, v, "a boolean")
		return def
	}
	return b
}

func (r *reader) str(key, def string) string {
	v, ok := r.raw[key]
	if !ok || v == nil {
		return def
	}
	s, ok := v.(string)
	if !ok {
		r.fail(key, v, "a string")
		return def
	}
	return s
}

// intList decodes a JSON integer or list of integers; ok is false for null/absent.
func intList(v any) ([]int, bool, error) {
	switch x := v.(type) {
	case nil:
		return nil, false, nil
	case float64:
		if !isTokenID(x) {
			return nil, false, fmt.Errorf("want a token id, got %v", x)
		}
		return []int{int(x)}, true, nil
	case []any:
		out := make([]int, 0, len(x))
		for _, e := range x {
			f, ok := e.(float64)
			if !ok || !isTokenID(f) {
				return nil, false, fmt.Errorf("want token ids, got %v", e)
			}
			out = append(out, int(f))
		}
		return out, true, nil
	default:
		return nil, false, fmt.Errorf("want an integer or a list, got %v", v)
	}
}

// isTokenID reports whether f is an integer in [-1, MaxConfigSize] (-1 is
// sometimes written for "none").
func isTokenID(f float64) bool {
	return f == math.Trunc(f) && f >= -1 && f <= MaxConfigSize
}
