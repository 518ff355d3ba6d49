package ifeval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// paperLines returns the first n lines of each of the paper's JSONL files.
func paperLines(tb testing.TB, n int) [][]byte {
	shared := sharedDir(tb)
	if shared == "" {
		return nil
	}
	paths, _ := filepath.Glob(filepath.Join(shared, "data", "llm-steer-instruct", "*.jsonl"))
	var out [][]byte
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for i := 0; i < n && sc.Scan(); i++ {
			out = append(out, append([]byte(nil), sc.Bytes()...))
		}
		f.Close()
	}
	return out
}

// FuzzReadJSONL reads arbitrary JSONL as IFEval records and scores them:
// reading never fails on content (only on I/O), every line with a problem is
// scored as failed, and every scored item marshals to one JSON object.
func FuzzReadJSONL(f *testing.F) {
	for _, l := range paperLines(f, 3) {
		f.Add(l)
	}
	f.Add([]byte(`{"prompt":"p","response":null,"instruction_id_list":"['punctuation:no_comma']"}` + "\n\n" +
		`{"prompt":"p","response":"x","instruction_id_list":["startend:end_checker"],"kwargs":[{"end_phrase":" "}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := ReadJSONL(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("ReadJSONL failed on in-memory input: %v", err)
		}
		for _, it := range items {
			res := ScoreItem(it)
			if len(it.Problems) > 0 && !res.Failed {
				t.Fatalf("line %d has problems %v but is scored", it.Line, it.Problems)
			}
			for _, e := range res.Errors {
				if strings.Contains(e, "internal error") {
					t.Fatalf("line %d: checker panicked: %s", it.Line, e)
				}
			}
			out, err := MarshalScored(it, res)
			if err != nil {
				continue // an invalid input object cannot be re-written
			}
			var obj map[string]any
			if err := json.Unmarshal(out, &obj); err != nil {
				t.Fatalf("line %d: MarshalScored wrote invalid JSON %q: %v", it.Line, out, err)
			}
		}
	})
}

// FuzzCheck gives every checker arbitrary kwargs (as JSON), prompts and
// responses: a verdict or an error, never a panic (recovered panics surface
// as "internal error") and never a verdict from kwargs a checker rejects.
func FuzzCheck(f *testing.F) {
	for _, l := range paperLines(f, 2) {
		var row struct {
			Prompt string           `json:"prompt"`
			IDs    []string         `json:"instruction_id_list"`
			Kwargs []map[string]any `json:"kwargs"`
		}
		if json.Unmarshal(l, &row) != nil || len(row.IDs) == 0 || len(row.Kwargs) == 0 {
			continue
		}
		kw, _ := json.Marshal(row.Kwargs[0])
		f.Add(row.IDs[0], kw, row.Prompt, "A response, with a comma.\n\nP.S. done *highlight* SECTION 1")
	}
	f.Add(IDResponseLanguage, []byte(`{"language":"xx"}`), "", "Bonjour tout le monde")
	f.Add(IDNumberWords, []byte(`{"num_words":-3,"relation":"less than"}`), "", "few words")
	f.Add(IDMultipleSections, []byte(`{"section_spliter":" ","num_sections":2}`), "", "SECTION 1 a SECTION 2 b")
	f.Fuzz(func(t *testing.T, id string, kwJSON []byte, prompt, response string) {
		var kw map[string]any
		if json.Unmarshal(kwJSON, &kw) != nil {
			return
		}
		for _, check := range []func(string, map[string]any, string, string) (bool, error){Check, CheckLoose} {
			_, err := check(id, kw, prompt, response)
			if err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatalf("%s %s: %v", id, kwJSON, err)
			}
		}
	})
}
