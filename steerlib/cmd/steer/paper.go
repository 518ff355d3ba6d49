package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gosteer/gosteer/steerlib/experiment"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/paper"
	"github.com/gosteer/gosteer/steerlib/progress"
	"github.com/gosteer/gosteer/steerlib/tinyif"
)

func init() {
	register(command{
		name:    "paper",
		summary: "the paper's five experiments: format | length | words | compose | transfer (tables, figures, report.html)",
		run:     runPaper,
	})
}

// paperFlags are the flags of steer paper.
type paperFlags struct {
	jobFlags
	base, data, out                   *string
	instructions, layers, scales, cfs *string
	n, valN, pairsN, lengthLayer      *int
	composeScale                      *float64
	seed                              *uint64
}

func addPaperFlags(fs *flag.FlagSet) paperFlags {
	return paperFlags{
		jobFlags:     addJobFlags(fs, 256, 16),
		base:         fs.String("base", "", "transfer: the base model folder (embedded model: tinyif's base when its shape matches, else the same weights prompted \"Q: …\\nA:\")"),
		data:         fs.String("data", "", "the paper's data folder (default ../shared/data/llm-steer-instruct beside the repository when present; the embedded model uses its own prompt sets)"),
		out:          fs.String("out", "", "run folder: results.jsonl, table.md, table.csv, plan.json, figures (.svg, .png), report.html"),
		instructions: fs.String("instructions", "", "comma-separated format instructions (format, compose, transfer; default: all)"),
		layers:       fs.String("layers", "", "layer-search candidates, e.g. none,2,4 (default: none + every 2nd layer from ⌊L/5⌋)"),
		scales:       fs.String("scales", "", "words: add coefficients to search, × ‖v‖ (default 1,2,4)"),
		cfs:          fs.String("coefs", "", "length: coefficients to sweep, × ‖v‖, negative = more verbose (default -2,-1,0,1,2)"),
		n:            fs.Int("n", 0, "test prompts per instruction (length: base queries) at most (0: all)"),
		valN:         fs.Int("val-n", 8, "validation prompts per layer search"),
		pairsN:       fs.Int("pairs-n", 0, "training pairs (queries) per direction at most (0: all)"),
		lengthLayer:  fs.Int("length-layer", -1, "length, compose: layer of the conciseness add (-1: ⌊12·L/32⌋, the paper's 12 of 32)"),
		composeScale: fs.Float64("compose-scale", 1, "compose: conciseness add coefficient × ‖v‖"),
		seed:         fs.Uint64("seed", 42, "seed of the validation and test samples"),
	}
}

func runPaper(args []string, stdout, stderr io.Writer) error {
	usageArgs := "format|length|words|compose|transfer --out DIR [--model DIR] [--base DIR] [--ppl-model DIR] [--data DIR] [--n N] [--max-new-tokens N] [--instructions ID,…]\n\n" +
		"Without --model the embedded tinyif model runs with its own prompt sets. Rerunning resumes; shards (--shard i/n) share one --out folder."
	if len(args) == 0 || !slices.Contains(paper.Experiments, args[0]) {
		fs := newFlagSet("paper", usageArgs, stderr)
		addPaperFlags(fs)
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			fmt.Fprintf(stderr, "steer paper: unknown experiment %q\n", args[0])
		}
		fs.Usage()
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return flag.ErrHelp
		}
		return errUsage
	}
	exp := args[0]
	fs := newFlagSet("paper "+exp, usageArgs[strings.Index(usageArgs, " ")+1:], stderr)
	pf := addPaperFlags(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *pf.out == "" {
		fs.Usage()
		return errUsage
	}
	ro, closeAll, err := pf.runOptions(exp, stderr)
	if err != nil {
		return err
	}
	defer closeAll()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := paper.Run(ctx, ro)
	if errors.Is(err, paper.ErrPending) {
		fmt.Fprintf(stdout, "shard %s: this shard's units are done; %v\n", ro.Shard, err)
		return nil
	}
	if err != nil {
		return err
	}
	for _, t := range rep.Tables {
		fmt.Fprintln(stdout, t.Markdown())
	}
	fmt.Fprintf(stdout, "wrote %s: results.jsonl, table.md, table.csv, plan.json, report.html and %d figures (.svg, .png)\n", ro.Out, len(rep.Figures))
	return nil
}

// runOptions loads the models and the dataset the flags name.
func (pf paperFlags) runOptions(exp string, stderr io.Writer) (ro paper.RunOptions, closeAll func(), err error) {
	var closers []func()
	closeAll = func() {
		for _, c := range closers {
			c()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	ro = paper.RunOptions{Experiment: exp, MaxNewTokens: *pf.maxNew, BatchSize: *pf.batch, Progress: stderr}
	ro.Options = paper.Options{Out: *pf.out, N: *pf.n, ValN: *pf.valN, PairsN: *pf.pairsN, Seed: *pf.seed,
		LengthLayer: *pf.lengthLayer, ComposeScale: *pf.composeScale}
	if *pf.quiet {
		ro.Progress = nil
	} else {
		ro.Bar = progress.Terminal(stderr)
	}
	if *pf.instructions != "" {
		for _, id := range strings.Split(*pf.instructions, ",") {
			ro.Instructions = append(ro.Instructions, strings.TrimSpace(id))
		}
	}
	if ro.Layers, err = parseCandidates(*pf.layers); err != nil {
		return ro, closeAll, err
	}
	if ro.Scales, err = parseFloats("--scales", *pf.scales); err != nil {
		return ro, closeAll, err
	}
	if ro.Coefs, err = parseFloats("--coefs", *pf.cfs); err != nil {
		return ro, closeAll, err
	}
	if ro.Shard, err = pf.shardSpec(os.Getenv); err != nil {
		return ro, closeAll, err
	}
	err = pf.loadModels(&ro, exp, stderr, func(c func()) { closers = append(closers, c) })
	return ro, closeAll, err
}

// loadModels loads the dataset, the model, the base model (transfer) and the
// perplexity model the flags name; onClose receives what to close.
func (pf paperFlags) loadModels(ro *paper.RunOptions, exp string, stderr io.Writer, onClose func(func())) (err error) {
	embedded := *pf.rt.model == ""
	if embedded {
		if *pf.rt.model, err = tinyif.EmbeddedModelDir(); err != nil {
			return err
		}
	}
	if ro.Data, err = pf.dataset(embedded); err != nil {
		return err
	}
	load := func(dir string) (*model.Model, error) {
		m, err := runtimeFlags{model: &dir, dtype: pf.rt.dtype, backend: pf.rt.backend}.load()
		if err == nil {
			onClose(func() { m.Close() })
		}
		return m, err
	}
	if ro.Model, err = load(*pf.rt.model); err != nil {
		return err
	}
	if exp == "transfer" {
		base := *pf.base
		if base == "" && !embedded {
			return fmt.Errorf("transfer needs --base DIR (the base model of --model)")
		}
		if base == "" {
			if ro.Base, err = embeddedBase(ro.Model, load, stderr); err != nil {
				return err
			}
		} else if ro.Base, err = load(base); err != nil {
			return err
		}
	}
	if *pf.ppl != "" {
		opts, err := pf.loadOptions()
		if err != nil {
			return err
		}
		if ro.Screen, err = experiment.LoadScreen(*pf.ppl, opts...); err != nil {
			return err
		}
		onClose(func() { ro.Screen.Close() })
	}
	return nil
}

// dataset picks the prompt sets: --data, else the embedded model's own sets,
// else ../shared/data/llm-steer-instruct beside the repository.
func (pf paperFlags) dataset(embedded bool) (paper.Dataset, error) {
	dir := *pf.data
	if dir == "" && embedded {
		return paper.Embedded{}, nil
	}
	if dir == "" {
		dir = defaultPaperData()
	}
	if dir == "" {
		return nil, fmt.Errorf("no --data: give the paper's data folder (llm-steer-instruct's data files)")
	}
	return paper.OpenPaper(dir)
}

// defaultPaperData is ../shared/data/llm-steer-instruct relative to the
// repository root (the folder of go.mod above the working directory), when
// it exists.
func defaultPaperData() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "..", "shared", "data", "llm-steer-instruct")
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				return p
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// embeddedBase returns tinyif's embedded base model when it has the
// instruct model's shape; otherwise the instruct model's own weights serve
// as the "base" (prompted plain "Q: …\nA:"), and stderr says so.
func embeddedBase(instruct *model.Model, load func(string) (*model.Model, error), stderr io.Writer) (*model.Model, error) {
	if dir, err := tinyif.EmbeddedBaseModelDir(); err == nil {
		b, err := load(dir)
		if err != nil {
			return nil, err
		}
		bc, ic := b.Config, instruct.Config
		if bc.NumLayers == ic.NumLayers && bc.HiddenSize == ic.HiddenSize && bc.VocabSize == ic.VocabSize {
			fmt.Fprintf(stderr, "transfer: base model: tinyif's embedded base (%s)\n", dir)
			return b, nil
		}
		fmt.Fprintf(stderr, "transfer: tinyif's embedded base (%d blocks × %d) does not match the embedded instruct model (%d × %d)\n",
			bc.NumLayers, bc.HiddenSize, ic.NumLayers, ic.HiddenSize)
	}
	fmt.Fprintf(stderr, "transfer: no --base; the embedded model serves as both instruct (chat template) and base (plain \"Q: …\\nA:\" prompts)\n")
	return load(instruct.Dir)
}
