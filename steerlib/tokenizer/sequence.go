package tokenizer

import (
	"encoding/json"
	"fmt"
)

// buildSequence builds the components of a tokenizer.json "Sequence"
// (normalizers, pre-tokenizers, post-processors or decoders) with build,
// dropping components that build to nil (no-ops). kind names the component
// in errors, e.g. "decoder Sequence[2]: ...".
func buildSequence[T comparable](kind string, raws []json.RawMessage, build func(json.RawMessage) (T, error)) ([]T, error) {
	var none T
	out := make([]T, 0, len(raws))
	for i, r := range raws {
		c, err := build(r)
		if err != nil {
			return nil, fmt.Errorf("%s Sequence[%d]: %w", kind, i, err)
		}
		if c != none {
			out = append(out, c)
		}
	}
	return out, nil
}
