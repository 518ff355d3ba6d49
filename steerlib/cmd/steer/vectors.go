package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gosteer/gosteer/steerlib"
	"github.com/gosteer/gosteer/steerlib/chat"
	"github.com/gosteer/gosteer/steerlib/controlvec"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/pairs"
	"github.com/gosteer/gosteer/steerlib/progress"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

func init() {
	register(group("vectors", "compute steering vectors from pairs; inspect them; export/import GGUF control vectors",
		command{"pairs", "write a JSONL pair file from the paper's data or from base queries × gosteer's phrasings", runVectorsPairs},
		command{"compute", "compute per-layer directions from a JSONL pair file on a model", runVectorsCompute},
		command{"export-gguf", "write a vector file as a llama.cpp / repeng GGUF control vector", runVectorsExportGGUF},
		command{"import-gguf", "read a GGUF control vector into a vector file", runVectorsImportGGUF},
		command{"info", "describe a vector file (safetensors or GGUF)", runVectorsInfo},
	))
}

// defaultStatePath is where compute keeps its running sums for out.
func defaultStatePath(out string) string {
	return strings.TrimSuffix(out, ".safetensors") + ".state.safetensors"
}

// computeFlags are the flags of steer vectors compute.
type computeFlags struct {
	rf                                         runtimeFlags
	pairsPath, out, method, instruction, state *string
	tokDir                                     *string
	batch, layer, every                        *int
	resume, update, plain, showProgress        *bool
	date                                       *dateFlag
}

// parseComputeFlags parses and checks the flags of steer vectors compute.
func parseComputeFlags(args []string, stderr io.Writer) (*computeFlags, error) {
	fs := newFlagSet("vectors compute", "--model DIR --pairs PAIRS.jsonl --out VEC.safetensors [flags]", stderr)
	f := &computeFlags{rf: addRuntimeFlags(fs, false)}
	f.pairsPath = fs.String("pairs", "", "JSONL pairs: {\"instruction_id\", \"with\", \"without\", \"kwargs\"} per line")
	f.out = fs.String("out", "", "output vector file (safetensors)")
	f.method = fs.String("method", vectors.MethodMeanDiff, "mean_diff (the paper) or pca_diff (repeng; keeps a hidden×hidden matrix per layer)")
	f.batch = fs.Int("batch", 8, "pairs per forward pass (memory is bounded by it)")
	f.instruction = fs.String("instruction", "", "use only pairs of this instruction id (needed when the file mixes several)")
	f.layer = fs.Int("layer", -1, "record this layer as the layer of choice (default: keep the one of OUT when resuming or updating)")
	f.state = fs.String("state", "", "running-sums file for resuming and updating (default OUT without .safetensors + .state.safetensors)")
	f.resume = fs.Bool("resume", false, "continue an interrupted run over the same pairs from the state file")
	f.update = fs.Bool("update", false, "add the pairs to the sums already in the state file (more pairs for an existing vector)")
	f.plain = fs.Bool("plain", false, `render prompts in the base-model "Q: …\nA:" format instead of the chat template`)
	f.tokDir = fs.String("tokenizer", "", "folder with tokenizer.json and the chat template (default: the model folder)")
	f.date = addDateFlag(fs)
	f.showProgress = fs.Bool("progress", true, "show a progress bar on stderr")
	f.every = fs.Int("checkpoint-every", 16, "save the state every N batches")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if *f.rf.model == "" || *f.pairsPath == "" || *f.out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "steer vectors compute: --model, --pairs and --out are required (and no positional arguments)")
		fs.Usage()
		return nil, errUsage
	}
	if *f.resume && *f.update {
		return nil, errors.New("--resume and --update exclude each other")
	}
	if *f.method != vectors.MethodMeanDiff && *f.method != vectors.MethodPCADiff {
		return nil, fmt.Errorf("--method %q: want %s or %s", *f.method, vectors.MethodMeanDiff, vectors.MethodPCADiff)
	}
	if *f.state == "" {
		*f.state = defaultStatePath(*f.out)
	}
	if err := atLeast("--batch", *f.batch, 1); err != nil {
		return nil, err
	}
	if err := atLeast("--checkpoint-every", *f.every, 1); err != nil {
		return nil, err
	}
	if err := checkOutput("--out", *f.out, *f.pairsPath, *f.state); err != nil {
		return nil, err
	}
	if err := checkOutput("--state", *f.state, *f.pairsPath, *f.out); err != nil {
		return nil, err
	}
	return f, nil
}

func runVectorsCompute(args []string, stdout, stderr io.Writer) error {
	f, err := parseComputeFlags(args, stderr)
	if err != nil {
		return err
	}
	statePath := *f.state
	total, err := pairs.Count(*f.pairsPath)
	if err != nil {
		return err
	}
	_, statErr := os.Stat(statePath)
	haveState := statErr == nil
	if haveState && !*f.resume && !*f.update {
		return fmt.Errorf("state file %s exists: pass --resume to continue an interrupted run over the same pairs, --update to add these pairs to it, or remove it", statePath)
	}
	if !haveState && (*f.resume || *f.update) {
		return fmt.Errorf("--resume/--update: no state file %s", statePath)
	}

	m, err := f.rf.load()
	if err != nil {
		return err
	}
	defer m.Close()
	dir := *f.tokDir
	if dir == "" {
		dir = m.Dir
	}
	enc, err := chat.LoadEncoder(dir, chat.EncoderOptions{Plain: *f.plain, Date: time.Time(*f.date)})
	if err != nil {
		return err
	}
	L, D := m.Config.NumLayers, m.Config.HiddenSize
	if *f.layer >= L {
		return fmt.Errorf("--layer %d out of range: the model has %d layers (0..%d)", *f.layer, L, L-1)
	}
	acc, err := f.accumulator(m, dir, haveState)
	if err != nil {
		return err
	}
	src, err := pairs.Open(*f.pairsPath)
	if err != nil {
		return err
	}
	defer src.Close()
	var prog progress.Reporter = progress.None{}
	if *f.showProgress {
		prog = progress.Terminal(stderr)
	}
	stopsOnInterrupt()
	ctx := interruptContext()
	before := acc.N
	start := time.Now()
	err = vectors.Extract(ctx, acc, src, enc.Encode, vectors.ModelCapture(m), vectors.ExtractOptions{
		// --batch is capped by the pairs there are (a huge --batch must not size a huge buffer).
		BatchSize: min(*f.batch, max(total, 1)), InstructionID: *f.instruction, Progress: prog, Total: total,
		StatePath: statePath, CheckpointEvery: *f.every, Resume: *f.resume,
	})
	if err != nil {
		if errors.Is(err, context.Canceled) && acc.N == 0 {
			return interrupted("interrupted before the first pair; nothing was saved (rerun the same command)")
		}
		if errors.Is(err, context.Canceled) {
			return interrupted(fmt.Sprintf("interrupted after %d pairs; state saved to %s (rerun the same command with --resume to continue)", acc.N, statePath))
		}
		return err
	}
	set, err := saveVectors(acc, *f.method, *f.layer, haveState, *f.out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s for %q from %d pairs (%d new, %.1fs), %d layers × %d; state %s\n",
		*f.out, set.Method, set.InstructionID, set.NPairs, acc.N-before, time.Since(start).Seconds(), L, D, statePath)
	return nil
}

// accumulator returns the running sums to extend: the state's, checked
// against this run's model, options and pairs (--resume, --update), or new
// ones; either way tied to this run.
func (f *computeFlags) accumulator(m *model.Model, tokDir string, haveState bool) (*vectors.Accumulator, error) {
	run, err := f.fingerprints(m.Dir, tokDir)
	if err != nil {
		return nil, err
	}
	var acc *vectors.Accumulator
	if haveState {
		if acc, err = loadState(*f.state, m.Config, *f.method, *f.instruction); err != nil {
			return nil, err
		}
		if err := checkRun(acc, run, *f.state, *f.resume); err != nil {
			return nil, err
		}
	} else {
		acc = vectors.NewAccumulator(m.Config.NumLayers, m.Config.HiddenSize, *f.method == vectors.MethodPCADiff)
		acc.ModelHint = steerlib.ModelHint(m.Dir, filepath.Base(filepath.Clean(*f.rf.model)))
	}
	if *f.resume {
		acc.Run.Pairs = run.Pairs
	} else {
		acc.StartRun(run.Model, run.Options, run.Pairs)
	}
	return acc, nil
}

// fingerprints returns what ties a state to this run: the model in
// modelDir, the options that change the sums (with the tokenizer files of
// tokDir) and the pair file.
func (f *computeFlags) fingerprints(modelDir, tokDir string) (vectors.RunInfo, error) {
	var r vectors.RunInfo
	var err error
	if r.Model, err = vectors.ModelFingerprint(modelDir); err != nil {
		return r, err
	}
	if r.Pairs, err = vectors.FileFingerprint(*f.pairsPath); err != nil {
		return r, fmt.Errorf("--pairs: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "method=%s\nplain=%v\ndate=%s\ninstruction=%s\n", *f.method, *f.plain, f.date, *f.instruction)
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "chat_template.json"} {
		if fp, err := vectors.FileFingerprint(filepath.Join(tokDir, name)); err == nil {
			fmt.Fprintf(h, "%s=%s\n", name, fp)
		}
	}
	r.Options = hex.EncodeToString(h.Sum(nil))
	return r, nil
}

// checkRun refuses to resume or update a state made by another model or
// other options; an update must start from a complete state and bring
// another pair file. (A resume checks its pairs as it skips them: the first
// pairs of --pairs must be those the state holds, by their chained
// fingerprint; a file that grew since is continued.)
func checkRun(acc *vectors.Accumulator, now vectors.RunInfo, statePath string, resume bool) error {
	was := acc.Run
	if was.Model == "" {
		return fmt.Errorf("state %s records no fingerprint of the model, pairs and options that made it (written by an older gosteer): recompute without it", statePath)
	}
	switch {
	case was.Model != now.Model:
		return fmt.Errorf("state %s was computed on another model (config or weights differ from --model): remove it or use the model that made it", statePath)
	case was.Options != now.Options:
		return fmt.Errorf("state %s was computed with other options (--method, --plain, --date, --instruction or the tokenizer/chat template files): use the same ones", statePath)
	case !resume && !was.Complete:
		return fmt.Errorf("--update: state %s is from an interrupted run (%d of its pairs read): finish it first with --resume and that run's --pairs", statePath, acc.N-was.BaseN)
	case !resume && was.Pairs == now.Pairs:
		return fmt.Errorf("--update: the pairs of --pairs are already in state %s (same file content); --update adds other pairs", statePath)
	}
	return nil
}

// loadState reads the running sums of an interrupted or earlier run and
// checks them against the model and the flags.
func loadState(path string, cfg *model.Config, method, instruction string) (*vectors.Accumulator, error) {
	acc, err := vectors.LoadAccumulator(path)
	if err != nil {
		return nil, err
	}
	if acc.NumLayers != cfg.NumLayers || acc.Hidden != cfg.HiddenSize {
		return nil, fmt.Errorf("state %s is for %d layers × %d, the model has %d × %d", path, acc.NumLayers, acc.Hidden, cfg.NumLayers, cfg.HiddenSize)
	}
	if method == vectors.MethodPCADiff && !acc.HasPCA() {
		return nil, fmt.Errorf("state %s was computed without pca_diff's matrices; recompute from scratch for --method pca_diff", path)
	}
	if instruction != "" && acc.InstructionID != "" && acc.InstructionID != instruction {
		return nil, fmt.Errorf("state %s holds pairs of %q, not %q", path, acc.InstructionID, instruction)
	}
	return acc, nil
}

// saveVectors writes the directions of acc to out with the layer of choice
// (when none is given, a resumed or updated run keeps the one of out).
func saveVectors(acc *vectors.Accumulator, method string, layer int, resumed bool, out string) (*vectors.Set, error) {
	set, err := acc.Vectors(method)
	if err != nil {
		return nil, err
	}
	set.ChosenLayer = layer
	if set.ChosenLayer == vectors.NoLayer && resumed {
		if prev, err := vectors.Load(out); err == nil {
			set.ChosenLayer = prev.ChosenLayer
		}
	}
	if err := set.Save(out); err != nil {
		return nil, err
	}
	return set, nil
}

func runVectorsExportGGUF(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("vectors export-gguf", "--in VEC.safetensors --out VEC.gguf [--scale C] [--layers all|L,L] [--op add|clamp --clamp-approx]", stderr)
	in := fs.String("in", "", "vector file")
	out := fs.String("out", "", "GGUF control vector to write")
	scale := fs.Float64("scale", 1, "add coefficient c: the file holds c·u per layer")
	layers := fs.String("layers", "", "layers to export: a list, or all (default: the layer of choice if the file has one, else all layers ≥ 1)")
	opName := fs.String("op", "add", "add, or clamp (needs --clamp-approx: llama.cpp has no clamp)")
	approx := fs.Bool("clamp-approx", false, "export clamp as the constant c = z̄ − mean_proj_without per layer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *in == "" || *out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "steer vectors export-gguf: --in and --out are required")
		fs.Usage()
		return errUsage
	}
	if err := checkOutput("--out", *out, *in); err != nil {
		return err
	}
	set, err := vectors.Load(*in)
	if err != nil {
		return err
	}
	ls, err := parseLayerList(*layers, 0)
	if err != nil {
		return err
	}
	var op model.OpKind
	switch *opName {
	case "add":
		op = model.OpAdd
	case "clamp":
		op = model.OpClamp
	default:
		return fmt.Errorf("--op %q: want add or clamp", *opName)
	}
	switch {
	case *layers == "" && set.ChosenLayer != vectors.NoLayer:
		ls = []int{set.ChosenLayer}
	case ls == nil:
		for _, l := range set.LayerIDs() {
			if l == 0 {
				fmt.Fprintln(stderr, "note: layer 0 skipped: GGUF control vectors cannot express block 0 (llama.cpp numbers direction.N from 1)")
				continue
			}
			ls = append(ls, l)
		}
	}
	opts := controlvec.ExportOptions{Layers: ls, Op: op, ClampApprox: *approx}
	if op == model.OpAdd {
		opts.Scale = *scale
		if *scale == 0 {
			return errors.New("--scale 0 exports a zero vector")
		}
	} else if *scale != 1 {
		return errors.New("--scale applies to add only")
	}
	if err := controlvec.Export(set, *out, opts); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: control vector, layers %v, %s\n", *out, ls, describeExport(opts))
	return nil
}

func describeExport(o controlvec.ExportOptions) string {
	if o.Op == model.OpClamp {
		return "clamp approximated by c = z̄ − mean_proj_without"
	}
	return "add with c = " + strconv.FormatFloat(o.Scale, 'g', -1, 64)
}

func runVectorsImportGGUF(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("vectors import-gguf", "--in VEC.gguf --out VEC.safetensors", stderr)
	in := fs.String("in", "", "GGUF control vector (llama.cpp, repeng, or gosteer export-gguf)")
	out := fs.String("out", "", "vector file to write")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *in == "" || *out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "steer vectors import-gguf: --in and --out are required")
		fs.Usage()
		return errUsage
	}
	if err := checkOutput("--out", *out, *in); err != nil {
		return err
	}
	set, err := controlvec.Import(*in)
	if err != nil {
		return err
	}
	if err := set.Save(*out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d layers %v × %d (method %s, model hint %q); steer with %s@L:add (c = the file's norm per layer)\n",
		*out, len(set.Layers), set.LayerIDs(), set.Hidden, set.Method, set.ModelHint, *out)
	return nil
}

// infoJSON is the --json form of `steer vectors info`.
type infoJSON struct {
	File          string      `json:"file"`
	ModelHint     string      `json:"model_hint"`
	Method        string      `json:"method"`
	InstructionID string      `json:"instruction_id"`
	Hidden        int         `json:"hidden_size"`
	NumLayers     int         `json:"num_layers"`
	NPairs        int         `json:"n_pairs"`
	Layer         *int        `json:"layer"`
	Layers        []infoLayer `json:"layers"`
}

type infoLayer struct {
	Layer           int      `json:"layer"`
	Norm            *float64 `json:"norm"`
	ZBar            *float64 `json:"zbar"`
	MeanProjWithout *float64 `json:"mean_proj_without"`
	Coef            *float64 `json:"coef"`
	CosNext         *float64 `json:"cos_next"`
}

func optF(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

func runVectorsInfo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("vectors info", "[--json] [--cosines] FILE", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	cos := fs.Bool("cosines", false, "also print the cosine similarity between the layers' directions")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "steer vectors info: give one vector file")
		fs.Usage()
		return errUsage
	}
	path := fs.Arg(0)
	s, err := vectors.Load(path)
	if err != nil {
		return err
	}
	info := infoJSON{File: path, ModelHint: s.ModelHint, Method: s.Method, InstructionID: s.InstructionID,
		Hidden: s.Hidden, NumLayers: s.NumLayers, NPairs: s.NPairs}
	if s.ChosenLayer != vectors.NoLayer {
		b := s.ChosenLayer
		info.Layer = &b
	}
	for i, l := range s.Layers {
		il := infoLayer{Layer: l.Layer, Norm: optF(l.Norm), ZBar: optF(l.ZBar), MeanProjWithout: optF(l.MeanProjWithout), Coef: optF(l.Coef)}
		if i+1 < len(s.Layers) {
			il.CosNext = optF(vectors.Cosine(l.U, s.Layers[i+1].U))
		}
		info.Layers = append(info.Layers, il)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(info)
	}
	fmt.Fprintf(stdout, "file         %s\nmodel hint   %s\nmethod       %s\ninstruction  %s\nhidden size  %d\nmodel layers %d\npairs        %d\n",
		path, s.ModelHint, s.Method, s.InstructionID, s.Hidden, s.NumLayers, s.NPairs)
	if s.ChosenLayer != vectors.NoLayer {
		fmt.Fprintf(stdout, "layer        %d (layer of choice)\n", s.ChosenLayer)
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\t‖v‖\tz̄\tmean proj without\tcoef\tcos(next layer)\t")
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'g', 5, 64)
	}
	for _, l := range info.Layers {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t\n", l.Layer, f(l.Norm), f(l.ZBar), f(l.MeanProjWithout), f(l.Coef), f(l.CosNext))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if *cos {
		m := s.LayerCosines()
		ids := s.LayerIDs()
		sort.Ints(ids)
		fmt.Fprintln(stdout, "\ncosine similarity between layers")
		tw := tabwriter.NewWriter(stdout, 0, 0, 1, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "\t")
		for _, l := range ids {
			fmt.Fprintf(tw, "%d\t", l)
		}
		fmt.Fprintln(tw)
		for i, row := range m {
			fmt.Fprintf(tw, "%d\t", ids[i])
			for _, c := range row {
				fmt.Fprintf(tw, "%.3f\t", c)
			}
			fmt.Fprintln(tw)
		}
		return tw.Flush()
	}
	return nil
}

func runVectorsPairs(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("vectors pairs", "--out PAIRS.jsonl (--paper FILE | --queries FILE --ids ID,ID [--per-query N] [--seed S] [--kwargs JSON]) [--instruction ID] [--limit N]", stderr)
	out := fs.String("out", "", "JSONL pair file to write")
	paper := fs.String("paper", "", "a single-instruction file of the paper (prompt / prompt_without_instruction), e.g. ifeval_single_instr_format.jsonl")
	queries := fs.String("queries", "", "base queries: the paper's ifeval_wo_instructions.jsonl, or a text file with one query per line")
	ids := fs.String("ids", "", "with --queries: comma-separated IFEval instruction ids to phrase (\"all\" for every id gosteer can phrase)")
	perQuery := fs.Int("per-query", 1, "with --queries: pairs per query and instruction (different wording and kwargs)")
	seed := fs.Uint64("seed", 1, "with --queries: seed of the wording and kwargs draws")
	kwargs := fs.String("kwargs", "", `with --queries: JSON object of fixed kwargs, e.g. {"keywords":["owl"]}`)
	instruction := fs.String("instruction", "", "keep only pairs of this instruction id")
	limit := fs.Int("limit", 0, "keep at most N pairs (0: all)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || (*paper == "") == (*queries == "") || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "steer vectors pairs: give --out and exactly one of --paper or --queries")
		fs.Usage()
		return errUsage
	}
	if err := checkOutput("--out", *out, *paper, *queries); err != nil {
		return err
	}
	if err := atLeast("--per-query", *perQuery, 1); err != nil {
		return err
	}
	if err := atLeast("--limit", *limit, 0); err != nil {
		return err
	}
	var ps []pairs.Pair
	if *paper != "" {
		var err error
		if ps, err = pairs.LoadPaperPairs(*paper); err != nil {
			return err
		}
	} else {
		var err error
		if ps, err = buildPairs(*queries, *ids, *kwargs, pairs.BuildOptions{PerQuery: *perQuery, Seed: *seed}); err != nil {
			return err
		}
	}
	if *instruction != "" {
		ps = pairs.ByInstruction(ps)[*instruction]
	}
	// Identical prompts carry no direction; the paper's test files have a few.
	kept := ps[:0]
	for _, p := range ps {
		if p.Validate() == nil {
			kept = append(kept, p)
		}
	}
	dropped := len(ps) - len(kept)
	ps = kept
	if *limit > 0 && len(ps) > *limit {
		ps = ps[:*limit]
	}
	if len(ps) == 0 {
		return errors.New("no pairs to write")
	}
	if err := pairs.Save(*out, ps); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d pairs of %s", *out, len(ps), strings.Join(pairs.IDs(ps), ", "))
	if dropped > 0 {
		fmt.Fprintf(stdout, " (%d pairs with identical prompts dropped)", dropped)
	}
	fmt.Fprintln(stdout)
	return nil
}

// buildPairs phrases the instructions ids ("all" or a comma-separated list)
// onto the base queries of the file queries, with the fixed kwargs (a JSON
// object, or "").
func buildPairs(queries, ids, kwargs string, opts pairs.BuildOptions) ([]pairs.Pair, error) {
	if ids == "" {
		return nil, errors.New("--queries needs --ids")
	}
	qs, err := readQueries(queries)
	if err != nil {
		return nil, err
	}
	if ids == "all" {
		opts.IDs = pairs.InstructionIDs()
	} else {
		opts.IDs = strings.Split(ids, ",")
	}
	if kwargs != "" {
		if err := json.Unmarshal([]byte(kwargs), &opts.Kwargs); err != nil {
			return nil, fmt.Errorf("--kwargs: want a JSON object: %w", err)
		}
	}
	return pairs.Build(qs, opts)
}

// readQueries reads base queries: the paper's ifeval_wo_instructions.jsonl
// (recognized by its .jsonl extension) or one query per line.
func readQueries(path string) ([]string, error) {
	if strings.HasSuffix(path, ".jsonl") {
		bq, err := pairs.LoadBaseQueries(path)
		if err != nil {
			return nil, err
		}
		return pairs.Queries(bq), nil
	}
	return pairs.LoadWords(path)
}
