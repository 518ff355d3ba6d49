package tinyif

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gosteer/gosteer/steerlib/chat"
	"github.com/gosteer/gosteer/steerlib/ifeval"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/pairs"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// demoRunner holds the loaded model and tokenizer, the answers without the
// instruction (the same held-out requests for every instruction type, so
// they are generated once) and the time spent per stage.
type demoRunner struct {
	dir     string
	m       *model.Model
	tok     *tokenizer.Tokenizer
	enc     vectors.Encoder
	capture vectors.CaptureFunc
	opts    DemoOptions
	start   time.Time
	without map[string]generation // by prompt
	timing  map[string]float64
}

// generation is a batch of greedy answers: texts and generated ids.
type generation struct {
	texts []string
	ids   [][]int
}

// openDemo loads the model folder (the embedded one by default), its
// tokenizer and chat encoder.
func openDemo(opts DemoOptions) (*demoRunner, error) {
	dir := opts.ModelDir
	if dir == "" {
		var err error
		if dir, err = EmbeddedModelDir(); err != nil {
			return nil, err
		}
	}
	m, err := model.Load(dir, model.WithBackend(opts.Backend), model.WithOffline())
	if err != nil {
		return nil, fmt.Errorf("tinyif demo: %w", err)
	}
	enc, err := chat.LoadEncoder(dir, chat.EncoderOptions{})
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("tinyif demo: %w", err)
	}
	return &demoRunner{dir: dir, m: m, tok: enc.Tokenizer, enc: enc.Encode, capture: vectors.ModelCapture(m), opts: opts,
		start: time.Now(), without: map[string]generation{}, timing: map[string]float64{}}, nil
}

// timed adds the seconds since t0 to stage.
func (r *demoRunner) timed(stage string, t0 time.Time) { r.timing[stage] += time.Since(t0).Seconds() }

// encodeAll encodes prompts with the chat template.
func (r *demoRunner) encodeAll(prompts []string) ([][]int, error) {
	rows := make([][]int, len(prompts))
	for i, p := range prompts {
		var err error
		if rows[i], err = r.enc(p); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// answers generates greedy answers (the text without the final
// <|im_end|>) to prompts under the steering ops.
func (r *demoRunner) answers(prompts []string, ops []model.SteerOp) (generation, error) {
	var out generation
	for start := 0; start < len(prompts); start += r.opts.BatchSize {
		end := min(len(prompts), start+r.opts.BatchSize)
		rows, err := r.encodeAll(prompts[start:end])
		if err != nil {
			return generation{}, err
		}
		res, err := r.m.Generate(rows, model.GenerateOptions{MaxNewTokens: r.opts.MaxNewTokens, Greedy: true, StopAtEOS: true, Steer: ops})
		if err != nil {
			return generation{}, err
		}
		for _, ids := range res.Tokens {
			text, err := r.tok.Decode(ids, true)
			if err != nil {
				return generation{}, err
			}
			out.texts = append(out.texts, strings.TrimSpace(text))
			out.ids = append(out.ids, ids)
		}
	}
	return out, nil
}

// answersWithout returns the unsteered answers to prompts without the
// instruction, generating only those not seen before.
func (r *demoRunner) answersWithout(prompts []string) (generation, error) {
	var todo []string
	for _, p := range prompts {
		if _, ok := r.without[p]; !ok {
			todo = append(todo, p)
		}
	}
	if len(todo) > 0 {
		g, err := r.answers(todo, nil)
		if err != nil {
			return generation{}, err
		}
		for i, p := range todo {
			r.without[p] = generation{texts: g.texts[i : i+1], ids: g.ids[i : i+1]}
		}
	}
	var out generation
	for _, p := range prompts {
		out.texts = append(out.texts, r.without[p].texts[0])
		out.ids = append(out.ids, r.without[p].ids[0])
	}
	return out, nil
}

// RunDemo runs the whole method on the tinyif model: pairs from training
// topics, one vector per instruction, the layer (and add coefficient) chosen
// on validation topics, then held-out evaluation with the instruction,
// without it, and without it but steered, with the clean-pass share of the
// steered answers (see Degenerate). The held-out answers are written to
// opts.AnswersFile.
func RunDemo(ctx context.Context, opts DemoOptions) (res *DemoResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("tinyif demo: %v", r)
		}
	}()
	opts.fill()
	r, err := openDemo(opts)
	if err != nil {
		return nil, err
	}
	defer r.m.Close()
	res = &DemoResult{ModelDir: r.dir}
	var held []HeldOutAnswer
	for _, id := range opts.IDs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ir, answers, err := r.runInstruction(ctx, id)
		if err != nil {
			return nil, err
		}
		res.NumTest = len(answers)
		res.Instructions = append(res.Instructions, ir)
		held = append(held, answers...)
	}
	if err := writeJSONLines(opts.AnswersFile, held); err != nil {
		return nil, err
	}
	res.AnswersFile = opts.AnswersFile
	res.Seconds = time.Since(r.start).Seconds()
	res.Timing = r.timing
	return res, nil
}

// runInstruction runs the method's four steps for one instruction id.
func (r *demoRunner) runInstruction(ctx context.Context, id string) (InstructionResult, []HeldOutAnswer, error) {
	in, ok := InstructionByID(id)
	if !ok {
		return InstructionResult{}, nil, fmt.Errorf("tinyif demo: unknown instruction %q", id)
	}
	ir := InstructionResult{ID: id, Op: in.Op}
	progress := r.opts.Progress
	fmt.Fprintf(progress, "[%s] %s: vectors", time.Since(r.start).Round(time.Second), in.Short)
	if err := r.computeVectors(ctx, &ir); err != nil {
		return ir, nil, err
	}
	fmt.Fprintf(progress, ", layers")
	if err := r.chooseLayer(&ir); err != nil {
		return ir, nil, err
	}
	fmt.Fprintf(progress, ", test (layer %d)", ir.Layer)
	test, held, err := r.evaluate(&ir)
	if err != nil {
		return ir, nil, err
	}
	if err := r.projections(&ir, test); err != nil {
		return ir, nil, err
	}
	fmt.Fprintf(progress, ": with %.2f without %.2f steered %.2f (clean %.2f)\n", ir.WithInstruction, ir.Without, ir.Steered, ir.SteeredClean)
	return ir, held, nil
}

// computeVectors is step 1: pairs on training topics and one mean-difference
// vector set over all layers.
func (r *demoRunner) computeVectors(ctx context.Context, ir *InstructionResult) error {
	defer r.timed("vectors", time.Now())
	train, err := EvalExamples(r.opts.Seed+101, SplitTrain, ir.ID, r.opts.PairsPerTopic)
	if err != nil {
		return err
	}
	ps := make([]pairs.Pair, len(train))
	for i, e := range train {
		ps[i] = pairs.Pair{InstructionID: ir.ID, With: e.Prompt, Without: e.Request, Kwargs: e.Kwargs}
	}
	set, err := vectors.Compute(ctx, r.m, r.enc, ps, vectors.ComputeOptions{Method: vectors.MethodMeanDiff, BatchSize: 32, InstructionID: ir.ID})
	if err != nil {
		return fmt.Errorf("tinyif demo: %s: %w", ir.ID, err)
	}
	ir.Vectors, ir.NPairs = set, len(ps)
	return nil
}

// candidateCoefs returns the coefficients tried at layer l: z̄ for clamp,
// the AddScales multiples of ‖v_l‖ for add.
func (r *demoRunner) candidateCoefs(ir *InstructionResult, l int) ([]float64, error) {
	lv, ok := ir.Vectors.Get(l)
	if !ok {
		return nil, fmt.Errorf("tinyif demo: no vector for layer %d (model has %d layers)", l, len(ir.Vectors.Layers))
	}
	if ir.Op != "add" {
		return []float64{lv.ZBar}, nil
	}
	var coefs []float64
	for _, s := range r.opts.AddScales {
		coefs = append(coefs, s*lv.Norm)
	}
	return coefs, nil
}

// chooseLayer is step 2: the layer (and add coefficient) with the best
// LayerScore on validation topics, prompts without the instruction.
func (r *demoRunner) chooseLayer(ir *InstructionResult) error {
	defer r.timed("layer choice", time.Now())
	val, err := EvalExamples(r.opts.Seed+202, SplitValidation, ir.ID, r.opts.ValidationPerTopic)
	if err != nil {
		return err
	}
	layers := r.opts.Layers
	if len(layers) == 0 {
		all := ir.Vectors.LayerIDs()
		layers = all[len(all)/4 : 3*len(all)/4]
	}
	best, bestScore := LayerScore{Layer: -1, Accuracy: -1}, math.Inf(-1)
	for _, l := range layers {
		coefs, err := r.candidateCoefs(ir, l)
		if err != nil {
			return err
		}
		for _, c := range coefs {
			op, err := steerOp(ir.Vectors, ir.Op, l, c)
			if err != nil {
				return err
			}
			ans, err := r.answers(prompts(val, false), []model.SteerOp{op})
			if err != nil {
				return fmt.Errorf("tinyif demo: %s layer %d: %w", ir.ID, l, err)
			}
			acc, err := score(ir.ID, val, ans.texts)
			if err != nil {
				return err
			}
			ls := LayerScore{Layer: l, Coef: c, Accuracy: acc, Quality: Quality(val, ans.texts)}
			ir.Validation = append(ir.Validation, ls)
			if ls.Score() > bestScore {
				best, bestScore = ls, ls.Score()
			}
		}
	}
	ir.Layer, ir.Coef = best.Layer, best.Coef
	return nil
}

// evaluate is step 3: held-out test topics with the instruction, without
// it, and without it but steered; IFEval loose accuracy, topic mentions and
// the clean passes of the steered answers.
func (r *demoRunner) evaluate(ir *InstructionResult) ([]Example, []HeldOutAnswer, error) {
	t0 := time.Now()
	test, err := EvalExamples(r.opts.Seed+303, SplitTest, ir.ID, r.opts.TestPerTopic)
	if err != nil {
		return nil, nil, err
	}
	with, err := r.answers(prompts(test, true), nil)
	if err != nil {
		return nil, nil, err
	}
	without, err := r.answersWithout(prompts(test, false))
	if err != nil {
		return nil, nil, err
	}
	op, err := steerOp(ir.Vectors, ir.Op, ir.Layer, ir.Coef)
	if err != nil {
		return nil, nil, err
	}
	steered, err := r.answers(prompts(test, false), []model.SteerOp{op})
	if err != nil {
		return nil, nil, err
	}
	r.timed("test answers", t0)
	for _, s := range []struct {
		acc *float64
		g   generation
	}{{&ir.WithInstruction, with}, {&ir.Without, without}, {&ir.Steered, steered}} {
		if *s.acc, err = score(ir.ID, test, s.g.texts); err != nil {
			return nil, nil, err
		}
	}
	ir.WithOnTopic, ir.WithoutOnTopic, ir.SteeredOnTopic = onTopic(test, with.texts), onTopic(test, without.texts), onTopic(test, steered.texts)
	ir.Example = DemoExample{Topic: test[0].Topic, With: test[0].Prompt, Without: test[0].Request,
		AnswerWith: with.texts[0], AnswerNone: without.texts[0], AnswerSteer: steered.texts[0]}
	held, err := r.judgeSteered(ir, test, with, without, steered)
	return test, held, err
}

// judgeSteered scores each steered answer (pass, perplexity, degenerate,
// clean), fills ir's clean-pass shares and returns the held-out answers.
func (r *demoRunner) judgeSteered(ir *InstructionResult, test []Example, with, without, steered generation) ([]HeldOutAnswer, error) {
	defer r.timed("perplexity", time.Now())
	promptRows, err := r.encodeAll(prompts(test, false))
	if err != nil {
		return nil, err
	}
	ppl, err := Perplexities(r.m, promptRows, steered.ids, r.opts.BatchSize)
	if err != nil {
		return nil, fmt.Errorf("tinyif demo: %s: %w", ir.ID, err)
	}
	held := make([]HeldOutAnswer, len(test))
	passes, clean := 0, 0
	for i, e := range test {
		v := JudgeAnswer(e.Topic, steered.texts[i], steered.ids[i], ppl[i])
		pass, err := score(ir.ID, test[i:i+1], steered.texts[i:i+1])
		if err != nil {
			return nil, err
		}
		v.Pass = pass == 1
		v.Clean = v.Pass && !v.Degenerate() && v.NamesTopic
		if v.Pass {
			passes++
		}
		if v.Clean {
			clean++
		}
		held[i] = HeldOutAnswer{ID: ir.ID, Topic: e.Topic, PromptWith: e.Prompt, PromptWithout: e.Request,
			With: with.texts[i], Without: without.texts[i], Steered: steered.texts[i], SteeredVerdict: v}
	}
	ir.SteeredClean = float64(clean) / float64(len(test))
	if passes > 0 {
		ir.CleanOfPasses = float64(clean) / float64(passes)
	}
	return held, nil
}

// projections is step 4: the projections onto u at the chosen layer of the
// last prompt token of the held-out prompts with and without the
// instruction.
func (r *demoRunner) projections(ir *InstructionResult, test []Example) error {
	defer r.timed("projections", time.Now())
	lv, _ := ir.Vectors.Get(ir.Layer)
	for _, with := range []bool{true, false} {
		rows, err := r.encodeAll(prompts(test, with))
		if err != nil {
			return err
		}
		acts, err := r.capture(rows)
		if err != nil {
			return err
		}
		proj, err := vectors.Project(acts[ir.Layer], lv.U)
		if err != nil {
			return err
		}
		if with {
			ir.ProjWith = proj
		} else {
			ir.ProjWithout = proj
		}
	}
	return nil
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
