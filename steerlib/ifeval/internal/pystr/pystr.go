// Package pystr reproduces the few Python 3 str predicates and regular
// expression character classes that the reference IFEval implementation relies
// on (str.isupper, str.islower, str.isspace, str.strip, and the Unicode-aware
// \w, \s and \b of Python's re module).
package pystr

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsUpperRune reports whether r has the Unicode Uppercase property (Lu plus
// Other_Uppercase), which is what CPython's str.isupper tests per character.
func IsUpperRune(r rune) bool {
	return unicode.IsUpper(r) || unicode.Is(unicode.Other_Uppercase, r)
}

// IsLowerRune reports whether r has the Unicode Lowercase property (Ll plus
// Other_Lowercase).
func IsLowerRune(r rune) bool {
	return unicode.IsLower(r) || unicode.Is(unicode.Other_Lowercase, r)
}

// IsTitleRune reports whether r is a titlecase letter (Lt).
func IsTitleRune(r rune) bool { return unicode.IsTitle(r) }

// IsUpper mirrors Python's str.isupper: true when s holds at least one cased
// character and no lowercase or titlecase character.
func IsUpper(s string) bool {
	cased := false
	for _, r := range s {
		if IsLowerRune(r) || IsTitleRune(r) {
			return false
		}
		if !cased && IsUpperRune(r) {
			cased = true
		}
	}
	return cased
}

// IsLower mirrors Python's str.islower: true when s holds at least one cased
// character and no uppercase or titlecase character.
func IsLower(s string) bool {
	cased := false
	for _, r := range s {
		if IsUpperRune(r) || IsTitleRune(r) {
			return false
		}
		if !cased && IsLowerRune(r) {
			cased = true
		}
	}
	return cased
}

// IsSpace mirrors Python's str.isspace for one character (also the set that
// Python's re module matches with \s on str patterns).
func IsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x1c, 0x1d, 0x1e, 0x1f, 0x85, 0xa0,
		0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// IsWord mirrors the \w class of Python's re module on str patterns:
// alphanumeric characters (letters and characters with a numeric value) and
// the underscore. Combining marks are not word characters in Python.
func IsWord(r rune) bool {
	if r < 0x80 {
		return r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// Strip mirrors Python's str.strip() with no argument (Unicode whitespace).
func Strip(s string) string { return strings.TrimFunc(s, IsSpace) }

// IsBlank reports whether Python's s.strip() would be empty.
func IsBlank(s string) bool { return Strip(s) == "" }

// WordBoundary mirrors Python's \b at byte offset i of s: true when exactly one
// of the characters on either side is a word character.
func WordBoundary(s string, i int) bool {
	before, after := false, false
	if i > 0 {
		r, _ := lastRune(s[:i])
		before = IsWord(r)
	}
	if i < len(s) {
		for _, r := range s[i:] {
			after = IsWord(r)
			break
		}
	}
	return before != after
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xC0 != 0x80 {
			r := []rune(s[i:])
			return r[0], len(s) - i
		}
	}
	return 0, 0
}

// SpaceClass is a Go regexp character class (without brackets) equal to the
// characters Python's re module matches with \s.
const SpaceClass = `\t\n\v\f\r \x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`

// Lower mirrors Python's str.lower(): Unicode full lowercase mapping,
// including 'İ' -> "i̇" and the final-sigma rule for 'Σ'.
func Lower(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		switch r {
		case 0x130:
			b.WriteString("i\u0307")
		case 0x3A3:
			if finalSigma(rs, i) {
				b.WriteRune(0x3C2)
			} else {
				b.WriteRune(0x3C3)
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma implements the Unicode Final_Sigma condition used by Python.
func finalSigma(rs []rune, i int) bool {
	cased := func(r rune) bool { return IsUpperRune(r) || IsLowerRune(r) || unicode.IsTitle(r) }
	ignorable := func(r rune) bool {
		return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk) || r == '\'' || r == '.' || r == ':' || r == 0xB7 || r == 0x2019
	}
	before := false
	for j := i - 1; j >= 0; j-- {
		if ignorable(rs[j]) {
			continue
		}
		before = cased(rs[j])
		break
	}
	if !before {
		return false
	}
	for j := i + 1; j < len(rs); j++ {
		if ignorable(rs[j]) {
			continue
		}
		return !cased(rs[j])
	}
	return true
}
