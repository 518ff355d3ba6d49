package tokenizer

import (
	"os"
	"testing"

	"github.com/gosteer/gosteer/steerlib/tokenizer/tokenizertest"
)

// FuzzParse mutates tokenizer.json files (the tinyif model's byte-level BPE
// and the synthetic test tokenizers) together with a text: Parse either
// fails or yields a tokenizer whose Encode returns ids inside the vocabulary
// and whose Decode accepts them — no panic, no hang, and an id table no
// larger than the file justifies.
func FuzzParse(f *testing.F) {
	real, err := os.ReadFile("../tinyif/model/tokenizer.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][]byte{real, tokenizertest.TinyByteLevelBPE(true), tokenizertest.TinyByteLevelBPE(false),
		[]byte(`{"model":{"type":"BPE","vocab":{"a":1000000000000},"merges":[]}}`),
		[]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"],"byte_fallback":true},"added_tokens":[{"id":5,"content":"<s>","special":true}]}`)} {
		f.Add(s, "Hello world, it's 2024!\n  <s> héllo 🙂")
	}
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		tk, err := Parse(data)
		if err != nil {
			return
		}
		if tk.VocabSize() > len(data) {
			t.Fatalf("vocabulary of %d ids from a %d-byte file", tk.VocabSize(), len(data))
		}
		for _, add := range []bool{false, true} {
			ids, err := tk.Encode(text, add)
			if err != nil {
				continue
			}
			for _, id := range ids {
				if id < 0 || id >= tk.VocabSize() {
					t.Fatalf("Encode(%q) gave id %d outside [0,%d)", text, id, tk.VocabSize())
				}
			}
			if _, err := tk.Decode(ids, add); err != nil {
				t.Fatalf("Decode of Encode's ids failed: %v", err)
			}
		}
	})
}
