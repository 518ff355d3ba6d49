package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosteer/gosteer/steerlib/backend"
	"github.com/gosteer/gosteer/steerlib/safetensors"
)

// Option configures Load.
type Option func(*options)

type options struct {
	dtype       dtypes.DType
	backendName string
	offline     bool
	revision    string
	warn        io.Writer // nil: os.Stderr
	memLimit    int64     // see WithMemoryLimit
}

// WithDType sets the compute dtype: dtypes.Float32 (default; required on the
// pure-Go CPU backend) or dtypes.BFloat16 (GPU). Weights are converted on load.
func WithDType(dt dtypes.DType) Option { return func(o *options) { o.dtype = dt } }

// WithBackend names the GoMLX backend (see steerlib/backend); "" uses
// $GOMLX_BACKEND or the pure-Go backend.
func WithBackend(name string) Option { return func(o *options) { o.backendName = name } }

// WithOffline forbids any network access: a Hub id must already be cached.
func WithOffline() Option { return func(o *options) { o.offline = true } }

// WithRevision selects a Hub revision (branch, tag or commit) for Hub ids.
func WithRevision(rev string) Option { return func(o *options) { o.revision = rev } }

// WithWarnings sends Load's warnings (checkpoint tensors the config does not
// use) to w instead of os.Stderr; io.Discard silences them.
func WithWarnings(w io.Writer) Option { return func(o *options) { o.warn = w } }

// warnings is where Load's warnings go.
func (o *options) warnings() io.Writer {
	if o.warn == nil {
		return os.Stderr
	}
	return o.warn
}

// Load opens a Hugging Face causal LM: a local folder (never touches the
// network), or "hf://org/name" / "org/name" from the Hub (downloaded into
// the Hugging Face cache, using $HF_TOKEN; see ResolveDir). Weights are
// converted to the compute dtype and moved to the backend. A model whose
// weights would not fit in memory is refused before any is read (see
// WithMemoryLimit).
func Load(pathOrRepo string, opts ...Option) (m *Model, err error) {
	defer recoverTo(&err, "load "+pathOrRepo)
	o := options{dtype: dtypes.Float32}
	for _, opt := range opts {
		opt(&o)
	}
	if o.dtype != dtypes.Float32 && o.dtype != dtypes.BFloat16 {
		return nil, fmt.Errorf("load %s: compute dtype %s not supported (float32 or bfloat16)", pathOrRepo, o.dtype)
	}
	dir, err := resolveModelDir(pathOrRepo, o)
	if err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", pathOrRepo, err)
	}
	if err := checkWeightsFit(cfg, o); err != nil {
		return nil, fmt.Errorf("load %s: %w", pathOrRepo, err)
	}
	b, err := backend.Shared(o.backendName)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", pathOrRepo, err)
	}
	w, unused, err := loadWeights(dir, cfg, b, o.dtype)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", pathOrRepo, err)
	}
	if len(unused) > 0 {
		fmt.Fprintf(o.warnings(), "warning: load %s: %d checkpoint tensor(s) not used by config.json (ignored): %s\n",
			pathOrRepo, len(unused), strings.Join(capList(unused, 10), ", "))
	}
	m = newModel(cfg, dir, b, o.dtype, w)
	m.memLimit = o.memLimit
	return m, nil
}

// checkpointFiles returns the safetensors files of a model folder, from
// model.safetensors or model.safetensors.index.json.
func checkpointFiles(dir string) ([]string, error) {
	single := filepath.Join(dir, "model.safetensors")
	if _, err := os.Stat(single); err == nil {
		return []string{single}, nil
	}
	idxPath := filepath.Join(dir, "model.safetensors.index.json")
	data, err := os.ReadFile(idxPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no model.safetensors or model.safetensors.index.json in %s", dir)
	} else if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", idxPath, err)
	}
	seen := map[string]bool{}
	var files []string
	for _, f := range idx.WeightMap {
		if strings.Contains(f, "/") || strings.Contains(f, "..") {
			return nil, fmt.Errorf("%s: shard name %q must be a plain file name", idxPath, f)
		}
		if !seen[f] {
			seen[f] = true
			files = append(files, filepath.Join(dir, f))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: empty weight_map", idxPath)
	}
	sort.Strings(files)
	return files, nil
}

// hfLayer names a decoder weight of a Llama-like checkpoint.
func hfLayer(l int, s string) string { return fmt.Sprintf("model.layers.%d.%s", l, s) }

// hfSource says where a canonical weight comes from: a checkpoint tensor,
// optionally a row range of it (fused projections), in Hugging Face's
// [out, in] layout or, with conv1D, GPT-2's transposed Conv1D layout [in, out].
type hfSource struct {
	name       string
	rowStart   int
	rowEnd     int   // 0: whole tensor
	fusedShape []int // [out, in] shape of the fused tensor (rowEnd > 0)
	conv1D     bool
}

// hfSources maps each canonical weight of cfg to its checkpoint tensor.
func hfSources(cfg *Config) map[string]hfSource {
	if cfg.Family == FamilyGPT2 {
		return gpt2Sources(cfg)
	}
	src := map[string]hfSource{
		WEmbed: {name: "model.embed_tokens.weight"},
		WNorm:  {name: "model.norm.weight"},
	}
	if !cfg.TieEmbeddings {
		src[WLMHead] = hfSource{name: "lm_head.weight"}
	}
	for l := 0; l < cfg.NumLayers; l++ {
		set := func(canon, hf string) { src[LayerWeight(l, canon)] = hfSource{name: hfLayer(l, hf)} }
		set(WAttnNorm, "input_layernorm.weight")
		if cfg.GemmaNorms {
			set(WAttnPostNorm, "post_attention_layernorm.weight")
			set(WMLPNorm, "pre_feedforward_layernorm.weight")
			set(WMLPPostNorm, "post_feedforward_layernorm.weight")
		} else {
			set(WMLPNorm, "post_attention_layernorm.weight")
		}
		if cfg.Family == FamilyPhi3 {
			phi3FusedSources(cfg, l, src)
		} else {
			for _, p := range []string{WQ, WK, WV} {
				set(p, "self_attn."+p+"_proj.weight")
			}
			set(WGate, "mlp.gate_proj.weight")
			set(WUp, "mlp.up_proj.weight")
		}
		set(WO, "self_attn.o_proj.weight")
		set(WDown, "mlp.down_proj.weight")
		if cfg.QKVBias {
			for _, p := range []string{WQ, WK, WV} {
				set(p+BiasSuffix, "self_attn."+p+"_proj.bias")
			}
		}
		if cfg.OutBias {
			set(WO+BiasSuffix, "self_attn.o_proj.bias")
		}
		if cfg.QKNorm {
			set(WQNorm, "self_attn.q_norm.weight")
			set(WKNorm, "self_attn.k_norm.weight")
		}
		if cfg.MLPBias {
			set(WGate+BiasSuffix, "mlp.gate_proj.bias")
			set(WUp+BiasSuffix, "mlp.up_proj.bias")
			set(WDown+BiasSuffix, "mlp.down_proj.bias")
		}
	}
	return src
}

// phi3FusedSources maps layer l's q, k, v and gate, up to row ranges of
// Phi-3's fused qkv_proj and gate_up_proj.
func phi3FusedSources(cfg *Config, l int, src map[string]hfSource) {
	D, I := cfg.HiddenSize, cfg.IntermediateSize
	qd, kvd := cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	qkv := hfLayer(l, "self_attn.qkv_proj.weight")
	fq := []int{qd + 2*kvd, D}
	src[LayerWeight(l, WQ)] = hfSource{name: qkv, rowStart: 0, rowEnd: qd, fusedShape: fq}
	src[LayerWeight(l, WK)] = hfSource{name: qkv, rowStart: qd, rowEnd: qd + kvd, fusedShape: fq}
	src[LayerWeight(l, WV)] = hfSource{name: qkv, rowStart: qd + kvd, rowEnd: qd + 2*kvd, fusedShape: fq}
	gu := hfLayer(l, "mlp.gate_up_proj.weight")
	fg := []int{2 * I, D}
	src[LayerWeight(l, WGate)] = hfSource{name: gu, rowStart: 0, rowEnd: I, fusedShape: fg}
	src[LayerWeight(l, WUp)] = hfSource{name: gu, rowStart: I, rowEnd: 2 * I, fusedShape: fg}
}

// gpt2Sources maps GPT2LMHeadModel's tensors (named without the
// "transformer." prefix; checkpointNames adds it): Conv1D weights [in, out],
// c_attn split into q | k | v (weights and biases).
func gpt2Sources(cfg *Config) map[string]hfSource {
	D := cfg.HiddenSize
	src := map[string]hfSource{
		WEmbed: {name: "wte.weight"}, WPosEmbed: {name: "wpe.weight"},
		WNorm: {name: "ln_f.weight"}, WNorm + BiasSuffix: {name: "ln_f.bias"},
	}
	if !cfg.TieEmbeddings {
		src[WLMHead] = hfSource{name: "lm_head.weight"}
	}
	for l := 0; l < cfg.NumLayers; l++ {
		h := func(s string) string { return fmt.Sprintf("h.%d.%s", l, s) }
		for canon, hf := range map[string]string{WAttnNorm: "ln_1", WMLPNorm: "ln_2"} {
			src[LayerWeight(l, canon)] = hfSource{name: h(hf + ".weight")}
			src[LayerWeight(l, canon+BiasSuffix)] = hfSource{name: h(hf + ".bias")}
		}
		for i, canon := range []string{WQ, WK, WV} {
			src[LayerWeight(l, canon)] = hfSource{name: h("attn.c_attn.weight"), rowStart: i * D, rowEnd: (i + 1) * D, fusedShape: []int{3 * D, D}, conv1D: true}
			src[LayerWeight(l, canon+BiasSuffix)] = hfSource{name: h("attn.c_attn.bias"), rowStart: i * D, rowEnd: (i + 1) * D, fusedShape: []int{3 * D}}
		}
		for canon, hf := range map[string]string{WO: "attn.c_proj", WUp: "mlp.c_fc", WDown: "mlp.c_proj"} {
			src[LayerWeight(l, canon)] = hfSource{name: h(hf + ".weight"), conv1D: true}
			src[LayerWeight(l, canon+BiasSuffix)] = hfSource{name: h(hf + ".bias")}
		}
	}
	return src
}

// checkpointNames lists the names a source tensor may have in a file: GPT-2
// files are written with and without the "transformer." prefix.
func checkpointNames(cfg *Config, name string) []string {
	if cfg.Family == FamilyGPT2 && name != "lm_head.weight" {
		return []string{name, "transformer." + name}
	}
	return []string{name}
}

// loadWeights reads every weight cfg needs from the folder's safetensors
// files, checks shapes and dtypes, converts to dtype and places it on the
// backend. Files stay memory-mapped only while their tensors are converted.
// It also returns, sorted, the checkpoint tensors that cfg does not read
// (derived buffers such as rotary inv_freq and GPT-2's attention masks
// excepted).
func loadWeights(dir string, cfg *Config, b compute.Backend, dtype dtypes.DType) (map[string]*tensors.Tensor, []string, error) {
	files, err := checkpointFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	l := &weightLoader{cfg: cfg, b: b, dtype: dtype, want: WeightShapes(cfg), srcs: hfSources(cfg), byHF: map[string][]string{},
		used: map[string]bool{}}
	l.out = make(map[string]*tensors.Tensor, len(l.want))
	// Group canonical names by checkpoint tensor.
	for canon, s := range l.srcs {
		l.byHF[s.name] = append(l.byHF[s.name], canon)
	}
	for n := range l.byHF {
		l.hfNames = append(l.hfNames, n)
	}
	sort.Strings(l.hfNames) // deterministic errors
	for _, path := range files {
		if err := l.loadFile(path); err != nil {
			return l.fail(err)
		}
	}
	var missing []string
	for canon := range l.want {
		if l.out[canon] == nil {
			missing = append(missing, checkpointNames(cfg, l.srcs[canon].name)[0])
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		if len(missing) > 5 {
			missing = append(missing[:5], fmt.Sprintf("... (%d missing)", len(missing)))
		}
		return l.fail(fmt.Errorf("checkpoint lacks tensors required by config.json: %s", strings.Join(missing, ", ")))
	}
	sort.Strings(l.unused)
	return l.out, l.unused, nil
}

// capList returns names, its tail past n replaced by "... (N in all)".
func capList(names []string, n int) []string {
	if len(names) <= n {
		return names
	}
	return append(names[:n:n], fmt.Sprintf("... (%d in all)", len(names)))
}

// derivedBuffer reports whether a checkpoint tensor is a buffer that some
// exporters save and every model recomputes (never a weight): rotary
// inverse frequencies, GPT-2's causal-mask "attn.bias" and "attn.masked_bias".
func derivedBuffer(name string) bool {
	for _, s := range []string{"rotary_emb.inv_freq", ".attn.bias", ".attn.masked_bias"} {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// weightLoader holds loadWeights' state across the checkpoint's files.
type weightLoader struct {
	cfg     *Config
	b       compute.Backend
	dtype   dtypes.DType
	want    map[string][]int
	srcs    map[string]hfSource
	byHF    map[string][]string
	hfNames []string
	out     map[string]*tensors.Tensor
	used    map[string]bool // checkpoint tensors read
	unused  []string        // checkpoint tensors cfg does not read
}

// fail frees what was loaded and returns err.
func (l *weightLoader) fail(err error) (map[string]*tensors.Tensor, []string, error) {
	for _, t := range l.out {
		_ = t.FinalizeAll()
	}
	return nil, nil, err
}

// loadFile converts the wanted tensors one file holds.
func (l *weightLoader) loadFile(path string) error {
	f, err := safetensors.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, hfName := range l.hfNames {
		var t safetensors.Tensor
		ok := false
		for _, n := range checkpointNames(l.cfg, hfName) {
			if t, ok = f.Tensor(n); ok {
				break
			}
		}
		if !ok {
			continue
		}
		l.used[t.Name] = true
		if err := checkFloat(t); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		vals, err := t.Float32s()
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		for _, canon := range l.byHF[hfName] {
			data, err := l.srcs[canon].extract(t.Name, t.Shape, vals, l.want[canon])
			if err != nil {
				return err
			}
			tt, err := deviceTensor(l.b, data, storedShape(l.want[canon]), l.dtype)
			if err != nil {
				return fmt.Errorf("tensor %s: %w", t.Name, err)
			}
			l.out[canon] = tt
		}
	}
	for _, n := range f.Names() {
		if !l.used[n] && !derivedBuffer(n) {
			l.unused = append(l.unused, n)
		}
	}
	return f.Close()
}

// extract returns the values of the canonical weight of shape want (Hugging
// Face layout [out, in]) in the runtime's stored layout (storedShape), from
// checkpoint tensor name of shape got holding vals.
func (s hfSource) extract(name string, got []int, vals []float32, want []int) ([]float32, error) {
	expect := want
	if s.rowEnd > 0 {
		expect = s.fusedShape
	}
	if s.conv1D {
		expect = []int{expect[1], expect[0]}
	}
	if !slices.Equal(got, expect) {
		return nil, fmt.Errorf("tensor %s has shape %v, config implies %v", name, got, expect)
	}
	if s.conv1D && s.rowEnd == 0 {
		return vals, nil // Conv1D [in, out] is already the stored layout
	}
	if s.conv1D {
		vals = transpose(vals, got[0], got[1]) // to [out, in]
	}
	if s.rowEnd > 0 {
		cols := 1
		for _, d := range s.fusedShape[1:] {
			cols *= d
		}
		vals = vals[s.rowStart*cols : s.rowEnd*cols]
	}
	if storedTransposed(want) {
		vals = transpose(vals, want[0], want[1])
	}
	return vals, nil
}

func checkFloat(t safetensors.Tensor) error {
	switch t.DType {
	case safetensors.Float32, safetensors.BFloat16, safetensors.Float16, safetensors.Float64:
		return nil
	}
	return fmt.Errorf("tensor %s has dtype %s; weights must be F32, BF16, F16 or F64", t.Name, t.DType)
}

// deviceTensor creates a tensor of dtype on the backend from float32 values.
func deviceTensor(b compute.Backend, vals []float32, shape []int, dtype dtypes.DType) (*tensors.Tensor, error) {
	var flat any = vals
	if dtype == dtypes.BFloat16 {
		bf := make([]bfloat16.BFloat16, len(vals))
		for i, v := range vals {
			bf[i] = bfloat16.FromFloat32(v)
		}
		flat = bf
	}
	buf, err := b.BufferFromFlatData(0, flat, shapes.Make(dtype, shape...))
	if err != nil {
		return nil, err
	}
	return tensors.FromBuffer(buf)
}
