package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosteer/gosteer/steerlib/experiment"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/tinyif"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// TestMain lets a test run the steer command in a subprocess (to kill it):
// with STEER_TEST_MAIN=1 the test binary is steer.
func TestMain(m *testing.M) {
	if os.Getenv("STEER_TEST_MAIN") == "1" {
		watchSignals(os.Stderr) // as main does (TestKill sends real signals)
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const expData = "../../experiment/testdata"

// expSetup computes two vectors on the embedded model with steer vectors
// compute and returns the model folder and a work folder holding them.
func expSetup(t *testing.T) (modelDir, dir string, vecs []string) {
	t.Helper()
	modelDir, err := tinyif.EmbeddedModelDir()
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	for _, id := range []string{"change_case:english_lowercase", "change_case:english_capital"} {
		out := filepath.Join(dir, strings.TrimPrefix(id, "change_case:")+".safetensors")
		mustRun(t, "vectors", "compute", "--model", modelDir, "--pairs", filepath.Join(expData, "pairs.jsonl"), "--instruction", id, "--out", out, "--progress=false")
		vecs = append(vecs, out)
	}
	return modelDir, dir, vecs
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("steer %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// sortedLines returns a results file's lines sorted.
func sortedLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	sort.Strings(lines)
	return lines
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d lines, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: line %d differs:\n got %s\nwant %s", what, i, got[i], want[i])
		}
	}
}

// TestSweepEvalShardsResume is the engine end to end on the embedded model:
// sweep then eval give the four-condition table (its numbers recomputed from
// the JSONL); two shards merged equal the unsharded run; a run killed with
// SIGKILL (plus a torn last line) and rerun equals the uninterrupted one.
func TestSweepEvalShardsResume(t *testing.T) {
	modelDir, dir, vecs := expSetup(t)
	plan := filepath.Join(dir, "plan.json")
	out := mustRun(t, "sweep", "--model", modelDir, "--vectors", strings.Join(vecs, ","), "--data", filepath.Join(expData, "validation.jsonl"),
		"--out", plan, "--n", "2", "--max-new-tokens", "40", "--ppl-model", modelDir, "--train-pairs", filepath.Join(expData, "pairs.jsonl"), "--quiet")
	if !strings.Contains(out, "<- chosen") {
		t.Fatalf("sweep output:\n%s", out)
	}
	p, err := experiment.LoadPlan(plan)
	if err != nil {
		t.Fatal(err)
	}
	cfg := embeddedConfig(t, modelDir)
	want := experiment.DefaultCandidates(cfg.NumLayers) // none, then every 2nd layer from ⌊L/5⌋
	for _, id := range []string{"change_case:english_lowercase", "change_case:english_capital"} {
		cs := p.Candidates[id]
		got := make([]int, len(cs))
		for i, c := range cs {
			got[i] = int(c.Layer)
		}
		if !slices.Equal(got, want) || want[0] != vectors.NoLayer || cs[0].N != 2 {
			t.Errorf("%s: candidates %+v (want layers %v for %d layers, n 2)", id, cs, want, cfg.NumLayers)
		}
	}

	// The same search in two shards, merged, then finished without a shard.
	sweepArgs := func(extra ...string) []string {
		return append([]string{"sweep", "--model", modelDir, "--vectors", strings.Join(vecs, ","), "--data", filepath.Join(expData, "validation.jsonl"),
			"--out", filepath.Join(dir, "plan2.json"), "--n", "2", "--max-new-tokens", "40", "--ppl-model", modelDir, "--quiet"}, extra...)
	}
	w0, w1, wm := filepath.Join(dir, "w0.jsonl"), filepath.Join(dir, "w1.jsonl"), filepath.Join(dir, "wm.jsonl")
	if o := mustRun(t, sweepArgs("--shard", "0/2", "--results", w0)...); !strings.Contains(o, "no plan yet") {
		t.Errorf("a sweep shard:\n%s", o)
	}
	t.Setenv("SLURM_ARRAY_TASK_ID", "1") // the second shard from a Slurm array's variables
	t.Setenv("SLURM_ARRAY_TASK_COUNT", "2")
	mustRun(t, sweepArgs("--results", w1)...)
	os.Unsetenv("SLURM_ARRAY_TASK_ID")
	mustRun(t, "merge", "--out", wm, w0, w1)
	if o := mustRun(t, sweepArgs("--results", wm)...); !strings.Contains(o, "(0 generated now)") {
		t.Errorf("the sweep over merged shards generated again:\n%s", o)
	}
	p2, err := experiment.LoadPlan(filepath.Join(dir, "plan2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := fmt.Sprint(p.Candidates), fmt.Sprint(p2.Candidates); a != b {
		t.Errorf("sharded sweep chose differently:\n%s\n%s", b, a)
	}

	evalArgs := func(outPath string, extra ...string) []string {
		return append([]string{"eval", "--model", modelDir, "--data", filepath.Join(expData, "test.jsonl"), "--plan", plan,
			"--out", outPath, "--max-new-tokens", "40", "--ppl-model", modelDir, "--quiet"}, extra...)
	}
	full := filepath.Join(dir, "full.jsonl")
	table := mustRun(t, evalArgs(full)...)
	for _, w := range []string{"w/o+steer", "w/+steer", "overall"} {
		if !strings.Contains(table, w) {
			t.Errorf("eval table lacks %q:\n%s", w, table)
		}
	}
	checkTables(t, full)

	// Two shards, merged.
	s0, s1, merged := filepath.Join(dir, "s0.jsonl"), filepath.Join(dir, "s1.jsonl"), filepath.Join(dir, "merged.jsonl")
	mustRun(t, evalArgs(s0, "--shard", "0/2", "--batch", "3")...)
	t.Setenv("JOB_COMPLETION_INDEX", "1") // the second shard from a Kubernetes Indexed Job's variables
	t.Setenv("JOB_COMPLETIONS", "2")
	mustRun(t, evalArgs(s1)...)
	os.Unsetenv("JOB_COMPLETION_INDEX")
	mustRun(t, "merge", "--out", merged, s0, s1)
	sameLines(t, "2 shards merged vs unsharded", sortedLines(t, merged), sortedLines(t, full))

	// Killed midway with SIGKILL, a torn line appended, rerun.
	killed := filepath.Join(dir, "killed.jsonl")
	n := killMidway(t, killed, evalArgs(killed, "--batch", "1"))
	t.Logf("SIGKILL after %d of 24 units", n)
	f, _ := os.OpenFile(killed, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"key":"205|with","run":"x","response":"half a li`)
	f.Close()
	rerun := mustRun(t, evalArgs(killed)...)
	if !strings.Contains(rerun, fmt.Sprintf("(%d generated now)", 24-n)) {
		t.Errorf("rerun after %d finished units:\n%s", n, rerun)
	}
	sameLines(t, "killed and rerun vs uninterrupted", sortedLines(t, killed), sortedLines(t, full))
}

// killMidway starts steer with args in a subprocess, SIGKILLs it once the
// results file holds a complete line, and returns the complete lines left.
func killMidway(t *testing.T, path string, args []string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "STEER_TEST_MAIN=1")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, _ := os.ReadFile(path)
		if bytes.Count(b, []byte("\n")) >= 1 {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("steer exited before it could be killed: %v\n%s", err, errb.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no result line after 2 minutes:\n%s", errb.String())
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	b, _ := os.ReadFile(path)
	n := bytes.Count(b, []byte("\n"))
	if n >= 24 {
		t.Fatalf("the run finished (%d lines) before the kill", n)
	}
	return n
}

// checkTables recomputes the CSV table from the results JSONL.
func checkTables(t *testing.T, results string) {
	t.Helper()
	rs, err := experiment.ReadResults(results)
	if err != nil {
		t.Fatal(err)
	}
	type cnt struct{ n, strict, loose int }
	want := map[string]cnt{}
	for _, r := range rs {
		for _, id := range []string{r.Instructions[0], "overall"} {
			c := want[id+","+r.Condition]
			c.n++
			if r.Strict {
				c.strict++
			}
			if r.Loose {
				c.loose++
			}
			want[id+","+r.Condition] = c
		}
	}
	md, csvPath := experiment.TablePaths(results)
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != len(want) || len(want) != 3*4 {
		t.Fatalf("csv has %d rows, JSONL gives %d cells (want 2 instructions + overall × 4 conditions)", len(rows)-1, len(want))
	}
	for _, row := range rows[1:] {
		c := want[row[0]+","+row[1]]
		loose, _ := strconv.ParseFloat(row[4], 64)
		if row[2] != strconv.Itoa(c.n) || row[5] != strconv.Itoa(c.strict) || row[6] != strconv.Itoa(c.loose) || fmt.Sprintf("%.3f", float64(c.loose)/float64(c.n)) != fmt.Sprintf("%.3f", loose) {
			t.Errorf("csv row %v, JSONL counts %+v", row, c)
		}
	}
	mdText, err := os.ReadFile(md)
	if err != nil || !strings.Contains(string(mdText), "| w/o | w/o+steer | w/ | w/+steer |") {
		t.Errorf("markdown table %s: %v\n%s", md, err, mdText)
	}
	for _, r := range rs {
		if r.Perplexity == nil || r.Degenerate == nil || *r.Degenerate != (*r.Perplexity < experiment.DegenerateBelow) {
			t.Fatalf("%s: perplexity %v degenerate %v", r.Key, r.Perplexity, r.Degenerate)
		}
		if steered := strings.HasSuffix(r.Condition, "+steer"); steered != (len(r.Steering) == 1) {
			t.Errorf("%s: steering %+v", r.Key, r.Steering)
		}
	}
	var line map[string]any
	b, _ = os.ReadFile(results)
	if err := json.Unmarshal(bytes.SplitN(b, []byte("\n"), 2)[0], &line); err != nil || line["run"] == "" || line["response"] == nil {
		t.Errorf("first line %v %v", line, err)
	}
}

// embeddedConfig reads the embedded model's config, so expectations follow
// the model rather than a remembered shape.
func embeddedConfig(t *testing.T, dir string) *model.Config {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := model.ParseConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestExperimentCLIErrors checks that bad inputs give clear errors.
func TestExperimentCLIErrors(t *testing.T) {
	modelDir, dir, vecs := expSetup(t)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	test := filepath.Join(expData, "test.jsonl")
	noWithout := write("bad.jsonl", `{"key":1,"prompt":"p","prompt_without_instruction":"q","instruction_id_list":["punctuation:no_comma"],"kwargs":[{}]}`+"\n"+
		`{"key":2,"prompt":"p","instruction_id_list":["punctuation:no_comma"],"kwargs":[{}]}`+"\n")
	unknown := write("unknown.jsonl", `{"key":1,"prompt":"p","prompt_without_instruction":"q","instruction_id_list":["format:sparkles"],"kwargs":[{}]}`+"\n")
	cfg := embeddedConfig(t, modelDir)
	planLayer := write("plan_layer.json", fmt.Sprintf(`{"instructions":{"change_case:english_lowercase":{"vector":%q,"layer":%d,"op":"clamp"},"change_case:english_capital":{"layer":"none"}}}`, vecs[0], cfg.NumLayers))
	wide := filepath.Join(dir, "wide.safetensors")
	writeWideSet(t, wide)
	planWide := write("plan_wide.json", fmt.Sprintf(`{"instructions":{"change_case:english_lowercase":{"vector":%q,"layer":1,"op":"clamp"},"change_case:english_capital":{"layer":"none"}}}`, wide))
	planNone := write("plan_none.json", `{"instructions":{"change_case:english_lowercase":{"layer":"none"},"change_case:english_capital":{"layer":"none"}}}`)
	overlap := write("overlap_pairs.jsonl", `{"instruction_id":"change_case:english_lowercase","with":"Talk about owls for a moment. Please reply entirely in lowercase.","without":"Talk about owls for a moment."}`+"\n")
	noTok := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, _ := os.ReadFile(filepath.Join(modelDir, f))
		os.WriteFile(filepath.Join(noTok, f), b, 0o644)
	}
	out := filepath.Join(dir, "r.jsonl")
	eval := func(data, plan string, extra ...string) []string {
		return append([]string{"eval", "--model", modelDir, "--data", data, "--plan", plan, "--out", out, "--max-new-tokens", "4", "--quiet"}, extra...)
	}
	r0, r1 := filepath.Join(dir, "m0.jsonl"), filepath.Join(dir, "m1.jsonl")
	write("m0.jsonl", `{"key":"a","run":"run-one","response":""}`+"\n")
	write("m1.jsonl", `{"key":"b","run":"run-two","response":""}`+"\n")
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"record without prompt_without_instruction", eval(noWithout, planNone), []string{"bad.jsonl:2:", "no prompt_without_instruction"}},
		{"unknown instruction id", eval(unknown, planNone), []string{"unknown.jsonl:1:", `unknown instruction id "format:sparkles"`}},
		{"layer out of range", eval(test, planLayer), []string{"change_case:english_lowercase", fmt.Sprintf("layer %d out of range", cfg.NumLayers), fmt.Sprintf("%d layers", cfg.NumLayers)}},
		{"vector of the wrong width", eval(test, planWide), []string{"width 16", fmt.Sprintf("hidden size is %d", cfg.HiddenSize)}},
		{"shard 3/2", eval(test, planNone, "--shard", "3/2"), []string{"shard 3/2", "not in 0..1"}},
		{"bad condition", eval(test, planNone, "--conditions", "without,sideways"), []string{`condition "sideways"`}},
		{"training prompts in the data", eval(test, planNone, "--train-pairs", overlap), []string{"3 prompt(s)", "also training prompts", "--allow-overlap"}},
		{"perplexity model without tokenizer", eval(test, planNone, "--ppl-model", noTok), []string{"perplexity model", "tokenizer"}},
		{"merge of two runs", []string{"merge", "--out", filepath.Join(dir, "m.jsonl"), r0, r1}, []string{"different runs"}},
		{"sweep language vector without target", []string{"sweep", "--model", modelDir, "--vectors", "language:response_language=" + vecs[0], "--data", test, "--out", filepath.Join(dir, "p.json")}, []string{"needs its target language", "language:response_language_xx="}},
		{"sweep candidate out of range", []string{"sweep", "--model", modelDir, "--vectors", vecs[0], "--data", test, "--out", filepath.Join(dir, "p.json"), "--candidates", "none,9"}, []string{"candidate layer 9 out of range"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(c.args, &stdout, &stderr); code != 1 {
				t.Fatalf("exit %d, stderr %s", code, stderr.String())
			}
			for _, w := range c.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

// writeWideSet writes a vector file of width 16 (the model's is 128).
func writeWideSet(t *testing.T, path string) {
	t.Helper()
	s := &vectors.Set{Method: vectors.MethodMeanDiff, InstructionID: "change_case:english_lowercase", Hidden: 16, NumLayers: 4, ChosenLayer: vectors.NoLayer}
	for l := range 4 {
		u := make([]float32, 16)
		u[l] = 1
		s.Layers = append(s.Layers, vectors.Direction{Layer: l, U: u, Norm: 1, ZBar: 1, Coef: math.NaN()})
	}
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
}

// TestEvalPlainCLI runs the unsteered conditions with base-model prompts and
// no plan, and checks that the plain option is part of the run fingerprint.
func TestEvalPlainCLI(t *testing.T) {
	modelDir, err := tinyif.EmbeddedModelDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := func(out string, extra ...string) []string {
		return append([]string{"eval", "--model", modelDir, "--data", filepath.Join(expData, "test.jsonl"), "--conditions", "without,with",
			"--out", out, "--max-new-tokens", "12", "--quiet"}, extra...)
	}
	plain, chat := filepath.Join(dir, "plain.jsonl"), filepath.Join(dir, "chat.jsonl")
	mustRun(t, args(plain, "--plain")...)
	mustRun(t, args(chat)...)
	p, err := experiment.ReadResults(plain)
	if err != nil {
		t.Fatal(err)
	}
	c, err := experiment.ReadResults(chat)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 12 || len(c) != 12 || p[0].Run == c[0].Run {
		t.Fatalf("%d plain and %d chat lines, runs %s %s", len(p), len(c), p[0].Run, c[0].Run)
	}
	for _, r := range p {
		if r.Steering != nil || strings.Contains(r.Response, "Q:") {
			t.Errorf("%s: steering %v response %q", r.Key, r.Steering, r.Response)
		}
	}
}
