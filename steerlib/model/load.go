package model

import (
	"encoding/json"
	"errors"
	"fmt"
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

// Load opens a Hugging Face causal LM: a local folder (never touches the
// network), or "hf://org/name" / "org/name" from the Hub (downloaded into
// the Hugging Face cache, using $HF_TOKEN; see ResolveDir). Weights are
// converted to the compute dtype and moved to the backend.
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
	b, err := backend.Shared(o.backendName)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", pathOrRepo, err)
	}
	w, err := loadWeights(dir, cfg, b, o.dtype)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", pathOrRepo, err)
	}
	return newModel(cfg, dir, b, o.dtype, w), nil
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

// hfPrefix is the prefix of decoder weights in Hugging Face checkpoints.
func hfLayer(l int, s string) string { return fmt.Sprintf("model.layers.%d.%s", l, s) }

// hfSource says where a canonical weight comes from: a checkpoint tensor,
// optionally a row range of it (fused projections).
type hfSource struct {
	name       string
	rowStart   int
	rowEnd     int // 0: whole tensor
	fusedShape []int
}

// hfSources maps each canonical weight of cfg to its checkpoint tensor.
func hfSources(cfg *Config) map[string]hfSource {
	src := map[string]hfSource{
		WEmbed: {name: "model.embed_tokens.weight"},
		WNorm:  {name: "model.norm.weight"},
	}
	if !cfg.TieEmbeddings {
		src[WLMHead] = hfSource{name: "lm_head.weight"}
	}
	D, I := cfg.HiddenSize, cfg.IntermediateSize
	qd, kvd := cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
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
			qkv := hfLayer(l, "self_attn.qkv_proj.weight")
			fq := []int{qd + 2*kvd, D}
			src[LayerWeight(l, WQ)] = hfSource{qkv, 0, qd, fq}
			src[LayerWeight(l, WK)] = hfSource{qkv, qd, qd + kvd, fq}
			src[LayerWeight(l, WV)] = hfSource{qkv, qd + kvd, qd + 2*kvd, fq}
			gu := hfLayer(l, "mlp.gate_up_proj.weight")
			fg := []int{2 * I, D}
			src[LayerWeight(l, WGate)] = hfSource{gu, 0, I, fg}
			src[LayerWeight(l, WUp)] = hfSource{gu, I, 2 * I, fg}
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

// loadWeights reads every weight cfg needs from the folder's safetensors
// files, checks shapes and dtypes, converts to dtype and places it on the
// backend. Files stay memory-mapped only while their tensors are converted.
func loadWeights(dir string, cfg *Config, b compute.Backend, dtype dtypes.DType) (map[string]*tensors.Tensor, error) {
	files, err := checkpointFiles(dir)
	if err != nil {
		return nil, err
	}
	want := WeightShapes(cfg)
	srcs := hfSources(cfg)
	// Group canonical names by checkpoint tensor.
	byHF := map[string][]string{}
	for canon, s := range srcs {
		byHF[s.name] = append(byHF[s.name], canon)
	}
	hfNames := make([]string, 0, len(byHF))
	for n := range byHF {
		hfNames = append(hfNames, n)
	}
	sort.Strings(hfNames) // deterministic errors
	out := make(map[string]*tensors.Tensor, len(want))
	fail := func(err error) (map[string]*tensors.Tensor, error) {
		for _, t := range out {
			_ = t.FinalizeAll()
		}
		return nil, err
	}
	for _, path := range files {
		f, err := safetensors.Open(path)
		if err != nil {
			return fail(err)
		}
		for _, hfName := range hfNames {
			canons := byHF[hfName]
			t, ok := f.Tensor(hfName)
			if !ok {
				continue
			}
			if err := checkFloat(t); err != nil {
				f.Close()
				return fail(fmt.Errorf("%s: %w", filepath.Base(path), err))
			}
			vals, err := t.Float32s()
			if err != nil {
				f.Close()
				return fail(fmt.Errorf("%s: %w", filepath.Base(path), err))
			}
			for _, canon := range canons {
				s := srcs[canon]
				shape := want[canon]
				data := vals
				if s.rowEnd > 0 {
					if !slices.Equal(t.Shape, s.fusedShape) {
						f.Close()
						return fail(fmt.Errorf("tensor %s has shape %v, config implies %v", hfName, t.Shape, s.fusedShape))
					}
					cols := s.fusedShape[1]
					data = vals[s.rowStart*cols : s.rowEnd*cols]
				} else if !slices.Equal(t.Shape, shape) {
					f.Close()
					return fail(fmt.Errorf("tensor %s has shape %v, config implies %v", hfName, t.Shape, shape))
				}
				stored := storedShape(shape)
				if storedTransposed(shape) {
					data = transpose(data, shape[0], shape[1])
				}
				tt, err := deviceTensor(b, data, stored, dtype)
				if err != nil {
					f.Close()
					return fail(fmt.Errorf("tensor %s: %w", hfName, err))
				}
				out[canon] = tt
			}
		}
		if err := f.Close(); err != nil {
			return fail(err)
		}
	}
	var missing []string
	for canon := range want {
		if out[canon] == nil {
			missing = append(missing, srcs[canon].name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		if len(missing) > 5 {
			missing = append(missing[:5], fmt.Sprintf("... (%d missing)", len(missing)))
		}
		return fail(fmt.Errorf("checkpoint lacks tensors required by config.json: %s", strings.Join(missing, ", ")))
	}
	return out, nil
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
