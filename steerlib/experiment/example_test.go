package experiment_test

import (
	"context"
	"fmt"
	"os"

	"github.com/gosteer/gosteer/steerlib/experiment"
	"github.com/gosteer/gosteer/steerlib/progress"
)

// The paper's protocol from Go: the layer search on validation records, then
// the four conditions on test records, both resumable and shardable. Vector
// files come from `steer vectors compute` (or vectors.Compute and Set.Save).
func Example() {
	ctx := context.Background()
	run := experiment.RunOptions{
		Model:        "/models/Phi-3-mini-4k-instruct",
		PPLModel:     "/models/gpt2", // the perplexity screen
		MaxNewTokens: 512,
		BatchSize:    16,
		Progress:     progress.Terminal(os.Stderr),
		Log:          os.Stderr,
	}
	run.Data = "validation.jsonl"
	sweep, err := experiment.RunSweep(ctx, experiment.SweepSpec{
		RunOptions: run,
		Vectors:    []string{"lowercase.safetensors", "language:response_language_kn=kannada.safetensors"},
		Out:        "plan-without.json",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for id, c := range sweep.Plan.Instructions {
		fmt.Println(id, "layer", c.Layer, "of", len(sweep.Plan.Candidates[id]), "candidates")
	}
	run.Data = "ifeval_single_instr_format.jsonl"
	rep, err := experiment.RunEval(ctx, experiment.EvalSpec{RunOptions: run, Plan: "plan-without.json", Out: "results.jsonl"})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep.Table.WriteText(os.Stdout) // also in results.md and results.csv
}
