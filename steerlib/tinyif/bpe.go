package tinyif

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlclark/regexp2"
	"github.com/gosteer/gosteer/steerlib/internal/atomicfile"
)

// Special tokens of the tinyif tokenizer. They follow the ChatML convention.
const (
	TokEndOfText = "<|endoftext|>"
	TokImStart   = "<|im_start|>"
	TokImEnd     = "<|im_end|>"
)

// SpecialTokens lists the special tokens in id order (after the BPE vocabulary).
var SpecialTokens = []string{TokEndOfText, TokImStart, TokImEnd}

// ChatTemplate is the Jinja chat template stored in tokenizer_config.json.
// Rendered, a conversation reads
//
//	<|im_start|>user\n{content}<|im_end|>\n<|im_start|>assistant\n
const ChatTemplate = "{% for message in messages %}" +
	"{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
	"{% endfor %}" +
	"{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

// RenderChat renders a single user turn the way ChatTemplate does, with the
// generation prompt appended. It exists so that training does not depend on a
// Jinja engine; a test checks it against steerlib/chat.
func RenderChat(user string) string {
	return TokImStart + "user\n" + user + TokImEnd + "\n" + TokImStart + "assistant\n"
}

// gpt2Split is the GPT-2 byte-level pre-tokenization pattern (also used by
// the Hugging Face ByteLevel pre-tokenizer with use_regex=true).
const gpt2Split = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// byteToRune maps each byte to the printable rune the byte-level BPE uses for
// it (the GPT-2 table): printable Latin-1 bytes map to themselves, the others
// to U+0100 onwards in byte order.
var byteToRune, runeToByte = func() ([256]rune, map[rune]byte) {
	var b2r [256]rune
	r2b := map[rune]byte{}
	keep := func(b int) bool {
		return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
	}
	n := 0
	for b := 0; b < 256; b++ {
		if keep(b) {
			b2r[b] = rune(b)
		} else {
			b2r[b] = rune(256 + n)
			n++
		}
		r2b[b2r[b]] = byte(b)
	}
	return b2r, r2b
}()

func byteLevel(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(byteToRune[s[i]])
	}
	return b.String()
}

// BPE is a byte-level BPE tokenizer: 256 byte tokens, learned merges, then the
// special tokens.
type BPE struct {
	Vocab  []string       // id -> token (byte-level string or special token)
	Merges [][2]string    // in rank order
	ids    map[string]int // token -> id
	ranks  map[[2]string]int
	re     *regexp2.Regexp
	cache  map[string][]int
}

func newBPE(vocab []string, merges [][2]string) (*BPE, error) {
	re, err := regexp2.Compile(gpt2Split, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("tinyif: compile pre-tokenizer pattern: %w", err)
	}
	t := &BPE{Vocab: vocab, Merges: merges, ids: map[string]int{}, ranks: map[[2]string]int{}, re: re, cache: map[string][]int{}}
	for i, v := range vocab {
		t.ids[v] = i
	}
	for i, m := range merges {
		t.ranks[m] = i
	}
	return t, nil
}

// pretokenize splits text (without special tokens) with the GPT-2 pattern.
func (t *BPE) pretokenize(text string) ([]string, error) {
	var out []string
	m, err := t.re.FindStringMatch(text)
	for ; m != nil && err == nil; m, err = t.re.FindNextMatch(m) {
		out = append(out, m.String())
	}
	if err != nil {
		return nil, fmt.Errorf("tinyif: pre-tokenize: %w", err)
	}
	return out, nil
}

// TrainBPE learns numMerges merges on texts. Ties between equally frequent
// pairs are broken by the pair's strings, so training is deterministic.
func TrainBPE(texts []string, numMerges int) (*BPE, error) {
	base := make([]string, 256)
	for b := range 256 {
		base[b] = string(byteToRune[b])
	}
	t, err := newBPE(base, nil)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, text := range texts {
		words, err := t.pretokenize(text)
		if err != nil {
			return nil, err
		}
		for _, w := range words {
			counts[byteLevel(w)]++
		}
	}
	type word struct {
		syms  []string
		count int
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	words := make([]word, len(keys))
	for i, k := range keys {
		var syms []string
		for _, r := range k {
			syms = append(syms, string(r))
		}
		words[i] = word{syms, counts[k]}
	}
	vocab := base
	var merges [][2]string
	for len(merges) < numMerges {
		pairs := map[[2]string]int{}
		for _, w := range words {
			for i := 0; i+1 < len(w.syms); i++ {
				pairs[[2]string{w.syms[i], w.syms[i+1]}] += w.count
			}
		}
		best, bestN := [2]string{}, 0
		for p, n := range pairs {
			if n > bestN || (n == bestN && (p[0] < best[0] || (p[0] == best[0] && p[1] < best[1]))) {
				best, bestN = p, n
			}
		}
		if bestN < 2 {
			break
		}
		merges = append(merges, best)
		joined := best[0] + best[1]
		vocab = append(vocab, joined)
		for wi := range words {
			s := words[wi].syms
			out := s[:0]
			for i := 0; i < len(s); i++ {
				if i+1 < len(s) && s[i] == best[0] && s[i+1] == best[1] {
					out = append(out, joined)
					i++
				} else {
					out = append(out, s[i])
				}
			}
			words[wi].syms = out
		}
	}
	vocab = append(vocab, SpecialTokens...)
	return newBPE(vocab, merges)
}

// TrainCasedBPE learns numMerges merges on the case-folded texts, then gives
// every merge two mirrors, ranked right after it: the same merge in capitals
// and, for a merge whose first part begins a word, the same merge with that
// word capitalized. A word, its capitalized form and its capitals are
// therefore cut at the same places ("owls" → " o|w|l|s", " O|w|l|s",
// " O|W|L|S"), and writing a word in capitals is a token-to-token map the
// model can learn from any word, not a re-spelling that only works for the
// words seen in capitals during training.
func TrainCasedBPE(texts []string, numMerges int) (*BPE, error) {
	folded := make([]string, len(texts))
	for i, t := range texts {
		folded[i] = asciiLower(t)
	}
	lower, err := TrainBPE(folded, numMerges)
	if err != nil {
		return nil, err
	}
	vocab := append([]string(nil), lower.Vocab[:256]...)
	have := map[string]bool{}
	for _, v := range vocab {
		have[v] = true
	}
	var merges [][2]string
	seen := map[[2]string]bool{}
	add := func(a, b string) error {
		m := [2]string{a, b}
		if seen[m] {
			return nil
		}
		if !have[a] || !have[b] {
			return fmt.Errorf("tinyif: cased BPE: merge %q+%q has a part outside the vocabulary", a, b)
		}
		seen[m] = true
		merges = append(merges, m)
		if !have[a+b] {
			have[a+b] = true
			vocab = append(vocab, a+b)
		}
		return nil
	}
	for _, m := range lower.Merges {
		a, b := m[0], m[1]
		capA, capB := a, b
		if c := capitalizeWord(a); c != a {
			capA = c
		} else if a == string(byteToRune[' ']) {
			capB = capitalizeWord(b)
		}
		for _, mm := range [][2]string{{a, b}, {asciiUpper(a), asciiUpper(b)}, {capA, capB}} {
			if err := add(mm[0], mm[1]); err != nil {
				return nil, err
			}
		}
	}
	vocab = append(vocab, SpecialTokens...)
	return newBPE(vocab, merges)
}

// asciiLower and asciiUpper change the case of ASCII letters only (the
// byte-level alphabet holds other letters, such as Ġ for the space, that
// must stay as they are).
func asciiLower(s string) string { return mapASCII(s, 'A', 'Z', 'a'-'A') }

func asciiUpper(s string) string { return mapASCII(s, 'a', 'z', 'A'-'a') }

func mapASCII(s string, lo, hi rune, shift rune) string {
	return strings.Map(func(r rune) rune {
		if r >= lo && r <= hi {
			return r + shift
		}
		return r
	}, s)
}

// capitalizeWord upper-cases the first letter of a byte-level token when it
// is an ASCII letter at the start, or right after a leading space (Ġ).
func capitalizeWord(tok string) string {
	rs := []rune(tok)
	i := 0
	if len(rs) > 0 && rs[0] == byteToRune[' '] {
		i = 1
	}
	if i < len(rs) && rs[i] >= 'a' && rs[i] <= 'z' {
		rs[i] -= 'a' - 'A'
	}
	return string(rs)
}

// ID returns the id of a token (byte-level or special), or -1.
func (t *BPE) ID(tok string) int {
	if id, ok := t.ids[tok]; ok {
		return id
	}
	return -1
}

// encodeWord applies the merges to one pre-token.
func (t *BPE) encodeWord(w string) []int {
	if ids, ok := t.cache[w]; ok {
		return ids
	}
	var syms []string
	for _, r := range byteLevel(w) {
		syms = append(syms, string(r))
	}
	for len(syms) > 1 {
		best, bestRank := -1, len(t.Merges)
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := t.ranks[[2]string{syms[i], syms[i+1]}]; ok && r < bestRank {
				best, bestRank = i, r
			}
		}
		if best < 0 {
			break
		}
		m := t.Merges[bestRank]
		out := syms[:0:0]
		for i := 0; i < len(syms); i++ {
			if i+1 < len(syms) && syms[i] == m[0] && syms[i+1] == m[1] {
				out = append(out, m[0]+m[1])
				i++
			} else {
				out = append(out, syms[i])
			}
		}
		syms = out
	}
	ids := make([]int, len(syms))
	for i, s := range syms {
		ids[i] = t.ids[s]
	}
	t.cache[w] = ids
	return ids
}

// Encode tokenizes text; occurrences of the special tokens become their ids.
func (t *BPE) Encode(text string) ([]int, error) {
	var ids []int
	for len(text) > 0 {
		next, which := len(text), ""
		for _, sp := range SpecialTokens {
			if i := strings.Index(text, sp); i >= 0 && i < next {
				next, which = i, sp
			}
		}
		words, err := t.pretokenize(text[:next])
		if err != nil {
			return nil, err
		}
		for _, w := range words {
			ids = append(ids, t.encodeWord(w)...)
		}
		if which == "" {
			break
		}
		ids = append(ids, t.ids[which])
		text = text[next+len(which):]
	}
	return ids, nil
}

// Decode turns ids back into text (special tokens included).
func (t *BPE) Decode(ids []int) (string, error) {
	var b strings.Builder
	for _, id := range ids {
		if id < 0 || id >= len(t.Vocab) {
			return "", fmt.Errorf("tinyif: token id %d out of range [0,%d)", id, len(t.Vocab))
		}
		tok := t.Vocab[id]
		if id >= len(t.Vocab)-len(SpecialTokens) {
			b.WriteString(tok)
			continue
		}
		for _, r := range tok {
			b.WriteByte(runeToByte[r])
		}
	}
	return b.String(), nil
}

// addedToken is an entry of tokenizer.json's added_tokens.
type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type byteLevelCfg struct {
	Type           string `json:"type"`
	AddPrefixSpace bool   `json:"add_prefix_space"`
	TrimOffsets    bool   `json:"trim_offsets"`
	UseRegex       bool   `json:"use_regex"`
}

// orderedVocab marshals the vocabulary as a JSON object in id order.
type orderedVocab []string

// MarshalJSON writes {"token": id, ...} in id order.
func (v orderedVocab) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, tok := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(tok)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		fmt.Fprintf(&b, ":%d", i)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// WriteFiles writes tokenizer.json and tokenizer_config.json (with the chat
// template) into dir.
func (t *BPE) WriteFiles(dir string, maxLen int) error {
	nBPE := len(t.Vocab) - len(SpecialTokens)
	var added []addedToken
	decoderMap := map[string]any{}
	for i, sp := range SpecialTokens {
		id := nBPE + i
		added = append(added, addedToken{ID: id, Content: sp, Special: true})
		decoderMap[fmt.Sprint(id)] = map[string]any{"content": sp, "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true}
	}
	merges := make([]string, len(t.Merges))
	for i, m := range t.Merges {
		merges[i] = m[0] + " " + m[1]
	}
	doc := map[string]any{
		"version":        "1.0",
		"truncation":     nil,
		"padding":        nil,
		"added_tokens":   added,
		"normalizer":     nil,
		"pre_tokenizer":  byteLevelCfg{"ByteLevel", false, true, true},
		"post_processor": byteLevelCfg{"ByteLevel", true, false, true},
		"decoder":        byteLevelCfg{"ByteLevel", true, true, true},
		"model": map[string]any{
			"type":                      "BPE",
			"dropout":                   nil,
			"unk_token":                 nil,
			"continuing_subword_prefix": "",
			"end_of_word_suffix":        "",
			"fuse_unk":                  false,
			"byte_fallback":             false,
			"ignore_merges":             false,
			"vocab":                     orderedVocab(t.Vocab[:nBPE]),
			"merges":                    merges,
		},
	}
	cfg := map[string]any{
		"add_bos_token":                false,
		"add_eos_token":                false,
		"added_tokens_decoder":         decoderMap,
		"bos_token":                    nil,
		"eos_token":                    TokImEnd,
		"pad_token":                    TokEndOfText,
		"unk_token":                    nil,
		"chat_template":                ChatTemplate,
		"clean_up_tokenization_spaces": false,
		"model_max_length":             maxLen,
		"tokenizer_class":              "PreTrainedTokenizerFast",
	}
	for name, v := range map[string]any{"tokenizer.json": doc, "tokenizer_config.json": cfg} {
		data, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			return fmt.Errorf("tinyif: encode %s: %w", name, err)
		}
		if err := atomicfile.WriteBytes(filepath.Join(dir, name), append(data, '\n'), nil); err != nil {
			return fmt.Errorf("tinyif: write %s: %w", name, err)
		}
	}
	return nil
}

// LoadBPE reads a tokenizer.json written by WriteFiles.
func LoadBPE(path string) (*BPE, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tinyif: read tokenizer: %w", err)
	}
	var doc struct {
		AddedTokens []addedToken `json:"added_tokens"`
		Model       struct {
			Vocab  map[string]int `json:"vocab"`
			Merges []string       `json:"merges"`
		} `json:"model"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("tinyif: parse %s: %w", path, err)
	}
	n := len(doc.Model.Vocab)
	vocab := make([]string, n+len(SpecialTokens))
	for tok, id := range doc.Model.Vocab {
		if id < 0 || id >= n {
			return nil, fmt.Errorf("tinyif: %s: token %q has id %d outside [0,%d)", path, tok, id, n)
		}
		vocab[id] = tok
	}
	for i, sp := range SpecialTokens {
		vocab[n+i] = sp
	}
	for _, a := range doc.AddedTokens {
		if a.ID < n || a.ID >= len(vocab) || vocab[a.ID] != a.Content {
			return nil, fmt.Errorf("tinyif: %s: unexpected added token %q id %d", path, a.Content, a.ID)
		}
	}
	merges := make([][2]string, len(doc.Model.Merges))
	for i, m := range doc.Model.Merges {
		a, b, ok := strings.Cut(m, " ")
		if !ok {
			return nil, fmt.Errorf("tinyif: %s: bad merge %q", path, m)
		}
		merges[i] = [2]string{a, b}
	}
	return newBPE(vocab, merges)
}
