package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/gosteer/gosteer/steerlib/experiment"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/pairs"
	"github.com/gosteer/gosteer/steerlib/progress"
)

func init() {
	register(command{
		name:    "eval",
		summary: "evaluate a JSONL set under a steering plan in four conditions (resumable, shardable)",
		run:     runEval,
	})
}

// jobFlags are the flags of every engine command (eval, sweep, paper).
type jobFlags struct {
	rt            runtimeFlags
	ppl, shard    *string
	maxNew, batch *int
	quiet         *bool
}

// addJobFlags defines the engine flags with the command's defaults.
func addJobFlags(fs *flag.FlagSet, maxNew, batch int) jobFlags {
	return jobFlags{
		rt:     addRuntimeFlags(fs, false),
		ppl:    fs.String("ppl-model", "", "perplexity screen model folder (the paper: GPT-2), adding perplexity to every result (empty: no screen)"),
		maxNew: fs.Int("max-new-tokens", maxNew, "new tokens per response at most (the paper allows 2048)"),
		batch:  fs.Int("batch", batch, "prompts generated together"),
		shard:  fs.String("shard", "", "run share i/n of the units (0 ≤ i < n); default from JOB_COMPLETION_INDEX/JOB_COMPLETIONS or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT"),
		quiet:  fs.Bool("quiet", false, "no progress on stderr"),
	}
}

// shardSpec returns the --shard flag, else the shard of a Kubernetes Indexed
// Job or Slurm array, else the whole run.
func (f jobFlags) shardSpec(getenv func(string) string) (experiment.Shard, error) {
	if *f.shard != "" {
		return experiment.ParseShard(*f.shard)
	}
	s, _, err := experiment.ShardFromEnv(getenv)
	return s, err
}

// loadOptions turns --dtype and --backend into model.Load options.
func (f jobFlags) loadOptions() ([]model.Option, error) {
	dt, err := parseDType(*f.rt.dtype)
	if err != nil {
		return nil, err
	}
	return []model.Option{model.WithDType(dt), model.WithBackend(*f.rt.backend)}, nil
}

// expFlags are the flags eval and sweep share.
type expFlags struct {
	jobFlags
	data        *string
	plain       *bool
	trainPairs  *string
	allowOverlp *bool
}

func addExpFlags(fs *flag.FlagSet) expFlags {
	return expFlags{
		jobFlags:    addJobFlags(fs, experiment.DefaultMaxNewTokens, 8),
		data:        fs.String("data", "", "JSONL records: prompt, prompt_without_instruction, instruction_id_list, kwargs[, instruction_id_list_for_eval]"),
		plain:       fs.Bool("plain", false, "base model: \"Q: …\\nA:\" prompts instead of the chat template; answers stop at the next \"Q:\""),
		trainPairs:  fs.String("train-pairs", "", "comma-separated pair files the vectors were computed from: refuse when their prompts overlap --data"),
		allowOverlp: fs.Bool("allow-overlap", false, "with --train-pairs: only warn when training and evaluation prompts overlap"),
	}
}

// options checks the shared flags (shard, model options, overlap of the
// training pairs with --data) and returns them as experiment.RunOptions.
func (f expFlags) options(stderr io.Writer) (experiment.RunOptions, error) {
	o := experiment.RunOptions{Model: *f.rt.model, Data: *f.data, PPLModel: *f.ppl, MaxNewTokens: *f.maxNew,
		BatchSize: *f.batch, Plain: *f.plain, Progress: f.progress(stderr), Log: stderr}
	var err error
	if o.Shard, err = f.shardSpec(os.Getenv); err != nil {
		return o, err
	}
	if o.ModelOptions, err = f.modelOptions(); err != nil {
		return o, err
	}
	return o, f.checkOverlap(stderr)
}

// modelOptions turns --dtype and --backend into model.Load options.
func (f expFlags) modelOptions() ([]model.Option, error) {
	if *f.rt.model == "" {
		return nil, fmt.Errorf("--model is required")
	}
	return f.loadOptions()
}

func (f expFlags) progress(stderr io.Writer) experiment.Progress {
	if *f.quiet {
		return nil
	}
	return progress.Terminal(stderr)
}

// checkOverlap refuses (or, with --allow-overlap, warns loudly) when the
// training pairs' prompts appear in the data.
func (f expFlags) checkOverlap(stderr io.Writer) error {
	if *f.trainPairs == "" {
		return nil
	}
	recs, err := experiment.ReadRecords(*f.data)
	if err != nil {
		return err
	}
	var train []string
	for _, p := range strings.Split(*f.trainPairs, ",") {
		ps, err := pairs.Load(p)
		if err != nil {
			return err
		}
		for _, pr := range ps {
			train = append(train, pr.With, pr.Without)
		}
	}
	ov := experiment.Overlap(train, recs)
	if len(ov) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d prompt(s) of %s are also training prompts in %s, e.g. %s", len(ov), *f.data, *f.trainPairs, ov[0])
	if !*f.allowOverlp {
		return fmt.Errorf("%s (the vectors saw the evaluation prompts; use other data, or --allow-overlap)", msg)
	}
	fmt.Fprintf(stderr, "WARNING: %s — results are contaminated\n", msg)
	return nil
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", "--model DIR --data FILE.jsonl --plan PLAN.json --out RESULTS.jsonl [flags]", stderr)
	ef := addExpFlags(fs)
	plan := fs.String("plan", "", "plan JSON (from steer sweep) steering the without+steer condition (and with+steer unless --plan-with)")
	planWith := fs.String("plan-with", "", "plan JSON for the with+steer condition (e.g. from steer sweep --with-instruction)")
	conds := fs.String("conditions", strings.Join(experiment.AllConditions, ","), "comma-separated conditions")
	out := fs.String("out", "", "results JSONL (appended; a rerun skips finished units); tables go beside it (.md, .csv)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *ef.data == "" || *out == "" {
		fs.Usage()
		return errUsage
	}
	ro, err := ef.options(stderr)
	if err != nil {
		return err
	}
	spec := experiment.EvalSpec{RunOptions: ro, Plan: *plan, PlanWith: *planWith, Out: *out}
	if spec.Conditions, err = experiment.ParseConditions(*conds); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := experiment.RunEval(ctx, spec)
	if err != nil {
		return err
	}
	md, csv := experiment.TablePaths(*out)
	fmt.Fprintf(stdout, "run %s: %d units (%d generated now) in %s\n\n", rep.Run.ID(), rep.Units, rep.Generated, *out)
	rep.Table.WriteText(stdout)
	fmt.Fprintf(stdout, "\ntables: %s, %s\n", md, csv)
	return nil
}
