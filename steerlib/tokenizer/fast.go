package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Hand-written matchers for the pre-tokenization expressions of the most
// common tokenizers. Each gives exactly the matches regexp2 gives for its
// expression (TestFastMatchers compares them), several times faster.

const (
	// llama3Pattern is the Split expression of Llama 3 (and SmolLM2-style) tokenizers.
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// qwen2Pattern is the Split expression of Qwen2/Qwen2.5/Qwen3 tokenizers.
	qwen2Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// tekkenPattern is the Split expression of Mistral-Nemo (Tekken) tokenizers.
	tekkenPattern = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// fastMatchers enables the hand-written matchers (benchmarks turn it off to
// measure the regexp2 baseline).
var fastMatchers = true

// fastMatcherFor returns a hand-written matcher equivalent to the regular
// expression expr, or nil when there is none.
func fastMatcherFor(expr string) matcher {
	if !fastMatchers {
		return nil
	}
	switch expr {
	case llama3Pattern:
		return &scanMatcher{caseInsensitive: true, modern: true, maxDigits: 3}
	case qwen2Pattern:
		return &scanMatcher{caseInsensitive: true, modern: true, maxDigits: 1}
	case gpt2Pattern:
		return &scanMatcher{maxDigits: 0}
	case tekkenPattern:
		return tekkenMatcher{}
	}
	return nil
}

// scanMatcher implements the GPT-2 family of expressions:
//
//	modern (Llama 3 / Qwen2):
//	  (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,maxDigits}
//	  | ?[^\s\p{L}\p{N}]+[\r\n]* | \s*[\r\n]+ | \s+(?!\S) | \s+
//	GPT-2 (modern false, case-sensitive, maxDigits 0 = unbounded):
//	  's|'t|'re|'ve|'m|'ll|'d | ?\p{L}+ | ?\p{N}+ | ?[^\s\p{L}\p{N}]+ | \s+(?!\S) | \s+
type scanMatcher struct {
	caseInsensitive bool
	modern          bool
	maxDigits       int // 0: unbounded
}

// Character classes as regexp2 defines them (\s is unicode.IsSpace).
func isL(r rune) bool     { return unicode.IsLetter(r) }
func isN(r rune) bool     { return unicode.IsNumber(r) }
func isS(r rune) bool     { return unicode.IsSpace(r) }
func isCRLF(r rune) bool  { return r == '\r' || r == '\n' }
func isOther(r rune) bool { return !isS(r) && !isL(r) && !isN(r) }

// at decodes the rune at byte offset i (utf8.RuneError, 0 at the end).
func at(s string, i int) (rune, int) {
	if i >= len(s) {
		return utf8.RuneError, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

func (m *scanMatcher) findAll(s string) ([][2]int, error) {
	spans := make([][2]int, 0, len(s)/4+1)
	for i := 0; i < len(s); {
		end := m.matchAt(s, i)
		if end <= i {
			// Every character starts some alternative; this is a safeguard.
			_, size := at(s, i)
			i += size
			continue
		}
		spans = append(spans, [2]int{i, end})
		i = end
	}
	return spans, nil
}

// run returns the end of the run of characters satisfying f from i.
func run(s string, i int, f func(rune) bool) int {
	for i < len(s) {
		r, size := at(s, i)
		if !f(r) {
			break
		}
		i += size
	}
	return i
}

// contraction matches 's|'t|'re|'ve|'m|'ll|'d at i (i holds '\”).
func (m *scanMatcher) contraction(s string, i int) int {
	lower := func(r rune) rune {
		if m.caseInsensitive {
			return unicode.ToLower(r)
		}
		return r
	}
	r1, n1 := at(s, i+1)
	if n1 == 0 {
		return -1
	}
	switch lower(r1) {
	case 's', 't', 'm', 'd':
		return i + 1 + n1
	case 'r', 'v', 'l':
		want := map[rune]rune{'r': 'e', 'v': 'e', 'l': 'l'}[lower(r1)]
		r2, n2 := at(s, i+1+n1)
		if n2 > 0 && lower(r2) == want {
			return i + 1 + n1 + n2
		}
	}
	return -1
}

// matchAt returns the end of the match starting at i, trying the
// alternatives in order, or -1.
func (m *scanMatcher) matchAt(s string, i int) int {
	c, n := at(s, i)
	// 's|'t|'re|'ve|'m|'ll|'d
	if c == '\'' {
		if e := m.contraction(s, i); e >= 0 {
			return e
		}
	}
	next, nn := at(s, i+n)
	// Letters, with one optional leading character.
	if m.modern {
		if isL(c) {
			return run(s, i+n, isL)
		}
		if !isCRLF(c) && !isN(c) && nn > 0 && isL(next) {
			return run(s, i+n+nn, isL)
		}
	} else {
		if isL(c) {
			return run(s, i+n, isL)
		}
		if c == ' ' && nn > 0 && isL(next) {
			return run(s, i+n+nn, isL)
		}
	}
	// Numbers.
	if m.modern {
		if isN(c) {
			e := i + n
			for k := 1; k < m.maxDigits; k++ {
				r, size := at(s, e)
				if size == 0 || !isN(r) {
					break
				}
				e += size
			}
			return e
		}
	} else {
		if isN(c) {
			return run(s, i+n, isN)
		}
		if c == ' ' && nn > 0 && isN(next) {
			return run(s, i+n+nn, isN)
		}
	}
	// Other characters, with an optional leading space (and trailing
	// newlines in the modern expressions).
	start := -1
	if isOther(c) {
		start = i + n
	} else if c == ' ' && nn > 0 && isOther(next) {
		start = i + n + nn
	}
	if start >= 0 {
		e := run(s, start, isOther)
		if m.modern {
			e = run(s, e, isCRLF)
		}
		return e
	}
	if !isS(c) {
		return -1
	}
	return matchWhitespace(s, i, m.modern)
}

// tekkenMatcher implements tekkenPattern:
//
//	P?U*W+ | P?U+W* | \p{N} | ?[^\s\p{L}\p{N}]+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+
//
// with P = [^\r\n\p{L}\p{N}], U = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and
// W = [\p{Ll}\p{Lm}\p{Lo}\p{M}] (U and W overlap, hence the backtracking below).
type tekkenMatcher struct{}

func isTekkenP(r rune) bool { return !isCRLF(r) && !isL(r) && !isN(r) }
func isTekkenU(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Lt, unicode.Lm, unicode.Lo, unicode.M)
}
func isTekkenW(r rune) bool {
	return unicode.In(r, unicode.Ll, unicode.Lm, unicode.Lo, unicode.M)
}

func (tekkenMatcher) findAll(s string) ([][2]int, error) {
	spans := make([][2]int, 0, len(s)/4+1)
	for i := 0; i < len(s); {
		end := tekkenMatchAt(s, i)
		if end <= i {
			_, size := at(s, i)
			i += size
			continue
		}
		spans = append(spans, [2]int{i, end})
		i = end
	}
	return spans, nil
}

// tekkenUW matches U*W+ from start: the U run gives back characters until a W
// character can start the W run.
func tekkenUW(s string, start int) int {
	j := run(s, start, isTekkenU)
	if r, size := at(s, j); size > 0 && isTekkenW(r) {
		return run(s, j, isTekkenW)
	}
	for m := j; m > start; {
		r, size := utf8.DecodeLastRuneInString(s[start:m])
		m -= size
		if isTekkenW(r) {
			return run(s, m, isTekkenW)
		}
	}
	return -1
}

// tekkenUplusW matches U+W* from start.
func tekkenUplusW(s string, start int) int {
	j := run(s, start, isTekkenU)
	if j == start {
		return -1
	}
	return run(s, j, isTekkenW)
}

func tekkenMatchAt(s string, i int) int {
	c, n := at(s, i)
	// The optional P is tried first with, then without, a character.
	starts, ns := [2]int{i, i}, 1
	if isTekkenP(c) {
		starts, ns = [2]int{i + n, i}, 2
	}
	for _, st := range starts[:ns] {
		if e := tekkenUW(s, st); e >= 0 {
			return e
		}
	}
	for _, st := range starts[:ns] {
		if e := tekkenUplusW(s, st); e >= 0 {
			return e
		}
	}
	if isN(c) {
		return i + n
	}
	next, nn := at(s, i+n)
	start := -1
	if isOther(c) {
		start = i + n
	} else if c == ' ' && nn > 0 && isOther(next) {
		start = i + n + nn
	}
	if start >= 0 {
		e := run(s, start, isOther)
		return run(s, e, func(r rune) bool { return isCRLF(r) || r == '/' })
	}
	if !isS(c) {
		return -1
	}
	return matchWhitespace(s, i, true)
}

// matchWhitespace matches the whitespace alternatives that end the split
// patterns at s[i], a whitespace character, and returns the match's end:
// with newlines, \s*[\r\n]+ (up to and including the last newline of the
// run); then \s+(?!\S) (the run, or the run less its last character when a
// non-space follows); then \s+.
func matchWhitespace(s string, i int, newlines bool) int {
	wsEnd := run(s, i, isS)
	if newlines {
		last := -1
		for k := i; k < wsEnd; {
			r, size := at(s, k)
			if isCRLF(r) {
				last = k + size
			}
			k += size
		}
		if last >= 0 {
			return last
		}
	}
	if wsEnd == len(s) {
		return wsEnd
	}
	_, lastSize := utf8.DecodeLastRuneInString(s[:wsEnd])
	if wsEnd-lastSize > i {
		return wsEnd - lastSize
	}
	return wsEnd
}
