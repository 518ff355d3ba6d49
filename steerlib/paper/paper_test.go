package paper

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"html"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gosteer/gosteer/steerlib/experiment"
	"github.com/gosteer/gosteer/steerlib/ifeval"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/tinyif"
)

// shared is the embedded model, loaded once for all tests, with itself as
// the perplexity screen (the only language model available offline).
var shared struct {
	once   sync.Once
	m      *model.Model
	screen *experiment.Screen
	err    error
}

func embeddedModel(t *testing.T) (*model.Model, *experiment.Screen) {
	t.Helper()
	shared.once.Do(func() {
		dir, err := tinyif.EmbeddedModelDir()
		if err != nil {
			shared.err = err
			return
		}
		if shared.m, shared.err = model.Load(dir, model.WithOffline()); shared.err != nil {
			return
		}
		shared.screen, shared.err = experiment.LoadScreen(dir, model.WithOffline())
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.m, shared.screen
}

// smallRun returns the small options every experiment test runs with.
func smallRun(t *testing.T, exp, out string) RunOptions {
	m, screen := embeddedModel(t)
	ro := RunOptions{Experiment: exp, Model: m, Screen: screen, MaxNewTokens: 32, BatchSize: 32,
		Options: Options{Out: out, Data: Embedded{}, N: 3, ValN: 3, PairsN: 12, LengthLayer: -1,
			Instructions: []string{"change_case:english_lowercase", "punctuation:no_comma"}}}
	if exp == "transfer" {
		ro.Base = m // the embedded model prompted plain serves as the base model
	}
	if exp == "words" {
		ro.Layers = []int{2} // one candidate: the steered rows carry the word directions
		ro.Scales = []float64{1}
	}
	return ro
}

// readResults reads the run's merged results.jsonl.
func readResults(t *testing.T, dir string) []experiment.Result {
	t.Helper()
	rs, err := experiment.ReadResults(filepath.Join(dir, ResultsName))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// readCSV reads table.csv.
func readCSV(t *testing.T, dir string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "table.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// testRate recomputes, from the JSONL, the share of test results of an
// instruction ("" all) and condition that pass.
func testRate(rs []experiment.Result, exp, id, cond string, strict bool) (float64, int) {
	k, n := 0, 0
	for _, r := range rs {
		if !strings.HasPrefix(r.Key, exp+"/test/") || r.Condition != cond || (id != "" && !slices.Contains(r.Instructions, id)) {
			continue
		}
		n++
		if (strict && r.Strict) || (!strict && r.Loose) {
			k++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return float64(k) / float64(n), n
}

// checkConditionCSV compares a four-condition table.csv with the JSONL.
func checkConditionCSV(t *testing.T, exp string, rs []experiment.Result, tab [][]string, strict bool) {
	t.Helper()
	if got := tab[0][:6]; !slices.Equal(got, []string{"instruction", "n", "w/o", "w/o+steer", "w/", "w/+steer"}) {
		t.Fatalf("table.csv header %v", tab[0])
	}
	for _, row := range tab[1:] {
		id := row[0]
		if id == "overall" {
			id = ""
		}
		for c, cond := range Conditions {
			want, n := testRate(rs, exp, id, cond, strict)
			if row[1] != strconv.Itoa(n) || row[2+c] != f3(want) {
				t.Errorf("%s %s: table n=%s %s=%s, JSONL n=%d %.3f", row[0], cond, row[1], cond, row[2+c], n, want)
			}
		}
	}
}

// checkFiles checks the run folder: every output present, figures as SVG
// and PNG, report.html self-contained with every figure and table inline.
func checkFiles(t *testing.T, dir string, rep *Report) {
	t.Helper()
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ResultsName, "table.md", "table.csv", "plan.json"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty (%v)", name, err)
		}
	}
	if len(rep.Figures) == 0 {
		t.Fatal("no figures")
	}
	for _, f := range rep.Figures {
		svg, err1 := os.ReadFile(filepath.Join(dir, f.Name+".svg"))
		png, err2 := os.ReadFile(filepath.Join(dir, f.Name+".png"))
		if err1 != nil || err2 != nil || !bytes.Contains(svg, []byte("<svg")) || !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Errorf("figure %s: svg %v, png %v", f.Name, err1, err2)
		}
		if !bytes.Contains(page, []byte(`alt="`+f.Name+`" src="data:image/png;base64,`)) {
			t.Errorf("report.html lacks figure %s inline", f.Name)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "table.md"))
	for _, tb := range rep.Tables {
		if !bytes.Contains(md, []byte(tb.Title)) || !bytes.Contains(page, []byte(html.EscapeString(tb.Title))) {
			t.Errorf("table %q missing from table.md or report.html", tb.Title)
		}
	}
	if bytes.Contains(page, []byte("src=\"http")) || bytes.Contains(page, []byte("<script src")) {
		t.Error("report.html loads external resources")
	}
}

// TestExperiments runs each experiment end to end on the embedded model with
// small options and checks its outputs against its JSONL.
func TestExperiments(t *testing.T) {
	tests := []struct {
		exp   string
		check func(t *testing.T, rs []experiment.Result, tab [][]string)
	}{
		{"format", func(t *testing.T, rs []experiment.Result, tab [][]string) {
			checkConditionCSV(t, "format", rs, tab, false)
		}},
		{"transfer", func(t *testing.T, rs []experiment.Result, tab [][]string) {
			checkConditionCSV(t, "transfer", rs, tab, false)
		}},
		{"words", checkWords},
		{"length", checkLength},
		{"compose", checkCompose},
	}
	for _, tc := range tests {
		t.Run(tc.exp, func(t *testing.T) {
			dir := t.TempDir()
			rep, err := Run(context.Background(), smallRun(t, tc.exp, dir))
			if err != nil {
				t.Fatal(err)
			}
			checkFiles(t, dir, rep)
			rs := readResults(t, dir)
			for _, r := range rs {
				if r.Perplexity == nil || r.Degenerate == nil {
					t.Fatalf("%s: no perplexity though a screen model was given", r.Key)
				}
			}
			tc.check(t, rs, readCSV(t, dir))
		})
	}
}

// checkWords: strict scoring recomputed from the JSONL, and inclusion and
// exclusion steered by the same word direction with opposite signs.
func checkWords(t *testing.T, rs []experiment.Result, tab [][]string) {
	checkConditionCSV(t, "words", rs, tab, true)
	sign := map[string]float64{}
	for _, r := range rs {
		if r.Condition != experiment.CondWithoutSteer || len(r.Steering) != 1 {
			continue
		}
		st := r.Steering[0]
		if !strings.HasPrefix(st.Vector, "word:") || st.Layer != 2 || st.Op != experiment.OpAdd {
			t.Fatalf("%s: steering %+v", r.Key, st)
		}
		want := 1.0
		if slices.Contains(r.Instructions, "keywords:forbidden_words") {
			want = -1
		}
		if st.Coef*want <= 0 {
			t.Errorf("%s: coefficient %v has the wrong sign", r.Key, st.Coef)
		}
		// The same word's inclusion and exclusion coefficients are opposite.
		if prev, ok := sign[st.Vector]; ok && prev != st.Coef && prev != -st.Coef {
			t.Errorf("%s: |c| %v differs from %v for the same direction", st.Vector, st.Coef, prev)
		}
		sign[st.Vector] = st.Coef
	}
	if len(sign) == 0 {
		t.Fatal("no steered word rows")
	}
}

// checkLength: sentence and word statistics and "at most N" accuracy per
// coefficient recomputed from the JSONL responses.
func checkLength(t *testing.T, rs []experiment.Result, tab [][]string) {
	if !slices.Equal(tab[0][:6], []string{"scale", "n", "sentences mean", "sentences median", "words mean", "at most N"}) {
		t.Fatalf("header %v", tab[0])
	}
	for _, row := range tab[1:] {
		var sents, words []float64
		k, asked := 0, 0
		for _, r := range rs {
			if r.Condition != "c="+row[0] {
				continue
			}
			n, err := ifeval.CountSentences(r.Response)
			if err != nil {
				t.Fatal(err)
			}
			sents, words = append(sents, float64(n)), append(words, float64(ifeval.CountWords(r.Response)))
			if !strings.HasSuffix(r.Record, "/n0") {
				asked++
				k += b2i(r.Loose)
			}
		}
		want := []string{strconv.Itoa(len(sents)), f3(mean(sents)), f3(median(sents)), f3(mean(words)), f3(float64(k) / float64(max(asked, 1)))}
		if !slices.Equal(row[1:6], want) || len(sents) == 0 {
			t.Errorf("scale %s: table %v, JSONL %v", row[0], row[1:6], want)
		}
	}
}

// checkCompose: format, length and both per condition from the per-check
// verdicts in the JSONL.
func checkCompose(t *testing.T, rs []experiment.Result, tab [][]string) {
	for _, row := range tab[1:] {
		var n, f, l, b int
		for _, r := range rs {
			if !strings.HasPrefix(r.Key, "compose/test/") || r.Condition != row[0] {
				continue
			}
			if len(r.LooseList) != 2 {
				t.Fatalf("%s: %d verdicts, want format and length", r.Key, len(r.LooseList))
			}
			n++
			f, l, b = f+b2i(r.LooseList[0]), l+b2i(r.LooseList[1]), b+b2i(r.LooseList[0] && r.LooseList[1])
		}
		want := []string{row[0], strconv.Itoa(n), f3(float64(f) / float64(n)), f3(float64(l) / float64(n)), f3(float64(b) / float64(n))}
		if !slices.Equal(row, want) {
			t.Errorf("table %v, JSONL %v", row, want)
		}
	}
}

// TestShardedAndResumed runs the length experiment as two shards into one
// folder and compares with an unsharded run; a rerun generates nothing.
func TestShardedAndResumed(t *testing.T) {
	whole, sharded := t.TempDir(), t.TempDir()
	if _, err := Run(context.Background(), smallRun(t, "length", whole)); err != nil {
		t.Fatal(err)
	}
	ro := smallRun(t, "length", sharded)
	ro.Shard = experiment.Shard{Index: 0, Count: 2}
	if _, err := Run(context.Background(), ro); !errors.Is(err, ErrPending) {
		t.Fatalf("shard 0 of 2: err %v, want ErrPending", err)
	}
	ro.Shard = experiment.Shard{Index: 1, Count: 2}
	if _, err := Run(context.Background(), ro); err != nil {
		t.Fatalf("shard 1 of 2: %v", err)
	}
	a, b := readResults(t, whole), readResults(t, sharded)
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%d results unsharded, %d sharded", len(a), len(b))
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Response != b[i].Response || a[i].Loose != b[i].Loose {
			t.Fatalf("result %d differs: %s %q vs %s %q", i, a[i].Key, a[i].Response, b[i].Key, b[i].Response)
		}
	}
	// A run interrupted after its first batch resumes to the same results.
	interrupted := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ro = smallRun(t, "length", interrupted)
	ro.BatchSize, ro.Bar = 8, cancelAfter{cancel}
	if _, err := Run(ctx, ro); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err %v, want context.Canceled", err)
	}
	partial, err := experiment.ReadResults(filepath.Join(interrupted, ResultsName))
	if err != nil || len(partial) == 0 || len(partial) >= len(a) {
		t.Fatalf("interrupted run left %d of %d results (%v)", len(partial), len(a), err)
	}
	ro = smallRun(t, "length", interrupted)
	ro.BatchSize = 8
	if _, err := Run(context.Background(), ro); err != nil {
		t.Fatal(err)
	}
	c := readResults(t, interrupted)
	for i := range a {
		if len(c) != len(a) || a[i].Key != c[i].Key || a[i].Response != c[i].Response {
			t.Fatalf("resumed run differs at %d", i)
		}
	}
	before, _ := os.ReadFile(filepath.Join(whole, ResultsName))
	tableBefore, _ := os.ReadFile(filepath.Join(whole, "table.md"))
	var progress bytes.Buffer
	ro = smallRun(t, "length", whole)
	ro.Progress = &progress
	if _, err := Run(context.Background(), ro); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(whole, ResultsName))
	tableAfter, _ := os.ReadFile(filepath.Join(whole, "table.md"))
	if !bytes.Equal(before, after) || !bytes.Equal(tableBefore, tableAfter) || strings.Contains(progress.String(), "units in") {
		t.Errorf("rerun changed the results or generated units: %s", progress.String())
	}
	// A run with other options refuses the folder.
	ro = smallRun(t, "length", whole)
	ro.N = 2
	if _, err := Run(context.Background(), ro); err == nil || !strings.Contains(err.Error(), "run") {
		t.Errorf("other options in the same folder: err %v", err)
	}
}

// TestSteerForSigns checks that exclusion uses the inclusion direction with
// the opposite coefficient, and clamp uses z̄ whatever the sign.
func TestSteerForSigns(t *testing.T) {
	m, _ := embeddedModel(t)
	j, err := OpenJournal(t.TempDir(), experiment.Shard{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	e, err := NewEnv(m, EnvOptions{Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.WordVectors(context.Background(), t.TempDir(), []string{"harmony"}, Embedded{}.Queries(true)[:4], Embedded{}.Phrase); err != nil {
		t.Fatal(err)
	}
	it := Item{Key: "k", Instruction: "x", Vector: wordVector("harmony")}
	lv, _ := e.Vectors[it.Vector].Get(1)
	tests := []struct {
		op          string
		scale, sign float64
		want        float64
	}{
		{experiment.OpAdd, 2, 1, 2 * lv.Norm},
		{experiment.OpAdd, 2, -1, -2 * lv.Norm},
		{experiment.OpClamp, 0, -1, lv.ZBar},
	}
	for _, tc := range tests {
		st, err := e.steerFor(it, tc.op, 1, tc.scale, tc.sign)
		if err != nil || st.Vector != it.Vector || st.Coef != tc.want || st.Layer != 1 {
			t.Errorf("%s scale %g sign %g: %+v, %v; want coef %v", tc.op, tc.scale, tc.sign, st, err, tc.want)
		}
	}
	if _, err := e.steerFor(it, experiment.OpAdd, 9, 1, 1); err == nil {
		t.Error("layer 9 of a 4-layer model accepted")
	}
}

// TestPaperData reads the reference's data folder when this checkout has it.
func TestPaperData(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "llm-steer-instruct")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no paper data at %s", dir)
	}
	p, err := OpenPaper(dir)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, id := range p.FormatIDs() {
		its, err := p.Test(id)
		if err != nil {
			t.Fatal(err)
		}
		total += len(its)
		for _, it := range its {
			if len(it.Checks) != 1 || it.Without == "" || it.Vector != id {
				t.Fatalf("%s: %+v", it.Key, it)
			}
		}
	}
	if total != 163 {
		t.Errorf("%d format test records, want 163", total)
	}
	kn, err := p.Test("language:response_language_kn")
	if err != nil || kn[0].Checks[0].ID != "language:response_language" || kn[0].Checks[0].Kwargs["language"] != "kn" {
		t.Errorf("language record: %+v, %v", kn, err)
	}
	for _, tc := range []struct {
		exclude, val bool
		n            int
	}{{false, false, 86}, {true, false, 117}, {false, true, 276}, {true, true, 276}} {
		its, err := p.Words(tc.exclude, tc.val)
		if err != nil || len(its) != tc.n || !strings.HasPrefix(its[0].Vector, "word:") {
			t.Errorf("words exclude=%v val=%v: %d items, %v", tc.exclude, tc.val, len(its), err)
		}
	}
	if len(p.Queries(true)) == 0 || len(p.Queries(false)) == 0 {
		t.Error("no base queries")
	}
	ps, err := p.Pairs("language:response_language_kn", 3)
	if err != nil || len(ps) != 3 || ps[0].Kwargs["language"] != "kn" {
		t.Errorf("language pairs %+v, %v", ps, err)
	}
}

// TestConditionTableStrict checks that the words table (strict) counts the
// strict verdict, not the loose one, and the format table the loose one.
func TestConditionTableStrict(t *testing.T) {
	id := "keywords:forbidden_words"
	var rows []Row
	for _, c := range Conditions {
		// Loose passes (e.g. the word only inside markdown), strict fails.
		rows = append(rows, Row{Instruction: id, Condition: c, Strict: false, Loose: true},
			Row{Instruction: id, Condition: c, Strict: true, Loose: true})
	}
	tests := []struct {
		strict bool
		want   string
	}{{true, "0.500"}, {false, "1.000"}}
	for _, tc := range tests {
		tab := ConditionTable([]string{id}, rows, tc.strict)
		for _, r := range tab.Rows {
			if !slices.Equal(r[1:], []string{"2", tc.want, tc.want, tc.want, tc.want}) {
				t.Errorf("strict=%v: row %v, want n 2 and %s everywhere", tc.strict, r, tc.want)
			}
		}
	}
}

// cancelAfter is a progress bar that cancels the run once a batch is done.
type cancelAfter struct{ cancel context.CancelFunc }

func (c cancelAfter) Start(string, int) {}
func (c cancelAfter) Set(done int) {
	if done > 0 {
		c.cancel()
	}
}
func (c cancelAfter) Finish() {}
