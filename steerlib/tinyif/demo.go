package tinyif

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/gosteer/gosteer/steerlib/chat"
	"github.com/gosteer/gosteer/steerlib/ifeval"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/pairs"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// DemoOptions configures RunDemo. Zero values mean the defaults.
type DemoOptions struct {
	// ModelDir is the model folder; "" uses the embedded tinyif model.
	ModelDir string
	// Backend is the GoMLX backend ("" = $GOMLX_BACKEND or "go").
	Backend string
	// IDs restricts the run to these instruction ids (default: all).
	IDs []string
	// PairsPerTopic is the number of pairs drawn per training topic to
	// compute each vector (default 1).
	PairsPerTopic int
	// TestPerTopic is the number of held-out prompts per test topic (default 2).
	TestPerTopic int
	// ValidationPerTopic is the number of prompts per validation topic used
	// to choose the layer (default 1).
	ValidationPerTopic int
	// AddScales are the multiples of ‖v_l‖ tried as the add coefficient on the
	// validation prompts (default 1, 2, 4).
	AddScales []float64
	// Layers are the candidate layers for steering (default: all).
	Layers []int
	// MaxNewTokens bounds every answer (default 128; the longest training
	// answer has about 100 tokens).
	MaxNewTokens int
	// BatchSize is the number of prompts generated together (default 32).
	BatchSize int
	// Seed chooses the evaluation prompts (default 7).
	Seed uint64
	// Progress receives progress lines (nil: none).
	Progress io.Writer
}

func (o *DemoOptions) fill() {
	if len(o.IDs) == 0 {
		for _, in := range Instructions {
			o.IDs = append(o.IDs, in.ID)
		}
	}
	if o.PairsPerTopic == 0 {
		o.PairsPerTopic = 1
	}
	if o.TestPerTopic == 0 {
		o.TestPerTopic = 2
	}
	if o.ValidationPerTopic == 0 {
		o.ValidationPerTopic = 1
	}
	if len(o.AddScales) == 0 {
		o.AddScales = []float64{1, 2, 4}
	}
	if o.MaxNewTokens == 0 {
		o.MaxNewTokens = 128
	}
	if o.BatchSize == 0 {
		o.BatchSize = 32
	}
	if o.Seed == 0 {
		o.Seed = 7
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// LayerScore is the validation accuracy of steering at one layer.
type LayerScore struct {
	Layer    int     `json:"layer"`
	Coef     float64 `json:"coef"` // add coefficient (add ops) or z̄ (clamp)
	Accuracy float64 `json:"accuracy"`
	// Quality is the fraction of answers that still read as an answer: they
	// mention the topic and hold at least six distinct words (see Quality).
	Quality float64 `json:"quality"`
}

// Score is what the layer choice maximizes: accuracy, with answer quality as
// a secondary term (a quarter weight), so that among layers of equal
// accuracy the one whose answers stay readable and on topic wins, and a
// degenerate answer that happens to pass a format check (e.g. a run of
// quotation marks) does not.
func (s LayerScore) Score() float64 { return s.Accuracy + 0.25*s.Quality }

// Quality returns the fraction of answers that mention their example's topic
// and contain at least six distinct words.
func Quality(exs []Example, answers []string) float64 {
	ok := 0
	for i, e := range exs {
		words := map[string]bool{}
		for _, w := range strings.FieldsFunc(strings.ToLower(answers[i]), func(r rune) bool { return !unicode.IsLetter(r) }) {
			words[w] = true
		}
		if len(words) >= 6 && MentionsTopic(e.Topic, answers[i]) {
			ok++
		}
	}
	return float64(ok) / float64(len(exs))
}

// InstructionResult is the demo's outcome for one instruction.
type InstructionResult struct {
	ID     string `json:"id"`
	Op     string `json:"op"` // "clamp" or "add"
	NPairs int    `json:"n_pairs"`
	// Layer is the chosen layer and Coef the add coefficient or clamp z̄ used.
	Layer int     `json:"layer"`
	Coef  float64 `json:"coef"`
	// Validation holds the validation accuracy of every (layer, coef) tried.
	Validation []LayerScore `json:"validation"`
	// Held-out test accuracies (IFEval loose).
	WithInstruction float64 `json:"with_instruction"`
	Without         float64 `json:"without"`
	Steered         float64 `json:"steered"`
	// SteeredOnTopic is the fraction of steered answers that mention the
	// topic; WithOnTopic and WithoutOnTopic are the same for the un-steered
	// answers, for comparison.
	SteeredOnTopic float64 `json:"steered_on_topic"`
	WithOnTopic    float64 `json:"with_on_topic"`
	WithoutOnTopic float64 `json:"without_on_topic"`
	// ProjWith / ProjWithout are the projections onto u at the chosen layer of
	// the last prompt token of the held-out prompts with / without the
	// instruction.
	ProjWith    []float64 `json:"proj_with"`
	ProjWithout []float64 `json:"proj_without"`
	// Example holds one held-out prompt with its three answers.
	Example DemoExample `json:"example"`
	// Vectors is the per-layer vector set (not serialized).
	Vectors *vectors.Set `json:"-"`
}

// DemoExample shows one held-out prompt and its answers.
type DemoExample struct {
	Topic       string `json:"topic"`
	With        string `json:"with_prompt"`
	Without     string `json:"without_prompt"`
	AnswerWith  string `json:"answer_with"`
	AnswerNone  string `json:"answer_without"`
	AnswerSteer string `json:"answer_steered"`
}

// DemoResult is the outcome of RunDemo.
type DemoResult struct {
	ModelDir     string              `json:"model_dir"`
	Instructions []InstructionResult `json:"instructions"`
	NumTest      int                 `json:"num_test"`
	Seconds      float64             `json:"seconds"`
}

// demoRunner holds the loaded model and prompt encoder.
type demoRunner struct {
	m    *model.Model
	enc  *chat.Encoder
	opts DemoOptions
}

// Answers generates greedy answers (without the final <|im_end|>) to prompts
// under the steering ops.
func (r *demoRunner) answers(prompts []string, ops []model.SteerOp) ([]string, error) {
	out := make([]string, 0, len(prompts))
	for start := 0; start < len(prompts); start += r.opts.BatchSize {
		end := min(len(prompts), start+r.opts.BatchSize)
		rows := make([][]int, 0, end-start)
		for _, p := range prompts[start:end] {
			ids, err := r.enc.Encode(p)
			if err != nil {
				return nil, err
			}
			rows = append(rows, ids)
		}
		res, err := r.m.Generate(rows, model.GenerateOptions{MaxNewTokens: r.opts.MaxNewTokens, Greedy: true, StopAtEOS: true, Steer: ops})
		if err != nil {
			return nil, err
		}
		for _, ids := range res.Tokens {
			text, err := r.enc.Decode(ids)
			if err != nil {
				return nil, err
			}
			out = append(out, strings.TrimSpace(text))
		}
	}
	return out, nil
}

// score returns the fraction of answers passing the IFEval loose check of
// instruction id (with the examples' kwargs).
func score(id string, exs []Example, answers []string) (float64, error) {
	pass := 0
	for i, ex := range exs {
		ok, err := ifeval.CheckLoose(id, ex.Kwargs, ex.Prompt, answers[i])
		if err != nil {
			return 0, fmt.Errorf("tinyif: ifeval %s: %w", id, err)
		}
		if ok {
			pass++
		}
	}
	return float64(pass) / float64(len(exs)), nil
}

// MentionsTopic reports whether answer names the topic (case-insensitive).
func MentionsTopic(topic, answer string) bool {
	return strings.Contains(strings.ToLower(answer), strings.ToLower(topic))
}

// onTopic returns the fraction of answers that mention their topic.
func onTopic(exs []Example, answers []string) float64 {
	on := 0
	for i, e := range exs {
		if MentionsTopic(e.Topic, answers[i]) {
			on++
		}
	}
	return float64(on) / float64(len(exs))
}

func prompts(exs []Example, with bool) []string {
	out := make([]string, len(exs))
	for i, e := range exs {
		if with {
			out[i] = e.Prompt
		} else {
			out[i] = e.Request
		}
	}
	return out
}

// steerOp builds the operator for instruction op kind at layer l with coef.
func steerOp(set *vectors.Set, op string, l int, coef float64) (model.SteerOp, error) {
	if op == "add" {
		return set.Add(l, coef)
	}
	return set.ClampTo(l, coef)
}

// RunDemo runs the whole method on the tinyif model: pairs from training
// topics, one vector per instruction, the layer (and add coefficient) chosen
// on validation topics, then held-out evaluation with the instruction,
// without it, and without it but steered.
func RunDemo(ctx context.Context, opts DemoOptions) (res *DemoResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("tinyif demo: %v", r)
		}
	}()
	opts.fill()
	start := time.Now()
	dir := opts.ModelDir
	if dir == "" {
		if dir, err = EmbeddedModelDir(); err != nil {
			return nil, err
		}
	}
	m, err := model.Load(dir, model.WithBackend(opts.Backend), model.WithOffline())
	if err != nil {
		return nil, fmt.Errorf("tinyif demo: %w", err)
	}
	defer m.Close()
	enc, err := chat.LoadEncoder(dir, chat.EncoderOptions{})
	if err != nil {
		return nil, fmt.Errorf("tinyif demo: %w", err)
	}
	r := &demoRunner{m: m, enc: enc, opts: opts}
	capture := vectors.ModelCapture(m)
	res = &DemoResult{ModelDir: dir}

	for _, id := range opts.IDs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in, ok := InstructionByID(id)
		if !ok {
			return nil, fmt.Errorf("tinyif demo: unknown instruction %q", id)
		}
		ir := InstructionResult{ID: id, Op: in.Op}
		fmt.Fprintf(opts.Progress, "[%s] %s: vectors", time.Since(start).Round(time.Second), in.Short)

		// 1. Pairs on training topics and one vector set over all layers.
		train, err := EvalExamples(opts.Seed+101, SplitTrain, id, opts.PairsPerTopic)
		if err != nil {
			return nil, err
		}
		ps := make([]pairs.Pair, len(train))
		for i, e := range train {
			ps[i] = pairs.Pair{InstructionID: id, With: e.Prompt, Without: e.Request, Kwargs: e.Kwargs}
		}
		set, err := vectors.Compute(ctx, m, enc.Encode, ps, vectors.ComputeOptions{Method: vectors.MethodMeanDiff, BatchSize: 32, InstructionID: id})
		if err != nil {
			return nil, fmt.Errorf("tinyif demo: %s: %w", id, err)
		}
		ir.Vectors, ir.NPairs = set, len(ps)

		// 2. Layer (and add coefficient) on validation topics, without the instruction.
		val, err := EvalExamples(opts.Seed+202, SplitValidation, id, opts.ValidationPerTopic)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(opts.Progress, ", layers")
		best := LayerScore{Layer: -1, Accuracy: -1}
		bestScore := math.Inf(-1)
		layers := opts.Layers
		if len(layers) == 0 {
			layers = set.LayerIDs()
		}
		for _, l := range layers {
			lv, ok := set.Get(l)
			if !ok {
				return nil, fmt.Errorf("tinyif demo: no vector for layer %d (model has %d layers)", l, len(set.Layers))
			}
			coefs := []float64{lv.ZBar}
			if in.Op == "add" {
				coefs = coefs[:0]
				for _, s := range opts.AddScales {
					coefs = append(coefs, s*lv.Norm)
				}
			}
			for _, c := range coefs {
				op, err := steerOp(set, in.Op, l, c)
				if err != nil {
					return nil, err
				}
				ans, err := r.answers(prompts(val, false), []model.SteerOp{op})
				if err != nil {
					return nil, fmt.Errorf("tinyif demo: %s layer %d: %w", id, l, err)
				}
				acc, err := score(id, val, ans)
				if err != nil {
					return nil, err
				}
				ls := LayerScore{Layer: l, Coef: c, Accuracy: acc, Quality: Quality(val, ans)}
				ir.Validation = append(ir.Validation, ls)
				if ls.Score() > bestScore {
					best, bestScore = ls, ls.Score()
				}
			}
		}
		ir.Layer, ir.Coef = best.Layer, best.Coef

		// 3. Held-out test topics: with, without, without + steered.
		fmt.Fprintf(opts.Progress, ", test (layer %d)", ir.Layer)
		test, err := EvalExamples(opts.Seed+303, SplitTest, id, opts.TestPerTopic)
		if err != nil {
			return nil, err
		}
		res.NumTest = len(test)
		ansWith, err := r.answers(prompts(test, true), nil)
		if err != nil {
			return nil, err
		}
		ansWithout, err := r.answers(prompts(test, false), nil)
		if err != nil {
			return nil, err
		}
		op, err := steerOp(set, in.Op, ir.Layer, ir.Coef)
		if err != nil {
			return nil, err
		}
		ansSteer, err := r.answers(prompts(test, false), []model.SteerOp{op})
		if err != nil {
			return nil, err
		}
		if ir.WithInstruction, err = score(id, test, ansWith); err != nil {
			return nil, err
		}
		if ir.Without, err = score(id, test, ansWithout); err != nil {
			return nil, err
		}
		if ir.Steered, err = score(id, test, ansSteer); err != nil {
			return nil, err
		}
		ir.SteeredOnTopic = onTopic(test, ansSteer)
		ir.WithOnTopic = onTopic(test, ansWith)
		ir.WithoutOnTopic = onTopic(test, ansWithout)
		ir.Example = DemoExample{Topic: test[0].Topic, With: test[0].Prompt, Without: test[0].Request,
			AnswerWith: ansWith[0], AnswerNone: ansWithout[0], AnswerSteer: ansSteer[0]}

		// 4. Projections of the held-out prompts onto u at the chosen layer.
		lv, _ := set.Get(ir.Layer)
		for _, with := range []bool{true, false} {
			ps := prompts(test, with)
			rows := make([][]int, len(ps))
			for i, p := range ps {
				if rows[i], err = enc.Encode(p); err != nil {
					return nil, err
				}
			}
			acts, err := capture(rows)
			if err != nil {
				return nil, err
			}
			proj, err := vectors.Project(acts[ir.Layer], lv.U)
			if err != nil {
				return nil, err
			}
			if with {
				ir.ProjWith = proj
			} else {
				ir.ProjWithout = proj
			}
		}
		fmt.Fprintf(opts.Progress, ": with %.2f without %.2f steered %.2f\n", ir.WithInstruction, ir.Without, ir.Steered)
		res.Instructions = append(res.Instructions, ir)
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// WriteTable prints a readable table of the result.
func (res *DemoResult) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "tinyif steering demo: %d held-out prompts per instruction (IFEval loose accuracy)\n\n", res.NumTest)
	fmt.Fprintf(w, "%-40s %-6s %5s %8s %6s %7s %7s   %s\n", "instruction", "op", "layer", "coef", "with", "without", "steered",
		"on topic: with / without / steered")
	for _, ir := range res.Instructions {
		fmt.Fprintf(w, "%-40s %-6s %5d %8.2f %6.2f %7.2f %7.2f   %.2f / %.2f / %.2f\n", ir.ID, ir.Op, ir.Layer, ir.Coef,
			ir.WithInstruction, ir.Without, ir.Steered, ir.WithOnTopic, ir.WithoutOnTopic, ir.SteeredOnTopic)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "(on topic: fraction of answers that name the held-out topic of the request)")
}

// WriteExamples prints one example answer triple per instruction.
func (res *DemoResult) WriteExamples(w io.Writer) {
	for _, ir := range res.Instructions {
		e := ir.Example
		fmt.Fprintf(w, "== %s\n  prompt:   %s\n  answer:   %q\n  without:  %s\n  answer:   %q\n  steered:  %q\n",
			ir.ID, e.With, e.AnswerWith, e.Without, e.AnswerNone, e.AnswerSteer)
	}
	fmt.Fprintln(w)
}

// SummaryJSON returns the one-line summary
// {"instructions": {"<id>": {"with_instruction": a, "without": b, "steered": c, "layer": l}, ...}}.
func (res *DemoResult) SummaryJSON() ([]byte, error) {
	type entry struct {
		With    float64 `json:"with_instruction"`
		Without float64 `json:"without"`
		Steered float64 `json:"steered"`
		Layer   int     `json:"layer"`
	}
	m := map[string]entry{}
	for _, ir := range res.Instructions {
		m[ir.ID] = entry{round4(ir.WithInstruction), round4(ir.Without), round4(ir.Steered), ir.Layer}
	}
	return json.Marshal(map[string]any{"instructions": m})
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// Bar reports how the result compares with issue 7's bar: the number of
// types with ≥ 0.90 with the instruction and ≤ 0.15 without, and the number
// lifted by steering by ≥ 0.30.
func (res *DemoResult) Bar() (followed, lifted int) {
	for _, ir := range res.Instructions {
		if ir.WithInstruction >= 0.90 && ir.Without <= 0.15 {
			followed++
		}
		if ir.Steered-ir.Without >= 0.30 {
			lifted++
		}
	}
	return followed, lifted
}

// SortedValidation returns the validation scores of ir ordered by layer then
// coefficient.
func (ir InstructionResult) SortedValidation() []LayerScore {
	out := append([]LayerScore(nil), ir.Validation...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Layer != out[j].Layer {
			return out[i].Layer < out[j].Layer
		}
		return out[i].Coef < out[j].Coef
	})
	return out
}
