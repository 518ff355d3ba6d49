package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gosteer/gosteer/steerlib/tokenizer/tokenizertest"
)

// syntheticVariant is one entry of testdata/synthetic.json (written by
// scripts/oracle/gen_synthetic.mjs): a patch of a real tokenizer.json and the
// Rust crate's output for it.
type syntheticVariant struct {
	Name           string                     `json:"name"`
	Base           string                     `json:"base"`
	Set            map[string]json.RawMessage `json:"set"`
	AddTokens      []map[string]any           `json:"add_tokens"`
	WithSpecial    [][]int                    `json:"with_special"`
	WithoutSpecial [][]int                    `json:"without_special"`
	Decode         [][2]string                `json:"decode"`
}

// applyVariant patches a tokenizer.json as synthetic.mjs's applyVariant does.
func applyVariant(t *testing.T, base []byte, v *syntheticVariant) []byte {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(base, &doc); err != nil {
		t.Fatal(err)
	}
	for k, raw := range v.Set {
		doc[k] = raw
	}
	if len(v.AddTokens) > 0 {
		var model struct {
			Vocab map[string]int `json:"vocab"`
		}
		var added []map[string]any
		if err := json.Unmarshal(doc["model"], &model); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(doc["added_tokens"], &added); err != nil {
			t.Fatal(err)
		}
		next := 0
		for _, id := range model.Vocab {
			next = max(next, id)
		}
		for _, a := range added {
			next = max(next, int(a["id"].(float64)))
		}
		for _, a := range v.AddTokens {
			next++
			tok := map[string]any{"id": next}
			for k, val := range a {
				tok[k] = val
			}
			added = append(added, tok)
		}
		var err error
		if doc["added_tokens"], err = json.Marshal(added); err != nil {
			t.Fatal(err)
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOracleSynthetic covers components the real tokenizers do not use, on
// patched copies of them, against the Rust crate.
func TestOracleSynthetic(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "synthetic.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases    []string           `json:"cases"`
		Variants []syntheticVariant `json:"variants"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	bases := map[string][]byte{}
	for i := range f.Variants {
		v := &f.Variants[i]
		t.Run(v.Name, func(t *testing.T) {
			base, ok := bases[v.Base]
			if !ok {
				dir := tokenizertest.ForTest(t, v.Base)
				if base, err = os.ReadFile(filepath.Join(dir, "tokenizer.json")); err != nil {
					t.Fatal(err)
				}
				bases[v.Base] = base
			}
			tk, err := Parse(applyVariant(t, base, v))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			exact, total := 0, 0
			for i, text := range f.Cases {
				for _, mode := range []struct {
					add  bool
					want []int
				}{{true, v.WithSpecial[i]}, {false, v.WithoutSpecial[i]}} {
					total++
					got, err := tk.Encode(text, mode.add)
					if err != nil {
						t.Errorf("case %d %q: %v", i, text, err)
					} else if !slices.Equal(got, mode.want) {
						t.Errorf("case %d %q addSpecial=%v:\n got  %v\n want %v", i, text, mode.add, got, mode.want)
					} else {
						exact++
					}
				}
				for k, skip := range []bool{false, true} {
					got, err := tk.Decode(v.WithSpecial[i], skip)
					if err != nil || got != v.Decode[i][k] {
						t.Errorf("decode case %d %q skip=%v:\n got  %q, %v\n want %q", i, text, skip, got, err, v.Decode[i][k])
					}
				}
			}
			t.Logf("%s: %d/%d exact", v.Name, exact, total)
		})
	}
}
