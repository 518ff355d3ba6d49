package tokenizer

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedTokenJSON is one entry of tokenizer.json's "added_tokens".
type addedTokenJSON struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// addedToken is an added token ready for matching; text is the content as
// matched (normalized for normalized tokens).
type addedToken struct {
	addedTokenJSON
	text string
}

// tokenMatcher finds added tokens in text, leftmost first and longest among
// those starting at the same position.
type tokenMatcher struct {
	byFirst map[byte][]*addedToken // sorted by decreasing len(text)
}

func newTokenMatcher(toks []*addedToken) *tokenMatcher {
	m := &tokenMatcher{byFirst: map[byte][]*addedToken{}}
	for _, t := range toks {
		if t.text == "" {
			continue
		}
		m.byFirst[t.text[0]] = append(m.byFirst[t.text[0]], t)
	}
	for _, l := range m.byFirst {
		sort.SliceStable(l, func(i, j int) bool { return len(l[i].text) > len(l[j].text) })
	}
	return m
}

func (m *tokenMatcher) empty() bool { return m == nil || len(m.byFirst) == 0 }

// segment is a run of text (id < 0) or an added token (id >= 0).
type segment struct {
	text  string
	id    int
	start int // byte offset in the string that was split
}

// isWordChar reports whether r counts as part of a word for single_word: the
// Unicode \w class of the reference (Alphabetic, marks, decimal digits,
// connector punctuation and the zero-width joiners).
func isWordChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r) ||
		unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) || r == 0x200C || r == 0x200D
}

// split cuts s into text segments and added-token segments, applying each
// token's single_word, lstrip and rstrip options, and appends them to dst.
func (m *tokenMatcher) split(dst []segment, s string) []segment {
	if m.empty() {
		return append(dst, segment{text: s, id: -1})
	}
	startOff := 0 // end of the previous emitted token
	i := 0
	for i < len(s) {
		cands := m.byFirst[s[i]]
		var tok *addedToken
		for _, t := range cands {
			if strings.HasPrefix(s[i:], t.text) {
				tok = t
				break
			}
		}
		if tok == nil {
			i++
			continue
		}
		start, stop := i, i+len(tok.text)
		i = stop
		if tok.SingleWord {
			before, _ := utf8.DecodeLastRuneInString(s[:start])
			after, _ := utf8.DecodeRuneInString(s[stop:])
			if (start > 0 && isWordChar(before)) || (stop < len(s) && isWordChar(after)) {
				continue
			}
		}
		if tok.LStrip {
			ns := len(strings.TrimRightFunc(s[:start], unicode.IsSpace))
			start = max(ns, startOff)
		}
		if tok.RStrip {
			stop = len(s) - len(strings.TrimLeftFunc(s[stop:], unicode.IsSpace))
		}
		if startOff < start {
			dst = append(dst, segment{text: s[startOff:start], id: -1, start: startOff})
		}
		dst = append(dst, segment{text: s[start:stop], id: tok.ID, start: start})
		startOff = stop
		if i < stop {
			i = stop
		}
	}
	if startOff < len(s) || len(s) == 0 {
		dst = append(dst, segment{text: s[startOff:], id: -1, start: startOff})
	}
	return dst
}
