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
// coefficients and validation prompts as in the full demo) and checks the
// embedded model's bar: at least demoBarFollowed types reach >= 0.90 with the
// instruction and <= 0.15 without, and steering lifts at least demoBarLifted
// types by >= 0.30 over the answers without the instruction. A pipeline that
// ignores the instruction follows none; one that does not steer lifts none.
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
		t.Logf("%-40s layer %d with %.2f without %.2f steered %.2f on-topic %.2f", ir.ID, ir.Layer, ir.WithInstruction, ir.Without, ir.Steered, ir.SteeredOnTopic)
	}
	if followed, lifted := res.Bar(); followed < demoBarFollowed || lifted < demoBarLifted {
		t.Errorf("%d types follow the instruction (want >= %d), steering lifts %d (want >= %d)", followed, demoBarFollowed, lifted, demoBarLifted)
	}
}

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

// TestPickLayer checks the engine's rule on validation results: the best
// loose accuracy wins, ties go to the earliest candidate ("no steering"
// first), and quality does not enter the choice.
func TestPickLayer(t *testing.T) {
	val := []Example{{Topic: "owls"}, {Topic: "kettles"}}
	cases := []struct {
		name      string
		pass      [][2]bool // per candidate: none, L2, L3, L4
		wantLayer int
		wantProj  int
	}{
		{"all fail: no steering", [][2]bool{{false, false}, {false, false}, {false, false}, {false, false}}, vectors.NoLayer, 2},
		{"best layer", [][2]bool{{false, false}, {true, false}, {true, true}, {false, false}}, 3, 3},
		{"tie with no steering", [][2]bool{{true, false}, {false, true}, {false, false}, {false, false}}, vectors.NoLayer, 2},
		{"tie between layers: earliest", [][2]bool{{false, false}, {false, false}, {true, true}, {true, true}}, 3, 3},
		{"no steering best: projections at the best layer", [][2]bool{{true, true}, {false, false}, {false, false}, {true, false}}, vectors.NoLayer, 4},
	}
	for _, c := range cases {
		ir := InstructionResult{ID: "startend:quotation", Op: "clamp",
			Validation: []LayerScore{{Layer: vectors.NoLayer}, {Layer: 2, Coef: 1}, {Layer: 3, Coef: 1}, {Layer: 4, Coef: 1}}}
		done := map[string]experiment.Result{}
		for ci, cand := range ir.Validation {
			for k := range val {
				// Only the failing answers read well: quality must not
				// outweigh accuracy.
				resp := "Owls and kettles can be calm and quiet at night."
				if c.pass[ci][k] {
					resp = `""""`
				}
				done[valKey(ir.ID, cand, k)] = experiment.Result{Response: resp, Loose: c.pass[ci][k]}
			}
		}
		pickLayer(&ir, val, done)
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

// The bar of TestDemoBar on the embedded model (v2). The shortened run
// measures 9 types followed and 5 lifted (capitals, lowercase, quotation,
// title, number of sentences), the same as the full demo; the bar is one type
// below each, so that one greedy token flipping on another backend does not
// fail it.
const (
	demoBarFollowed = 8
	demoBarLifted   = 4
)

// TestWriteTableNoSteering checks how the table shows a chosen layer and a
// "no steering" choice.
func TestWriteTableNoSteering(t *testing.T) {
	cases := []struct {
		layer int
		coef  float64
		want  string
	}{
		{3, 2.25, "clamp      3     2.25"},
		{vectors.NoLayer, 0, "clamp   none        -"},
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
