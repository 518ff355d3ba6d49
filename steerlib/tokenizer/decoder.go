package tokenizer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decoder turns a list of token strings into a list of strings that are
// concatenated to form the decoded text.
type decoder interface {
	decodeChain(toks []string) ([]string, error)
}

// buildDecoder reads tokenizer.json's decoder (nil when null), dispatching
// on its type; errors name the type.
func buildDecoder(raw json.RawMessage) (decoder, error) {
	if isNull(raw) {
		return nil, nil
	}
	typ, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	var d decoder
	switch typ {
	case "ByteLevel":
		d = byteLevelDecoder{}
	case "Replace":
		d, err = buildReplaceDecoder(raw)
	case "ByteFallback":
		d = byteFallbackDecoder{}
	case "Fuse":
		d = fuseDecoder{}
	case "Strip":
		d, err = buildStripDecoder(raw)
	case "Metaspace":
		d, err = buildMetaspaceDecoder(raw)
	case "WordPiece":
		d, err = buildWordPieceDecoder(raw)
	case "BPEDecoder":
		d, err = buildBPESuffixDecoder(raw)
	case "Sequence":
		return buildSequenceDecoder(raw)
	default:
		return nil, fmt.Errorf("unsupported decoder type %q", typ)
	}
	if err != nil {
		return nil, fmt.Errorf("decoder %s: %w", typ, err)
	}
	return d, nil
}

// buildReplaceDecoder reads a Replace decoder: each token's matches of the
// pattern replaced by content.
func buildReplaceDecoder(raw json.RawMessage) (decoder, error) {
	var c struct {
		Pattern pattern `json:"pattern"`
		Content string  `json:"content"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	m, err := newMatcher(c.Pattern)
	if err != nil {
		return nil, err
	}
	return replaceDecoder{replaceNormalizer{m, c.Content}}, nil
}

// buildStripDecoder reads a Strip decoder: up to start leading and stop
// trailing copies of one content character removed from each token.
func buildStripDecoder(raw json.RawMessage) (decoder, error) {
	var c struct {
		Content string `json:"content"`
		Start   int    `json:"start"`
		Stop    int    `json:"stop"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	r, size := utf8.DecodeRuneInString(c.Content)
	if size == 0 || size != len(c.Content) {
		return nil, fmt.Errorf("content %q must be one character", c.Content)
	}
	return stripDecoder{r, c.Start, c.Stop}, nil
}

// buildMetaspaceDecoder reads a Metaspace decoder: the replacement character
// turns back into spaces (and is dropped from the first token unless the
// prepend scheme is "never").
func buildMetaspaceDecoder(raw json.RawMessage) (decoder, error) {
	m, err := parseMetaspace(raw)
	if err != nil {
		return nil, err
	}
	return metaspaceDecoder{m}, nil
}

// buildWordPieceDecoder reads a WordPiece decoder (without cleanup, which is
// unsupported): after the first token, the continuing-subword prefix is
// removed and tokens without it are preceded by a space.
func buildWordPieceDecoder(raw json.RawMessage) (decoder, error) {
	var c struct {
		Prefix  string `json:"prefix"`
		Cleanup bool   `json:"cleanup"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	if c.Cleanup {
		return nil, fmt.Errorf("cleanup is unsupported")
	}
	return wordPieceDecoder{c.Prefix}, nil
}

// buildBPESuffixDecoder reads a BPEDecoder: the end-of-word suffix becomes a
// space (and is dropped from the last token).
func buildBPESuffixDecoder(raw json.RawMessage) (decoder, error) {
	var c struct {
		Suffix string `json:"suffix"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	return bpeSuffixDecoder{c.Suffix}, nil
}

// buildSequenceDecoder reads a Sequence of decoders applied in order.
func buildSequenceDecoder(raw json.RawMessage) (decoder, error) {
	parts, err := buildSequenceField(raw, "decoder", "decoders", buildDecoder)
	if err != nil {
		return nil, err
	}
	return sequenceDecoder(parts), nil
}

type byteLevelDecoder struct{}

func (byteLevelDecoder) decodeChain(toks []string) ([]string, error) {
	var buf []byte
	for _, t := range toks {
		buf = byteLevelDecodeToken(buf, t)
	}
	return []string{lossyUTF8(buf)}, nil
}

type replaceDecoder struct{ r replaceNormalizer }

func (d replaceDecoder) decodeChain(toks []string) ([]string, error) {
	out := make([]string, len(toks))
	for i, t := range toks {
		s, err := d.r.normalize(t)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

type byteFallbackDecoder struct{}

func (byteFallbackDecoder) decodeChain(toks []string) ([]string, error) {
	out := make([]string, 0, len(toks))
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range toks {
		if len(t) == 6 && strings.HasPrefix(t, "<0x") && t[5] == '>' {
			if b, err := strconv.ParseUint(t[3:5], 16, 8); err == nil {
				pending = append(pending, byte(b))
				continue
			}
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out, nil
}

type fuseDecoder struct{}

func (fuseDecoder) decodeChain(toks []string) ([]string, error) {
	return []string{strings.Join(toks, "")}, nil
}

type stripDecoder struct {
	content     rune
	start, stop int
}

func (d stripDecoder) decodeChain(toks []string) ([]string, error) {
	out := make([]string, len(toks))
	for i, t := range toks {
		rs := []rune(t)
		lo, hi := 0, len(rs)
		for k := 0; k < d.start && lo < len(rs) && rs[lo] == d.content; k++ {
			lo++
		}
		for k := 0; k < d.stop && hi > lo && rs[hi-1] == d.content; k++ {
			hi--
		}
		out[i] = string(rs[lo:hi])
	}
	return out, nil
}

type metaspaceDecoder struct{ m *metaspacePre }

func (d metaspaceDecoder) decodeChain(toks []string) ([]string, error) {
	out := make([]string, len(toks))
	for i, t := range toks {
		// The first token loses every replacement character, as in the
		// reference; the others turn them into spaces.
		if i == 0 && d.m.scheme != "never" {
			out[i] = strings.ReplaceAll(t, d.m.repl, "")
		} else {
			out[i] = strings.ReplaceAll(t, d.m.repl, " ")
		}
	}
	return out, nil
}

type wordPieceDecoder struct{ prefix string }

func (d wordPieceDecoder) decodeChain(toks []string) ([]string, error) {
	out := make([]string, len(toks))
	for i, t := range toks {
		if i > 0 {
			if strings.HasPrefix(t, d.prefix) {
				t = strings.TrimPrefix(t, d.prefix)
			} else {
				t = " " + t
			}
		}
		out[i] = t
	}
	return out, nil
}

type bpeSuffixDecoder struct{ suffix string }

func (d bpeSuffixDecoder) decodeChain(toks []string) ([]string, error) {
	out := make([]string, len(toks))
	for i, t := range toks {
		repl := " "
		if i == len(toks)-1 {
			repl = ""
		}
		out[i] = strings.ReplaceAll(t, d.suffix, repl)
	}
	return out, nil
}

type sequenceDecoder []decoder

func (seq sequenceDecoder) decodeChain(toks []string) ([]string, error) {
	var err error
	for _, d := range seq {
		if toks, err = d.decodeChain(toks); err != nil {
			return nil, err
		}
	}
	return toks, nil
}
