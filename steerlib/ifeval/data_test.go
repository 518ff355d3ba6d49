package ifeval

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadJSONLAndMarshalScored(t *testing.T) {
	in := strings.Join([]string{
		`{"key": 7, "prompt": "No commas.", "response": "Fine then", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}], "strict": [false], "extra": {"z": 1}}`,
		``,
		`{"prompt": "p", "instruction_id_list": "['punctuation:no_comma', \"detectable_format:title\"]", "response": "<<t>>, x"}`,
		`not json`,
		`{"prompt": "p", "response": "r", "instruction_id_list": ["keywords:existence"], "kwargs": [{"keywords": ["r"]}, {}]}`,
	}, "\n")
	items, err := ReadJSONL(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 4 {
		t.Fatalf("%d items, want 4 (blank line skipped, bad line kept)", len(items))
	}
	if items[0].Line != 1 || items[2].Line != 4 || items[3].Line != 5 {
		t.Errorf("lines = %d %d %d", items[0].Line, items[2].Line, items[3].Line)
	}
	if got := items[1].Record.InstructionIDs; len(got) != 2 || got[1] != IDTitle {
		t.Errorf("python-literal id list parsed as %q", got)
	}
	if len(items[2].Problems) == 0 || !strings.Contains(items[2].Problems[0], "line 4") {
		t.Errorf("bad line problems = %q", items[2].Problems)
	}
	if len(items[3].Problems) == 0 || !strings.Contains(items[3].Problems[0], "2 kwargs entries for 1 instructions") {
		t.Errorf("kwargs mismatch problems = %q", items[3].Problems)
	}

	res0 := ScoreItem(items[0])
	out, err := MarshalScored(items[0], res0)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"key":7,"prompt":"No commas.","response":"Fine then","instruction_id_list":["punctuation:no_comma"],"kwargs":[{}],"extra":{"z": 1},"strict":[true],"loose":[true],"follow_all_strict":true,"follow_all_loose":true}`
	if string(out) != want {
		t.Errorf("scored:\n got  %s\n want %s", out, want)
	}
	res1 := ScoreItem(items[1])
	if res1.Failed || res1.Strict[0] || !res1.Strict[1] {
		t.Errorf("item 2 result %+v", res1)
	}
	res2 := ScoreItem(items[2])
	out, err = MarshalScored(items[2], res2)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(out, &obj); err != nil {
		t.Fatalf("bad-line output is not JSON: %v: %s", err, out)
	}
	if obj["input_line"].(float64) != 4 || obj["follow_all_strict"].(bool) || len(obj[FieldErrors].([]any)) != 1 {
		t.Errorf("bad-line output %s", out)
	}
	res3 := ScoreItem(items[3])
	if !res3.Failed || res3.FollowAllStrict || res3.FollowAllLoose {
		t.Errorf("kwargs-mismatch record not marked: %+v", res3)
	}
}

func TestMissingResponseIsMarked(t *testing.T) {
	items, err := ReadJSONL(strings.NewReader(`{"key": 1, "prompt": "p", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}`))
	if err != nil {
		t.Fatal(err)
	}
	res := ScoreItem(items[0])
	if !res.Failed || !strings.Contains(res.Errors[0], "no response") || res.Strict[0] {
		t.Errorf("result %+v", res)
	}
}

func TestSummarize(t *testing.T) {
	ids := [][]string{{IDNoComma, IDTitle}, {IDNoComma}, {"x:y"}}
	results := []Result{
		{Strict: []bool{true, false}, Loose: []bool{true, true}, FollowAllStrict: false, FollowAllLoose: true},
		{Strict: []bool{true}, Loose: []bool{true}, FollowAllStrict: true, FollowAllLoose: true},
		{Strict: []bool{false}, Loose: []bool{false}, Errors: []string{"unknown instruction id \"x:y\""}, Failed: true},
	}
	s := Summarize(ids, results)
	if s.Prompt != (Accuracy{N: 3, Strict: 1, Loose: 2}) || s.Instruction != (Accuracy{N: 4, Strict: 2, Loose: 3}) || s.Failed != 1 {
		t.Errorf("summary %+v", s)
	}
	if len(s.ByCategory) != 3 || s.ByCategory[1].ID != "punctuation" || s.ByCategory[1].Accuracy != (Accuracy{N: 2, Strict: 2, Loose: 2}) {
		t.Errorf("by category %+v", s.ByCategory)
	}
	if len(s.ByInstruction) != 3 || s.ByInstruction[0].ID != IDTitle || s.ByInstruction[0].Accuracy != (Accuracy{N: 1, Strict: 0, Loose: 1}) {
		t.Errorf("by instruction %+v", s.ByInstruction)
	}
	var b strings.Builder
	if err := s.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"prompt-level", "0.3333", "0.6667", "instruction-level", "0.5000", "0.7500", "1 record(s) could not be fully checked"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// TestReadPaperFiles reads every JSONL file of the paper's data (when
// ../shared is present) and scores the format test set with its prompts as
// responses: every instruction must be known and every kwargs well formed.
func TestReadPaperFiles(t *testing.T) {
	shared := sharedDir(t)
	dir := filepath.Join(shared, "data", "llm-steer-instruct")
	if shared == "" {
		t.Skip("../shared not found next to the repository root")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("%s not present", dir)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no JSONL files in %s: %v", dir, err)
	}
	for _, path := range files {
		items, err := ReadJSONLFile(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		base := filepath.Base(path)
		withKwargs := 0
		for _, it := range items {
			if len(it.Record.InstructionIDs) == 0 {
				t.Errorf("%s line %d: no instruction ids (%q)", base, it.Line, it.Problems)
			}
			if hasField(it.Fields, "kwargs") {
				withKwargs++
				if len(it.Problems) > 0 {
					t.Errorf("%s line %d: %q", base, it.Line, it.Problems)
				}
				it.Record.Response = it.Record.Prompt
				if res := Evaluate(it.Record); res.Failed {
					t.Errorf("%s line %d: %q", base, it.Line, res.Errors)
				}
			}
		}
		t.Logf("%s: %d records, %d with kwargs", base, len(items), withKwargs)
		if base == "ifeval_single_instr_format.jsonl" && (len(items) != 163 || withKwargs != 163) {
			t.Errorf("%s: %d records (%d with kwargs), want 163", base, len(items), withKwargs)
		}
	}
}
