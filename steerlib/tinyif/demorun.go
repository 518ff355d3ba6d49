package tinyif

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gosteer/gosteer/steerlib/experiment"
	"github.com/gosteer/gosteer/steerlib/ifeval"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/pairs"
	"github.com/gosteer/gosteer/steerlib/progress"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// demoRunner holds the loaded model, its tokenizer, the experiment engine's
// runner with its (temporary) results file, and the time spent per stage.
type demoRunner struct {
	dir     string
	m       *model.Model
	tok     *tokenizer.Tokenizer
	enc     vectors.Encoder
	capture vectors.CaptureFunc
	opts    DemoOptions
	start   time.Time
	timing  map[string]float64
	runner  *experiment.Runner
	results *experiment.ResultsWriter
	tmpDir  string
}

// generation is a batch of greedy answers: texts and their token ids.
type generation struct {
	texts []string
	ids   [][]int
}

// openDemo loads the model folder (the embedded one by default), its
// tokenizer and chat encoder, and opens the engine's runner on a results
// file in a fresh temporary folder.
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
	r := &demoRunner{dir: dir, m: m, capture: vectors.ModelCapture(m), opts: opts, start: time.Now(), timing: map[string]float64{}}
	if err := r.openEngine(); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// openEngine creates the engine's runner and its results file.
func (r *demoRunner) openEngine() error {
	runner, err := experiment.NewRunner(r.m, r.dir, false)
	if err != nil {
		return fmt.Errorf("tinyif demo: %w", err)
	}
	runner.MaxNewTokens, runner.BatchSize = r.opts.MaxNewTokens, r.opts.BatchSize
	if r.opts.Progress != io.Discard {
		runner.Progress = progress.Terminal(r.opts.Progress)
	}
	r.runner, r.tok, r.enc = runner, runner.Tok, runner.Encode
	if r.tmpDir, err = os.MkdirTemp("", "gosteer-demo-*"); err != nil {
		return fmt.Errorf("tinyif demo: %w", err)
	}
	if r.results, err = experiment.OpenResults(filepath.Join(r.tmpDir, "results.jsonl"), "tinyif-demo"); err != nil {
		return fmt.Errorf("tinyif demo: %w", err)
	}
	return nil
}

// close releases the model and removes the temporary results.
func (r *demoRunner) close() {
	if r.results != nil {
		r.results.Close()
	}
	if r.tmpDir != "" {
		os.RemoveAll(r.tmpDir)
	}
	r.m.Close()
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

// run generates the units with the engine (per-row steering, batches of
// BatchSize) and returns the results by unit key.
func (r *demoRunner) run(ctx context.Context, units []experiment.Unit) (map[string]experiment.Result, error) {
	if _, err := r.runner.Run(ctx, units, r.results); err != nil {
		return nil, fmt.Errorf("tinyif demo: %w", err)
	}
	return r.results.Done, nil
}

// exampleRecord turns a tinyif example of instruction id into an engine
// record.
func exampleRecord(key, id string, e Example) experiment.Record {
	return experiment.Record{Key: key, Prompt: e.Prompt, PromptWithout: e.Request, InstructionIDs: []string{id},
		Kwargs: []map[string]any{e.Kwargs}, EvalIDs: []string{id}}
}

// RunDemo runs the whole method on the tinyif model: pairs from training
// topics, one vector per instruction, the steering chosen on validation
// topics among "no steering" and every candidate layer (and add
// coefficient) by the engine's rule (experiment.Choose), then held-out
// evaluation with the instruction, without it, and without it but steered,
// with the clean-pass share of the steered answers (see Degenerate). The
// generations run on the experiment engine with per-row steering. The
// held-out answers are written to opts.AnswersFile.
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
	defer r.close()
	irs := make([]InstructionResult, len(opts.IDs))
	for i, id := range opts.IDs {
		if irs[i], err = r.computeVectors(ctx, id); err != nil {
			return nil, err
		}
	}
	if err := r.chooseLayers(ctx, irs); err != nil {
		return nil, err
	}
	held, numTest, err := r.evaluate(ctx, irs)
	if err != nil {
		return nil, err
	}
	if err := writeJSONLines(opts.AnswersFile, held); err != nil {
		return nil, err
	}
	for _, ir := range irs {
		fmt.Fprintf(opts.Progress, "%s: layer %s: with %.2f without %.2f steered %.2f (clean %.2f)\n", ir.ID, layerName(ir.Layer), ir.WithInstruction, ir.Without, ir.Steered, ir.SteeredClean)
	}
	res = &DemoResult{ModelDir: r.dir, Instructions: irs, NumTest: numTest, AnswersFile: opts.AnswersFile, Timing: r.timing}
	res.Seconds = time.Since(r.start).Seconds()
	return res, nil
}

// computeVectors is step 1: pairs on training topics and one mean-difference
// vector set over all layers.
func (r *demoRunner) computeVectors(ctx context.Context, id string) (InstructionResult, error) {
	defer r.timed("vectors", time.Now())
	in, ok := InstructionByID(id)
	if !ok {
		return InstructionResult{}, fmt.Errorf("tinyif demo: unknown instruction %q", id)
	}
	fmt.Fprintf(r.opts.Progress, "[%s] %s: vectors\n", time.Since(r.start).Round(time.Second), in.Short)
	ir := InstructionResult{ID: id, Op: in.Op}
	train, err := EvalExamples(r.opts.Seed+101, SplitTrain, ir.ID, r.opts.PairsPerTopic)
	if err != nil {
		return ir, err
	}
	ps := make([]pairs.Pair, len(train))
	for i, e := range train {
		ps[i] = pairs.Pair{InstructionID: ir.ID, With: e.Prompt, Without: e.Request, Kwargs: e.Kwargs}
	}
	set, err := vectors.Compute(ctx, r.m, r.enc, ps, vectors.ComputeOptions{Method: vectors.MethodMeanDiff, BatchSize: 32, InstructionID: ir.ID})
	if err != nil {
		return ir, fmt.Errorf("tinyif demo: %s: %w", ir.ID, err)
	}
	ir.Vectors, ir.NPairs = set, len(ps)
	return ir, nil
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

// candidates returns the steerings tried for ir: "no steering"
// (vectors.NoLayer) first, then every candidate layer with its coefficients.
func (r *demoRunner) candidates(ir *InstructionResult) ([]LayerScore, error) {
	layers := r.opts.Layers
	if len(layers) == 0 {
		all := ir.Vectors.LayerIDs()
		layers = all[len(all)/8 : len(all)-len(all)/8]
	}
	out := []LayerScore{{Layer: vectors.NoLayer}}
	for _, l := range layers {
		coefs, err := r.candidateCoefs(ir, l)
		if err != nil {
			return nil, err
		}
		for _, c := range coefs {
			for _, sc := range r.opts.Scopes {
				out = append(out, LayerScore{Layer: l, Coef: c, Scope: sc})
			}
		}
	}
	return out, nil
}

// steerUnit is the engine's work unit for example e of ir answered with
// prompt under candidate c (vectors.NoLayer: unsteered).
func steerUnit(key, prompt, cond string, ir *InstructionResult, e Example, c LayerScore) (experiment.Unit, error) {
	u := experiment.Unit{Key: key, Rec: exampleRecord(key, ir.ID, e), Condition: cond, Candidate: c.candidate(ir.Op), Prompt: prompt}
	if c.Layer == vectors.NoLayer {
		return u, nil
	}
	op, err := steerOp(ir.Vectors, ir.Op, c.Layer, c.Coef)
	if err != nil {
		return u, fmt.Errorf("tinyif demo: %s: %w", ir.ID, err)
	}
	op.Scope = c.Scope
	u.Ops = []model.SteerOp{op}
	u.Steering = []experiment.Steering{{ID: ir.ID, Layer: experiment.Layer(c.Layer), Op: ir.Op, Coef: c.Coef}}
	u.Condition += "+steer"
	return u, nil
}

// chooseLayers is step 2: every instruction's candidates on its validation
// topics (prompts without the instruction) in one engine run, then the
// engine's choice: the best loose accuracy, ties to the earliest candidate,
// so "no steering" wins ties (no perplexity screen: the demo has no
// reference LM; Quality is recorded for reading, not for the choice).
func (r *demoRunner) chooseLayers(ctx context.Context, irs []InstructionResult) error {
	defer r.timed("layer choice", time.Now())
	vals := make([][]Example, len(irs))
	var units []experiment.Unit
	for i := range irs {
		ir := &irs[i]
		val, err := EvalExamples(r.opts.Seed+202, SplitValidation, ir.ID, r.opts.ValidationPerTopic)
		if err != nil {
			return err
		}
		if ir.Validation, err = r.candidates(ir); err != nil {
			return err
		}
		vals[i] = val
		for _, c := range ir.Validation {
			for k, e := range val {
				u, err := steerUnit(valKey(ir.ID, c, k), e.Request, experiment.CondWithout, ir, e, c)
				if err != nil {
					return err
				}
				units = append(units, u)
			}
		}
	}
	fmt.Fprintf(r.opts.Progress, "[%s] layer choice: %d validation answers (every candidate of every type)\n", time.Since(r.start).Round(time.Second), len(units))
	done, err := r.run(ctx, units)
	if err != nil {
		return err
	}
	for i := range irs {
		if err := pickLayer(&irs[i], vals[i], done, r.tokens); err != nil {
			return err
		}
	}
	return nil
}

// valKey keys the validation unit of candidate c on validation example k.
func valKey(id string, c LayerScore, k int) string {
	return fmt.Sprintf("val|%s|%s|%d", id, c.candidate(""), k)
}

// pickLayer scores ir's candidates from the validation results and sets the
// chosen steering with experiment.Choose, on the candidates' clean-pass
// rates (see LayerScore.CleanPass); tokens re-encodes answers for the
// degeneracy rules.
func pickLayer(ir *InstructionResult, val []Example, done map[string]experiment.Result, tokens func([]string) generation) error {
	scores := make([]experiment.CandidateScore, len(ir.Validation))
	for ci := range ir.Validation {
		c := &ir.Validation[ci]
		answers := make([]string, len(val))
		for k := range val {
			answers[k] = done[valKey(ir.ID, *c, k)].Response
		}
		pass, clean, err := cleanPasses(ir.ID, val, tokens(answers))
		if err != nil {
			return err
		}
		c.Accuracy, c.CleanPass, c.Quality = pass, clean, Quality(val, answers)
		scores[ci] = experiment.CandidateScore{Layer: experiment.Layer(c.Layer), Op: ir.Op, Coef: c.Coef, N: len(val), Accuracy: clean}
	}
	best := experiment.Choose(scores, false)
	for ci := range ir.Validation {
		ir.Validation[ci].Score, ir.Validation[ci].Chosen = scores[ci].Score, ci == best
	}
	ir.Layer, ir.Coef, ir.Scope = ir.Validation[best].Layer, ir.Validation[best].Coef, ir.Validation[best].Scope
	ir.ProjLayer = ir.Layer
	if ir.Layer == vectors.NoLayer {
		// The best steered candidate (ties: the earliest) names the layer
		// whose projections are reported.
		proj := 1
		for ci := 2; ci < len(scores); ci++ {
			if scores[ci].Score > scores[proj].Score {
				proj = ci
			}
		}
		ir.ProjLayer = ir.Validation[proj].Layer
	}
	return nil
}

// cleanPasses returns the loose accuracy of answers g on exs for instruction
// id and the share of answers that also name the topic and are not
// degenerate by JudgeAnswer's text rules (no perplexity).
func cleanPasses(id string, exs []Example, g generation) (pass, clean float64, err error) {
	for i, e := range exs {
		p, err := score(id, exs[i:i+1], g.texts[i:i+1])
		if err != nil {
			return 0, 0, err
		}
		v := JudgeAnswer(e.Topic, g.texts[i], g.ids[i], math.NaN())
		pass += p
		if p == 1 && v.NamesTopic && !v.Degenerate() {
			clean++
		}
	}
	n := float64(len(exs))
	return pass / n, clean / n, nil
}

// evaluate is step 3: held-out test topics with the instruction, without
// it, and without it but steered (every instruction in one engine run; the
// answers without the instruction, the same requests for every type, are
// generated once); IFEval loose accuracy, topic mentions, the clean passes
// of the steered answers and the projections.
func (r *demoRunner) evaluate(ctx context.Context, irs []InstructionResult) ([]HeldOutAnswer, int, error) {
	t0 := time.Now()
	tests := make([][]Example, len(irs))
	var units []experiment.Unit
	seen := map[string]bool{}
	for i := range irs {
		ir := &irs[i]
		test, err := EvalExamples(r.opts.Seed+303, SplitTest, ir.ID, r.opts.TestPerTopic)
		if err != nil {
			return nil, 0, err
		}
		tests[i] = test
		for k, e := range test {
			us, err := testUnits(ir, k, e, seen)
			if err != nil {
				return nil, 0, err
			}
			units = append(units, us...)
		}
	}
	fmt.Fprintf(r.opts.Progress, "[%s] held-out answers: %d (with the instruction, steered, and without it once per request)\n", time.Since(r.start).Round(time.Second), len(units))
	done, err := r.run(ctx, units)
	if err != nil {
		return nil, 0, err
	}
	r.timed("test answers", t0)
	var held []HeldOutAnswer
	for i := range irs {
		h, err := r.judgeInstruction(&irs[i], tests[i], done)
		if err != nil {
			return nil, 0, err
		}
		held = append(held, h...)
	}
	return held, len(tests[0]), nil
}

// testUnits returns the held-out units of example k of ir: with the
// instruction, steered (unless "no steering" was chosen), and without it
// when its request was not seen before.
func testUnits(ir *InstructionResult, k int, e Example, seen map[string]bool) ([]experiment.Unit, error) {
	none := LayerScore{Layer: vectors.NoLayer}
	with, err := steerUnit(testKey("with", ir.ID, k), e.Prompt, experiment.CondWith, ir, e, none)
	if err != nil {
		return nil, err
	}
	us := []experiment.Unit{with}
	if ir.Layer != vectors.NoLayer {
		chosen := LayerScore{Layer: ir.Layer, Coef: ir.Coef, Scope: ir.Scope}
		st, err := steerUnit(testKey("steered", ir.ID, k), e.Request, experiment.CondWithout, ir, e, chosen)
		if err != nil {
			return nil, err
		}
		us = append(us, st)
	}
	if !seen[e.Request] {
		seen[e.Request] = true
		without, err := steerUnit(withoutKey(e.Request), e.Request, experiment.CondWithout, ir, e, none)
		if err != nil {
			return nil, err
		}
		us = append(us, without)
	}
	return us, nil
}

func testKey(cond, id string, k int) string { return fmt.Sprintf("test|%s|%s|%d", cond, id, k) }

func withoutKey(request string) string { return "test|without|" + request }

// judgeInstruction fills ir's held-out figures from the results: loose
// accuracies (the answers without the instruction scored against ir's
// instruction), topic mentions, the example, the clean passes and the
// projections; it returns the held-out answers.
func (r *demoRunner) judgeInstruction(ir *InstructionResult, test []Example, done map[string]experiment.Result) ([]HeldOutAnswer, error) {
	with, without, steered := make([]string, len(test)), make([]string, len(test)), make([]string, len(test))
	for k, e := range test {
		with[k], without[k] = done[testKey("with", ir.ID, k)].Response, done[withoutKey(e.Request)].Response
		steered[k] = without[k]
		if ir.Layer != vectors.NoLayer {
			steered[k] = done[testKey("steered", ir.ID, k)].Response
		}
	}
	var err error
	for _, s := range []struct {
		acc     *float64
		answers []string
	}{{&ir.WithInstruction, with}, {&ir.Without, without}, {&ir.Steered, steered}} {
		if *s.acc, err = score(ir.ID, test, s.answers); err != nil {
			return nil, err
		}
	}
	ir.WithOnTopic, ir.WithoutOnTopic, ir.SteeredOnTopic = onTopic(test, with), onTopic(test, without), onTopic(test, steered)
	ir.Example = DemoExample{Topic: test[0].Topic, With: test[0].Prompt, Without: test[0].Request,
		AnswerWith: with[0], AnswerNone: without[0], AnswerSteer: steered[0]}
	held, err := r.judgeSteered(ir, test, r.tokens(with), without, r.tokens(steered))
	if err != nil {
		return nil, err
	}
	return held, r.projections(ir, test)
}

// tokens re-encodes answers (as the engine returns them: decoded, trimmed)
// to token ids, ending with the model's end-of-sequence id as generated
// answers do, for the degeneracy judgement. An answer that does not
// re-encode gets no ids.
func (r *demoRunner) tokens(answers []string) generation {
	g := generation{texts: answers, ids: make([][]int, len(answers))}
	for i, a := range answers {
		ids, err := r.tok.Encode(a, false)
		if err != nil {
			ids = nil
		}
		if len(r.m.Config.EOS) > 0 {
			ids = append(ids, r.m.Config.EOS[0])
		}
		g.ids[i] = ids
	}
	return g
}

// perplexities returns the perplexity under the unsteered model of each
// answer of g after its prompt.
func (r *demoRunner) perplexities(ps []string, g generation) ([]float64, error) {
	rows, err := r.encodeAll(ps)
	if err != nil {
		return nil, err
	}
	return Perplexities(r.m, rows, g.ids, r.opts.BatchSize)
}

// judgeSteered scores each steered answer (pass, perplexity, degenerate,
// clean), fills ir's clean-pass shares and returns the held-out answers.
func (r *demoRunner) judgeSteered(ir *InstructionResult, test []Example, with generation, without []string, steered generation) ([]HeldOutAnswer, error) {
	defer r.timed("perplexity", time.Now())
	ppl, err := r.perplexities(prompts(test, false), steered)
	if err != nil {
		return nil, fmt.Errorf("tinyif demo: %s: %w", ir.ID, err)
	}
	withPPL, err := r.perplexities(prompts(test, true), with)
	if err != nil {
		return nil, fmt.Errorf("tinyif demo: %s: %w", ir.ID, err)
	}
	slices.Sort(withPPL)
	ir.WithPerplexityMin, ir.WithPerplexityMedian = withPPL[0], withPPL[len(withPPL)/2]
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
			With: with.texts[i], Without: without[i], Steered: steered.texts[i], SteeredVerdict: v}
	}
	ir.SteeredClean = float64(clean) / float64(len(test))
	if passes > 0 {
		ir.CleanOfPasses = float64(clean) / float64(passes)
	}
	return held, nil
}

// projections is step 4: the projections onto u at ir.ProjLayer of the
// last prompt token of the held-out prompts with and without the
// instruction.
func (r *demoRunner) projections(ir *InstructionResult, test []Example) error {
	defer r.timed("projections", time.Now())
	lv, ok := ir.Vectors.Get(ir.ProjLayer)
	if !ok {
		return fmt.Errorf("tinyif demo: %s: no vector for layer %d", ir.ID, ir.ProjLayer)
	}
	for _, with := range []bool{true, false} {
		rows, err := r.encodeAll(prompts(test, with))
		if err != nil {
			return err
		}
		acts, err := r.capture(rows)
		if err != nil {
			return err
		}
		proj, err := vectors.Project(acts[ir.ProjLayer], lv.U)
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
