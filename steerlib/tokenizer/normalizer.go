package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// normalizer transforms the text of one segment before pre-tokenization.
type normalizer interface {
	normalize(s string) (string, error)
}

// pattern is the "pattern" field of Replace/Split: {"String": s} or {"Regex": r}.
type pattern struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

type rawComponent struct {
	Type string `json:"type"`
}

func componentType(raw json.RawMessage) (string, error) {
	var c rawComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", err
	}
	return c.Type, nil
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

// buildNormalizer builds the normalizer described by raw (nil for JSON null).
func buildNormalizer(raw json.RawMessage) (normalizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	typ, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	switch typ {
	case "NFC":
		return formNormalizer{norm.NFC}, nil
	case "NFD":
		return formNormalizer{norm.NFD}, nil
	case "NFKC":
		return formNormalizer{norm.NFKC}, nil
	case "NFKD":
		return formNormalizer{norm.NFKD}, nil
	case "Lowercase":
		return lowercaseNormalizer{}, nil
	case "Prepend":
		var c struct {
			Prepend string `json:"prepend"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("normalizer Prepend: %w", err)
		}
		return prependNormalizer{c.Prepend}, nil
	case "Replace":
		var c struct {
			Pattern pattern `json:"pattern"`
			Content string  `json:"content"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("normalizer Replace: %w", err)
		}
		m, err := newMatcher(c.Pattern)
		if err != nil {
			return nil, fmt.Errorf("normalizer Replace: %w", err)
		}
		return replaceNormalizer{m, c.Content}, nil
	case "Strip":
		var c struct {
			Left  bool `json:"strip_left"`
			Right bool `json:"strip_right"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("normalizer Strip: %w", err)
		}
		return stripNormalizer{c.Left, c.Right}, nil
	case "Sequence":
		parts, err := buildSequenceField(raw, "normalizer", "normalizers", buildNormalizer)
		if err != nil {
			return nil, err
		}
		return sequenceNormalizer(parts), nil
	default:
		return nil, fmt.Errorf("unsupported normalizer type %q", typ)
	}
}

type formNormalizer struct{ form norm.Form }

func (n formNormalizer) normalize(s string) (string, error) { return n.form.String(s), nil }

type lowercaseNormalizer struct{}

// normalize lowercases each character like Rust's char::to_lowercase: Go's
// simple mappings, except İ, whose full lowercase is i followed by U+0307
// (there is no final-sigma rule: the mapping is per character).
func (lowercaseNormalizer) normalize(s string) (string, error) {
	if !strings.ContainsRune(s, '\u0130') {
		return strings.ToLower(s), nil
	}
	return strings.ToLower(strings.ReplaceAll(s, "\u0130", "i\u0307")), nil
}

type prependNormalizer struct{ prefix string }

func (n prependNormalizer) normalize(s string) (string, error) {
	if s == "" {
		return s, nil
	}
	return n.prefix + s, nil
}

type replaceNormalizer struct {
	m       matcher
	content string
}

func (n replaceNormalizer) normalize(s string) (string, error) {
	if lit, ok := n.m.(literalMatcher); ok {
		return strings.ReplaceAll(s, string(lit), n.content), nil
	}
	spans, err := n.m.findAll(s)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	prev := 0
	for _, sp := range spans {
		b.WriteString(s[prev:sp[0]])
		b.WriteString(n.content)
		prev = sp[1]
	}
	b.WriteString(s[prev:])
	return b.String(), nil
}

type stripNormalizer struct{ left, right bool }

func (n stripNormalizer) normalize(s string) (string, error) {
	if n.left {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
	}
	if n.right {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	return s, nil
}

type sequenceNormalizer []normalizer

func (seq sequenceNormalizer) normalize(s string) (string, error) {
	var err error
	for _, n := range seq {
		if s, err = n.normalize(s); err != nil {
			return "", err
		}
	}
	return s, nil
}
