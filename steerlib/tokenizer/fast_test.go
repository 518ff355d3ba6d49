package tokenizer

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/dlclark/regexp2"
)

// TestFastMatchers compares each hand-written matcher with regexp2 on the
// committed test strings and on random strings mixing the character classes
// the expressions distinguish.
func TestFastMatchers(t *testing.T) {
	inputs := loadVectors(t).Cases
	frags := []string{"a", "Z", "ABC", "ǅ", "ʰ", "ˇ", "ª", "\u0903", "\u20dd", "/", "\n/", "ĳ", "ǈa", "AʰB", "a", "Z", "é", "ſ", "ǅ", "你", "\u0301", "1", "٣", "½", "Ⅻ", " ", "  ", "\t", "\n", "\r\n", "\r",
		"\u00a0", "\u3000", "\u2028", "\u0085", "\v", "\f", "'", "'s", "'S", "'re", "'RE", "'ll", "'Ll", "'ve", "'m", "'d", "'t", "'x",
		".", "!", "?!", "-", "😀", "\u200d", "\ufeff", "_", "\x00", "\x7f"}
	rng := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < 4000; k++ {
		var b strings.Builder
		for n := rng.IntN(12); n >= 0; n-- {
			b.WriteString(frags[rng.IntN(len(frags))])
		}
		inputs = append(inputs, b.String())
	}
	for _, expr := range []string{llama3Pattern, qwen2Pattern, gpt2Pattern, tekkenPattern} {
		fast := fastMatcherFor(expr)
		if fast == nil {
			t.Fatalf("no fast matcher for %q", expr)
		}
		re := regexMatcher{regexp2.MustCompile(expr, regexp2.None)}
		bad := 0
		for _, s := range inputs {
			want, err := re.findAll(s)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := fast.findAll(s)
			if len(want) == 0 && len(got) == 0 {
				continue
			}
			if !slices.Equal(got, want) {
				bad++
				if bad <= 5 {
					t.Errorf("%.30s… on %q:\n got  %v\n want %v", expr, s, got, want)
				}
			}
		}
		if bad > 0 {
			t.Errorf("%.30s…: %d/%d inputs differ", expr, bad, len(inputs))
		}
	}
}

// BenchmarkSplitPattern measures the pre-tokenizer expressions alone, with
// regexp2 and with the hand-written matchers, on the corpus of
// BenchmarkEncodeCorpus ($GOSTEER_BENCH_CORPUS or the committed test cases).
func BenchmarkSplitPattern(b *testing.B) {
	var docs []string
	if path := os.Getenv("GOSTEER_BENCH_CORPUS"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(data, &docs); err != nil {
			b.Fatal(err)
		}
	} else {
		docs = loadVectors(b).Cases
	}
	total := 0
	for _, d := range docs {
		total += len(d)
	}
	for _, p := range []struct{ name, expr string }{{"llama3", llama3Pattern}, {"qwen2", qwen2Pattern}, {"gpt2", gpt2Pattern}, {"tekken", tekkenPattern}} {
		for _, impl := range []string{"regexp2", "scan"} {
			var m matcher = regexMatcher{regexp2.MustCompile(p.expr, regexp2.None)}
			if impl == "scan" {
				m = fastMatcherFor(p.expr)
			}
			b.Run(p.name+"/"+impl, func(b *testing.B) {
				b.SetBytes(int64(total))
				for i := 0; i < b.N; i++ {
					for _, d := range docs {
						if _, err := m.findAll(d); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}
