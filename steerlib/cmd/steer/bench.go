package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gosteer/gosteer/steerlib/backend"
	"github.com/gosteer/gosteer/steerlib/model"
)

func init() {
	register(command{
		name:    "bench",
		summary: "measure prefill and decode speed (steered and not) against the memory-bandwidth floor",
		run:     runBench,
	})
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "(--shape "+strings.Join(model.ShapeNames(), "|")+" | --model DIR) [--dtype f32|bf16] [--batches 1,16] [--prompt N] [--new N] [--per-row] [--out FILE.json]", stderr)
	rf := addRuntimeFlags(fs, false)
	shape := fs.String("shape", "", "a real model's shape with random weights: "+strings.Join(model.ShapeNames(), ", "))
	batches := fs.String("batches", "1,16", "comma-separated batch sizes")
	promptLen := fs.Int("prompt", 128, "prompt tokens per row")
	newTokens := fs.Int("new", 32, "generated tokens per row (≥ 2)")
	steerLayer := fs.Int("steer-layer", -1, "layer of the steered runs' add operator (default: middle)")
	perRow := fs.Bool("per-row", false, "also time per-row steering (each row its own candidate layer, some none: a layer sweep's batch)")
	out := fs.String("out", "", "also write the figures as JSON here")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*shape == "") == (*rf.model == "") || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "steer bench: give exactly one of --shape or --model")
		fs.Usage()
		return errUsage
	}
	if err := checkOutput("--out", *out); err != nil {
		return err
	}
	if err := atLeast("--prompt", *promptLen, 1); err != nil {
		return err
	}
	if err := atLeast("--new", *newTokens, 2); err != nil {
		return err
	}
	var bs []int
	for _, p := range strings.Split(*batches, ",") {
		b, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || b <= 0 {
			return fmt.Errorf("--batches: %q is not a positive integer", p)
		}
		bs = append(bs, b)
	}
	var m *model.Model
	var err error
	name := *shape
	if *shape != "" {
		dt, derr := parseDType(*rf.dtype)
		if derr != nil {
			return derr
		}
		cfg, cerr := model.ShapeConfig(*shape)
		if cerr != nil {
			return cerr
		}
		m, err = model.NewRandom(cfg, 1, model.WithDType(dt), model.WithBackend(*rf.backend))
	} else {
		name = *rf.model
		m, err = rf.load()
	}
	if err != nil {
		return err
	}
	defer m.Close()
	b := m.Backend()
	fmt.Fprintf(stdout, "steer bench %s: %s, %s, %d layers, hidden %d, vocab %d\n", name, backend.Describe(*rf.backend, b),
		m.DType(), m.Config.NumLayers, m.Config.HiddenSize, m.Config.VocabSize)
	res, err := model.Bench(m, model.BenchOptions{Batches: bs, PromptLen: *promptLen, NewTokens: *newTokens,
		SteerLayer: *steerLayer, PerRow: *perRow, Log: stdout})
	if err != nil {
		return err
	}
	if *out != "" {
		err := writeIndentedJSON(*out, struct {
			Model string `json:"model"`
			*model.BenchResult
		}{name, res})
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	return nil
}
