package experiment

import (
	"context"
	"fmt"
	"strings"

	"github.com/gosteer/gosteer/steerlib/chat"
	"github.com/gosteer/gosteer/steerlib/ifeval"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/progress"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// Progress receives the progress of a run: progress.Terminal(os.Stderr) in a
// terminal, gonbplot.Progress() in a notebook.
type Progress = progress.Reporter

// DefaultMaxNewTokens bounds each response unless set (the paper allows 2048).
const DefaultMaxNewTokens = 512

// Unit is one work unit: a record's prompt in one condition, under one
// steering. Key identifies it across runs and shards.
type Unit struct {
	Key       string
	Rec       Record
	Condition string
	Candidate string
	Prompt    string
	Steering  []Steering
	Ops       []model.SteerOp
}

// Runner generates and scores work units on one model.
type Runner struct {
	Model *model.Model
	// Encode renders a prompt (chat template, or "Q: …\nA:" when Plain) to ids.
	Encode vectors.Encoder
	// Tok decodes responses.
	Tok *tokenizer.Tokenizer
	// Plain: base-model prompts; responses stop at the next "Q:".
	Plain bool
	// MaxNewTokens per response (default DefaultMaxNewTokens) and BatchSize
	// rows per generation (default 8).
	MaxNewTokens, BatchSize int
	// Screen, when set, adds each response's perplexity.
	Screen *Screen
	// Progress receives progress (nil: none).
	Progress Progress
}

// NewRunner loads the tokenizer and prompt encoder of the model folder dir.
func NewRunner(m *model.Model, dir string, plain bool) (*Runner, error) {
	enc, err := chat.LoadEncoder(dir, chat.EncoderOptions{Plain: plain})
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	return &Runner{Model: m, Encode: enc.Encode, Tok: enc.Tokenizer, Plain: plain}, nil
}

// Run generates every unit not yet in w.Done, appending results batch by
// batch. It returns the number of units generated.
func (r *Runner) Run(ctx context.Context, units []Unit, w *ResultsWriter) (int, error) {
	var pending []Unit
	for _, u := range units {
		if _, done := w.Done[u.Key]; !done {
			pending = append(pending, u)
		}
	}
	prog := progress.Or(r.Progress)
	prog.Start(fmt.Sprintf("%d units (%d done before)", len(units), len(units)-len(pending)), len(pending))
	defer prog.Finish()
	done := 0
	for _, batch := range r.batches(pending) {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		rs, err := r.runBatch(batch)
		if err != nil {
			return done, err
		}
		if err := w.Append(rs); err != nil {
			return done, err
		}
		done += len(batch)
		prog.Set(done)
	}
	return done, nil
}

// batches splits units, in order, into batches of BatchSize (default 8).
// Each row carries its own steering (model.GenerateOptions.RowSteer), so a
// batch mixes candidates, layers and conditions freely in one graph.
func (r *Runner) batches(units []Unit) [][]Unit {
	size := r.BatchSize
	if size <= 0 {
		size = 8
	}
	var out [][]Unit
	for len(units) > 0 {
		n := min(size, len(units))
		out = append(out, units[:n])
		units = units[n:]
	}
	return out
}

// runBatch generates, scores and screens one batch of units.
func (r *Runner) runBatch(batch []Unit) ([]Result, error) {
	texts, res, err := r.generate(batch)
	if err != nil {
		return nil, err
	}
	var ppl []float64
	if r.Screen != nil {
		if ppl, err = r.Screen.Perplexities(texts); err != nil {
			return nil, err
		}
	}
	out := make([]Result, len(batch))
	for i, u := range batch {
		out[i] = scoreUnit(u, texts[i])
		out[i].NewTokens, out[i].Stop = len(res.Tokens[i]), res.Reasons[i]
		if ppl != nil {
			p := finite(ppl[i])
			d := Degenerate(p)
			out[i].Perplexity, out[i].Degenerate = &p, &d
		}
	}
	return out, nil
}

// generate runs greedy generation for a batch, each unit under its own ops,
// and returns the decoded responses.
func (r *Runner) generate(batch []Unit) ([]string, *model.GenerateResult, error) {
	rows := make([][]int, len(batch))
	steer := make([][]model.SteerOp, len(batch))
	longest := 0
	for i, u := range batch {
		steer[i] = u.Ops
		ids, err := r.Encode(u.Prompt)
		if err != nil {
			return nil, nil, fmt.Errorf("encode %s: %w", u.Key, err)
		}
		rows[i], longest = ids, max(longest, len(ids))
	}
	maxNew := r.MaxNewTokens
	if maxNew <= 0 {
		maxNew = DefaultMaxNewTokens
	}
	if mp := r.Model.Config.MaxPositions; mp > 0 {
		if longest >= mp {
			return nil, nil, fmt.Errorf("%s: prompt of %d tokens fills the model's context of %d", batch[0].Key, longest, mp)
		}
		maxNew = min(maxNew, mp-longest)
	}
	decode := func(ids []int) (string, error) { return r.Tok.Decode(ids, true) }
	opts := model.GenerateOptions{MaxNewTokens: maxNew, Greedy: true, StopAtEOS: true, RowSteer: steer, Decode: decode}
	if r.Plain {
		opts.StopStrings = []string{plainStop}
	}
	res, err := r.Model.Generate(rows, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("generate %s…: %w", batch[0].Key, err)
	}
	texts := make([]string, len(batch))
	for i, ids := range res.Tokens {
		t, err := decode(ids)
		if err != nil {
			return nil, nil, fmt.Errorf("decode %s: %w", batch[i].Key, err)
		}
		texts[i] = cleanResponse(t, r.Plain)
	}
	return texts, res, nil
}

// cleanResponse trims a decoded response; a base model's answer (plain)
// ends before the next question.
func cleanResponse(text string, plain bool) string {
	if plain {
		text, _, _ = strings.Cut(text, plainStop)
	}
	return strings.TrimSpace(text)
}

// plainStop ends a base model's answer: the start of the next question.
var plainStop = strings.TrimSpace(chat.DefaultPlainFormat.User)

// scoreUnit scores a response with ifeval against the record's instructions
// (with the full prompt, which some checkers read).
func scoreUnit(u Unit, text string) Result {
	v := ifeval.Evaluate(ifeval.Record{Prompt: u.Rec.Prompt, Response: text, InstructionIDs: u.Rec.InstructionIDs, Kwargs: u.Rec.Kwargs})
	return Result{
		Key: u.Key, Record: u.Rec.Key, Instructions: u.Rec.EvalIDs, Condition: u.Condition, Candidate: u.Candidate,
		Prompt: u.Prompt, Response: text, Strict: v.FollowAllStrict, Loose: v.FollowAllLoose,
		StrictList: v.Strict, LooseList: v.Loose, Errors: v.Errors, Steering: u.Steering,
	}
}
