package paper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gosteer/gosteer/steerlib/experiment"
	"github.com/gosteer/gosteer/steerlib/model"
)

// Experiments lists the experiment names in the paper's order.
var Experiments = []string{"format", "length", "words", "compose", "transfer"}

// RunOptions configures Run: the models, the run folder and the options of
// one experiment.
type RunOptions struct {
	// Experiment is one of Experiments.
	Experiment string
	// Model is the (instruction-tuned) model; Base the base model (transfer).
	Model, Base *model.Model
	// Screen is the perplexity model (nil: no screen).
	Screen *experiment.Screen
	// Shard is this run's share of the units.
	Shard experiment.Shard
	// MaxNewTokens and BatchSize configure generation.
	MaxNewTokens, BatchSize int
	// Progress receives progress lines; Bar the engine's progress bars.
	Progress io.Writer
	Bar      experiment.Progress
	Options
}

// fingerprint identifies the run: results of another run are refused.
func (ro *RunOptions) fingerprint() (string, error) {
	md, err := experiment.ModelDigest(ro.Model.Dir)
	if err != nil {
		return "", err
	}
	if ro.Base != nil {
		bd, err := experiment.ModelDigest(ro.Base.Dir)
		if err != nil {
			return "", err
		}
		md += "+" + bd
	}
	o := ro.Options
	opts := map[string]string{
		"experiment": ro.Experiment, "n": fmt.Sprint(o.N), "val_n": fmt.Sprint(o.ValN), "pairs_n": fmt.Sprint(o.PairsN),
		"seed": fmt.Sprint(o.Seed), "max_new_tokens": fmt.Sprint(ro.MaxNewTokens), "instructions": strings.Join(o.Instructions, ","),
		"layers": fmt.Sprint(o.Layers), "scales": fmt.Sprint(o.Scales), "coefs": fmt.Sprint(o.Coefs),
		"length_layer": fmt.Sprint(o.LengthLayer), "compose_scale": fmt.Sprint(o.ComposeScale), "screen": fmt.Sprint(ro.Screen != nil),
	}
	return experiment.Fingerprint{Model: md, Data: o.Data.Name(), Options: opts}.ID(), nil
}

// Run runs one experiment into ro.Out (resuming what is there) and, once
// every unit of every shard is done, writes the merged results.jsonl,
// table.md, table.csv, plan.json, the figures and report.html. It returns
// ErrPending when this shard is done but others still owe units.
func Run(ctx context.Context, ro RunOptions) (*Report, error) {
	if !slices.Contains(Experiments, ro.Experiment) {
		return nil, fmt.Errorf("paper: unknown experiment %q (want one of %s)", ro.Experiment, strings.Join(Experiments, ", "))
	}
	if ro.Model == nil || ro.Data == nil || ro.Out == "" {
		return nil, errors.New("paper: a model, a dataset and an output folder are required")
	}
	if ro.Experiment == "transfer" && ro.Base == nil {
		return nil, errors.New("paper transfer: a base model is required (--base)")
	}
	ro.Options.fill(ro.Model.Config.NumLayers)
	run, err := ro.fingerprint()
	if err != nil {
		return nil, fmt.Errorf("paper: %w", err)
	}
	j, err := OpenJournal(ro.Out, ro.Shard, run)
	if err != nil {
		return nil, fmt.Errorf("paper: %w", err)
	}
	defer j.Close()
	env := func(m *model.Model, plain bool) (*Env, error) {
		return NewEnv(m, EnvOptions{Plain: plain, Screen: ro.Screen, MaxNewTokens: ro.MaxNewTokens, BatchSize: ro.BatchSize,
			Journal: j, Shard: ro.Shard, Progress: ro.Progress, Bar: ro.Bar})
	}
	e, err := env(ro.Model, false)
	if err != nil {
		return nil, err
	}
	var rep *Report
	switch ro.Experiment {
	case "format":
		rep, err = e.Format(ctx, ro.Options)
	case "length":
		rep, err = e.Length(ctx, ro.Options)
	case "words":
		rep, err = e.Words(ctx, ro.Options)
	case "compose":
		rep, err = e.Compose(ctx, ro.Options)
	case "transfer":
		var b *Env
		if b, err = env(ro.Base, true); err == nil {
			rep, err = e.Transfer(ctx, b, ro.Options)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := j.WriteMerged(); err != nil {
		return nil, err
	}
	rep.Run = ro.describe(run)
	return rep, rep.Write(ro.Out)
}

// describe is the run line of the report: models, screen, options, run id.
func (ro *RunOptions) describe(run string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Model %s", ro.Model.Dir)
	if ro.Base != nil {
		fmt.Fprintf(&b, ", base model %s", ro.Base.Dir)
	}
	if ro.Screen != nil {
		fmt.Fprintf(&b, ", perplexity screen %s", ro.Screen.Model.Dir)
	} else {
		b.WriteString(", no perplexity screen")
	}
	o := ro.Options
	fmt.Fprintf(&b, "; n %d, validation n %d, pairs n %d, seed %d, max new tokens %d, candidates %v; run %s",
		o.N, o.ValN, o.PairsN, o.Seed, ro.MaxNewTokens, o.Layers, run)
	return b.String()
}
