package tinyif

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/gosteer/gosteer/steerlib/model"
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
	// Scopes are the token scopes tried for every candidate (default: the
	// prompt tokens only, then every token). The paper steers every token;
	// on a model 96 wide, steering the generated tokens too also moves what
	// the next token is copied from (the topic word, the sentence so far),
	// and the answers tend to loop, while steering the prompt alone sets the
	// form the answer starts in and leaves its content to the model. The
	// validation prompts choose. (Steering the generated tokens alone was
	// tried too and never chosen on the embedded model.)
	Scopes []model.SteerScope
	// Layers are the candidate layers for steering (default: all but the
	// first and last eighth, layers L/8 … L−L/8−1 of L, e.g. 1–6 of 8; on the
	// embedded model the title direction steers only from layer 6, lowercase
	// and JSON best at layer 2).
	Layers []int
	// MaxNewTokens bounds every answer (default 96; 99 % of the training
	// answers have at most 79 tokens, the longest 101).
	MaxNewTokens int
	// BatchSize is the number of prompts generated together (default 32).
	BatchSize int
	// Seed chooses the evaluation prompts (default 7).
	Seed uint64
	// AnswersFile receives the held-out answers, one JSON object per line
	// (HeldOutAnswer); default: gosteer-demo-answers.jsonl in the temp
	// directory.
	AnswersFile string
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
	if len(o.Scopes) == 0 {
		o.Scopes = []model.SteerScope{model.SteerPrompt, model.SteerAll}
	}
	if o.MaxNewTokens == 0 {
		o.MaxNewTokens = 96
	}
	if o.BatchSize == 0 {
		o.BatchSize = 32
	}
	if o.Seed == 0 {
		o.Seed = 7
	}
	if o.AnswersFile == "" {
		o.AnswersFile = filepath.Join(os.TempDir(), "gosteer-demo-answers.jsonl")
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// LayerScore is the validation result of one candidate steering: a layer
// and coefficient, or "no steering" (Layer vectors.NoLayer).
type LayerScore struct {
	Layer int     `json:"layer"`
	Coef  float64 `json:"coef"` // add coefficient (add ops) or z̄ (clamp)
	// Scope is the tokens steered: the prompt, or every token.
	Scope    model.SteerScope `json:"scope"`
	Accuracy float64          `json:"accuracy"`
	// Quality is the fraction of answers that still read as an answer: they
	// mention the topic and hold at least six distinct words (see Quality).
	Quality float64 `json:"quality"`
	// CleanPass is the fraction of answers that pass the loose check, name
	// the topic and are not degenerate by the text rules of JudgeAnswer (a
	// token 3-gram repeated, too few distinct words; the perplexity rule
	// needs a forward pass per answer and is left to the held-out answers).
	CleanPass float64 `json:"clean_pass"`
	// Score is what the choice maximizes (experiment.Choose, given CleanPass
	// as the accuracy): a pass only counts when it is an answer, which is
	// the demo's stand-in for the paper's perplexity screen (it has no
	// reference LM). Chosen marks the winner: the highest score, ties to the
	// earliest candidate, so "no steering" wins ties.
	Score  float64 `json:"score"`
	Chosen bool    `json:"chosen,omitempty"`
}

// layerName is the chosen layer as a person reads it: its number, or "none"
// when no steering was chosen.
func layerName(l int) string {
	if l == vectors.NoLayer {
		return "none"
	}
	return strconv.Itoa(l)
}

// candidate names the candidate in the engine's results: "none", or layer,
// op and coefficient.
func (s LayerScore) candidate(op string) string {
	if s.Layer == vectors.NoLayer {
		return "none"
	}
	return fmt.Sprintf("L%d:%s=%s@%s", s.Layer, op, strconv.FormatFloat(s.Coef, 'g', -1, 64), s.Scope)
}

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
	// Layer is the chosen layer (vectors.NoLayer: no steering was chosen,
	// and the steered answers are the answers without the instruction) and
	// Coef the add coefficient or clamp z̄ used.
	Layer int     `json:"layer"`
	Coef  float64 `json:"coef"`
	// Scope is the tokens the chosen steering acts on.
	Scope model.SteerScope `json:"scope"`
	// ProjLayer is the layer of ProjWith and ProjWithout: Layer, or the best
	// steered candidate's layer when no steering was chosen.
	ProjLayer int `json:"proj_layer"`
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
	// SteeredClean is the share of steered answers that are clean passes
	// (pass the loose check, name the topic, are not degenerate; see
	// JudgeAnswer); CleanOfPasses is the same count over the steered passes.
	SteeredClean  float64 `json:"steered_clean"`
	CleanOfPasses float64 `json:"clean_of_passes"`
	// WithPerplexityMin / WithPerplexityMedian describe the perplexities of
	// the (unsteered) answers with the instruction under the model: the
	// reference for the degeneracy threshold MinPerplexity.
	WithPerplexityMin    float64 `json:"with_perplexity_min"`
	WithPerplexityMedian float64 `json:"with_perplexity_median"`
	WithOnTopic          float64 `json:"with_on_topic"`
	WithoutOnTopic       float64 `json:"without_on_topic"`
	// ProjWith / ProjWithout are the projections onto u at ProjLayer of
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

// HeldOutAnswer is one held-out prompt of one instruction type with its
// three answers and the judgement of the steered one.
type HeldOutAnswer struct {
	ID             string  `json:"id"`
	Topic          string  `json:"topic"`
	PromptWith     string  `json:"prompt_with"`
	PromptWithout  string  `json:"prompt_without"`
	With           string  `json:"answer_with"`
	Without        string  `json:"answer_without"`
	Steered        string  `json:"answer_steered"`
	SteeredVerdict Verdict `json:"steered"`
}

// DemoResult is the outcome of RunDemo.
type DemoResult struct {
	ModelDir     string              `json:"model_dir"`
	Instructions []InstructionResult `json:"instructions"`
	NumTest      int                 `json:"num_test"`
	Seconds      float64             `json:"seconds"`
	// AnswersFile holds the held-out answers (HeldOutAnswer per line).
	AnswersFile string `json:"answers_file"`
	// Timing is the wall time per stage in seconds: vectors, layer choice,
	// test answers, perplexity, projections (model loading and compilation
	// fall into the first stage that needs them).
	Timing map[string]float64 `json:"timing_s"`
}

// WriteTable prints a readable table of the result.
func (res *DemoResult) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "tinyif steering demo: %d held-out prompts per instruction (IFEval loose accuracy)\n\n", res.NumTest)
	fmt.Fprintf(w, "%-40s %-6s %5s %6s %-6s %6s %7s %7s %7s %7s   %s\n", "instruction", "op", "layer", "coef", "scope", "with", "without", "steered",
		"clean", "clean/p", "on topic: with / without / steered")
	for _, ir := range res.Instructions {
		layer, coef, scope := layerName(ir.Layer), strconv.FormatFloat(ir.Coef, 'f', 2, 64), ir.Scope.String()
		if ir.Layer == vectors.NoLayer {
			coef, scope = "-", "-"
		}
		fmt.Fprintf(w, "%-40s %-6s %5s %6s %-6s %6.2f %7.2f %7.2f %7.2f %7.2f   %.2f / %.2f / %.2f\n", ir.ID, ir.Op, layer, coef, scope,
			ir.WithInstruction, ir.Without, ir.Steered, ir.SteeredClean, ir.CleanOfPasses, ir.WithOnTopic, ir.WithoutOnTopic, ir.SteeredOnTopic)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "(clean: share of steered answers that pass, name the topic and are not degenerate; clean/p: the same over the")
	fmt.Fprintln(w, " steered passes; on topic: fraction of answers that name the held-out topic of the request; layer none:")
	fmt.Fprintln(w, " no candidate beat the answers without steering on the validation prompts, so none is applied; scope: the")
	fmt.Fprintln(w, " tokens steered, the prompt or all; candidates are chosen by their validation clean passes)")
	if len(res.Timing) > 0 {
		stages := make([]string, 0, len(res.Timing))
		for k := range res.Timing {
			stages = append(stages, k)
		}
		sort.Strings(stages)
		fmt.Fprintf(w, "time (s):")
		for _, k := range stages {
			fmt.Fprintf(w, " %s %.0f;", k, res.Timing[k])
		}
		fmt.Fprintf(w, " total %.0f\n", res.Seconds)
	}
	fmt.Fprintf(w, "unsteered answers without the instruction name the topic: %.2f; lifted types with clean passes >= 0.6 of the steered passes: %d\n",
		res.WithoutOnTopic(), res.LiftedClean())
	if len(res.Instructions) > 0 {
		lo, meds := math.Inf(1), []float64{}
		for _, ir := range res.Instructions {
			lo, meds = min(lo, ir.WithPerplexityMin), append(meds, ir.WithPerplexityMedian)
		}
		sort.Float64s(meds)
		fmt.Fprintf(w, "perplexity of the answers with the instruction under the model: min %.3f, median of the types' medians %.3f (degenerate below %.2f)\n",
			lo, meds[len(meds)/2], MinPerplexity)
	}
	fmt.Fprintf(w, "held-out answers: %s\n", res.AnswersFile)
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
// {"instructions": {"<id>": {"with_instruction": a, "without": b, "steered": c, "steered_clean": d, "layer": l}, ...},
// "answers_file": "<path of the held-out answers>"}.
func (res *DemoResult) SummaryJSON() ([]byte, error) {
	type entry struct {
		With    float64 `json:"with_instruction"`
		Without float64 `json:"without"`
		Steered float64 `json:"steered"`
		Clean   float64 `json:"steered_clean"`
		Layer   int     `json:"layer"`
	}
	m := map[string]entry{}
	for _, ir := range res.Instructions {
		m[ir.ID] = entry{round4(ir.WithInstruction), round4(ir.Without), round4(ir.Steered), round4(ir.SteeredClean), ir.Layer}
	}
	return json.Marshal(map[string]any{"instructions": m, "answers_file": res.AnswersFile})
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// Bar reports how the result compares with the embedded model's bar: the
// number of types with ≥ 0.90 with the instruction and ≤ 0.15 without, and
// the number lifted by steering by ≥ 0.30 (see also LiftedClean).
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

// LiftedClean returns the number of types lifted by steering by ≥ 0.30 whose
// clean passes are ≥ 0.6 of their steered passes.
func (res *DemoResult) LiftedClean() int {
	n := 0
	for _, ir := range res.Instructions {
		if ir.Steered-ir.Without >= 0.30 && ir.CleanOfPasses >= 0.6 {
			n++
		}
	}
	return n
}

// WithoutOnTopic returns the share of the unsteered answers without the
// instruction that name the held-out topic (the same prompts for every type).
func (res *DemoResult) WithoutOnTopic() float64 {
	if len(res.Instructions) == 0 {
		return 0
	}
	return res.Instructions[0].WithoutOnTopic
}

// SortedValidation returns the validation scores of ir ordered by layer then
// coefficient.
func (ir InstructionResult) SortedValidation() []LayerScore {
	out := append([]LayerScore(nil), ir.Validation...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Layer != out[j].Layer {
			return out[i].Layer < out[j].Layer
		}
		if out[i].Coef != out[j].Coef {
			return out[i].Coef < out[j].Coef
		}
		return out[i].Scope < out[j].Scope
	})
	return out
}
