package tinyif

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gosteer/gosteer/steerlib/chat"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
)

// smallTokenizer trains a small BPE on a small corpus (fast) and writes it.
func smallTokenizer(t *testing.T) (*BPE, string) {
	t.Helper()
	c, err := Corpus(21, 600)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range c {
		texts = append(texts, e.Prompt, e.Answer)
	}
	tok, err := TrainBPE(texts, 300)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tok.WriteFiles(dir, 256); err != nil {
		t.Fatal(err)
	}
	return tok, dir
}

func TestBPERoundTripAndDeterminism(t *testing.T) {
	tok, dir := smallTokenizer(t)
	again, _ := smallTokenizer(t)
	if !reflect.DeepEqual(tok.Merges, again.Merges) {
		t.Fatal("BPE training is not deterministic")
	}
	loaded, err := LoadBPE(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded.Vocab, tok.Vocab) || !reflect.DeepEqual(loaded.Merges, tok.Merges) {
		t.Fatal("tokenizer.json does not round-trip")
	}
	for _, text := range []string{
		"Tell me about owls. Answer in lowercase.",
		"<<Owls>>\n* one, two\n* THREE {\"answer\": \"x\"}",
		"unseen wörds ✓ and   spaces\t\ttabs",
		RenderChat("Describe harbors.") + "Harbors can be calm." + TokImEnd,
	} {
		ids, err := tok.Encode(text)
		if err != nil {
			t.Fatal(err)
		}
		back, err := tok.Decode(ids)
		if err != nil {
			t.Fatal(err)
		}
		if back != text {
			t.Errorf("round trip %q -> %q", text, back)
		}
	}
	ids, err := tok.Encode(TokImStart + TokImEnd)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{tok.ID(TokImStart), tok.ID(TokImEnd)}; !reflect.DeepEqual(ids, want) {
		t.Errorf("special tokens encode to %v, want %v", ids, want)
	}
	if _, err := tok.Decode([]int{len(tok.Vocab)}); err == nil {
		t.Error("decoding an out-of-range id did not fail")
	}
}

// TestTokenizerLoadsThroughSteerlib checks that the written tokenizer and chat
// template give the same ids and text through steerlib/tokenizer and
// steerlib/chat as through tinyif's own encoder and RenderChat.
func TestTokenizerLoadsThroughSteerlib(t *testing.T) {
	tok, dir := smallTokenizer(t)
	st, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := chat.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if eos, ok := st.EOS(); !ok || eos.Text != TokImEnd || eos.ID != tok.ID(TokImEnd) {
		t.Errorf("EOS = %+v, %v; want %s id %d", eos, ok, TokImEnd, tok.ID(TokImEnd))
	}
	var exs []Example
	for _, in := range append([]Instruction{{ID: ""}}, Instructions...) {
		e, err := EvalExamples(4, SplitTest, in.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		exs = append(exs, e...)
	}
	for _, e := range exs {
		rendered, err := tpl.Render([]chat.Message{{Role: "user", Content: e.Prompt}}, chat.Options{AddGenerationPrompt: true, Date: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if rendered != RenderChat(e.Prompt) {
			t.Fatalf("chat template renders %q, RenderChat %q", rendered, RenderChat(e.Prompt))
		}
		text := rendered + e.Answer + TokImEnd
		want, err := tok.Encode(text)
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.Encode(text, false)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("steerlib/tokenizer ids differ for %q:\n got %v\nwant %v", text, got, want)
		}
		dec, err := st.Decode(want, false)
		if err != nil {
			t.Fatal(err)
		}
		if dec != text {
			t.Fatalf("steerlib/tokenizer decodes %q, want %q", dec, text)
		}
	}
}

// TestCasedBPEMirrors: a word, its capitalized form and its capitals are cut
// at the same places by the cased tokenizer, for the held-out topics (which
// the tokenizer never saw) as well as for made-up words.
func TestCasedBPEMirrors(t *testing.T) {
	tok, err := BuildTokenizer(1, 300)
	if err != nil {
		t.Fatal(err)
	}
	pieces := func(text string) []string {
		ids, err := tok.Encode(text)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, id := range ids {
			out = append(out, tok.Vocab[id])
		}
		return out
	}
	words := append(Topics(SplitTest), "drimbles", "quoxtrel", "harbor towns")
	for _, w := range words {
		for _, prefix := range []string{"", " ", "<<"} {
			lower := pieces(prefix + w)
			for _, form := range []struct {
				name string
				text string
				want func(string) string
			}{{"capitals", asciiUpper(w), asciiUpper}, {"capitalized", titleCase(w), capitalizeWord}} {
				got := pieces(prefix + form.text)
				if len(got) != len(lower) {
					t.Errorf("%s %q: %q vs %q", form.name, prefix+w, got, lower)
					continue
				}
				for i := range got {
					want := asciiUpper(lower[i])
					if form.name == "capitalized" {
						want = lower[i]
						if isWordStart(lower, i) {
							want = capitalizeWord(lower[i])
						}
					}
					if got[i] != want {
						t.Errorf("%s %q: piece %d is %q, want %q (%q vs %q)", form.name, prefix+w, i, got[i], want, got, lower)
						break
					}
				}
			}
		}
	}
	if n := len(tok.Vocab); n < 256+300 || n > 256+3*300+len(SpecialTokens) {
		t.Errorf("vocabulary of %d tokens for 300 merges", n)
	}
}

// isWordStart reports whether piece i of a byte-level token sequence begins
// a word: it starts with a letter and follows a space, a non-letter or
// nothing.
func isWordStart(pieces []string, i int) bool {
	first := []rune(strings.TrimPrefix(pieces[i], string(byteToRune[' '])))
	if len(first) == 0 || first[0] < 'a' || first[0] > 'z' {
		return false
	}
	if strings.HasPrefix(pieces[i], string(byteToRune[' '])) || i == 0 {
		return true
	}
	prev := []rune(pieces[i-1])
	last := prev[len(prev)-1]
	return !(last >= 'a' && last <= 'z') && !(last >= 'A' && last <= 'Z')
}
