package ifeval

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gosteer/gosteer/steerlib/ifeval/langdetect"
)

// oracleRow is one line of testdata/oracle.jsonl, written by
// testdata/gen_oracle.py from Python's langdetect 1.0.9 (seed 0) and NLTK 3.8
// (Punkt with the English parameters used here, NLTKWordTokenizer).
type oracleRow struct {
	Text       string   `json:"text"`
	Langdetect [][2]any `json:"langdetect"`
	Sentences  []string `json:"sentences"`
	Words      []string `json:"words"`
}

func readOracle(t *testing.T) []oracleRow {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "oracle.jsonl"))
	if err != nil {
		t.Fatalf("open oracle: %v", err)
	}
	defer f.Close()
	var rows []oracleRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r oracleRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("oracle line %d: %v", len(rows)+1, err)
		}
		rows = append(rows, r)
	}
	if len(rows) < 50 {
		t.Fatalf("oracle has %d rows", len(rows))
	}
	return rows
}

// TestLangdetectMatchesPython checks the Go langdetect port against Python's
// langdetect with DetectorFactory.seed = 0: same languages, same order,
// probabilities within 1e-9, same "no features" cases.
func TestLangdetectMatchesPython(t *testing.T) {
	m, err := langdetect.Default()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range readOracle(t) {
		got, err := m.Probabilities(r.Text, 0)
		if r.Langdetect == nil {
			if err != langdetect.ErrNoFeatures {
				t.Errorf("row %d %q: got %v, %v; want ErrNoFeatures", i+1, r.Text, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("row %d %q: %v", i+1, r.Text, err)
			continue
		}
		if len(got) != len(r.Langdetect) {
			t.Errorf("row %d %q: got %v, want %v", i+1, r.Text, got, r.Langdetect)
			continue
		}
		for j, w := range r.Langdetect {
			if got[j].Lang != w[0].(string) || math.Abs(got[j].Prob-w[1].(float64)) > 1e-9 {
				t.Errorf("row %d %q: got %v, want %v", i+1, r.Text, got, r.Langdetect)
				break
			}
		}
	}
}

// TestSentencesMatchNLTK checks Punkt sentence splitting against NLTK.
func TestSentencesMatchNLTK(t *testing.T) {
	for i, r := range readOracle(t) {
		got, err := SplitSentences(r.Text)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 && len(r.Sentences) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, r.Sentences) {
			t.Errorf("row %d %q:\n got  %q\n want %q", i+1, r.Text, got, r.Sentences)
		}
	}
}

// TestWordTokenizeMatchesNLTK checks word_tokenize against NLTK.
func TestWordTokenizeMatchesNLTK(t *testing.T) {
	for i, r := range readOracle(t) {
		got, err := WordTokenize(r.Text)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 && len(r.Words) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, r.Words) {
			t.Errorf("row %d %q:\n got  %q\n want %q", i+1, r.Text, got, r.Words)
		}
	}
}
