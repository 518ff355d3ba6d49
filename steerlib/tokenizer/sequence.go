package tokenizer

import (
	"encoding/json"
	"fmt"
	"reflect"
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

// rawListType is []json.RawMessage, the type of a Sequence's list field.
var rawListType = reflect.TypeFor[[]json.RawMessage]()

// buildSequenceField builds the Sequence component raw from its list field
// (e.g. "decoders") with buildSequence. The field is read through a struct
// with that one tagged field, so it matches keys exactly as a struct literal
// with the tag would (encoding/json's case-insensitive fallback included).
func buildSequenceField[T comparable](raw json.RawMessage, kind, field string, build func(json.RawMessage) (T, error)) ([]T, error) {
	typ := reflect.StructOf([]reflect.StructField{{
		Name: "List", Type: rawListType, Tag: reflect.StructTag(`json:"` + field + `"`),
	}})
	v := reflect.New(typ)
	if err := json.Unmarshal(raw, v.Interface()); err != nil {
		return nil, fmt.Errorf("%s Sequence: %w", kind, err)
	}
	return buildSequence(kind, v.Elem().Field(0).Interface().([]json.RawMessage), build)
}
