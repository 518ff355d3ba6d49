package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIFEvalCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	out := filepath.Join(dir, "out.jsonl")
	lines := []string{
		`{"prompt": "Wrap it in quotes.", "response": "\"done\"", "instruction_id_list": ["startend:quotation", "punctuation:no_comma"], "kwargs": [{}, {}]}`,
		`{"prompt": "Title please.", "response": "Sure:\n<<T>>, ok", "instruction_id_list": ["detectable_format:title", "punctuation:no_comma"], "kwargs": [{}, {}]}`,
		`{"prompt": "Bad.", "response": "x", "instruction_id_list": ["no:such_id"], "kwargs": [{}]}`,
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"ifeval", "--input", in, "--out", out, "--workers", "2"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		recs = append(recs, m)
	}
	if len(recs) != 3 {
		t.Fatalf("%d output records, want 3", len(recs))
	}
	type want struct {
		prompt        string
		strict, loose []any
		allS, allL    bool
		errors        bool
	}
	wants := []want{
		{"Wrap it in quotes.", []any{true, true}, []any{true, true}, true, true, false},
		{"Title please.", []any{true, false}, []any{true, true}, false, true, false},
		{"Bad.", []any{false}, []any{false}, false, false, true},
	}
	for i, w := range wants {
		r := recs[i]
		if r["prompt"] != w.prompt || !equalAny(r["strict"], w.strict) || !equalAny(r["loose"], w.loose) ||
			r["follow_all_strict"] != w.allS || r["follow_all_loose"] != w.allL || (r["ifeval_errors"] != nil) != w.errors {
			t.Errorf("record %d = %v", i, r)
		}
	}
	for _, s := range []string{"prompt-level", "instruction-level", "startend:quotation", "1 record(s) could not be fully checked"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
		}
	}

	// --fail-on-errors turns marked records into a failing exit status.
	stderr.Reset()
	if code := run([]string{"ifeval", "--input", in, "--out", out, "--fail-on-errors"}, &stdout, &stderr); code != 1 {
		t.Errorf("--fail-on-errors exit %d, want 1", code)
	}
	// Missing flags and unreadable input are errors.
	if code := run([]string{"ifeval", "--input", in}, &stdout, &stderr); code != 2 {
		t.Errorf("missing --out: exit %d, want 2", code)
	}
	if code := run([]string{"ifeval", "--input", filepath.Join(dir, "nope.jsonl"), "--out", out}, &stdout, &stderr); code != 1 {
		t.Errorf("missing input: exit %d, want 1", code)
	}
}

func equalAny(got any, want []any) bool {
	g, ok := got.([]any)
	if !ok || len(g) != len(want) {
		return false
	}
	for i := range g {
		if g[i] != want[i] {
			return false
		}
	}
	return true
}
