package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gosteer/gosteer/steerlib"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/safetensors"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

func init() {
	register(command{
		name:    "activations",
		summary: "run a model on token ids and save logits and the residual stream after every block",
		run:     runActivations,
	})
}

// runtimeFlags are the model flags shared by activations, generate and bench.
type runtimeFlags struct {
	model   *string
	dtype   *string
	backend *string
	steer   *specList
}

// specList collects a repeatable string flag.
type specList []string

// String implements flag.Value.
func (s *specList) String() string { return strings.Join(*s, " ") }

// Set implements flag.Value.
func (s *specList) Set(v string) error { *s = append(*s, v); return nil }

func addRuntimeFlags(fs *flag.FlagSet, withSteer bool) runtimeFlags {
	f := runtimeFlags{
		model:   fs.String("model", "", "model folder (config.json + safetensors), or hf://org/name"),
		dtype:   fs.String("dtype", "f32", "compute dtype: f32, or bf16 (GPU backends)"),
		backend: fs.String("backend", "", "GoMLX backend (default $GOMLX_BACKEND, else the pure-Go CPU backend)"),
	}
	if withSteer {
		f.steer = &specList{}
		fs.Var(f.steer, "steer", "steering operator FILE@L:add=C | FILE@L:clamp[=Z] | FILE@L:ablate (repeatable; applied in order)")
	}
	return f
}

func parseDType(s string) (dtypes.DType, error) {
	switch strings.ToLower(s) {
	case "f32", "float32":
		return dtypes.Float32, nil
	case "bf16", "bfloat16":
		return dtypes.BFloat16, nil
	}
	return dtypes.InvalidDType, fmt.Errorf("--dtype %q: want f32 or bf16", s)
}

// modelOptions are the model.Load options of --dtype and --backend.
func (f runtimeFlags) modelOptions() ([]model.Option, error) {
	if *f.model == "" {
		return nil, fmt.Errorf("--model is required")
	}
	dt, err := parseDType(*f.dtype)
	if err != nil {
		return nil, err
	}
	return []model.Option{model.WithDType(dt), model.WithBackend(*f.backend)}, nil
}

// load opens the model named by --model.
func (f runtimeFlags) load() (*model.Model, error) {
	mo, err := f.modelOptions()
	if err != nil {
		return nil, err
	}
	return model.Load(*f.model, mo...)
}

// open opens the model named by --model with its prompt encoder.
func (f runtimeFlags) open(opts ...steerlib.Option) (*steerlib.Model, error) {
	mo, err := f.modelOptions()
	if err != nil {
		return nil, err
	}
	return steerlib.Open(*f.model, append(opts, steerlib.WithModelOptions(mo...))...)
}

// steerOps turns the --steer specs into operators checked against cfg.
// The spec syntax and vector files belong to steerlib/vectors.
func (f runtimeFlags) steerOps(cfg *model.Config) ([]model.SteerOp, error) {
	if f.steer == nil || len(*f.steer) == 0 {
		return nil, nil
	}
	return vectors.LoadSpecs(*f.steer, cfg.HiddenSize, cfg.NumLayers)
}

// parseLayerList parses a --layers flag: "all" (or "") or a comma-separated
// list of layers. With numLayers > 0, "all" is every layer and each layer
// must be below numLayers; with numLayers ≤ 0 (unknown), "all" gives nil.
func parseLayerList(s string, numLayers int) ([]int, error) {
	if s == "" || s == "all" {
		var out []int
		for l := range max(numLayers, 0) {
			out = append(out, l)
		}
		return out, nil
	}
	var out []int
	for _, p := range strings.Split(s, ",") {
		l, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || l < 0 || (numLayers > 0 && l >= numLayers) {
			bound := "≥ 0"
			if numLayers > 0 {
				bound = fmt.Sprintf("in [0, %d)", numLayers)
			}
			return nil, fmt.Errorf("--layers %q: %q is not a layer %s (want all or a comma-separated list)", s, p, bound)
		}
		out = append(out, l)
	}
	return out, nil
}

// readInputBatch reads input_ids [B,T] and optional attention_mask and
// position_ids (integer tensors of the same shape) from a safetensors file.
func readInputBatch(path string) (model.Batch, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return model.Batch{}, fmt.Errorf("--input: %w", err)
	}
	defer f.Close()
	ints := func(name string, required bool, B, T int) ([]int32, []int, error) {
		t, ok := f.Tensor(name)
		if !ok {
			if required {
				return nil, nil, fmt.Errorf("--input %s: no %s tensor (want I32 [B,T])", path, name)
			}
			return nil, nil, nil
		}
		if len(t.Shape) != 2 {
			return nil, nil, fmt.Errorf("--input %s: %s has shape %v, want [B,T]", path, name, t.Shape)
		}
		if B >= 0 && (t.Shape[0] != B || t.Shape[1] != T) {
			return nil, nil, fmt.Errorf("--input %s: %s has shape %v, input_ids is [%d %d]", path, name, t.Shape, B, T)
		}
		v, err := t.Int32s()
		if err != nil {
			return nil, nil, fmt.Errorf("--input %s: %w", path, err)
		}
		return v, t.Shape, nil
	}
	ids, shape, err := ints("input_ids", true, -1, -1)
	if err != nil {
		return model.Batch{}, err
	}
	b := model.Batch{B: shape[0], T: shape[1], IDs: ids}
	if b.B == 0 || b.T == 0 {
		return model.Batch{}, fmt.Errorf("--input %s: input_ids is empty (%d×%d)", path, b.B, b.T)
	}
	if b.Mask, _, err = ints("attention_mask", false, b.B, b.T); err != nil {
		return model.Batch{}, err
	}
	for i := 0; b.Mask != nil && i < b.B; i++ {
		if !slices.ContainsFunc(b.Mask[i*b.T:(i+1)*b.T], func(v int32) bool { return v != 0 }) {
			return model.Batch{}, fmt.Errorf("--input %s: row %d has no tokens (attention_mask all 0)", path, i)
		}
	}
	if b.Positions, _, err = ints("position_ids", false, b.B, b.T); err != nil {
		return model.Batch{}, err
	}
	return b, nil
}

// checkFiniteResult refuses NaN or Inf activations, naming the first layer
// (in the forward order) where they appear: NaN weights, a norm epsilon that
// makes a variance negative, or steering that overflows float32.
func checkFiniteResult(res *model.ForwardResult, layers []int) error {
	sorted := slices.Sorted(slices.Values(layers))
	for _, l := range sorted {
		if err := vectors.CheckFinite(res.Resid[l]); err != nil {
			return fmt.Errorf("non-finite activations: resid_post.%d (after block %d) %w; check the weights, rms_norm_eps and steering coefficients", l, l, err)
		}
	}
	if err := vectors.CheckFinite(res.Logits); err != nil {
		return fmt.Errorf("non-finite logits: %w; check the weights, rms_norm_eps and steering coefficients", err)
	}
	return nil
}

func runActivations(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("activations", "--model DIR --input IN.safetensors --out OUT.safetensors [--layers all|L,L,...] [--last] [--steer SPEC]...", stderr)
	rf := addRuntimeFlags(fs, true)
	input := fs.String("input", "", "safetensors with input_ids I32 [B,T], optional attention_mask and position_ids I32 [B,T]")
	out := fs.String("out", "", "output safetensors: logits F32 [B,T,V], resid_post.<l> F32 [B,T,D]")
	layersFlag := fs.String("layers", "all", "blocks whose resid_post is saved: all, or a comma-separated list")
	last := fs.Bool("last", false, "save only each row's last real token: logits [B,V], resid_post.<l> [B,D]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *input == "" || *out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "steer activations: --model, --input and --out are required (and no positional arguments)")
		fs.Usage()
		return errUsage
	}
	if err := checkOutput("--out", *out, *input); err != nil {
		return err
	}
	batch, err := readInputBatch(*input)
	if err != nil {
		return err
	}
	m, err := rf.load()
	if err != nil {
		return err
	}
	defer m.Close()
	cfg := m.Config
	layers, err := parseLayerList(*layersFlag, cfg.NumLayers)
	if err != nil {
		return err
	}
	ops, err := rf.steerOps(cfg)
	if err != nil {
		return err
	}
	opts := model.ForwardOptions{Layers: layers, Steer: ops}
	if *last {
		opts.At, opts.Logits = model.LastToken, model.LogitsLast
	}
	res, err := m.Forward(batch, opts)
	if err != nil {
		return err
	}
	if err := checkFiniteResult(res, layers); err != nil {
		return err
	}
	B, T, V, D := res.B, res.T, res.V, res.D
	logitsShape, residShape := []int{B, T, V}, []int{B, T, D}
	if *last {
		logitsShape, residShape = []int{B, V}, []int{B, D}
	}
	tensors := []safetensors.Tensor{safetensors.F32("logits", logitsShape, res.Logits)}
	for _, l := range layers {
		tensors = append(tensors, safetensors.F32(fmt.Sprintf("resid_post.%d", l), residShape, res.Resid[l]))
	}
	meta := map[string]string{"model": *rf.model, "architecture": cfg.Architecture, "positions": "all"}
	if *last {
		meta["positions"] = "last"
	}
	if len(ops) > 0 {
		meta["steer"] = strings.Join(*rf.steer, " ")
	}
	data, err := safetensors.Encode(tensors, meta)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := writeOutput(nil, *out, data); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: logits %v and resid_post for %d layers\n", *out, logitsShape, len(layers))
	return nil
}
