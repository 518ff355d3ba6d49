package paper

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gosteer/gosteer/steerlib/experiment"
	"github.com/gosteer/gosteer/steerlib/ifeval"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// Conditions lists the paper's four conditions in table order
// (the engine's: experiment.CondWithout, CondWithoutSteer, CondWith,
// CondWithSteer; Conditions is experiment.AllConditions.)
var Conditions = experiment.AllConditions

// Phases of an experiment's work units.
const (
	PhaseValidation = "val"
	PhaseTest       = "test"
)

// Steering is one operator applied during a generation (the engine's
// type): Vector names the direction set (an instruction id, "concise",
// "word:owl"), Layer is vectors.NoLayer for none, Op is "add"
// (x ← x + c·û) or "clamp" (x ← x + (z̄ − x·û)·û), Coef is c or z̄.
type Steering = experiment.Steering

// Check is one IFEval instruction a response is scored on.
type Check struct {
	ID     string         `json:"id"`
	Kwargs map[string]any `json:"kwargs,omitempty"`
	Strict bool           `json:"strict"`
	Loose  bool           `json:"loose"`
}

// Row is one scored generation: the engine's result joined with what the
// experiment knows about its unit.
type Row struct {
	Key         string
	Experiment  string
	Phase       string
	Item        string
	Instruction string
	Condition   string
	// Setting is "with" or "without" for validation rows of a layer search.
	Setting string
	Steer   []Steering
	// Scale is the swept coefficient in units of ‖v_l‖ (add sweeps).
	Scale  float64
	Prompt string
	// MaxSentences is N of "at most N sentences" (0: no length request).
	MaxSentences int
	Checks       []Check
	Response     string
	// Strict and Loose are true when every check passes.
	Strict, Loose bool
	// Perplexity is set when a perplexity model screens the responses.
	Perplexity *float64
	Degenerate bool
	Sentences  int
	Words      int
}

// Unit is a row before generation: everything but the response and scores.
type Unit = Row

// Env is what the experiments run on: the engine's runner on a model, the
// directions by name, and the run's journal.
type Env struct {
	Model  *model.Model
	Runner *experiment.Runner
	// Vectors resolves Steering.Vector names.
	Vectors map[string]*vectors.Set
	// Journal records finished units; Shard selects this run's share.
	Journal *Journal
	Shard   experiment.Shard
	// BatchSize is the number of prompts per forward pass of vector computation.
	BatchSize int
	// Progress receives progress lines.
	Progress io.Writer
}

// ops turns recorded steerings into model operators.
func (e *Env) ops(st []Steering) ([]model.SteerOp, error) {
	var out []model.SteerOp
	for _, s := range st {
		if s.Layer == vectors.NoLayer {
			continue
		}
		set, ok := e.Vectors[s.Vector]
		if !ok {
			return nil, fmt.Errorf("no direction named %q", s.Vector)
		}
		var op model.SteerOp
		var err error
		switch s.Op {
		case experiment.OpAdd:
			op, err = set.Add(int(s.Layer), s.Coef)
		case experiment.OpClamp:
			op, err = set.ClampTo(int(s.Layer), s.Coef)
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

// engineUnit turns a unit into the engine's work unit.
func (e *Env) engineUnit(u Unit) (experiment.Unit, error) {
	ops, err := e.ops(u.Steer)
	if err != nil {
		return experiment.Unit{}, fmt.Errorf("%s: %w", u.Key, err)
	}
	rec := experiment.Record{Key: u.Item, Prompt: u.Prompt, PromptWithout: u.Prompt, EvalIDs: []string{u.Instruction}}
	for _, c := range u.Checks {
		rec.InstructionIDs, rec.Kwargs = append(rec.InstructionIDs, c.ID), append(rec.Kwargs, c.Kwargs)
	}
	cand := u.Setting
	if u.Phase == PhaseValidation || u.Scale != 0 {
		cand += fmt.Sprintf(" scale=%g", u.Scale)
	}
	return experiment.Unit{Key: u.Key, Rec: rec, Condition: u.Condition, Candidate: cand, Prompt: u.Prompt, Steering: u.Steer, Ops: ops}, nil
}

// Run generates and scores, through the engine's runner, this shard's share
// of the units not yet in the journal, and returns the finished rows of all
// units in their order; complete is false while other shards owe units.
func (e *Env) Run(ctx context.Context, label string, units []Unit) (rows []Row, complete bool, err error) {
	all := make([]experiment.Unit, len(units))
	for i, u := range units {
		if all[i], err = e.engineUnit(u); err != nil {
			return nil, false, fmt.Errorf("%s: %w", label, err)
		}
	}
	// The shard's share is taken from the phase's full, ordered unit list,
	// so that every shard agrees on it whatever is already done.
	var xs []experiment.Unit
	for _, x := range e.Shard.Select(all) {
		if _, done := e.Journal.Get(x.Key); !done {
			xs = append(xs, x)
		}
	}
	if len(xs) > 0 {
		start := time.Now()
		n, err := e.Runner.Run(ctx, xs, e.Journal.w)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", label, err)
		}
		fmt.Fprintf(e.Progress, "[%s] %d units in %.1fs\n", label, n, time.Since(start).Seconds())
	}
	complete = true
	for _, u := range units {
		res, ok := e.Journal.Get(u.Key)
		if !ok {
			complete = false
			continue
		}
		r, err := joinRow(u, res)
		if err != nil {
			return nil, false, err
		}
		rows = append(rows, r)
	}
	return rows, complete, nil
}

// joinRow joins a unit with its engine result.
func joinRow(u Unit, res experiment.Result) (Row, error) {
	r := u
	r.Response, r.Strict, r.Loose, r.Perplexity = res.Response, res.Strict, res.Loose, res.Perplexity
	r.Degenerate = res.Degenerate != nil && *res.Degenerate
	r.Checks = append([]Check(nil), u.Checks...)
	for i := range r.Checks {
		if i < len(res.StrictList) && i < len(res.LooseList) {
			r.Checks[i].Strict, r.Checks[i].Loose = res.StrictList[i], res.LooseList[i]
		}
	}
	n, err := ifeval.CountSentences(r.Response)
	if err != nil {
		return Row{}, fmt.Errorf("%s: sentences: %w", r.Key, err)
	}
	r.Sentences, r.Words = n, ifeval.CountWords(r.Response)
	return r, nil
}
