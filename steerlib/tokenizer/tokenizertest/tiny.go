package tokenizertest

import "encoding/json"

// TinyByteLevelBPE returns a small byte-level BPE tokenizer.json for tests:
// ids 0..255 are the byte-level characters of bytes 0..255 (so a byte b that
// merges with nothing encodes to id b), 256 "ab", 257 "Ġa", 258 "abab", with
// merges "a b", "Ġ a", "ab ab" in that rank order; 259 "<bos>" and
// 260 "<eos>" are special added tokens and the post-processor prepends <bos>.
// With merges false the merges list is empty.
func TinyByteLevelBPE(merges bool) []byte {
	vocab := map[string]int{}
	n := 0
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		r := rune(b)
		if !printable {
			r = rune(256 + n)
			n++
		}
		vocab[string(r)] = b
	}
	vocab["ab"] = 256
	vocab["Ġa"] = 257
	vocab["abab"] = 258
	m := [][]string{}
	if merges {
		m = [][]string{{"a", "b"}, {"Ġ", "a"}, {"ab", "ab"}}
	}
	special := func(id int, content string) map[string]any {
		return map[string]any{"id": id, "content": content, "single_word": false, "lstrip": false,
			"rstrip": false, "normalized": false, "special": true}
	}
	doc := map[string]any{
		"version":      "1.0",
		"truncation":   nil,
		"padding":      nil,
		"added_tokens": []any{special(259, "<bos>"), special(260, "<eos>")},
		"normalizer":   nil,
		"pre_tokenizer": map[string]any{
			"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true,
		},
		"post_processor": map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{map[string]any{"SpecialToken": map[string]any{"id": "<bos>", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}},
			"pair":   []any{},
			"special_tokens": map[string]any{
				"<bos>": map[string]any{"id": "<bos>", "ids": []int{259}, "tokens": []string{"<bos>"}},
			},
		},
		"decoder": map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
			"vocab": vocab, "merges": m,
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err) // static data: cannot fail
	}
	return b
}
