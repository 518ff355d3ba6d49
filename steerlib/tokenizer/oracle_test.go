package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gosteer/gosteer/steerlib/tokenizer/tokenizertest"
)

// oracleVectors is testdata/vectors.json, written by scripts/oracle/gen_tokens.mjs
// from the Rust tokenizers crate (npm tokenizers@0.23.2).
type oracleVectors struct {
	Oracle     string   `json:"oracle"`
	Cases      []string `json:"cases"`
	Tokenizers map[string]struct {
		WithSpecial    [][]int     `json:"with_special"`
		WithoutSpecial [][]int     `json:"without_special"`
		Decode         [][2]string `json:"decode"`
	} `json:"tokenizers"`
}

func loadVectors(t testing.TB) *oracleVectors {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "vectors.json"))
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var v oracleVectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("parse vectors: %v", err)
	}
	return &v
}

var loaded = map[string]*Tokenizer{}

// loadNamed loads (once per test binary) the npm tokenizer package name.
func loadNamed(t testing.TB, name string) *Tokenizer {
	t.Helper()
	if tk, ok := loaded[name]; ok {
		return tk
	}
	dir := tokenizertest.ForTest(t, name)
	tk, err := Load(dir)
	if err != nil {
		t.Fatalf("Load(%s): %v", dir, err)
	}
	loaded[name] = tk
	return tk
}

// TestOracleIDs compares Encode and Decode with the Rust crate on every
// committed vector, with and without special tokens.
func TestOracleIDs(t *testing.T) {
	v := loadVectors(t)
	for _, name := range tokenizertest.Names {
		t.Run(name, func(t *testing.T) {
			want, ok := v.Tokenizers[name]
			if !ok {
				t.Fatalf("no vectors for %s", name)
			}
			if len(want.WithSpecial) != len(v.Cases) || len(want.WithoutSpecial) != len(v.Cases) || len(want.Decode) != len(v.Cases) {
				t.Fatalf("vectors for %s do not cover the %d cases", name, len(v.Cases))
			}
			tk := loadNamed(t, name)
			for _, w := range tk.Warnings() {
				t.Logf("warning: %s", w)
			}
			total, exact := 0, 0
			for i, text := range v.Cases {
				for _, mode := range []struct {
					add  bool
					want []int
				}{{true, want.WithSpecial[i]}, {false, want.WithoutSpecial[i]}} {
					total++
					got, err := tk.Encode(text, mode.add)
					if err != nil {
						t.Errorf("case %d %q addSpecial=%v: %v", i, text, mode.add, err)
						continue
					}
					if slices.Equal(got, mode.want) {
						exact++
						continue
					}
					t.Errorf("case %d %q addSpecial=%v:\n got  %v\n want %v", i, text, mode.add, got, mode.want)
				}
				for k, skip := range []bool{false, true} {
					got, err := tk.Decode(want.WithSpecial[i], skip)
					if err != nil {
						t.Errorf("decode case %d skip=%v: %v", i, skip, err)
						continue
					}
					if got != want.Decode[i][k] {
						t.Errorf("decode case %d %q skip=%v:\n got  %q\n want %q", i, text, skip, got, want.Decode[i][k])
					}
				}
			}
			t.Logf("%s: %d/%d exact (%.2f%%)", name, exact, total, 100*float64(exact)/float64(total))
		})
	}
}
