package ifeval

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchRecords builds n records that cycle through all 25 instruction ids
// with responses made from testdata/oracle_texts.txt (multi-paragraph, mixed
// languages and cases), so every checker and both scorings are exercised.
func benchRecords(tb testing.TB, n int) []Record {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "oracle_texts.txt"))
	if err != nil {
		tb.Fatalf("read texts: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	ids := InstructionIDs()
	kwFor := map[string]map[string]any{
		IDKeywordsExistence:         {"keywords": []any{"fox", "river"}},
		IDKeywordsFrequency:         {"keyword": "the", "frequency": 3, "relation": "at least"},
		IDKeywordsForbiddenWords:    {"forbidden_words": []any{"dog", "lazy"}},
		IDKeywordsLetterFrequency:   {"letter": "e", "let_frequency": 10, "let_relation": "less than"},
		IDResponseLanguage:          {"language": "en"},
		IDNumberSentences:           {"num_sentences": 4, "relation": "less than"},
		IDNumberParagraphs:          {"num_paragraphs": 3},
		IDNumberWords:               {"num_words": 50, "relation": "at least"},
		IDNthParagraphFirstWord:     {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "the"},
		IDNumberPlaceholders:        {"num_placeholders": 1},
		IDPostscript:                {"postscript_marker": "P.S."},
		IDNumberBulletLists:         {"num_bullets": 2},
		IDNumberHighlightedSections: {"num_highlights": 2},
		IDMultipleSections:          {"section_spliter": "Section", "num_sections": 2},
		IDRepeatPrompt:              {"prompt_to_repeat": "Write about a fox."},
		IDEndChecker:                {"end_phrase": "Any other questions?"},
		IDCapitalWordFrequency:      {"capital_frequency": 3, "capital_relation": "at least"},
	}
	recs := make([]Record, n)
	for i := range recs {
		id := ids[i%len(ids)]
		var parts []string
		for k := 0; k < 3+i%4; k++ {
			parts = append(parts, lines[(i*7+k*11)%len(lines)])
		}
		resp := strings.Join(parts, "\n\n")
		switch i % 5 {
		case 1:
			resp = "Sure! Here it is:\n* " + strings.ReplaceAll(resp, "\n\n", "\n* ") + "\nAny other questions?"
		case 2:
			resp = strings.ToUpper(resp)
		case 3:
			resp = "\"" + strings.ToLower(resp) + "\""
		}
		recs[i] = Record{Prompt: "Write about a fox.", Response: resp, InstructionIDs: []string{id}, Kwargs: []map[string]any{kwFor[id]}}
	}
	return recs
}

// BenchmarkEvaluate10k scores 10,000 single-instruction records (strict and
// loose) on one goroutine; ns/op is the time for all 10,000.
//
//	go test -run '^$' -bench Evaluate10k -benchtime 3x ./steerlib/ifeval/
func BenchmarkEvaluate10k(b *testing.B) {
	recs := benchRecords(b, 10000)
	if _, err := Check(IDEnglishLowercase, nil, "", "warm up the language model"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, r := range recs {
			if res := Evaluate(r); res.Failed {
				b.Fatalf("evaluation failed: %v", res.Errors)
			}
		}
	}
}

// BenchmarkReference10k scores the 2,000 conformance records five times over
// (10,000 evaluations) when ../shared is present.
func BenchmarkReference10k(b *testing.B) {
	shared := sharedDir(b)
	path := filepath.Join(shared, "conformance", "ifeval_reference_scores.jsonl")
	if shared == "" {
		b.Skip("../shared not found")
	}
	f, err := os.Open(path)
	if err != nil {
		b.Skipf("%s: %v", path, err)
	}
	defer f.Close()
	var recs []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Fatal(err)
		}
		recs = append(recs, r)
	}
	all := make([]Record, 0, 5*len(recs))
	for k := 0; k < 5; k++ {
		all = append(all, recs...)
	}
	if _, err := Check(IDEnglishLowercase, nil, "", "warm up the language model"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, r := range all {
			Evaluate(r)
		}
	}
	b.ReportMetric(float64(len(all)), "records/op")
}

func TestBenchRecordsAreValid(t *testing.T) {
	recs := benchRecords(t, 200)
	seen := map[string]bool{}
	for i, r := range recs {
		res := Evaluate(r)
		if res.Failed {
			t.Fatalf("record %d (%s): %v", i, r.InstructionIDs[0], res.Errors)
		}
		seen[r.InstructionIDs[0]] = true
	}
	if len(seen) != 25 {
		t.Errorf("benchmark covers %d ids, want 25", len(seen))
	}
}
