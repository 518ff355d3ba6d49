package paper

import (
	"fmt"
	"io"

	"github.com/gosteer/gosteer/steerlib/experiment"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// EnvOptions configures NewEnv.
type EnvOptions struct {
	// Plain prompts with "Q: …\nA:" and stops at "Q:" (base models).
	Plain bool
	// Screen scores responses by perplexity (nil: no screen).
	Screen *experiment.Screen
	// MaxNewTokens (default experiment.DefaultMaxNewTokens) and BatchSize
	// (default 16).
	MaxNewTokens, BatchSize int
	// Journal records the units (required); Shard selects this run's share.
	Journal *Journal
	Shard   experiment.Shard
	// Progress receives progress lines (nil: none); Bar draws the engine's
	// progress bar (nil: none).
	Progress io.Writer
	Bar      experiment.Progress
}

// NewEnv prepares an experiment environment on a loaded model (its folder
// gives the tokenizer and chat template).
func NewEnv(m *model.Model, opts EnvOptions) (*Env, error) {
	if opts.Journal == nil {
		return nil, fmt.Errorf("env: no journal")
	}
	r, err := experiment.NewRunner(m, m.Dir, opts.Plain)
	if err != nil {
		return nil, fmt.Errorf("env: %w", err)
	}
	r.MaxNewTokens, r.BatchSize, r.Screen, r.Progress = opts.MaxNewTokens, opts.BatchSize, opts.Screen, opts.Bar
	if r.BatchSize <= 0 {
		r.BatchSize = 16
	}
	e := &Env{Model: m, Runner: r, Vectors: map[string]*vectors.Set{}, Journal: opts.Journal, Shard: opts.Shard,
		BatchSize: r.BatchSize, Progress: opts.Progress}
	if e.Progress == nil {
		e.Progress = io.Discard
	}
	return e, nil
}
