package experiment

import (
	"strings"
	"testing"
)

func TestParseRecordsErrors(t *testing.T) {
	good := `{"key":1,"prompt":"Say hi. Use lowercase.","prompt_without_instruction":"Say hi.","instruction_id_list":["change_case:english_lowercase"],"kwargs":[{}]}`
	cases := []struct {
		name, data string
		want       []string // substrings of the error ("" list: no error)
	}{
		{"good", good + "\n", nil},
		{"language suffix", `{"key":2,"prompt":"p","prompt_without_instruction":"q","instruction_id_list":["language:response_language"],"kwargs":[{"language":"kn"}],"instruction_id_list_for_eval":["language:response_language_kn"]}`, nil},
		{"no prompt_without_instruction", good + "\n" + `{"key":2,"prompt":"p","instruction_id_list":["punctuation:no_comma"],"kwargs":[{}]}`, []string{"x.jsonl:2:", "no prompt_without_instruction"}},
		{"unknown id", "\n" + `{"key":3,"prompt":"p","prompt_without_instruction":"q","instruction_id_list":["format:sparkles"],"kwargs":[{}]}`, []string{"x.jsonl:2:", `unknown instruction id "format:sparkles"`}},
		{"unknown eval id", `{"key":3,"prompt":"p","prompt_without_instruction":"q","instruction_id_list":["punctuation:no_comma"],"kwargs":[{}],"instruction_id_list_for_eval":["punctuation:no_comma_xx"]}`, []string{"x.jsonl:1:", "unknown instruction id"}},
		{"bad json", "{nope", []string{"x.jsonl:1:", "not a JSON object"}},
		{"duplicate key", good + "\n" + good, []string{"x.jsonl:2:", "repeats the record of line 1"}},
		{"kwargs count", `{"prompt":"p","prompt_without_instruction":"q","instruction_id_list":["punctuation:no_comma"],"kwargs":[{},{}]}`, []string{"x.jsonl:1:", "2 kwargs for 1 instructions"}},
		{"two problems", "{nope\n{nope", []string{"x.jsonl:1:", "x.jsonl:2:"}},
		{"empty", "\n\n", []string{"holds no record"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs, err := ParseRecords(strings.NewReader(c.data), "x.jsonl")
			if len(c.want) == 0 {
				if err != nil || len(recs) == 0 {
					t.Fatalf("err %v, %d records", err, len(recs))
				}
				return
			}
			if err == nil {
				t.Fatalf("no error for %q", c.data)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestRecordFields(t *testing.T) {
	recs, err := ReadRecords("testdata/test.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	r := recs[0]
	if r.Key != "200" || r.Line != 1 || r.SteerID() != "change_case:english_lowercase" || r.PromptWithout != "Talk about owls for a moment." || len(r.Kwargs) != 1 {
		t.Fatalf("record %+v", r)
	}
	noKey, err := ParseRecords(strings.NewReader(`{"prompt":"p","prompt_without_instruction":"q","instruction_id_list":["punctuation:no_comma"]}`), "y")
	if err != nil || noKey[0].Key != "line1" || len(noKey[0].Kwargs) != 1 {
		t.Fatalf("%+v %v", noKey, err)
	}
}

func TestOverlap(t *testing.T) {
	recs, err := ReadRecords("testdata/test.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		train []string
		want  int
	}{
		{[]string{"Talk about foxes for a moment."}, 0},
		{[]string{"  talk ABOUT owls for a   moment. "}, 2},                                                 // a prompt without instruction (two records share it)
		{[]string{"Say something about penguins. Use only lowercase letters, no capitals at all.", "x"}, 1}, // a prompt with
	}
	for _, c := range cases {
		if got := Overlap(c.train, recs); len(got) != c.want {
			t.Errorf("Overlap(%q) = %q, want %d", c.train, got, c.want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestPaperFormatFile reads the paper's format test set when ../shared has it.
func TestPaperFormatFile(t *testing.T) {
	const path = "../../../shared/data/llm-steer-instruct/ifeval_single_instr_format.jsonl"
	recs, err := ReadRecords(path)
	if err != nil {
		if strings.Contains(err.Error(), "no such file") {
			t.Skipf("no %s", path)
		}
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, r := range recs {
		ids[r.SteerID()]++
	}
	if len(recs) != 163 || ids["language:response_language_kn"] != 2 || ids["detectable_format:number_highlighted_sections"] != 19 {
		t.Errorf("%d records, ids %v", len(recs), ids)
	}
}

func TestPairLinesAsRecords(t *testing.T) {
	data := `{"instruction_id":"change_case:english_lowercase","with":"Say hi. Use lowercase.","without":"Say hi."}
{"instruction_id":"language:response_language","with":"Say hi in Hindi.","without":"Say hi.","kwargs":{"language":"hi"}}
{"instruction_id":"punctuation:no_comma","with":"x","kwargs":{}}`
	recs, err := ParseRecords(strings.NewReader(data), "p.jsonl")
	if err == nil || !strings.Contains(err.Error(), "p.jsonl:3: no prompt_without_instruction") {
		t.Fatalf("a pair without 'without': %v", err)
	}
	recs, err = ParseRecords(strings.NewReader(strings.SplitN(data, "\n", 3)[0]+"\n"+strings.SplitN(data, "\n", 3)[1]), "p.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if r := recs[0]; r.Prompt != "Say hi. Use lowercase." || r.PromptWithout != "Say hi." || r.SteerID() != "change_case:english_lowercase" || r.Key != "line1" {
		t.Errorf("%+v", r)
	}
	if r := recs[1]; r.SteerID() != "language:response_language_hi" || r.InstructionIDs[0] != "language:response_language" || r.Kwargs[0]["language"] != "hi" {
		t.Errorf("%+v", r)
	}
}
