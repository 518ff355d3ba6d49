package ifeval

import (
	"fmt"
)

// SplitSentences splits text into sentences like NLTK's sent_tokenize
// (Punkt with English parameters; see punkt.go). The error only reports
// unusable embedded Punkt parameters or a regular-expression failure.
func SplitSentences(text string) ([]string, error) {
	p, err := loadPunkt()
	if err != nil {
		return nil, fmt.Errorf("ifeval: load punkt parameters: %w", err)
	}
	spans, err := p.sentenceSpans(text)
	if err != nil {
		return nil, fmt.Errorf("ifeval: split sentences: %w", err)
	}
	rs := []rune(text)
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = string(rs[s.start:s.end])
	}
	return out, nil
}

// CountSentences counts sentences as the reference's count_sentences does
// (len(nltk.sent_tokenize(text))).
func CountSentences(text string) (int, error) {
	s, err := SplitSentences(text)
	return len(s), err
}
