package tokenizer

import (
	"encoding/json"
	"fmt"
)

// postProcessor adds special tokens around an encoded single sequence.
type postProcessor interface {
	process(ids []int) []int
	// specialTokens lists the tokens the processor may add.
	specialTokens() []string
	// addedIDs lists the ids the processor may add.
	addedIDs() []int
}

type templatePiece struct {
	SpecialToken *struct {
		ID string `json:"id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID string `json:"id"`
	} `json:"Sequence"`
}

func buildPostProcessor(raw json.RawMessage) (postProcessor, error) {
	if isNull(raw) {
		return nil, nil
	}
	typ, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("post_processor: %w", err)
	}
	switch typ {
	case "ByteLevel":
		// Only affects offsets, which this package does not compute.
		return nil, nil
	case "TemplateProcessing":
		var c struct {
			Single        []templatePiece `json:"single"`
			SpecialTokens map[string]struct {
				ID     string   `json:"id"`
				IDs    []int    `json:"ids"`
				Tokens []string `json:"tokens"`
			} `json:"special_tokens"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("post_processor TemplateProcessing: %w", err)
		}
		tp := &templateProcessor{}
		seen := false
		for i, p := range c.Single {
			switch {
			case p.SpecialToken != nil:
				st, ok := c.SpecialTokens[p.SpecialToken.ID]
				if !ok {
					return nil, fmt.Errorf("post_processor TemplateProcessing: special token %q missing from special_tokens", p.SpecialToken.ID)
				}
				tp.items = append(tp.items, templateItem{ids: st.IDs})
				tp.names = append(tp.names, st.Tokens...)
			case p.Sequence != nil:
				if p.Sequence.ID != "A" {
					return nil, fmt.Errorf("post_processor TemplateProcessing: single template refers to sequence %q", p.Sequence.ID)
				}
				if seen {
					return nil, fmt.Errorf("post_processor TemplateProcessing: sequence A appears twice")
				}
				seen = true
				tp.items = append(tp.items, templateItem{sequence: true})
			default:
				return nil, fmt.Errorf("post_processor TemplateProcessing: single[%d] is neither SpecialToken nor Sequence", i)
			}
		}
		return tp, nil
	case "BertProcessing", "RobertaProcessing":
		var c struct {
			Sep []json.RawMessage `json:"sep"`
			Cls []json.RawMessage `json:"cls"`
		}
		if err := json.Unmarshal(raw, &c); err != nil || len(c.Sep) != 2 || len(c.Cls) != 2 {
			return nil, fmt.Errorf("post_processor %s: want sep and cls as [token, id]", typ)
		}
		var sep, cls string
		var sepID, clsID int
		if json.Unmarshal(c.Sep[0], &sep) != nil || json.Unmarshal(c.Sep[1], &sepID) != nil ||
			json.Unmarshal(c.Cls[0], &cls) != nil || json.Unmarshal(c.Cls[1], &clsID) != nil {
			return nil, fmt.Errorf("post_processor %s: malformed sep/cls", typ)
		}
		return &templateProcessor{
			items: []templateItem{{ids: []int{clsID}}, {sequence: true}, {ids: []int{sepID}}},
			names: []string{cls, sep},
		}, nil
	case "Sequence":
		var c struct {
			Processors []json.RawMessage `json:"processors"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("post_processor Sequence: %w", err)
		}
		parts, err := buildSequence("post_processor", c.Processors, buildPostProcessor)
		if err != nil {
			return nil, err
		}
		seq := sequencePost(parts)
		if len(seq) == 0 {
			return nil, nil
		}
		return seq, nil
	default:
		return nil, fmt.Errorf("unsupported post_processor type %q", typ)
	}
}

type templateItem struct {
	sequence bool
	ids      []int
}

// templateProcessor implements TemplateProcessing's single template (and
// the fixed Bert/Roberta templates).
type templateProcessor struct {
	items []templateItem
	names []string
}

func (tp *templateProcessor) process(ids []int) []int {
	n := len(ids)
	for _, it := range tp.items {
		n += len(it.ids)
	}
	out := make([]int, 0, n)
	for _, it := range tp.items {
		if it.sequence {
			out = append(out, ids...)
		} else {
			out = append(out, it.ids...)
		}
	}
	return out
}

func (tp *templateProcessor) specialTokens() []string { return tp.names }

func (tp *templateProcessor) addedIDs() []int {
	var out []int
	for _, it := range tp.items {
		out = append(out, it.ids...)
	}
	return out
}

type sequencePost []postProcessor

func (seq sequencePost) process(ids []int) []int {
	for _, p := range seq {
		ids = p.process(ids)
	}
	return ids
}

func (seq sequencePost) specialTokens() []string {
	var out []string
	for _, p := range seq {
		out = append(out, p.specialTokens()...)
	}
	return out
}

func (seq sequencePost) addedIDs() []int {
	var out []int
	for _, p := range seq {
		out = append(out, p.addedIDs()...)
	}
	return out
}
