package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// piece is a segment of text on its way to the model. atStart records whether
// the piece begins at offset 0 of the original input (Metaspace's "first"
// prepend scheme depends on it).
type piece struct {
	s       string
	atStart bool
}

// preTokenizer splits one piece into smaller pieces, appending them to dst.
type preTokenizer interface {
	split(dst []piece, p piece) ([]piece, error)
}

// splitBehavior is how Split keeps the delimiters it finds.
type splitBehavior int

const (
	behaviorRemoved splitBehavior = iota
	behaviorIsolated
	behaviorMergedWithPrevious
	behaviorMergedWithNext
	behaviorContiguous
)

func parseBehavior(s string) (splitBehavior, error) {
	switch s {
	case "Removed":
		return behaviorRemoved, nil
	case "Isolated":
		return behaviorIsolated, nil
	case "MergedWithPrevious":
		return behaviorMergedWithPrevious, nil
	case "MergedWithNext":
		return behaviorMergedWithNext, nil
	case "Contiguous":
		return behaviorContiguous, nil
	}
	return 0, fmt.Errorf("unsupported split behavior %q", s)
}

// gpt2Pattern is the regular expression of the ByteLevel pre-tokenizer.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// buildPreTokenizer reads tokenizer.json's pre_tokenizer (nil when null),
// dispatching on its type; errors name the type.
func buildPreTokenizer(raw json.RawMessage) (preTokenizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	typ, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	var pt preTokenizer
	switch typ {
	case "ByteLevel":
		pt, err = buildByteLevelPre(raw)
	case "Split":
		pt, err = buildSplitPre(raw)
	case "Digits":
		pt, err = buildDigitsPre(raw)
	case "Punctuation":
		pt, err = buildPunctuationPre(raw)
	case "Metaspace":
		pt, err = buildMetaspacePre(raw)
	case "Whitespace":
		pt, err = buildWhitespacePre()
	case "WhitespaceSplit":
		pt = &splitPre{m: funcMatcher(unicode.IsSpace), behavior: behaviorRemoved}
	case "Sequence":
		return buildSequencePre(raw)
	default:
		return nil, fmt.Errorf("unsupported pre_tokenizer type %q", typ)
	}
	if err != nil {
		return nil, fmt.Errorf("pre_tokenizer %s: %w", typ, err)
	}
	return pt, nil
}

// buildByteLevelPre reads a ByteLevel pre-tokenizer: an optional prefix space
// and, unless use_regex is false, the GPT-2 split expression.
func buildByteLevelPre(raw json.RawMessage) (preTokenizer, error) {
	var c struct {
		AddPrefixSpace bool  `json:"add_prefix_space"`
		UseRegex       *bool `json:"use_regex"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	bl := &byteLevelPre{addPrefixSpace: c.AddPrefixSpace}
	if c.UseRegex == nil || *c.UseRegex {
		p := gpt2Pattern
		var err error
		if bl.re, err = newMatcher(pattern{Regex: &p}); err != nil {
			return nil, err
		}
	}
	return bl, nil
}

// buildSplitPre reads a Split pre-tokenizer: a pattern, a behavior and
// whether to invert the matches.
func buildSplitPre(raw json.RawMessage) (preTokenizer, error) {
	var c struct {
		Pattern  pattern `json:"pattern"`
		Behavior string  `json:"behavior"`
		Invert   bool    `json:"invert"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	m, err := newMatcher(c.Pattern)
	if err != nil {
		return nil, err
	}
	b, err := parseBehavior(c.Behavior)
	if err != nil {
		return nil, err
	}
	return &splitPre{m: m, behavior: b, invert: c.Invert}, nil
}

// buildDigitsPre reads a Digits pre-tokenizer: runs of digits, or each digit
// alone when individual_digits is set.
func buildDigitsPre(raw json.RawMessage) (preTokenizer, error) {
	var c struct {
		Individual bool `json:"individual_digits"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	b := behaviorContiguous
	if c.Individual {
		b = behaviorIsolated
	}
	return &splitPre{m: funcMatcher(unicode.IsNumber), behavior: b}, nil
}

// buildPunctuationPre reads a Punctuation pre-tokenizer: each punctuation
// character (ASCII symbols included) split off as behavior says (default
// Isolated).
func buildPunctuationPre(raw json.RawMessage) (preTokenizer, error) {
	var c struct {
		Behavior string `json:"behavior"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	b := behaviorIsolated
	if c.Behavior != "" {
		var err error
		if b, err = parseBehavior(c.Behavior); err != nil {
			return nil, err
		}
	}
	isPunct := func(r rune) bool {
		return (r < 128 && unicode.IsPunct(r)) || (r < 128 && unicode.IsSymbol(r)) || unicode.IsPunct(r)
	}
	return &splitPre{m: funcMatcher(isPunct), behavior: b}, nil
}

// buildMetaspacePre reads a Metaspace pre-tokenizer (see parseMetaspace).
func buildMetaspacePre(raw json.RawMessage) (preTokenizer, error) {
	return parseMetaspace(raw)
}

// parseMetaspace reads the settings that the Metaspace pre-tokenizer and
// decoder share (see newMetaspace).
func parseMetaspace(raw json.RawMessage) (*metaspacePre, error) {
	var c struct {
		Replacement    string  `json:"replacement"`
		PrependScheme  *string `json:"prepend_scheme"`
		AddPrefixSpace *bool   `json:"add_prefix_space"`
		Split          *bool   `json:"split"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	return newMetaspace(c.Replacement, c.PrependScheme, c.AddPrefixSpace, c.Split)
}

// buildWhitespacePre returns the Whitespace pre-tokenizer: runs of word
// characters and runs of other non-space characters; spaces are dropped.
func buildWhitespacePre() (preTokenizer, error) {
	p := `\w+|[^\w\s]+`
	m, err := newMatcher(pattern{Regex: &p})
	if err != nil {
		return nil, err
	}
	return &splitPre{m: m, behavior: behaviorRemoved, invert: true}, nil
}

// buildSequencePre reads a Sequence of pre-tokenizers applied in order.
func buildSequencePre(raw json.RawMessage) (preTokenizer, error) {
	parts, err := buildSequenceField(raw, "pre_tokenizer", "pretokenizers", buildPreTokenizer)
	if err != nil {
		return nil, err
	}
	return sequencePre(parts), nil
}

// funcMatcher matches every single character for which the function is true.
type funcMatcher func(rune) bool

func (f funcMatcher) findAll(s string) ([][2]int, error) {
	var spans [][2]int
	for i, r := range s {
		if f(r) {
			spans = append(spans, [2]int{i, i + utf8.RuneLen(r)})
		}
	}
	return spans, nil
}

// splitWith cuts p at the matches of m according to behavior, dropping empty
// pieces, and appends the result to dst.
func splitWith(dst []piece, p piece, m matcher, behavior splitBehavior, invert bool) ([]piece, error) {
	s := p.s
	if s == "" {
		return dst, nil
	}
	spans, err := m.findAll(s)
	if err != nil {
		return dst, err
	}
	for _, g := range applyBehavior(segmentsOf(spans, len(s), invert), behavior) {
		if g.start == g.end {
			continue
		}
		dst = append(dst, piece{s: s[g.start:g.end], atStart: p.atStart && g.start == 0})
	}
	return dst, nil
}

// splitSeg is one segment of a split: a byte range [start, end) of a piece,
// flagged as a delimiter match or not.
type splitSeg struct {
	start, end int
	match      bool
}

// segmentsOf returns the segments covering a text of length n given the
// sorted, non-overlapping match spans; invert swaps matches and non-matches.
func segmentsOf(spans [][2]int, n int, invert bool) []splitSeg {
	segs := make([]splitSeg, 0, 2*len(spans)+1)
	prev := 0
	for _, sp := range spans {
		if prev != sp[0] {
			segs = append(segs, splitSeg{prev, sp[0], invert})
		}
		segs = append(segs, splitSeg{sp[0], sp[1], !invert})
		prev = sp[1]
	}
	if prev != n {
		segs = append(segs, splitSeg{prev, n, invert})
	}
	return segs
}

// applyBehavior joins or drops the delimiter segments as behavior says,
// reusing segs' storage.
func applyBehavior(segs []splitSeg, behavior splitBehavior) []splitSeg {
	switch behavior {
	case behaviorRemoved:
		return dropMatches(segs)
	case behaviorMergedWithPrevious:
		return mergeWithPrevious(segs)
	case behaviorMergedWithNext:
		return mergeWithNext(segs)
	case behaviorContiguous:
		return mergeRuns(segs)
	}
	return segs // behaviorIsolated: every segment stands alone
}

// dropMatches keeps the non-matching segments.
func dropMatches(segs []splitSeg) []splitSeg {
	out := segs[:0]
	for _, g := range segs {
		if !g.match {
			out = append(out, g)
		}
	}
	return out
}

// mergeWithPrevious joins each match that follows a non-match onto the end
// of the segment before it.
func mergeWithPrevious(segs []splitSeg) []splitSeg {
	out := segs[:0]
	prevMatch := false
	for _, g := range segs {
		if g.match && !prevMatch && len(out) > 0 {
			out[len(out)-1].end = g.end
		} else {
			out = append(out, g)
		}
		prevMatch = g.match
	}
	return out
}

// mergeWithNext prepends each match to the segment after it, scanning from
// the right: the mirror image of mergeWithPrevious.
func mergeWithNext(segs []splitSeg) []splitSeg {
	w := len(segs) // segs[w:] is the output so far, right-aligned
	prevMatch := false
	for i := len(segs) - 1; i >= 0; i-- {
		g := segs[i]
		if g.match && !prevMatch && w < len(segs) {
			segs[w].start = g.start
		} else {
			w--
			segs[w] = g
		}
		prevMatch = g.match
	}
	return segs[w:]
}

// mergeRuns joins neighbouring segments with the same match flag.
func mergeRuns(segs []splitSeg) []splitSeg {
	out := segs[:0]
	prevMatch := false
	for _, g := range segs {
		if g.match == prevMatch && len(out) > 0 {
			out[len(out)-1].end = g.end
		} else {
			out = append(out, g)
		}
		prevMatch = g.match
	}
	return out
}

type splitPre struct {
	m        matcher
	behavior splitBehavior
	invert   bool
}

func (sp *splitPre) split(dst []piece, p piece) ([]piece, error) {
	return splitWith(dst, p, sp.m, sp.behavior, sp.invert)
}

// byteLevelPre optionally adds a prefix space, splits with the GPT-2
// expression and maps each piece's bytes to byte-level characters.
type byteLevelPre struct {
	addPrefixSpace bool
	re             matcher // nil when use_regex is false
}

func (b *byteLevelPre) split(dst []piece, p piece) ([]piece, error) {
	if b.addPrefixSpace && !strings.HasPrefix(p.s, " ") {
		p.s = " " + p.s
	}
	start := len(dst)
	if b.re != nil {
		var err error
		if dst, err = splitWith(dst, p, b.re, behaviorIsolated, false); err != nil {
			return dst, err
		}
	} else if p.s != "" {
		dst = append(dst, p)
	}
	for i := start; i < len(dst); i++ {
		dst[i].s = byteLevelEncode(dst[i].s)
	}
	return dst, nil
}

// metaspacePre replaces spaces with the replacement character, optionally
// prepends it, and optionally splits before each replacement character.
type metaspacePre struct {
	replacement rune
	repl        string
	scheme      string // "always", "first" or "never"
	splitOn     bool
}

func newMetaspace(replacement string, scheme *string, addPrefixSpace *bool, split *bool) (*metaspacePre, error) {
	r, size := utf8.DecodeRuneInString(replacement)
	if replacement == "" || size != len(replacement) {
		return nil, fmt.Errorf("metaspace replacement %q must be one character", replacement)
	}
	m := &metaspacePre{replacement: r, repl: replacement, scheme: "always", splitOn: true}
	if split != nil {
		m.splitOn = *split
	}
	switch {
	case scheme != nil:
		switch *scheme {
		case "always", "first", "never":
			m.scheme = *scheme
		default:
			return nil, fmt.Errorf("metaspace prepend_scheme %q unsupported", *scheme)
		}
	case addPrefixSpace != nil && !*addPrefixSpace:
		m.scheme = "never"
	}
	return m, nil
}

func (m *metaspacePre) split(dst []piece, p piece) ([]piece, error) {
	s := strings.ReplaceAll(p.s, " ", m.repl)
	switch m.scheme {
	case "always":
		if !strings.HasPrefix(s, m.repl) {
			s = m.repl + s
		}
	case "first":
		if !strings.HasPrefix(s, m.repl) && p.atStart {
			s = m.repl + s
		}
	}
	p.s = s
	if !m.splitOn {
		if s != "" {
			dst = append(dst, p)
		}
		return dst, nil
	}
	return splitWith(dst, p, literalMatcher(m.repl), behaviorMergedWithNext, false)
}

type sequencePre []preTokenizer

func (seq sequencePre) split(dst []piece, p piece) ([]piece, error) {
	cur := []piece{p}
	var next []piece
	var err error
	for _, pt := range seq {
		next = next[:0]
		for _, q := range cur {
			if next, err = pt.split(next, q); err != nil {
				return dst, err
			}
		}
		cur, next = next, cur
	}
	return append(dst, cur...), nil
}
