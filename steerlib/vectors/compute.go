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
// a model with enc (see LoadEncoder) and returns the vector set and the
// accumulator (keep it to add more pairs later; see Accumulator.Save).
func Compute(ctx context.Context, m *model.Model, enc Encoder, ps []pairs.Pair, opts ComputeOptions) (*Set, *Accumulator, error) {
	method := opts.Method
	if method == "" {
		method = MethodMeanDiff
	}
	if method != MethodMeanDiff && method != MethodPCADiff {
		return nil, nil, fmt.Errorf("compute vectors: unknown method %q", method)
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
		return nil, nil, fmt.Errorf("compute vectors: %w", err)
	}
	s, err := acc.Vectors(method)
	if err != nil {
		return nil, nil, err
	}
	return s, acc, nil
}
