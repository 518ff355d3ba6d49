package paper

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/gosteer/gosteer/steerlib/ifeval"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// Conditions of the paper's four-condition tables.
const (
	Without      = "without"
	WithoutSteer = "without+steer"
	With         = "with"
	WithSteer    = "with+steer"
)

// Conditions lists the four conditions in table order.
var Conditions = []string{Without, WithoutSteer, With, WithSteer}

// Phases of an experiment's work units.
const (
	PhaseValidation = "val"
	PhaseTest       = "test"
)

// Steering is one operator applied during a generation, as recorded in the
// results: Layer < 0 means none.
type Steering struct {
	// Vector names the direction set (an instruction id, "concise", "word:owl").
	Vector string `json:"vector"`
	// Layer is the block after which the operator acts (-1: none).
	Layer int `json:"layer"`
	// Op is "add" (x ← x + c·û) or "clamp" (x ← x + (z̄ − x·û)·û).
	Op string `json:"op"`
	// Coef is c for add and z̄ for clamp.
	Coef float64 `json:"coef"`
}

// Check is one IFEval instruction a response is scored on.
type Check struct {
	ID     string         `json:"id"`
	Kwargs map[string]any `json:"kwargs,omitempty"`
	Strict bool           `json:"strict"`
	Loose  bool           `json:"loose"`
}

// Row is one line of results.jsonl: one generation and its scores.
type Row struct {
	Key         string `json:"key"`
	Experiment  string `json:"experiment"`
	Phase       string `json:"phase"`
	Item        string `json:"item"`
	Instruction string `json:"instruction"`
	Condition   string `json:"condition"`
	// Setting is "with" or "without" for validation rows of a layer search.
	Setting string     `json:"setting,omitempty"`
	Steer   []Steering `json:"steer"`
	// Scale is the swept coefficient in units of ‖v_l‖ (add sweeps).
	Scale  float64 `json:"scale,omitempty"`
	Prompt string  `json:"prompt"`
	// MaxSentences is the N of "at most N sentences" (0: no length request).
	MaxSentences int     `json:"max_sentences,omitempty"`
	Checks       []Check `json:"checks"`
	Response     string  `json:"response"`
	// Strict and Loose are true when every check passes.
	Strict bool `json:"strict"`
	Loose  bool `json:"loose"`
	// Perplexity is set when a perplexity model screens the responses.
	Perplexity *float64 `json:"perplexity,omitempty"`
	Degenerate bool     `json:"degenerate"`
	Sentences  int      `json:"sentences"`
	Words      int      `json:"words"`
}

// Unit is a row before generation: everything but the response and scores.
type Unit = Row

// Env is what the experiments run on: a loaded model with its tokenizer and
// prompt encoder, an optional perplexity model, and the run's journal.
type Env struct {
	Model *model.Model
	Tok   *tokenizer.Tokenizer
	Enc   vectors.Encoder
	// Plain marks a base model prompted with "Q: …\nA:" (stop at "Q:").
	Plain bool
	// PPL screens responses when set.
	PPL *Perplexity
	// MaxNewTokens bounds every response; BatchSize rows generate together.
	MaxNewTokens, BatchSize int
	// Vectors resolves Steering.Vector names.
	Vectors map[string]*vectors.Set
	// Journal records finished units.
	Journal *Journal
	// Progress receives progress lines.
	Progress io.Writer
}

// signature identifies the steering of a unit (units with equal signatures
// share a generation batch).
func signature(st []Steering) string {
	var active []Steering
	for _, s := range st {
		if s.Layer >= 0 {
			active = append(active, s)
		}
	}
	b, _ := json.Marshal(active)
	return string(b)
}

// ops turns recorded steerings into model operators.
func (e *Env) ops(st []Steering) ([]model.SteerOp, error) {
	var out []model.SteerOp
	for _, s := range st {
		if s.Layer < 0 {
			continue
		}
		set, ok := e.Vectors[s.Vector]
		if !ok {
			return nil, fmt.Errorf("no direction named %q", s.Vector)
		}
		var op model.SteerOp
		var err error
		switch s.Op {
		case "add":
			op, err = set.Add(s.Layer, s.Coef)
		case "clamp":
			op, err = set.ClampTo(s.Layer, s.Coef)
		default:
			err = fmt.Errorf("unknown op %q", s.Op)
		}
		if err != nil {
			return nil, fmt.Errorf("steer %s at layer %d: %w", s.Vector, s.Layer, err)
		}
		out = append(out, op)
	}
	return out, nil
}

// Run generates and scores the units not yet in the journal (only this
// shard's share of them) and returns the finished rows of all units in
// their order; complete is false when some units belong to other shards
// that have not finished them yet.
func (e *Env) Run(ctx context.Context, label string, units []Unit) (rows []Row, complete bool, err error) {
	todo := map[string][]int{}
	var sigs []string
	n := 0
	for i, u := range units {
		if _, done := e.Journal.Get(u.Key); done || !e.Journal.Mine(u.Key) {
			continue
		}
		s := signature(u.Steer)
		if _, ok := todo[s]; !ok {
			sigs = append(sigs, s)
		}
		todo[s] = append(todo[s], i)
		n++
	}
	start, done := time.Now(), 0
	for _, s := range sigs {
		idx := todo[s]
		for b := 0; b < len(idx); b += e.BatchSize {
			if err := ctx.Err(); err != nil {
				return nil, false, err
			}
			batch := idx[b:min(len(idx), b+e.BatchSize)]
			if err := e.runBatch(units, batch); err != nil {
				return nil, false, fmt.Errorf("%s: %w", label, err)
			}
			done += len(batch)
			fmt.Fprintf(e.Progress, "[%s] %d/%d units (%.1f units/s)\n", label, done, n, float64(done)/max(time.Since(start).Seconds(), 1e-9))
		}
	}
	complete = true
	for _, u := range units {
		r, ok := e.Journal.Get(u.Key)
		if !ok {
			complete = false
			continue
		}
		rows = append(rows, r)
	}
	return rows, complete, nil
}

// runBatch generates the units at idx (one steering signature), scores them
// and appends them to the journal.
func (e *Env) runBatch(units []Unit, idx []int) error {
	ops, err := e.ops(units[idx[0]].Steer)
	if err != nil {
		return err
	}
	prompts := make([][]int, len(idx))
	for j, i := range idx {
		if prompts[j], err = e.Enc(units[i].Prompt); err != nil {
			return fmt.Errorf("encode prompt of %s: %w", units[i].Key, err)
		}
	}
	texts, err := e.generate(prompts, ops)
	if err != nil {
		return err
	}
	out := make([]Row, len(idx))
	for j, i := range idx {
		out[j] = units[i]
		out[j].Response = texts[j]
		if err := score(&out[j]); err != nil {
			return err
		}
	}
	if e.PPL != nil {
		ppl, err := e.PPL.Of(texts)
		if err != nil {
			return err
		}
		for j := range out {
			p := ppl[j]
			out[j].Perplexity = &p
			out[j].Degenerate = p < DegenerateBelow
		}
	}
	return e.Journal.Append(out)
}

// generate returns the greedy responses to prompts under ops, decoded
// without special tokens, cut at "Q:" for plain prompts, trimmed.
func (e *Env) generate(prompts [][]int, ops []model.SteerOp) ([]string, error) {
	decode := func(ids []int) (string, error) { return e.Tok.Decode(ids, true) }
	opts := model.GenerateOptions{MaxNewTokens: e.MaxNewTokens, Greedy: true, StopAtEOS: true, Steer: ops}
	if e.Plain {
		opts.StopStrings, opts.Decode = []string{"Q:"}, decode
	}
	res, err := e.Model.Generate(prompts, opts)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	out := make([]string, len(res.Tokens))
	for i, ids := range res.Tokens {
		text, err := decode(ids)
		if err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		if e.Plain {
			if k := strings.Index(text, "Q:"); k >= 0 {
				text = text[:k]
			}
		}
		out[i] = strings.TrimSpace(text)
	}
	return out, nil
}

// score fills the checks, the overall verdicts and the length counts of r.
func score(r *Row) error {
	r.Strict, r.Loose = true, true
	for i := range r.Checks {
		c := &r.Checks[i]
		var err error
		if c.Strict, err = ifeval.Check(c.ID, c.Kwargs, r.Prompt, r.Response); err != nil {
			return fmt.Errorf("score %s (%s): %w", r.Key, c.ID, err)
		}
		if c.Loose, err = ifeval.CheckLoose(c.ID, c.Kwargs, r.Prompt, r.Response); err != nil {
			return fmt.Errorf("score %s (%s): %w", r.Key, c.ID, err)
		}
		r.Strict, r.Loose = r.Strict && c.Strict, r.Loose && c.Loose
	}
	n, err := ifeval.CountSentences(r.Response)
	if err != nil {
		return fmt.Errorf("score %s: sentences: %w", r.Key, err)
	}
	r.Sentences, r.Words = n, ifeval.CountWords(r.Response)
	return nil
}

// sortRows orders rows by key (the merged results file's order).
func sortRows(rows []Row) {
	sort.Slice(rows, func(i, j int) bool { return rows[i].Key < rows[j].Key })
}
