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

func buildPreTokenizer(raw json.RawMessage) (preTokenizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	typ, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	switch typ {
	case "ByteLevel":
		var c struct {
			AddPrefixSpace bool  `json:"add_prefix_space"`
			UseRegex       *bool `json:"use_regex"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("pre_tokenizer ByteLevel: %w", err)
		}
		bl := &byteLevelPre{addPrefixSpace: c.AddPrefixSpace}
		if c.UseRegex == nil || *c.UseRegex {
			p := gpt2Pattern
			if bl.re, err = newMatcher(pattern{Regex: &p}); err != nil {
				return nil, fmt.Errorf("pre_tokenizer ByteLevel: %w", err)
			}
		}
		return bl, nil
	case "Split":
		var c struct {
			Pattern  pattern `json:"pattern"`
			Behavior string  `json:"behavior"`
			Invert   bool    `json:"invert"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("pre_tokenizer Split: %w", err)
		}
		m, err := newMatcher(c.Pattern)
		if err != nil {
			return nil, fmt.Errorf("pre_tokenizer Split: %w", err)
		}
		b, err := parseBehavior(c.Behavior)
		if err != nil {
			return nil, fmt.Errorf("pre_tokenizer Split: %w", err)
		}
		return &splitPre{m: m, behavior: b, invert: c.Invert}, nil
	case "Digits":
		var c struct {
			Individual bool `json:"individual_digits"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("pre_tokenizer Digits: %w", err)
		}
		b := behaviorContiguous
		if c.Individual {
			b = behaviorIsolated
		}
		return &splitPre{m: funcMatcher(unicode.IsNumber), behavior: b}, nil
	case "Punctuation":
		var c struct {
			Behavior string `json:"behavior"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("pre_tokenizer Punctuation: %w", err)
		}
		b := behaviorIsolated
		if c.Behavior != "" {
			if b, err = parseBehavior(c.Behavior); err != nil {
				return nil, fmt.Errorf("pre_tokenizer Punctuation: %w", err)
			}
		}
		isPunct := func(r rune) bool {
			return (r < 128 && unicode.IsPunct(r)) || (r < 128 && unicode.IsSymbol(r)) || unicode.IsPunct(r)
		}
		return &splitPre{m: funcMatcher(isPunct), behavior: b}, nil
	case "Metaspace":
		var c struct {
			Replacement    string  `json:"replacement"`
			PrependScheme  *string `json:"prepend_scheme"`
			AddPrefixSpace *bool   `json:"add_prefix_space"`
			Split          *bool   `json:"split"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("pre_tokenizer Metaspace: %w", err)
		}
		return newMetaspace(c.Replacement, c.PrependScheme, c.AddPrefixSpace, c.Split)
	case "Whitespace":
		p := `\w+|[^\w\s]+`
		m, err := newMatcher(pattern{Regex: &p})
		if err != nil {
			return nil, err
		}
		return &splitPre{m: m, behavior: behaviorRemoved, invert: true}, nil
	case "WhitespaceSplit":
		return &splitPre{m: funcMatcher(unicode.IsSpace), behavior: behaviorRemoved}, nil
	case "Sequence":
		var c struct {
			PreTokenizers []json.RawMessage `json:"pretokenizers"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("pre_tokenizer Sequence: %w", err)
		}
		parts, err := buildSequence("pre_tokenizer", c.PreTokenizers, buildPreTokenizer)
		if err != nil {
			return nil, err
		}
		seq := sequencePre(parts)
		return seq, nil
	default:
		return nil, fmt.Errorf("unsupported pre_tokenizer type %q", typ)
	}
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
	// Segments covering s, each flagged as match or not.
	type seg struct {
		start, end int
		match      bool
	}
	segs := make([]seg, 0, 2*len(spans)+1)
	prev := 0
	for _, sp := range spans {
		if prev != sp[0] {
			segs = append(segs, seg{prev, sp[0], false})
		}
		segs = append(segs, seg{sp[0], sp[1], true})
		prev = sp[1]
	}
	if prev != len(s) {
		segs = append(segs, seg{prev, len(s), false})
	}
	if invert {
		for i := range segs {
			segs[i].match = !segs[i].match
		}
	}
	var out []seg
	switch behavior {
	case behaviorRemoved:
		for _, g := range segs {
			if !g.match {
				out = append(out, g)
			}
		}
	case behaviorIsolated:
		out = segs
	case behaviorMergedWithPrevious:
		prevMatch := false
		for _, g := range segs {
			if g.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].end = g.end
			} else {
				out = append(out, g)
			}
			prevMatch = g.match
		}
	case behaviorMergedWithNext:
		prevMatch := false
		for i := len(segs) - 1; i >= 0; i-- {
			g := segs[i]
			if g.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].start = g.start
			} else {
				out = append(out, g)
			}
			prevMatch = g.match
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	case behaviorContiguous:
		prevMatch := false
		for _, g := range segs {
			if g.match == prevMatch && len(out) > 0 {
				out[len(out)-1].end = g.end
			} else {
				out = append(out, g)
			}
			prevMatch = g.match
		}
	}
	for _, g := range out {
		if g.start == g.end {
			continue
		}
		dst = append(dst, piece{s: s[g.start:g.end], atStart: p.atStart && g.start == 0})
	}
	return dst, nil
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
