package tinyif

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/experiment"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

func checkResult(t *testing.T, res *DemoResult, ids []string) {
	t.Helper()
	if len(res.Instructions) != len(ids) {
		t.Fatalf("%d results for %d instructions", len(res.Instructions), len(ids))
	}
	for i, ir := range res.Instructions {
		if ir.ID != ids[i] {
			t.Errorf("result %d is %s, want %s", i, ir.ID, ids[i])
		}
		for name, v := range map[string]float64{"with": ir.WithInstruction, "without": ir.Without, "steered": ir.Steered, "on topic": ir.SteeredOnTopic} {
			if v < 0 || v > 1 {
				t.Errorf("%s: %s = %v outside [0,1]", ir.ID, name, v)
			}
		}
		if ir.Vectors == nil || ir.Layer < vectors.NoLayer || ir.Layer >= len(ir.Vectors.Layers) || len(ir.Validation) == 0 {
			t.Errorf("%s: chosen layer %d", ir.ID, ir.Layer)
		}
		if ir.ProjLayer < 0 || (ir.Layer != vectors.NoLayer && ir.ProjLayer != ir.Layer) {
			t.Errorf("%s: projections at layer %d, chosen layer %d", ir.ID, ir.ProjLayer, ir.Layer)
		}
		// "No steering" chosen: the steered answers are the answers without
		// the instruction.
		if ir.Layer == vectors.NoLayer && (ir.Steered != ir.Without || ir.SteeredOnTopic != ir.WithoutOnTopic) {
			t.Errorf("%s: no steering chosen, but steered %v / on topic %v differ from without %v / %v", ir.ID, ir.Steered, ir.SteeredOnTopic, ir.Without, ir.WithoutOnTopic)
		}
		if len(ir.ProjWith) != res.NumTest || len(ir.ProjWithout) != res.NumTest {
			t.Errorf("%s: %d/%d projections for %d prompts", ir.ID, len(ir.ProjWith), len(ir.ProjWithout), res.NumTest)
		}
		lv, _ := ir.Vectors.Get(ir.ProjLayer)
		// The direction is the mean difference, so with-instruction prompts
		// project higher on average (on held-out topics too).
		if mean(ir.ProjWith) <= mean(ir.ProjWithout) {
			t.Errorf("%s: mean projection with %v <= without %v (z̄ %v)", ir.ID, mean(ir.ProjWith), mean(ir.ProjWithout), lv.ZBar)
		}
	}
	line, err := res.SummaryJSON()
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Instructions map[string]map[string]float64 `json:"instructions"`
		AnswersFile  string                        `json:"answers_file"`
	}
	if err := json.Unmarshal(line, &parsed); err != nil {
		t.Fatalf("summary %s: %v", line, err)
	}
	checkAnswersFile(t, parsed.AnswersFile, res, ids)
	for _, id := range ids {
		e, ok := parsed.Instructions[id]
		if !ok {
			t.Fatalf("summary lacks %s: %s", id, line)
		}
		for _, k := range []string{"with_instruction", "without", "steered", "steered_clean", "layer"} {
			if _, ok := e[k]; !ok {
				t.Errorf("summary entry %s lacks %s", id, k)
			}
		}
	}
}

// checkAnswersFile checks that the answers file holds every held-out answer
// and that its clean verdicts add up to the result's steered_clean.
func checkAnswersFile(t *testing.T, path string, res *DemoResult, ids []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("answers file: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != res.NumTest*len(ids) {
		t.Fatalf("answers file has %d lines, want %d", len(lines), res.NumTest*len(ids))
	}
	clean := map[string]int{}
	for _, l := range lines {
		var a HeldOutAnswer
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatal(err)
		}
		if a.SteeredVerdict.Clean != (a.SteeredVerdict.Pass && a.SteeredVerdict.NamesTopic && !a.SteeredVerdict.Degenerate()) {
			t.Errorf("inconsistent verdict %+v", a.SteeredVerdict)
		}
		if a.SteeredVerdict.Clean {
			clean[a.ID]++
		}
	}
	for _, ir := range res.Instructions {
		if got := float64(clean[ir.ID]) / float64(res.NumTest); math.Abs(got-ir.SteeredClean) > 1e-9 {
			t.Errorf("%s: %v clean in the answers file, result says %v", ir.ID, got, ir.SteeredClean)
		}
	}
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// TestDemoSmall runs the demo pipeline on two instruction types with few
// prompts and checks the shape of its result.
func TestDemoSmall(t *testing.T) {
	ids := []string{"startend:quotation", "length_constraints:number_sentences"}
	res, err := RunDemo(context.Background(), DemoOptions{IDs: ids, TestPerTopic: 1, AddScales: []float64{2},
		Layers: []int{1, 2}, MaxNewTokens: 48, AnswersFile: filepath.Join(t.TempDir(), "answers.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, ids)
}

// TestDemoBar runs the demo on all ten instruction types in a shortened
// configuration (one held-out prompt per test topic instead of two; layers,
// coefficients, scopes and validation prompts as in the full demo) and
// checks the embedded model against its bar (see demoBar). A pipeline that
// ignores the instruction follows none; one that does not steer lifts none;
// one whose steered answers are loops has no clean passes.
func TestDemoBar(t *testing.T) {
	res, err := RunDemo(context.Background(), DemoOptions{TestPerTopic: 1, AnswersFile: filepath.Join(t.TempDir(), "answers.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range Instructions {
		ids = append(ids, in.ID)
	}
	checkResult(t, res, ids)
	for _, ir := range res.Instructions {
		t.Logf("%-40s layer %d %s with %.2f without %.2f steered %.2f clean/p %.2f on-topic %.2f", ir.ID, ir.Layer, ir.Scope, ir.WithInstruction, ir.Without, ir.Steered, ir.CleanOfPasses, ir.SteeredOnTopic)
	}
	followed, lifted := res.Bar()
	got := demoBar{followed, lifted, res.LiftedClean(), res.WithoutOnTopic()}
	if got.followed < embeddedBar.followed || got.lifted < embeddedBar.lifted || got.liftedClean < embeddedBar.liftedClean || got.onTopic < embeddedBar.onTopic {
		t.Errorf("demo measured %+v, the embedded model's bar is %+v", got, embeddedBar)
	}
}

// demoBar is what TestDemoBar requires of the embedded model.
type demoBar struct {
	followed    int     // types with >= 0.90 with the instruction and <= 0.15 without
	lifted      int     // types that steering lifts by >= 0.30 over the answers without the instruction
	liftedClean int     // lifted types whose clean passes are >= 0.6 of their steered passes
	onTopic     float64 // share of answers without the instruction that name the held-out topic
}

// embeddedBar is the bar set for the embedded model (8 followed, 6 lifted,
// all 6 with clean passes >= 0.6 of the steered passes, topic named in 80 %
// of the unsteered answers). The shortened run measures 9 / 6 / 6 / 1.00 on
// the model as embedded (the full demo: 9 / 6 / 6 / 1.00).
var embeddedBar = demoBar{followed: 8, lifted: 6, liftedClean: 6, onTopic: 0.80}

func TestQualityAndScore(t *testing.T) {
	exs := []Example{{Topic: "owls"}, {Topic: "harbor towns"}, {Topic: "owls"}, {Topic: "owls"}}
	answers := []string{
		"Owls can be calm and quiet at night.",    // on topic, 7 distinct words
		"\"\"\"\"\"\"\"\"\"\"\"\"\"\"",            // degenerate
		"OWLS OWLS OWLS OWLS OWLS OWLS OWLS",      // one distinct word
		"Kettles can be calm and quiet at night.", // off topic
	}
	cases := []struct {
		n    int
		want float64
	}{{1, 1}, {2, 0.5}, {4, 0.25}}
	for _, c := range cases {
		if got := Quality(exs[:c.n], answers[:c.n]); got != c.want {
			t.Errorf("Quality of the first %d = %v, want %v", c.n, got, c.want)
		}
	}
}

// TestPickLayer checks the choice on validation results: the most clean
// passes win (a pass that is a loop does not count), ties go to the
// earliest candidate ("no steering" first), and the projections of a "no
// steering" choice are reported at the best steered candidate's layer.
func TestPickLayer(t *testing.T) {
	val := []Example{{Topic: "owls"}, {Topic: "kettles"}}
	// c: a clean pass, f: a clean answer that fails (no quotation marks),
	// l: a pass that is a run of quotation marks.
	answer := func(kind byte, topic string) string {
		text := capitalize(topic) + " can be calm and quiet at night in old parks."
		switch kind {
		case 'c':
			return `"` + text + `"`
		case 'l':
			return strings.Repeat(`"`, 40)
		}
		return text
	}
	bytesOf := func(answers []string) generation {
		g := generation{texts: answers, ids: make([][]int, len(answers))}
		for i, a := range answers {
			for _, b := range []byte(a) {
				g.ids[i] = append(g.ids[i], int(b))
			}
		}
		return g
	}
	cases := []struct {
		name      string
		kinds     [4]string // per candidate: none, L2, L3, L4; one byte per validation example
		wantLayer int
		wantProj  int
	}{
		{"all fail: no steering", [4]string{"ff", "ff", "ff", "ff"}, vectors.NoLayer, 2},
		{"best layer", [4]string{"ff", "cf", "cc", "ff"}, 3, 3},
		{"tie with no steering", [4]string{"cf", "fc", "ff", "ff"}, vectors.NoLayer, 2},
		{"tie between layers: earliest", [4]string{"ff", "ff", "cc", "cc"}, 3, 3},
		{"loops do not count", [4]string{"ff", "ll", "cf", "ff"}, 3, 3},
		{"no steering best: projections at the best layer", [4]string{"cc", "ff", "ff", "cf"}, vectors.NoLayer, 4},
	}
	for _, c := range cases {
		ir := InstructionResult{ID: "startend:quotation", Op: "clamp",
			Validation: []LayerScore{{Layer: vectors.NoLayer}, {Layer: 2, Coef: 1}, {Layer: 3, Coef: 1}, {Layer: 4, Coef: 1}}}
		done := map[string]experiment.Result{}
		for ci, cand := range ir.Validation {
			for k, e := range val {
				done[valKey(ir.ID, cand, k)] = experiment.Result{Response: answer(c.kinds[ci][k], e.Topic)}
			}
		}
		if err := pickLayer(&ir, val, done, bytesOf); err != nil {
			t.Fatal(err)
		}
		if ir.Layer != c.wantLayer || ir.ProjLayer != c.wantProj {
			t.Errorf("%s: layer %d, projections at %d; want %d, %d (%+v)", c.name, ir.Layer, ir.ProjLayer, c.wantLayer, c.wantProj, ir.Validation)
		}
		chosen := 0
		for _, v := range ir.Validation {
			if v.Chosen {
				chosen++
				if v.Layer != ir.Layer {
					t.Errorf("%s: chosen mark on layer %d, choice %d", c.name, v.Layer, ir.Layer)
				}
			}
		}
		if chosen != 1 {
			t.Errorf("%s: %d candidates marked chosen", c.name, chosen)
		}
	}
}

// TestWriteTableNoSteering checks how the table shows a chosen layer and a
// "no steering" choice.
func TestWriteTableNoSteering(t *testing.T) {
	cases := []struct {
		layer int
		coef  float64
		want  string
	}{
		{3, 2.25, "clamp      3   2.25 all"},
		{vectors.NoLayer, 0, "clamp   none      - -"},
	}
	for _, c := range cases {
		res := &DemoResult{Instructions: []InstructionResult{{ID: "startend:quotation", Op: "clamp", Layer: c.layer, Coef: c.coef}}}
		var b strings.Builder
		res.WriteTable(&b)
		if !strings.Contains(b.String(), "startend:quotation                       "+c.want) {
			t.Errorf("layer %d: table lacks %q:\n%s", c.layer, c.want, b.String())
		}
	}
}
