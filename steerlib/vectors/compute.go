package vectors

import (
	"context"
	"fmt"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/pairs"
	"github.com/gosteer/gosteer/steerlib/progress"
)

// ComputeOptions configures Compute.
type ComputeOptions struct {
	// Method is MethodMeanDiff (default) or MethodPCADiff.
	Method string
	// BatchSize is the number of pairs per forward pass (default 8).
	BatchSize int
	// InstructionID selects the pairs of one instruction (see ExtractOptions).
	InstructionID string
	// Progress receives progress in pairs (nil: none), e.g.
	// progress.Terminal(os.Stderr), or gonbplot.Progress() in a notebook.
	Progress progress.Reporter
	// ModelHint is recorded in the set (e.g. the config's model_type).
	ModelHint string
}

// Compute extracts the directions of one instruction from in-memory pairs on
// a model, encoding prompts with enc (e.g. the Encode method of a
// chat.Encoder), and returns the vector set. To keep the running sums (to add
// pairs later, or resume), use Extract with an Accumulator instead.
func Compute(ctx context.Context, m *model.Model, enc Encoder, ps []pairs.Pair, opts ComputeOptions) (*Set, error) {
	method := opts.Method
	if method == "" {
		method = MethodMeanDiff
	}
	if method != MethodMeanDiff && method != MethodPCADiff {
		return nil, fmt.Errorf("compute vectors: unknown method %q", method)
	}
	acc := NewAccumulator(m.Config.NumLayers, m.Config.HiddenSize, method == MethodPCADiff)
	acc.ModelHint = opts.ModelHint
	total := len(ps)
	if opts.InstructionID != "" {
		total = len(pairs.ByInstruction(ps)[opts.InstructionID])
	}
	err := Extract(ctx, acc, &SliceSource{Pairs: ps}, enc, ModelCapture(m), ExtractOptions{
		BatchSize: opts.BatchSize, InstructionID: opts.InstructionID, Progress: opts.Progress, Total: total,
	})
	if err != nil {
		return nil, fmt.Errorf("compute vectors: %w", err)
	}
	s, err := acc.Vectors(method)
	if err != nil {
		return nil, err
	}
	return s, nil
}
