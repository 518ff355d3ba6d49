package tokenizer

import (
	"math/rand/v2"
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
	frags := []string{"a", "Z", "é", "ſ", "ǅ", "你", "\u0301", "1", "٣", "½", "Ⅻ", " ", "  ", "\t", "\n", "\r\n", "\r",
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
	for _, expr := range []string{llama3Pattern, qwen2Pattern, gpt2Pattern} {
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
