package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/gosteer/gosteer/steerlib/tinyif"
)

func init() {
	register(command{
		name:    "demo",
		summary: "the whole method on the embedded tiny model, offline: vectors, layer choice, steered IFEval",
		run:     runDemo,
	})
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "[flags]", stderr)
	modelDir := fs.String("model", "", "model folder (default: the embedded tinyif model)")
	be := fs.String("backend", "", "GoMLX backend (default $GOMLX_BACKEND or go)")
	ids := fs.String("instructions", "", "comma-separated IFEval ids to run (default: all ten)")
	perTopic := fs.Int("per-topic", 2, "held-out prompts per test topic")
	jsonOut := fs.String("json", "", "also write the full result (validation curves, projections) to this JSON file")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput("--json", *jsonOut); err != nil {
		return err
	}
	if err := atLeast("--per-topic", *perTopic, 1); err != nil {
		return err
	}
	opts := tinyif.DemoOptions{ModelDir: *modelDir, Backend: *be, TestPerTopic: *perTopic, Progress: stderr}
	if *quiet {
		opts.Progress = nil
	}
	if *ids != "" {
		for _, id := range strings.Split(*ids, ",") {
			opts.IDs = append(opts.IDs, strings.TrimSpace(id))
		}
	}
	res, err := tinyif.RunDemo(context.Background(), opts)
	if err != nil {
		return err
	}
	res.WriteExamples(stdout)
	res.WriteTable(stdout)
	followed, lifted := res.Bar()
	fmt.Fprintf(stdout, "%d instruction types reach >= 0.90 with the instruction and <= 0.15 without; steering lifts %d types by >= 0.30 (%.0fs)\n",
		followed, lifted, res.Seconds)
	if *jsonOut != "" {
		if err := writeIndentedJSON(*jsonOut, res); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	line, err := res.SummaryJSON()
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	fmt.Fprintf(stdout, "%s\n", line)
	return nil
}
