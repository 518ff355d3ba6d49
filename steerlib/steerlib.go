package steerlib

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gosteer/gosteer/steerlib/chat"
	"github.com/gosteer/gosteer/steerlib/ifeval"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/pairs"
	"github.com/gosteer/gosteer/steerlib/progress"
	"github.com/gosteer/gosteer/steerlib/tinyif"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
	"github.com/gosteer/gosteer/steerlib/vectors"

	_ "github.com/gosteer/gosteer/steerlib/controlvec" // vector files may be GGUF control vectors
)

// Model is a loaded model with the encoder of its prompts.
type Model struct {
	// Net is the transformer, with its capture and steering slots.
	Net *model.Model
	// Encoder renders prompts with the chat template (or the plain
	// "Q: …\nA:" format) and tokenizes them; nil when the folder has no
	// tokenizer.
	Encoder *chat.Encoder
	// encErr is why prompts cannot be encoded (no tokenizer or template).
	encErr   error
	progress progress.Reporter
}

// Option configures Open.
type Option func(*options)

type options struct {
	load     []model.Option
	enc      chat.EncoderOptions
	progress progress.Reporter
}

// WithModelOptions passes options to model.Load (backend, dtype, offline,
// Hub revision).
func WithModelOptions(opts ...model.Option) Option {
	return func(o *options) { o.load = append(o.load, opts...) }
}

// WithPlain encodes prompts in the base-model "Q: …\nA:" format instead of
// the chat template.
func WithPlain() Option { return func(o *options) { o.enc.Plain = true } }

// WithDate sets the date chat templates print (default chat.DefaultDate).
func WithDate(t time.Time) Option { return func(o *options) { o.enc.Date = t } }

// WithProgress reports the progress of Directions (default: none), e.g.
// progress.Terminal(os.Stderr), or gonbplot.Progress() in a notebook.
func WithProgress(p progress.Reporter) Option { return func(o *options) { o.progress = p } }

// Open loads a model and its prompt encoder once: dir is a local Hugging
// Face folder, "hf://org/name" (downloaded through the Hub cache), or "" for
// the embedded tinyif model. A folder without a tokenizer or chat template
// still opens; then only GenerateIDs without stop strings works.
func Open(dir string, opts ...Option) (*Model, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if dir == "" {
		d, err := tinyif.EmbeddedModelDir()
		if err != nil {
			return nil, fmt.Errorf("open embedded model: %w", err)
		}
		dir = d
	}
	net, err := model.Load(dir, o.load...)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	m := &Model{Net: net, progress: progress.Or(o.progress)}
	if net.Dir == "" {
		m.encErr = errors.New("the model has no folder to read a tokenizer from")
		return m, nil
	}
	if m.Encoder, m.encErr = chat.LoadEncoder(net.Dir, o.enc); m.encErr != nil {
		// Without a chat template the tokenizer still decodes and stops.
		if tok, err := tokenizer.Load(net.Dir); err == nil {
			m.Encoder = &chat.Encoder{Tokenizer: tok}
		}
	}
	return m, nil
}

// Close releases the model's compiled graphs and weights.
func (m *Model) Close() { m.Net.Close() }

// Encode returns the token ids of each prompt as one user turn followed by
// the generation prompt (the ids that Directions and Generate use).
func (m *Model) Encode(prompts ...string) ([][]int, error) {
	if m.encErr != nil {
		return nil, fmt.Errorf("encode prompts: %w", m.encErr)
	}
	rows := make([][]int, len(prompts))
	for i, p := range prompts {
		ids, err := m.Encoder.Encode(p)
		if err != nil {
			return nil, fmt.Errorf("encode prompt %d: %w", i, err)
		}
		rows[i] = ids
	}
	return rows, nil
}

// Pairs returns each request with and without instruction id, phrased by
// gosteer's own templates with a fixed seed (see pairs.Build; kwargs are
// drawn per pair and travel with it).
func Pairs(id string, requests ...string) ([]pairs.Pair, error) {
	return pairs.Build(requests, pairs.BuildOptions{IDs: []string{id}, Seed: 1})
}

// Directions computes the paper's mean-difference direction of every layer
// from pairs of one instruction (see vectors.Compute).
func (m *Model) Directions(ctx context.Context, ps []pairs.Pair) (*vectors.Set, error) {
	if m.encErr != nil {
		return nil, fmt.Errorf("directions: %w", m.encErr)
	}
	return vectors.Compute(ctx, m.Net, m.Encoder.Encode, ps, vectors.ComputeOptions{
		Progress: m.progress, ModelHint: ModelHint(m.Net.Dir, m.Net.Config.Architecture)})
}

// ModelHint returns the model_type of the config.json in dir (what repeng
// records as controlvector.model_hint, e.g. "llama"), else fallback.
func ModelHint(dir, fallback string) string {
	var cfg struct {
		ModelType string `json:"model_type"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil && json.Unmarshal(b, &cfg) == nil && cfg.ModelType != "" {
		return cfg.ModelType
	}
	return fallback
}

// Follows reports whether response follows instruction id (with its
// kwargs) for prompt, by IFEval's loose check.
func Follows(id string, kwargs map[string]any, prompt, response string) (bool, error) {
	return ifeval.CheckLoose(id, kwargs, prompt, response)
}
