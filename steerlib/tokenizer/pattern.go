package tokenizer

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// matcher finds the non-overlapping matches of a Split/Replace pattern, as
// byte spans in order.
type matcher interface {
	findAll(s string) ([][2]int, error)
}

// RegexTimeout bounds one match of a tokenizer.json regular expression. The
// backtracking engine that lookaheads need can take exponential time on a
// pattern such as (a+)+$; a tokenizer from a downloaded model folder must
// make Encode fail, not hang. Real pre-tokenizer patterns match in
// microseconds.
var RegexTimeout = 5 * time.Second

func newMatcher(p pattern) (matcher, error) {
	switch {
	case p.String != nil && p.Regex != nil:
		return nil, fmt.Errorf("pattern has both String and Regex")
	case p.String != nil:
		return literalMatcher(*p.String), nil
	case p.Regex != nil:
		if fast := fastMatcherFor(*p.Regex); fast != nil {
			return fast, nil
		}
		re, err := regexp2.Compile(*p.Regex, regexp2.None)
		if err != nil {
			return nil, fmt.Errorf("compile regex %q: %w", *p.Regex, err)
		}
		re.MatchTimeout = RegexTimeout
		return regexMatcher{re}, nil
	default:
		return nil, fmt.Errorf("pattern has neither String nor Regex")
	}
}

// literalMatcher matches a fixed string.
type literalMatcher string

func (m literalMatcher) findAll(s string) ([][2]int, error) {
	lit := string(m)
	if lit == "" {
		return nil, nil
	}
	var spans [][2]int
	off := 0
	for {
		i := strings.Index(s[off:], lit)
		if i < 0 {
			return spans, nil
		}
		spans = append(spans, [2]int{off + i, off + i + len(lit)})
		off += i + len(lit)
	}
}

// regexMatcher matches a regular expression with backtracking semantics
// (lookahead included), like the Oniguruma engine of the reference.
type regexMatcher struct{ re *regexp2.Regexp }

// findAll requires valid UTF-8 (Encode guarantees it) so that rune and byte
// offsets correspond.
func (m regexMatcher) findAll(s string) ([][2]int, error) {
	if s == "" {
		return nil, nil
	}
	runes := []rune(s)
	var spans [][2]int
	// Map rune indices to byte offsets incrementally: matches come in order.
	ri, bi := 0, 0
	advance := func(to int) int {
		for ri < to {
			bi += utf8.RuneLen(runes[ri])
			ri++
		}
		return bi
	}
	mt, err := m.re.FindRunesMatch(runes)
	for ; err == nil && mt != nil; mt, err = m.re.FindNextMatch(mt) {
		start := advance(mt.Index)
		end := advance(mt.Index + mt.Length)
		spans = append(spans, [2]int{start, end})
	}
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", m.re.String(), err)
	}
	return spans, nil
}
