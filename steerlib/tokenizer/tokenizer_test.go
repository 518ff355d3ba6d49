package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosteer/gosteer/steerlib/tokenizer/tokenizertest"
)

// TestTinyByteLevelBPE checks a small byte-level BPE (the shape of the tinyif
// tokenizer), with and without merges. Expected ids follow from the vocabulary
// documented in tokenizertest.TinyByteLevelBPE.
func TestTinyByteLevelBPE(t *testing.T) {
	tests := []struct {
		text       string
		addSpecial bool
		merges     []int // with merges
		noMerges   []int // empty merges list
	}{
		{"", false, []int{}, []int{}},
		{"", true, []int{259}, []int{259}},
		{"ab", false, []int{256}, []int{97, 98}},
		{"abab", false, []int{258}, []int{97, 98, 97, 98}},
		{"ababab", false, []int{258, 256}, []int{97, 98, 97, 98, 97, 98}},
		{"aab", false, []int{97, 256}, []int{97, 97, 98}},
		{" a", false, []int{257}, []int{32, 97}},
		{"a b", true, []int{259, 97, 32, 98}, []int{259, 97, 32, 98}},
		{"ab<eos>", true, []int{259, 256, 260}, []int{259, 97, 98, 260}},
		{"é\n", false, []int{0xC3, 0xA9, 10}, []int{0xC3, 0xA9, 10}},
	}
	for _, withMerges := range []bool{true, false} {
		tk, err := Parse(tokenizertest.TinyByteLevelBPE(withMerges))
		if err != nil {
			t.Fatalf("Parse(merges=%v): %v", withMerges, err)
		}
		for _, tc := range tests {
			want := tc.merges
			if !withMerges {
				want = tc.noMerges
			}
			got, err := tk.Encode(tc.text, tc.addSpecial)
			if err != nil {
				t.Fatalf("Encode(%q): %v", tc.text, err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("merges=%v Encode(%q, %v) = %v, want %v", withMerges, tc.text, tc.addSpecial, got, want)
			}
			dec, err := tk.Decode(got, true)
			// Decoding with skipSpecial drops <bos>/<eos> and restores the rest.
			if wantText := strings.ReplaceAll(tc.text, "<eos>", ""); err != nil || dec != wantText {
				t.Errorf("merges=%v Decode(%v) = %q, %v; want %q", withMerges, got, dec, err, wantText)
			}
		}
		if bos, ok := tk.BOS(); !ok || bos.ID != 259 || bos.Text != "<bos>" {
			t.Errorf("BOS() = %v, %v; want <bos> 259", bos, ok)
		}
		if !tk.AddsBOS() {
			t.Error("AddsBOS() = false")
		}
		if tk.VocabSize() != 261 {
			t.Errorf("VocabSize() = %d, want 261", tk.VocabSize())
		}
	}
}

// TestLoadConfig checks special-token lookups from tokenizer_config.json.
func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), tokenizertest.TinyByteLevelBPE(true), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := `{"bos_token": {"content": "<bos>", "lstrip": false}, "eos_token": "<eos>", "pad_token": null}`
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := tk.EOS(); !ok || s != (SpecialToken{"<eos>", 260}) {
		t.Errorf("EOS() = %v, %v", s, ok)
	}
	if s, ok := tk.BOS(); !ok || s != (SpecialToken{"<bos>", 259}) {
		t.Errorf("BOS() = %v, %v", s, ok)
	}
	if _, ok := tk.Pad(); ok {
		t.Error("Pad() present for pad_token null")
	}
	if !tk.IsSpecial(260) || tk.IsSpecial(256) {
		t.Error("IsSpecial wrong")
	}
	if got := tk.SpecialIDs(); !slices.Equal(got, []int{259, 260}) {
		t.Errorf("SpecialIDs() = %v", got)
	}
	if s, ok := tk.IDToken(256); !ok || s != "ab" {
		t.Errorf("IDToken(256) = %q, %v", s, ok)
	}
	if _, ok := tk.IDToken(9999); ok {
		t.Error("IDToken(9999) found")
	}
	// Loading the file path directly works too.
	if _, err := Load(filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Errorf("Load(file): %v", err)
	}
	// A config naming a token that does not exist is an error.
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"eos_token": "<nope>"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "<nope>") {
		t.Errorf("Load with unknown eos_token: err = %v", err)
	}
}

// patch returns the tiny tokenizer with top-level keys replaced by raw JSON.
func patch(t *testing.T, keys map[string]string) []byte {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(tokenizertest.TinyByteLevelBPE(true), &doc); err != nil {
		t.Fatal(err)
	}
	for k, v := range keys {
		doc[k] = json.RawMessage(v)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUnsupported checks that components this package does not implement are
// rejected with an error naming them.
func TestUnsupported(t *testing.T) {
	tests := []struct {
		name string
		keys map[string]string
		want string
	}{
		{"unigram", map[string]string{"model": `{"type": "Unigram", "vocab": [["a", 0.0]]}`}, `model type "Unigram"`},
		{"wordpiece", map[string]string{"model": `{"type": "WordPiece", "vocab": {"a": 0}}`}, `model type "WordPiece"`},
		{"precompiled", map[string]string{"normalizer": `{"type": "Precompiled", "precompiled_charsmap": ""}`}, `normalizer type "Precompiled"`},
		{"bert pre", map[string]string{"pre_tokenizer": `{"type": "BertPreTokenizer"}`}, `pre_tokenizer type "BertPreTokenizer"`},
		{"nested pre", map[string]string{"pre_tokenizer": `{"type": "Sequence", "pretokenizers": [{"type": "UnicodeScripts"}]}`}, `Sequence[0]: unsupported pre_tokenizer type "UnicodeScripts"`},
		{"ctc decoder", map[string]string{"decoder": `{"type": "CTC"}`}, `decoder type "CTC"`},
		{"post", map[string]string{"post_processor": `{"type": "Custom"}`}, `post_processor type "Custom"`},
		{"truncation", map[string]string{"truncation": `{"max_length": 8}`}, "truncation"},
		{"padding", map[string]string{"padding": `{"strategy": "BatchLongest"}`}, "padding"},
		{"bad regex", map[string]string{"pre_tokenizer": `{"type": "Split", "pattern": {"Regex": "(?<"}, "behavior": "Isolated", "invert": false}`}, "compile regex"},
		{"bad behavior", map[string]string{"pre_tokenizer": `{"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways", "invert": false}`}, `split behavior "Sideways"`},
		{"not json", map[string]string{"normalizer": `{"type": 3}`}, "normalizer"},
		{"vocab id beyond the file", map[string]string{"model": `{"type": "BPE", "vocab": {"a": 1000000000000}, "merges": []}`, "added_tokens": "[]", "post_processor": "null"},
			"model.vocab: id 1000000000000 is beyond"},
		{"post-processor id outside the vocabulary", map[string]string{"post_processor": `{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<x>"}}, {"Sequence": {"id": "A"}}], "special_tokens": {"<x>": {"id": "<x>", "ids": [99999], "tokens": ["<x>"]}}}`},
			"post_processor: special token id 99999 outside the vocabulary"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(patch(t, tc.keys))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse: err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestLoadErrorNamesFile: a malformed tokenizer.json read by Load gives one
// error naming the file and the field.
func TestLoadErrorNamesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokenizer.json")
	if err := os.WriteFile(path, patch(t, map[string]string{"decoder": `{"type": "CTC"}`}), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "decoder") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Load: %v, want one line naming %s and the decoder field", err, path)
	}
}

// TestRegexTimeout: a tokenizer.json regex with catastrophic backtracking
// makes Encode fail after RegexTimeout instead of hanging.
func TestRegexTimeout(t *testing.T) {
	defer func(d time.Duration) { RegexTimeout = d }(RegexTimeout)
	RegexTimeout = 100 * time.Millisecond
	tk, err := Parse(patch(t, map[string]string{"pre_tokenizer": `{"type": "Split", "pattern": {"Regex": "(a+)+$"}, "behavior": "Isolated", "invert": false}`}))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = tk.Encode(strings.Repeat("a", 40)+"!", false)
	if err == nil || !strings.Contains(err.Error(), "(a+)+$") {
		t.Fatalf("Encode: %v, want a timeout error naming the regex", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Encode took %v to give up", d)
	}
}

// TestBadModel checks BPE consistency errors.
func TestBadModel(t *testing.T) {
	base := `{"type": "BPE", "dropout": %s, "unk_token": %s, "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": %s}`
	tests := []struct {
		name, dropout, unk, merges, want string
	}{
		{"dropout", "0.1", "null", `[]`, "dropout"},
		{"unk missing", "null", `"<unk>"`, `[]`, `unk_token "<unk>"`},
		{"merge part missing", "null", "null", `["a c"]`, `token "c"`},
		{"merged missing", "null", "null", `["b a"]`, `merged token "ba"`},
		{"merge no space", "null", "null", `["ab"]`, "no space"},
		{"merge arity", "null", "null", `[["a", "b", "c"]]`, "want 2 parts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			model := strings.Replace(strings.Replace(strings.Replace(base, "%s", tc.dropout, 1), "%s", tc.unk, 1), "%s", tc.merges, 1)
			_, err := Parse(patch(t, map[string]string{"model": model, "added_tokens": "[]", "post_processor": "null"}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tk, err := Parse(tokenizertest.TinyByteLevelBPE(true))
	if err != nil {
		t.Fatal(err)
	}
	for _, ids := range [][]int{{-1}, {261}, {0, 1 << 30}} {
		if _, err := tk.Decode(ids, false); err == nil {
			t.Errorf("Decode(%v): no error", ids)
		}
	}
}

// TestLossyUTF8 checks the replacement of ill-formed UTF-8 (one U+FFFD per
// maximal subpart, as Rust's from_utf8_lossy).
func TestLossyUTF8(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"\xff", "\uFFFD"},
		{"\xff\xfe", "\uFFFD\uFFFD"},
		{"\xf0\x9f\x98", "\uFFFD"},             // truncated 4-byte sequence
		{"\xf0\x9f\x98a", "\uFFFDa"},           // truncated then ASCII
		{"\xe0\x80\x80", "\uFFFD\uFFFD\uFFFD"}, // overlong: E0 needs A0..BF
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"}, // surrogate
		{"a\xc3", "a\uFFFD"},
		{"\xc3\xa9\xc3", "é\uFFFD"},
	}
	for _, tc := range tests {
		if got := lossyUTF8([]byte(tc.in)); got != tc.want {
			t.Errorf("lossyUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestInvalidUTF8Input checks that invalid input is encoded as U+FFFD.
func TestInvalidUTF8Input(t *testing.T) {
	tk, err := Parse(tokenizertest.TinyByteLevelBPE(true))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tk.Encode("a\xffb", false)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := tk.Encode("a\uFFFDb", false)
	if !slices.Equal(got, want) {
		t.Errorf("Encode(invalid) = %v, want %v", got, want)
	}
}

// TestConcurrentEncode runs Encode from several goroutines (the word cache is
// shared) and compares with sequential results.
func TestConcurrentEncode(t *testing.T) {
	tk, err := Parse(tokenizertest.TinyByteLevelBPE(true))
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"ab ab abab", " a aab", "ababab ab", "x y z ab"}
	want := make([][]int, len(texts))
	for i, s := range texts {
		if want[i], err = tk.Encode(s, true); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				i := (g + k) % len(texts)
				got, err := tk.Encode(texts[i], true)
				if err != nil || !slices.Equal(got, want[i]) {
					errs <- texts[i]
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent Encode(%q) differs", s)
	}
}

// TestAddedTokenIDs checks the reference's id assignment for added tokens: a
// token already in the vocabulary keeps its id; new ones are numbered from the
// vocabulary size; a differing id in the file is reported by Warnings.
func TestAddedTokenIDs(t *testing.T) {
	added := `[
		{"id": 300, "content": "<x>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
		{"id": 7, "content": "ab", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": false},
		{"id": 301, "content": "<y>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}]`
	tk, err := Parse(patch(t, map[string]string{"added_tokens": added, "post_processor": "null"}))
	if err != nil {
		t.Fatal(err)
	}
	for tok, want := range map[string]int{"<x>": 259, "ab": 256, "<y>": 260} {
		if id, ok := tk.TokenID(tok); !ok || id != want {
			t.Errorf("TokenID(%q) = %d, %v; want %d", tok, id, ok, want)
		}
	}
	if w := tk.Warnings(); len(w) != 3 {
		t.Errorf("Warnings() = %q, want 3 entries", w)
	}
	ids, err := tk.Encode("<x>ab<y>", false)
	if err != nil || !slices.Equal(ids, []int{259, 256, 260}) {
		t.Errorf("Encode = %v, %v", ids, err)
	}
	tiny, err := Parse(tokenizertest.TinyByteLevelBPE(true))
	if err != nil {
		t.Fatal(err)
	}
	if w := tiny.Warnings(); len(w) != 0 {
		t.Errorf("tiny tokenizer warnings: %q", w)
	}
}
