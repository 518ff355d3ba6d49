package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// Tokenizer encodes text to token ids and decodes ids back to text, following
// a Hugging Face tokenizer.json. It is safe for concurrent use.
type Tokenizer struct {
	model      *bpe
	normalizer normalizer
	pre        preTokenizer
	post       postProcessor
	decoder    decoder

	added     []*addedToken
	addedByID map[int]*addedToken
	// addedByText maps an added token's content (and normalized content) to its id.
	addedByText map[string]int
	rawTokens   *tokenMatcher // added tokens matched before normalization
	normTokens  *tokenMatcher // added tokens matched after normalization
	idToToken   []string
	vocabSize   int
	specials    map[string]SpecialToken // "bos", "eos", "pad", "unk"
	warnings    []string
}

// SpecialToken is a special token's text and id.
type SpecialToken struct {
	Text string
	ID   int
}

// fileJSON is the top level of tokenizer.json.
type fileJSON struct {
	Truncation    json.RawMessage  `json:"truncation"`
	Padding       json.RawMessage  `json:"padding"`
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	PostProcessor json.RawMessage  `json:"post_processor"`
	Decoder       json.RawMessage  `json:"decoder"`
	Model         json.RawMessage  `json:"model"`
}

// Load reads a tokenizer from dir/tokenizer.json (dir may also name the
// tokenizer.json file itself) and, when present, the special-token names of
// dir/tokenizer_config.json.
func Load(dir string) (*Tokenizer, error) {
	path := dir
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		path = filepath.Join(dir, "tokenizer.json")
	} else if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", dir, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", path, err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", path, err)
	}
	cfgPath := filepath.Join(filepath.Dir(path), "tokenizer_config.json")
	cfg, err := os.ReadFile(cfgPath)
	switch {
	case err == nil:
		if err := t.applyConfig(cfg); err != nil {
			return nil, fmt.Errorf("load tokenizer config %s: %w", cfgPath, err)
		}
	case errors.Is(err, os.ErrNotExist):
	default:
		return nil, fmt.Errorf("load tokenizer config %s: %w", cfgPath, err)
	}
	return t, nil
}

// Parse builds a tokenizer from the contents of a tokenizer.json file.
// Special-token names (BOS, EOS, ...) are then only guessed from the
// post-processor; use Load or ApplyConfig to read tokenizer_config.json.
func Parse(data []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse tokenizer.json: %w", err)
	}
	if !isNull(f.Truncation) {
		return nil, errors.New("tokenizer.json sets truncation, which is unsupported")
	}
	if !isNull(f.Padding) {
		return nil, errors.New("tokenizer.json sets padding, which is unsupported")
	}
	if isNull(f.Model) {
		return nil, errors.New("tokenizer.json has no model")
	}
	typ, err := componentType(f.Model)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	var mc bpeConfig
	if typ == "" {
		// Old files omit the type; a BPE model has merges.
		var probe struct {
			Merges json.RawMessage `json:"merges"`
		}
		if json.Unmarshal(f.Model, &probe) == nil && !isNull(probe.Merges) {
			typ = "BPE"
		}
	}
	if typ != "BPE" {
		return nil, fmt.Errorf("unsupported model type %q (only BPE is implemented)", typ)
	}
	if err := json.Unmarshal(f.Model, &mc); err != nil {
		return nil, fmt.Errorf("model BPE: %w", err)
	}
	t := &Tokenizer{specials: map[string]SpecialToken{}, addedByID: map[int]*addedToken{}, addedByText: map[string]int{}}
	if t.model, err = newBPE(&mc); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if t.normalizer, err = buildNormalizer(f.Normalizer); err != nil {
		return nil, err
	}
	if t.pre, err = buildPreTokenizer(f.PreTokenizer); err != nil {
		return nil, err
	}
	if t.decoder, err = buildDecoder(f.Decoder); err != nil {
		return nil, err
	}

	maxAdded, err := t.addTokens(f.AddedTokens)
	if err != nil {
		return nil, err
	}
	if err := t.buildIDTable(maxAdded, len(data)); err != nil {
		return nil, err
	}

	if t.post, err = buildPostProcessor(f.PostProcessor); err != nil {
		return nil, err
	}
	if err := t.checkPostIDs(); err != nil {
		return nil, err
	}
	t.guessSpecials()
	return t, nil
}

// addTokens registers the added tokens and returns the largest id they got.
// Ids of added tokens follow the reference's assignment, not the ids
// written in the file: a token already in the vocabulary keeps that id,
// the others are numbered from the model's vocabulary size upwards.
func (t *Tokenizer) addTokens(list []addedTokenJSON) (maxAdded int, err error) {
	addedIDs := map[string]int{}
	maxAdded = -1
	modelSize := len(t.model.vocab)
	for _, a := range list {
		if a.Content == "" {
			continue
		}
		id, ok := addedIDs[a.Content]
		if !ok {
			id, ok = t.model.vocab[a.Content]
		}
		if !ok {
			switch {
			case maxAdded < 0:
				id = modelSize
			case maxAdded >= modelSize || modelSize == 0:
				id = maxAdded + 1
			default:
				id = modelSize
			}
		}
		if a.ID != id {
			t.warnings = append(t.warnings, fmt.Sprintf("added token %q has id %d in the file but gets id %d (as in the reference implementation)", a.Content, a.ID, id))
		}
		a.ID = id
		addedIDs[a.Content] = id
		maxAdded = max(maxAdded, id)
		at := &addedToken{addedTokenJSON: a, text: a.Content}
		if a.Normalized && t.normalizer != nil {
			if at.text, err = t.normalizer.normalize(a.Content); err != nil {
				return 0, fmt.Errorf("normalize added token %q: %w", a.Content, err)
			}
		}
		if prev, dup := t.addedByID[id]; dup {
			// A later entry for the same id replaces the earlier one.
			for i, x := range t.added {
				if x == prev {
					t.added = slices.Delete(t.added, i, i+1)
					break
				}
			}
		}
		t.added = append(t.added, at)
		t.addedByID[id] = at
	}
	return maxAdded, nil
}

// buildIDTable builds the id → token table and the added-token matchers.
// Ids are bounded by the file size (every id needs at least one byte of the
// file), so a corrupt id cannot make the table outgrow the input.
func (t *Tokenizer) buildIDTable(maxAdded, fileSize int) error {
	var rawToks, normToks []*addedToken
	maxID := -1
	for _, id := range t.model.vocab {
		maxID = max(maxID, id)
	}
	maxID = max(maxID, maxAdded)
	if maxID >= fileSize {
		// Every id needs at least one byte of the file, so a larger id is
		// corrupt; refusing it keeps the id table proportional to the input.
		return fmt.Errorf("model.vocab: id %d is beyond what a %d-byte tokenizer.json can hold", maxID, fileSize)
	}
	t.vocabSize = maxID + 1
	t.idToToken = make([]string, t.vocabSize)
	for tok, id := range t.model.vocab {
		if id < 0 {
			return fmt.Errorf("model: token %q has negative id %d", tok, id)
		}
		t.idToToken[id] = tok
	}
	for _, at := range t.added {
		// The reference reports a normalized token in its normalized form.
		t.idToToken[at.ID] = at.text
		t.addedByText[at.text] = at.ID
		t.addedByText[at.Content] = at.ID
		if at.Normalized {
			normToks = append(normToks, at)
		} else {
			rawToks = append(rawToks, at)
		}
	}
	t.rawTokens = newTokenMatcher(rawToks)
	t.normTokens = newTokenMatcher(normToks)
	return nil
}

// checkPostIDs refuses post-processor special-token ids outside the
// vocabulary (Encode would emit them).
func (t *Tokenizer) checkPostIDs() error {
	if t.post == nil {
		return nil
	}
	for _, id := range t.post.addedIDs() {
		if id < 0 || id >= t.vocabSize {
			return fmt.Errorf("post_processor: special token id %d outside the vocabulary [0,%d)", id, t.vocabSize)
		}
	}
	return nil
}

// guessSpecials sets BOS from the post-processor's first added token and UNK
// from the model, for tokenizers without a tokenizer_config.json.
func (t *Tokenizer) guessSpecials() {
	if t.post != nil {
		if names := t.post.specialTokens(); len(names) > 0 {
			if id, ok := t.TokenID(names[0]); ok {
				t.specials["bos"] = SpecialToken{names[0], id}
			}
		}
	}
	if t.model.unk >= 0 {
		t.specials["unk"] = SpecialToken{t.idToToken[t.model.unk], t.model.unk}
	}
}

// ApplyConfig reads the special-token names (bos_token, eos_token, pad_token,
// unk_token) of a tokenizer_config.json.
func (t *Tokenizer) ApplyConfig(data []byte) error { return t.applyConfig(data) }

func (t *Tokenizer) applyConfig(data []byte) error {
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(data, &cfg); err != nil {
		return err
	}
	for _, name := range []string{"bos", "eos", "pad", "unk"} {
		raw, ok := cfg[name+"_token"]
		if !ok {
			continue
		}
		text, present, err := tokenText(raw)
		if err != nil {
			return fmt.Errorf("%s_token: %w", name, err)
		}
		if !present {
			delete(t.specials, name)
			continue
		}
		id, ok := t.TokenID(text)
		if !ok {
			return fmt.Errorf("%s_token %q is not in the vocabulary", name, text)
		}
		t.specials[name] = SpecialToken{text, id}
	}
	return nil
}

// tokenText reads a special token given as a string, null or an object with a
// "content" field.
func tokenText(raw json.RawMessage) (string, bool, error) {
	if isNull(raw) {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Content == nil {
		return "", false, fmt.Errorf("want a string, null or {\"content\": ...}, got %s", string(raw))
	}
	return *obj.Content, true, nil
}

// Encode returns the ids of text. With addSpecial the post-processor's special
// tokens (typically BOS) are added; special-token text inside text is always
// recognized as the special token, as in the reference. Invalid UTF-8 is
// replaced by U+FFFD first.
func (t *Tokenizer) Encode(text string, addSpecial bool) ([]int, error) {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	ids := make([]int, 0, len(text)/3+4)
	var segs, sub []segment
	var pieces []piece
	var err error
	segs = t.rawTokens.split(segs, text)
	for _, sg := range segs {
		if sg.id >= 0 {
			ids = append(ids, sg.id)
			continue
		}
		s := sg.text
		if t.normalizer != nil {
			if s, err = t.normalizer.normalize(s); err != nil {
				return nil, fmt.Errorf("encode: normalize: %w", err)
			}
		}
		sub = t.normTokens.split(sub[:0], s)
		for _, ns := range sub {
			if ns.id >= 0 {
				ids = append(ids, ns.id)
				continue
			}
			if ns.text == "" {
				continue
			}
			p := piece{s: ns.text, atStart: sg.start == 0 && ns.start == 0}
			pieces = pieces[:0]
			if t.pre != nil {
				if pieces, err = t.pre.split(pieces, p); err != nil {
					return nil, fmt.Errorf("encode: pre-tokenize: %w", err)
				}
			} else {
				pieces = append(pieces, p)
			}
			for _, pc := range pieces {
				ids = t.model.tokenize(ids, pc.s)
			}
		}
	}
	if addSpecial && t.post != nil {
		ids = t.post.process(ids)
	}
	return ids, nil
}

// Decode returns the text of ids. With skipSpecial, special added tokens are
// left out. Ids outside the vocabulary are an error.
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) (string, error) {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if id < 0 || id >= len(t.idToToken) {
			return "", fmt.Errorf("decode: id %d outside the vocabulary [0, %d)", id, len(t.idToToken))
		}
		if a, ok := t.addedByID[id]; ok {
			if skipSpecial && a.Special {
				continue
			}
			toks = append(toks, a.text)
			continue
		}
		toks = append(toks, t.idToToken[id])
	}
	if t.decoder == nil {
		return strings.Join(toks, " "), nil
	}
	out, err := t.decoder.decodeChain(toks)
	if err != nil {
		return "", fmt.Errorf("decode: %w", err)
	}
	return strings.Join(out, ""), nil
}

// TokenID returns the id of a token string (added tokens first, then the
// model vocabulary).
func (t *Tokenizer) TokenID(tok string) (int, bool) {
	if id, ok := t.addedByText[tok]; ok {
		return id, true
	}
	id, ok := t.model.vocab[tok]
	return id, ok
}

// IDToken returns the token string of id.
func (t *Tokenizer) IDToken(id int) (string, bool) {
	if id < 0 || id >= len(t.idToToken) {
		return "", false
	}
	if _, ok := t.addedByID[id]; ok {
		return t.idToToken[id], true
	}
	if t.idToToken[id] == "" {
		if _, ok := t.model.vocab[""]; !ok {
			return "", false
		}
	}
	return t.idToToken[id], true
}

// VocabSize is one more than the largest token id (model and added tokens).
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// IsSpecial reports whether id is a special added token.
func (t *Tokenizer) IsSpecial(id int) bool {
	a, ok := t.addedByID[id]
	return ok && a.Special
}

// SpecialIDs returns the ids of all special added tokens.
func (t *Tokenizer) SpecialIDs() []int {
	var out []int
	for _, a := range t.added {
		if a.Special {
			out = append(out, a.ID)
		}
	}
	return out
}

// BOS returns the beginning-of-sequence token, if the tokenizer has one.
func (t *Tokenizer) BOS() (SpecialToken, bool) { s, ok := t.specials["bos"]; return s, ok }

// EOS returns the end-of-sequence token named by tokenizer_config.json.
func (t *Tokenizer) EOS() (SpecialToken, bool) { s, ok := t.specials["eos"]; return s, ok }

// Pad returns the padding token named by tokenizer_config.json.
func (t *Tokenizer) Pad() (SpecialToken, bool) { s, ok := t.specials["pad"]; return s, ok }

// Unk returns the unknown token.
func (t *Tokenizer) Unk() (SpecialToken, bool) { s, ok := t.specials["unk"]; return s, ok }

// AddsBOS reports whether Encode with addSpecial puts the BOS token first.
func (t *Tokenizer) AddsBOS() bool {
	bos, ok := t.BOS()
	if !ok || t.post == nil {
		return false
	}
	ids := t.post.process(nil)
	return len(ids) > 0 && ids[0] == bos.ID
}

// Warnings lists oddities found while loading that the reference
// implementation also accepts silently, such as added-token ids that differ
// from the ids it assigns.
func (t *Tokenizer) Warnings() []string { return slices.Clone(t.warnings) }
