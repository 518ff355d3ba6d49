package pairs

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestJSONLRoundTrip(t *testing.T) {
	ps := []Pair{
		{InstructionID: "punctuation:no_comma", With: "Describe a harbor. No commas.", Without: "Describe a harbor."},
		{InstructionID: "keywords:existence", With: "Tell me about owls <b>& \"owl\"</b>.", Without: "Tell me about owls.",
			Kwargs: map[string]any{"keywords": []any{"owl"}}},
		{InstructionID: "length_constraints:number_words", With: "Hi.\nUse 50 words.", Without: "Hi.",
			Kwargs: map[string]any{"num_words": float64(50), "relation": "at least"}},
	}
	path := filepath.Join(t.TempDir(), "p.jsonl")
	if err := Save(path, ps); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ps) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", got, ps)
	}
	n, err := Count(path)
	if err != nil || n != len(ps) {
		t.Fatalf("Count = %d, %v; want %d", n, err, len(ps))
	}
	raw, _ := os.ReadFile(path)
	if !bytes.Contains(raw, []byte("<b>&")) {
		t.Errorf("HTML characters were escaped: %s", raw)
	}
	// Streaming reader gives the same pairs then io.EOF.
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := range ps {
		p, err := r.Next()
		if err != nil || !reflect.DeepEqual(p, ps[i]) {
			t.Fatalf("Next %d = %v, %v", i, p, err)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after last pair: %v, want io.EOF", err)
	}
}

func TestReadErrors(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"bad json", `{"instruction_id": "a", "with": "x"` + "\n", "in.jsonl:1"},
		{"unknown field", `{"instruction_id":"a","with":"x","without":"y","prompt":"z"}`, "unknown field"},
		{"empty id", `{"instruction_id":"","with":"x","without":"y"}`, "empty instruction_id"},
		{"empty with", "\n\n" + `{"instruction_id":"a","with":"","without":"y"}`, "in.jsonl:3: empty \"with\""},
		{"empty without", `{"instruction_id":"a","with":"x","without":""}`, "empty \"without\""},
		{"identical", `{"instruction_id":"a","with":"x","without":"x"}`, "identical"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(c.in), "in.jsonl")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want containing %q", err, c.want)
			}
		})
	}
}

func TestParseIDList(t *testing.T) {
	cases := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{`["a:b","c:d"]`, []string{"a:b", "c:d"}, false},
		{`"['a:b', 'c:d']"`, []string{"a:b", "c:d"}, false},
		{`"[\"a:b\"]"`, []string{"a:b"}, false},
		{`"[]"`, nil, false},
		{`"a:b"`, nil, true},
		{`"['a:b', c]"`, nil, true},
		{`null`, nil, true},
		{`3`, nil, true},
	}
	for _, c := range cases {
		got, err := parseIDList(json.RawMessage(c.in))
		if (err != nil) != c.wantErr || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseIDList(%s) = %v, %v; want %v (err %v)", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestPaperLoadersSynthetic(t *testing.T) {
	dir := t.TempDir()
	pairFile := filepath.Join(dir, "pairs.jsonl")
	os.WriteFile(pairFile, []byte(
		`{"key":1,"prompt":"Q. No commas please.","prompt_without_instruction":"Q.","instruction_id_list":["punctuation:no_comma"],"kwargs":[{}]}`+"\n"+
			`{"key":2,"prompt":"Q. Say owl.","prompt_without_instruction":"Q.","instruction_id_list":["keywords:existence"],"kwargs":[{"keywords":["owl"]}]}`+"\n"), 0o644)
	ps, err := LoadPaperPairs(pairFile)
	if err != nil {
		t.Fatal(err)
	}
	want := []Pair{
		{InstructionID: "punctuation:no_comma", With: "Q. No commas please.", Without: "Q."},
		{InstructionID: "keywords:existence", With: "Q. Say owl.", Without: "Q.", Kwargs: map[string]any{"keywords": []any{"owl"}}},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Fatalf("got %#v\nwant %#v", ps, want)
	}
	multi := filepath.Join(dir, "multi.jsonl")
	os.WriteFile(multi, []byte(`{"prompt":"a","prompt_without_instruction":"b","instruction_id_list":["x:y","z:w"],"kwargs":[{},{}]}`+"\n"), 0o644)
	if _, err := LoadPaperPairs(multi); err == nil || !strings.Contains(err.Error(), "multi.jsonl:1: want exactly one") {
		t.Fatalf("multi-instruction row: err = %v", err)
	}
	base := filepath.Join(dir, "wo.jsonl")
	os.WriteFile(base, []byte(
		`{"key":7,"original_prompt":"Write X. No commas.","instruction_id_list":"['punctuation:no_comma']","is_valid":true,"model_output":" Write X. "}`+"\n"+
			`{"key":8,"original_prompt":"bad","instruction_id_list":[],"is_valid":false,"model_output":"bad"}`+"\n"), 0o644)
	bq, err := LoadBaseQueries(base)
	if err != nil {
		t.Fatal(err)
	}
	wantBQ := []BaseQuery{{Key: 7, Query: "Write X.", OriginalPrompt: "Write X. No commas.", InstructionIDs: []string{"punctuation:no_comma"}}}
	if !reflect.DeepEqual(bq, wantBQ) {
		t.Fatalf("base queries = %#v, want %#v", bq, wantBQ)
	}
	if _, err := LoadBaseQueries(pairFile); err == nil || !strings.Contains(err.Error(), "model_output") {
		t.Fatalf("wrong file kind: err = %v", err)
	}
}

// sharedData returns ../shared/data/llm-steer-instruct relative to the repo
// root, or skips.
func sharedData(t *testing.T) string {
	t.Helper()
	d, err := sharedDataDir()
	if err != nil {
		t.Skipf("paper data not available: %v", err)
	}
	return d
}

// sharedDataDir returns ../shared/data/llm-steer-instruct relative to the
// repo root, or an error saying why it is not there.
func sharedDataDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the test directory")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "data", "llm-steer-instruct")
	if _, err := os.Stat(d); err != nil {
		return "", err
	}
	return d, nil
}

func TestPaperFiles(t *testing.T) {
	d := sharedData(t)
	files := []struct {
		name string
		rows int
	}{
		{"ifeval_single_instr_format.jsonl", 163},
		{"ifeval_single_keyword_include.jsonl", 86},
		{"ifeval_single_keyword_exclude.jsonl", 117},
		{"inclusion_validation.jsonl", 276},
		{"exclusion_validation.jsonl", 276},
	}
	for _, f := range files {
		ps, err := LoadPaperPairs(filepath.Join(d, f.name))
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if len(ps) != f.rows {
			t.Errorf("%s: %d pairs, README says %d rows", f.name, len(ps), f.rows)
		}
	}
	ps, _ := LoadPaperPairs(filepath.Join(d, "ifeval_single_keyword_include.jsonl"))
	words, err := LoadWords(filepath.Join(d, "ifeval_keywords_include.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// Every pair's kwargs word is one of the word list, in order.
	for i, p := range ps {
		if p.InstructionID != "keywords:existence" {
			t.Fatalf("pair %d: id %q", i, p.InstructionID)
		}
		ws := strsArg(p.Kwargs, "keywords")
		if len(ws) != 1 || i >= len(words) || ws[0] != words[i] {
			t.Fatalf("pair %d: keywords %v, word list has %q", i, ws, words[min(i, len(words)-1)])
		}
	}
	bq, err := LoadBaseQueries(filepath.Join(d, "ifeval_wo_instructions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(bq) < 500 {
		t.Errorf("only %d base queries", len(bq))
	}
	for _, b := range bq[:5] {
		if b.Query == "" || len(b.InstructionIDs) == 0 {
			t.Errorf("base query %+v incomplete", b)
		}
	}
}

func TestBuild(t *testing.T) {
	queries := []string{"Describe a harbor.", "Tell me about owls.", "Explain how tides work."}
	ids := InstructionIDs()
	ps, err := Build(queries, BuildOptions{IDs: ids, PerQuery: 2, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != len(ids)*len(queries)*2 {
		t.Fatalf("%d pairs, want %d", len(ps), len(ids)*len(queries)*2)
	}
	again, _ := Build(queries, BuildOptions{IDs: ids, PerQuery: 2, Seed: 42})
	if !reflect.DeepEqual(ps, again) {
		t.Fatal("Build is not deterministic for a fixed seed")
	}
	other, _ := Build(queries, BuildOptions{IDs: ids, PerQuery: 2, Seed: 43})
	if reflect.DeepEqual(ps, other) {
		t.Fatal("a different seed gave identical pairs")
	}
	for i, p := range ps {
		if err := p.Validate(); err != nil {
			t.Fatalf("pair %d: %v", i, err)
		}
		q := queries[(i/2)%len(queries)]
		if p.Without != q || !strings.HasPrefix(p.With, q+" ") || p.InstructionID != ids[i/(2*len(queries))] {
			t.Fatalf("pair %d = %+v: want query %q and id %q", i, p, q, ids[i/(2*len(queries))])
		}
	}
	// Kwargs carry the values the text names.
	checks := map[string]func(p Pair) bool{
		"keywords:existence": func(p Pair) bool {
			ws := strsArg(p.Kwargs, "keywords")
			return len(ws) == 1 && strings.Contains(p.With, `"`+ws[0]+`"`)
		},
		"detectable_format:number_bullet_lists": func(p Pair) bool {
			n := intArg(p.Kwargs, "num_bullets")
			return n >= 2 && strings.Contains(p.With, " "+itoa(n)+" ")
		},
		"startend:end_checker": func(p Pair) bool {
			return strings.Contains(p.With, `"`+strArg(p.Kwargs, "end_phrase")+`"`)
		},
		"combination:repeat_prompt": func(p Pair) bool { return strArg(p.Kwargs, "prompt_to_repeat") == p.Without },
		"punctuation:no_comma":      func(p Pair) bool { return p.Kwargs == nil },
		"language:response_language": func(p Pair) bool {
			return strings.Contains(p.With, lexLanguages[strArg(p.Kwargs, "language")])
		},
	}
	for _, p := range ps {
		if c, ok := checks[p.InstructionID]; ok && !c(p) {
			t.Errorf("%s: text %q does not match kwargs %v", p.InstructionID, p.With, p.Kwargs)
		}
	}
	// Fixed kwargs override the random draws.
	fixed, err := Build(queries, BuildOptions{IDs: []string{"keywords:existence"}, Kwargs: map[string]any{"keywords": []string{"owl"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range fixed {
		if ws := strsArg(p.Kwargs, "keywords"); len(ws) != 1 || ws[0] != "owl" || !strings.Contains(p.With, `"owl"`) {
			t.Errorf("fixed keyword not used: %+v", p)
		}
	}
	if _, err := Build(queries, BuildOptions{IDs: []string{"nope:nope"}}); err == nil || !strings.Contains(err.Error(), "known:") {
		t.Errorf("unknown id: err = %v", err)
	}
	if _, err := Build([]string{" "}, BuildOptions{IDs: ids[:1]}); err == nil {
		t.Error("empty query accepted")
	}
}

func TestPhraseAllIDsRender(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, id := range InstructionIDs() {
		for i := 0; i < 20; i++ {
			ins, err := Phrase(id, "Describe a harbor.", nil, r)
			if err != nil {
				t.Fatal(err)
			}
			if ins.Text == "" || strings.Contains(ins.Text, "%!") || strings.Contains(ins.Text, `""`) {
				t.Fatalf("%s: bad text %q (kwargs %v)", id, ins.Text, ins.Kwargs)
			}
			if n := intArg(ins.Kwargs, "nth_paragraph"); n > intArg(ins.Kwargs, "num_paragraphs") {
				t.Fatalf("%s: nth_paragraph %d > num_paragraphs", id, n)
			}
		}
	}
	if len(InstructionIDs()) != 25 {
		t.Errorf("%d instruction ids, IFEval has 25", len(InstructionIDs()))
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
