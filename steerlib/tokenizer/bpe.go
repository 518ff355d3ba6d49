package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// bpeConfig is the "model" object of a BPE tokenizer.json.
type bpeConfig struct {
	Type                    string            `json:"type"`
	Dropout                 *float64          `json:"dropout"`
	UnkToken                *string           `json:"unk_token"`
	ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
	FuseUnk                 bool              `json:"fuse_unk"`
	ByteFallback            bool              `json:"byte_fallback"`
	IgnoreMerges            bool              `json:"ignore_merges"`
	Vocab                   map[string]int    `json:"vocab"`
	Merges                  []json.RawMessage `json:"merges"`
}

// mergeValue is the rank of a merge and the id of the token it produces.
type mergeValue struct {
	rank int32
	id   int32
}

// maxCacheEntries bounds the word cache of a BPE model (benchmarks set it to
// 0 to measure without the cache).
var maxCacheEntries = 1 << 16

// maxCachedWordLen is the longest piece (in bytes) whose ids are cached.
const maxCachedWordLen = 256

// bpe is a byte-pair-encoding model.
type bpe struct {
	vocab        map[string]int
	merges       map[uint64]mergeValue
	unk          int // -1 when there is no unknown token
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	prefix       string   // continuing_subword_prefix
	suffix       string   // end_of_word_suffix
	byteIDs      [256]int // ids of "<0xXX>" tokens, -1 when absent

	mu    sync.RWMutex
	cache map[string][]int
}

func pairKey(a, b int) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func newBPE(c *bpeConfig) (*bpe, error) {
	if c.Dropout != nil && *c.Dropout > 0 {
		return nil, fmt.Errorf("BPE dropout %v is unsupported (only deterministic encoding)", *c.Dropout)
	}
	m := &bpe{
		vocab:        c.Vocab,
		unk:          -1,
		fuseUnk:      c.FuseUnk,
		byteFallback: c.ByteFallback,
		ignoreMerges: c.IgnoreMerges,
		cache:        make(map[string][]int),
	}
	if m.vocab == nil {
		m.vocab = map[string]int{}
	}
	if c.ContinuingSubwordPrefix != nil {
		m.prefix = *c.ContinuingSubwordPrefix
	}
	if c.EndOfWordSuffix != nil {
		m.suffix = *c.EndOfWordSuffix
	}
	if c.UnkToken != nil {
		id, ok := m.vocab[*c.UnkToken]
		if !ok {
			return nil, fmt.Errorf("BPE unk_token %q is not in the vocabulary", *c.UnkToken)
		}
		m.unk = id
	}
	for b := 0; b < 256; b++ {
		m.byteIDs[b] = -1
		if id, ok := m.vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteIDs[b] = id
		}
	}
	m.merges = make(map[uint64]mergeValue, len(c.Merges))
	for rank, raw := range c.Merges {
		a, b, err := parseMerge(raw)
		if err != nil {
			return nil, fmt.Errorf("BPE merge %d: %w", rank, err)
		}
		aID, ok := m.vocab[a]
		if !ok {
			return nil, fmt.Errorf("BPE merge %d: token %q is not in the vocabulary", rank, a)
		}
		bID, ok := m.vocab[b]
		if !ok {
			return nil, fmt.Errorf("BPE merge %d: token %q is not in the vocabulary", rank, b)
		}
		merged := a + strings.TrimPrefix(b, m.prefix)
		if len(m.prefix) > 0 && !strings.HasPrefix(b, m.prefix) {
			merged = a + b
		}
		id, ok := m.vocab[merged]
		if !ok {
			return nil, fmt.Errorf("BPE merge %d: merged token %q is not in the vocabulary", rank, merged)
		}
		key := pairKey(aID, bID)
		if _, dup := m.merges[key]; !dup {
			m.merges[key] = mergeValue{rank: int32(rank), id: int32(id)}
		}
	}
	return m, nil
}

// parseMerge reads a merge as "a b" or ["a", "b"].
func parseMerge(raw json.RawMessage) (string, string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		a, b, ok := strings.Cut(s, " ")
		if !ok {
			return "", "", fmt.Errorf("merge %q has no space", s)
		}
		return a, b, nil
	}
	var pair []string
	if err := json.Unmarshal(raw, &pair); err != nil {
		return "", "", fmt.Errorf("merge %s: not a string or a pair of strings", string(raw))
	}
	if len(pair) != 2 {
		return "", "", fmt.Errorf("merge %s: want 2 parts, got %d", string(raw), len(pair))
	}
	return pair[0], pair[1], nil
}

// symbol is one element of the doubly linked list a word is merged in.
type symbol struct {
	id         int
	prev, next int // indices, -1 at the ends
	size       int // 0 once merged into the previous symbol
}

// candidate is a possible merge of symbols[pos] with its next symbol.
type candidate struct {
	rank int32
	pos  int32
	id   int32
}

func candLess(a, b candidate) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.pos < b.pos
}

// candHeap is a binary min-heap ordered by (rank, pos).
type candHeap []candidate

func (h *candHeap) push(c candidate) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !candLess(s[i], s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *candHeap) pop() candidate {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && candLess(s[r], s[l]) {
			m = r
		}
		if !candLess(s[m], s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// tokenize appends the ids of one pre-tokenized piece to dst.
func (m *bpe) tokenize(dst []int, w string) []int {
	if w == "" {
		return dst
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[w]; ok {
			return append(dst, id)
		}
	}
	cacheable := len(w) <= maxCachedWordLen && maxCacheEntries > 0
	if cacheable {
		m.mu.RLock()
		ids, ok := m.cache[w]
		m.mu.RUnlock()
		if ok {
			return append(dst, ids...)
		}
	}
	start := len(dst)
	dst = m.merge(dst, w)
	if cacheable {
		ids := append([]int(nil), dst[start:]...)
		m.mu.Lock()
		if len(m.cache) < maxCacheEntries {
			// Clone the key: w may share memory with a much longer text.
			m.cache[strings.Clone(w)] = ids
		}
		m.mu.Unlock()
	}
	return dst
}

// merge splits w into characters and applies the merges, lowest rank first
// and leftmost first among equal ranks.
func (m *bpe) merge(dst []int, w string) []int {
	syms := m.charSymbols(w)
	if len(syms) == 0 {
		return dst
	}
	m.applyMerges(syms)
	for i := 0; i >= 0 && i < len(syms); i = syms[i].next {
		dst = append(dst, syms[i].id)
	}
	return dst
}

// charSymbols returns the initial symbols of w, one per character, linked
// left to right: the character's id (with the continuing-subword prefix and
// end-of-word suffix when the model has them), else its bytes' ids (byte
// fallback), else the unknown id (fused over runs when fuseUnk is set);
// characters with none of these are dropped.
func (m *bpe) charSymbols(w string) []symbol {
	syms := make([]symbol, 0, len(w))
	lastUnk := false
	for i, r := range w {
		size := utf8.RuneLen(r)
		if r == utf8.RuneError && size != 3 {
			size = 1
		}
		c := w[i : i+size]
		if i > 0 && m.prefix != "" {
			c = m.prefix + c
		}
		if i+size == len(w) && m.suffix != "" {
			c += m.suffix
		}
		if id, ok := m.vocab[c]; ok {
			syms = appendSymbol(syms, id)
			lastUnk = false
			continue
		}
		if m.byteFallback && m.hasByteIDs(w[i:i+size]) {
			for j := i; j < i+size; j++ {
				syms = appendSymbol(syms, m.byteIDs[w[j]])
			}
			lastUnk = false
			continue
		}
		if m.unk >= 0 && !(m.fuseUnk && lastUnk) {
			syms = appendSymbol(syms, m.unk)
			lastUnk = true
		}
	}
	for i := 0; i+1 < len(syms); i++ {
		syms[i].next = i + 1
	}
	return syms
}

// appendSymbol appends a one-character symbol whose previous symbol is the
// last one in syms; its next link is set once all symbols are known.
func appendSymbol(syms []symbol, id int) []symbol {
	return append(syms, symbol{id: id, prev: len(syms) - 1, next: -1, size: 1})
}

// hasByteIDs reports whether every byte of c has a byte-fallback token.
func (m *bpe) hasByteIDs(c string) bool {
	for j := 0; j < len(c); j++ {
		if m.byteIDs[c[j]] < 0 {
			return false
		}
	}
	return true
}

// applyMerges merges the linked symbols in place: it pops the lowest-ranked
// (then leftmost) adjacent pair from a heap, skips candidates made stale by
// earlier merges, folds the right symbol into the left one (size 0 marks it
// merged) and pushes the two new pairs around the merged symbol.
func (m *bpe) applyMerges(syms []symbol) {
	if len(syms) < 2 {
		return
	}
	h := make(candHeap, 0, len(syms))
	for i := 0; i+1 < len(syms); i++ {
		m.pushPair(&h, syms, i)
	}
	for len(h) > 0 {
		c := h.pop()
		p := int(c.pos)
		s := &syms[p]
		if s.size == 0 || s.next < 0 {
			continue
		}
		nx := s.next
		if mv, ok := m.merges[pairKey(s.id, syms[nx].id)]; !ok || mv.id != c.id {
			continue
		}
		s.id = int(c.id)
		s.size += syms[nx].size
		syms[nx].size = 0
		s.next = syms[nx].next
		if s.next >= 0 {
			syms[s.next].prev = p
		}
		if s.prev >= 0 {
			m.pushPair(&h, syms, s.prev)
		}
		if s.next >= 0 {
			m.pushPair(&h, syms, p)
		}
	}
}

// pushPair pushes the merge of syms[p] with its next symbol, if the model has
// one.
func (m *bpe) pushPair(h *candHeap, syms []symbol, p int) {
	if mv, ok := m.merges[pairKey(syms[p].id, syms[syms[p].next].id)]; ok {
		h.push(candidate{rank: mv.rank, pos: int32(p), id: mv.id})
	}
}
