package paper

import (
	"fmt"
	"io"
	"time"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// Loaded is a model folder loaded for the experiments.
type Loaded struct {
	Model *model.Model
	Tok   *tokenizer.Tokenizer
}

// Load loads a model folder (offline) on a backend ("" = $GOMLX_BACKEND or go).
func Load(dir, backend string) (*Loaded, error) {
	m, err := model.Load(dir, model.WithBackend(backend), model.WithOffline())
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	return &Loaded{Model: m, Tok: tok}, nil
}

// Close frees the model.
func (l *Loaded) Close() error { return l.Model.Close() }

// EnvOptions configures NewEnv.
type EnvOptions struct {
	// Plain prompts with "Q: …\nA:" and stops at "Q:" (base models).
	Plain bool
	// PPL screens responses with this model (nil: no screen).
	PPL *Loaded
	// MaxNewTokens (default 256) and BatchSize (default 16).
	MaxNewTokens, BatchSize int
	// Journal records the units (required).
	Journal *Journal
	// Progress receives progress lines (nil: none).
	Progress io.Writer
}

// NewEnv prepares an experiment environment on a loaded model.
func NewEnv(l *Loaded, opts EnvOptions) (*Env, error) {
	if opts.Journal == nil {
		return nil, fmt.Errorf("env: no journal")
	}
	enc, err := vectors.LoadEncoder(l.Model.Dir, opts.Plain, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("env: %w", err)
	}
	e := &Env{Model: l.Model, Tok: l.Tok, Enc: enc, Plain: opts.Plain, MaxNewTokens: opts.MaxNewTokens,
		BatchSize: opts.BatchSize, Vectors: map[string]*vectors.Set{}, Journal: opts.Journal, Progress: opts.Progress}
	if e.MaxNewTokens <= 0 {
		e.MaxNewTokens = 256
	}
	if e.BatchSize <= 0 {
		e.BatchSize = 16
	}
	if e.Progress == nil {
		e.Progress = io.Discard
	}
	if opts.PPL != nil {
		e.PPL = &Perplexity{Model: opts.PPL.Model, Tok: opts.PPL.Tok}
	}
	return e, nil
}
