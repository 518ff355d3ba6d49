package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gosteer/gosteer/steerlib/experiment"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

func init() {
	register(command{
		name:    "sweep",
		summary: "choose each instruction's steering layer (and add coefficient) on validation prompts; writes a plan",
		run:     runSweep,
	})
}

func runSweep(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sweep", "--model DIR --vectors FILE[,ID=FILE…] --data VALIDATION.jsonl --out PLAN.json [flags]", stderr)
	ef := addExpFlags(fs)
	vecs := fs.String("vectors", "", "comma-separated vector files (steer vectors compute), FILE or ID=FILE (languages: language:response_language_xx=FILE)")
	out := fs.String("out", "", "plan JSON to write (with every candidate's accuracy and degenerate share)")
	results := fs.String("results", "", "the search's results JSONL (default: --out without .json + .sweep.jsonl); resumable and mergeable")
	with := fs.Bool("with-instruction", false, "search for the with-instruction setting (prompts keep the instruction)")
	cands := fs.String("candidates", "", "candidate layers, e.g. none,4,6,8 (default: none + every 2nd layer from ⌊L/5⌋)")
	coefs := fs.String("coefs", "", "add coefficients to try, e.g. 2,4,8 (default: the layer's ‖v‖)")
	ops := fs.String("ops", "", "operator overrides, e.g. keywords:existence=clamp (default: add for length/keywords, clamp otherwise)")
	n := fs.Int("n", experiment.DefaultSweepN, "validation records per instruction")
	seed := fs.Uint64("seed", experiment.DefaultSweepSeed, "seed of the validation sample")
	base := fs.Bool("base-model", false, "degenerate baseline = the no-steering share (base models) instead of 0")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *ef.data == "" || *out == "" || *vecs == "" {
		fs.Usage()
		return errUsage
	}
	ro, err := ef.options(stderr)
	if err != nil {
		return err
	}
	spec := experiment.SweepSpec{RunOptions: ro, Vectors: strings.Split(*vecs, ","), Out: *out, Results: *results,
		WithInstruction: *with, N: *n, Seed: *seed, BaseModel: *base}
	if spec.Layers, err = parseCandidates(*cands); err != nil {
		return err
	}
	if spec.Coefs, err = parseFloats("--coefs", *coefs); err != nil {
		return err
	}
	if spec.Ops, err = parseOps(*ops); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := experiment.RunSweep(ctx, spec)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "run %s: %d units (%d generated now)\n", rep.Run.ID(), rep.Units, rep.Generated)
	if rep.Plan == nil {
		fmt.Fprintf(stdout, "shard %s done; no plan yet (merge the shards' results and rerun without --shard)\n", spec.Shard)
		return nil
	}
	writePlanTable(stdout, rep.Plan)
	fmt.Fprintf(stdout, "plan: %s\n", *out)
	return nil
}

// writePlanTable prints every candidate with its scores, marking the choice.
func writePlanTable(w io.Writer, p *experiment.Plan) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "instruction\tlayer\top\tcoef\tn\tloose acc\tdegenerate\tscore\t\n")
	for _, id := range p.IDs() {
		for _, c := range p.Candidates[id] {
			mark := ""
			if c.Chosen {
				mark = "<- chosen"
			}
			layer := "none"
			if c.Layer != vectors.NoLayer {
				layer = strconv.Itoa(int(c.Layer))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.3g\t%d\t%.3f\t%.3f\t%.3f\t%s\n", id, layer, c.Op, c.Coef, c.N, c.Accuracy, c.Degenerate, c.Score, mark)
		}
	}
	tw.Flush()
}

// parseCandidates parses "none,4,6" ("" for the default).
func parseCandidates(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "none" || p == "-1" {
			out = append(out, vectors.NoLayer)
			continue
		}
		l, err := strconv.Atoi(p)
		if err != nil || l < 0 {
			return nil, fmt.Errorf("--candidates: %q is not a layer or none", p)
		}
		out = append(out, l)
	}
	return out, nil
}

func parseFloats(flagName, s string) ([]float64, error) {
	if s == "" {
		return nil, nil
	}
	var out []float64
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a number", flagName, p)
		}
		out = append(out, v)
	}
	return out, nil
}

// parseOps parses "id=op,id=op".
func parseOps(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, p := range strings.Split(s, ",") {
		id, op, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || (op != experiment.OpAdd && op != experiment.OpClamp) {
			return nil, fmt.Errorf("--ops: %q: want ID=add or ID=clamp", p)
		}
		out[id] = op
	}
	return out, nil
}
