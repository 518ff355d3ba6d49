// Package langdetect is a Go implementation of the language identifier used by
// Google's reference IFEval (the Python `langdetect` package, a port of
// Cybozu's language-detection): a naive Bayes model over character 1-3-grams
// with the same text normalisation, the same 55 language profiles (embedded,
// see profiles.json.gz and NOTICE) and the same randomised inference. With a
// fixed seed it reproduces Python's `DetectorFactory.seed = N; detect(text)`.
//
// IFEval's language:response_language, change_case:english_capital and
// change_case:english_lowercase checkers call it. langdetect ignores n-grams
// inside words of two or more capital letters, so ALL-CAPS English is often
// not recognised as English; the reference verdicts depend on that behaviour,
// which general-purpose detectors (lingua-go, whatlanggo) do not share.
package langdetect

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/gosteer/gosteer/steerlib/ifeval/internal/pystr"
)

//go:embed profiles.json.gz
var profilesGz []byte

// ErrNoFeatures is returned when the text holds no n-gram known to any
// profile (for example only digits and punctuation). Python's langdetect
// raises LangDetectException in that case.
var ErrNoFeatures = errors.New("langdetect: no features in text")

// Unknown is returned by Detect when no language reaches probability 0.1.
const Unknown = "unknown"

const (
	nGram          = 3
	alphaDefault   = 0.5
	alphaWidth     = 0.05
	iterationLimit = 1000
	probThreshold  = 0.1
	convThreshold  = 0.99999
	baseFreq       = 10000
	nTrial         = 7
	maxTextLength  = 10000
	urlMaxRun      = 2076
)

// Language is one candidate language and its probability.
type Language struct {
	Lang string
	Prob float64
}

type entry struct {
	lang uint8
	prob float64
}

// Model holds the loaded profiles. It is safe for concurrent use.
type Model struct {
	langs   []string
	gramIdx map[uint64]int32 // packed n-gram (see packGram) -> gram index
	offsets []int32          // gram i's entries are entries[offsets[i]:offsets[i+1]]
	entries []entry

	latin1Exclude map[rune]bool
	cjk           map[rune]rune
	viAlpha       map[rune]int
	viMark        map[rune]int
	viNorm        [][]rune
}

type profileDoc struct {
	Langs         []string            `json:"langs"`
	NWords        [][3]float64        `json:"n_words"`
	Grams         map[string][][2]int `json:"grams"`
	Latin1Exclude string              `json:"latin1_exclude"`
	ViToNormalize string              `json:"vi_to_normalize"`
	ViDmark       string              `json:"vi_dmark"`
	ViNormalized  []string            `json:"vi_normalized"`
	KanjiClasses  []string            `json:"kanji_classes"`
}

var (
	defaultOnce  sync.Once
	defaultModel *Model
	defaultErr   error
)

// Default returns the model built from the embedded profiles, loading it on
// first use (about 0.3 s and 6 MB of heap).
func Default() (*Model, error) {
	defaultOnce.Do(func() {
		defaultModel, defaultErr = Load(bytes.NewReader(profilesGz))
	})
	return defaultModel, defaultErr
}

// Load reads a gzipped profile document in the format written by
// internal/gen/gen_profiles.py.
func Load(r io.Reader) (*Model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("langdetect: open profiles: %w", err)
	}
	defer zr.Close()
	var doc profileDoc
	if err := json.NewDecoder(zr).Decode(&doc); err != nil {
		return nil, fmt.Errorf("langdetect: decode profiles: %w", err)
	}
	if len(doc.Langs) < 2 || len(doc.Langs) > 255 || len(doc.NWords) != len(doc.Langs) {
		return nil, fmt.Errorf("langdetect: bad profile document: %d languages, %d word counts", len(doc.Langs), len(doc.NWords))
	}
	m := &Model{
		langs:         doc.Langs,
		gramIdx:       make(map[uint64]int32, len(doc.Grams)),
		latin1Exclude: map[rune]bool{},
		cjk:           map[rune]rune{},
		viAlpha:       map[rune]int{},
		viMark:        map[rune]int{},
	}
	grams := make([]string, 0, len(doc.Grams))
	for g := range doc.Grams {
		grams = append(grams, g)
	}
	sort.Strings(grams)
	m.offsets = make([]int32, 0, len(grams)+1)
	for i, g := range grams {
		rs := []rune(g)
		n := len(rs)
		if n < 1 || n > nGram {
			continue
		}
		m.gramIdx[packGram(rs)] = int32(len(m.offsets))
		m.offsets = append(m.offsets, int32(len(m.entries)))
		es := doc.Grams[g]
		sort.Slice(es, func(a, b int) bool { return es[a][0] < es[b][0] })
		for _, e := range es {
			li, count := e[0], e[1]
			if li < 0 || li >= len(doc.Langs) {
				return nil, fmt.Errorf("langdetect: gram %d (%q): language index %d out of range", i, g, li)
			}
			m.entries = append(m.entries, entry{lang: uint8(li), prob: float64(count) / doc.NWords[li][n-1]})
		}
	}
	m.offsets = append(m.offsets, int32(len(m.entries)))
	for _, r := range doc.Latin1Exclude {
		m.latin1Exclude[r] = true
	}
	for _, cls := range doc.KanjiClasses {
		rs := []rune(cls)
		if len(rs) == 0 {
			continue
		}
		for _, r := range rs {
			m.cjk[r] = rs[0]
		}
	}
	for i, r := range doc.ViToNormalize {
		m.viAlpha[r] = i
	}
	for i, r := range []rune(doc.ViDmark) {
		m.viMark[r] = i
	}
	for _, s := range doc.ViNormalized {
		m.viNorm = append(m.viNorm, []rune(s))
	}
	// viAlpha indexes must be rune indexes.
	m.viAlpha = map[rune]int{}
	for i, r := range []rune(doc.ViToNormalize) {
		m.viAlpha[r] = i
	}
	return m, nil
}

// Languages lists the language codes of the model (sorted).
func (m *Model) Languages() []string { return append([]string(nil), m.langs...) }

// Detect returns the most probable language code of text (langdetect's codes:
// "en", "fr", "zh-cn", ...), Unknown when no language reaches probability
// 0.1, or ErrNoFeatures. seed plays the role of DetectorFactory.seed.
func (m *Model) Detect(text string, seed uint64) (string, error) {
	probs, err := m.Probabilities(text, seed)
	if err != nil {
		return "", err
	}
	if len(probs) == 0 {
		return Unknown, nil
	}
	return probs[0].Lang, nil
}

// Probabilities returns the languages whose probability exceeds 0.1, most
// probable first.
func (m *Model) Probabilities(text string, seed uint64) ([]Language, error) {
	ngrams := m.extractNgrams(m.clean(m.prepare(text)))
	if len(ngrams) == 0 {
		return nil, ErrNoFeatures
	}
	nl := len(m.langs)
	langprob := make([]float64, nl)
	prob := make([]float64, nl)
	var rng pyRandom
	rng.seed(seed)
	for t := 0; t < nTrial; t++ {
		for i := range prob {
			prob[i] = 1.0 / float64(nl)
		}
		alpha := alphaDefault + rng.gauss()*alphaWidth
		weight := alpha / baseFreq
		for i := 0; ; i++ {
			g := ngrams[rng.below(len(ngrams))]
			es := m.entries[m.offsets[g]:m.offsets[g+1]]
			k := 0
			for li := range prob {
				p := 0.0
				if k < len(es) && int(es[k].lang) == li {
					p = es[k].prob
					k++
				}
				prob[li] *= weight + p
			}
			if i%5 == 0 {
				if normalize(prob) > convThreshold || i >= iterationLimit {
					break
				}
			}
		}
		for j := range langprob {
			langprob[j] += prob[j] / nTrial
		}
	}
	var out []Language
	for i, p := range langprob {
		if p > probThreshold {
			out = append(out, Language{Lang: m.langs[i], Prob: p})
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Prob > out[b].Prob })
	return out, nil
}

func normalize(prob []float64) float64 {
	sum := 0.0
	for _, p := range prob {
		sum += p
	}
	maxp := 0.0
	for i, p := range prob {
		q := p / sum
		if maxp < q {
			maxp = q
		}
		prob[i] = q
	}
	return maxp
}

// prepare mirrors Detector.append: URLs and e-mail addresses become a space,
// Vietnamese letters with combining marks are composed, the text is cut at
// 10,000 characters and runs of ASCII spaces collapse to one.
func (m *Model) prepare(text string) []rune {
	if strings.Contains(text, "http") {
		text = replaceURLs(text)
	}
	if strings.Contains(text, "@") {
		text = mailRe.ReplaceAllString(text, " ")
	}
	rs := m.normalizeVi([]rune(text))
	if len(rs) > maxTextLength {
		rs = rs[:maxTextLength]
	}
	out := make([]rune, 0, len(rs))
	var pre rune
	for _, ch := range rs {
		if ch != ' ' || pre != ' ' {
			out = append(out, ch)
		}
		pre = ch
	}
	return out
}

func (m *Model) normalizeVi(rs []rune) []rune {
	out := rs[:0:0]
	for i := 0; i < len(rs); i++ {
		if a, ok := m.viAlpha[rs[i]]; ok && i+1 < len(rs) {
			if d, ok := m.viMark[rs[i+1]]; ok && d < len(m.viNorm) && a < len(m.viNorm[d]) {
				out = append(out, m.viNorm[d][a])
				i++
				continue
			}
		}
		out = append(out, rs[i])
	}
	return out
}

// clean mirrors Detector.cleaning_text: when non-Latin characters outnumber
// Latin letters two to one, the Latin letters are dropped.
func (m *Model) clean(rs []rune) []rune {
	latin, nonLatin := 0, 0
	for _, ch := range rs {
		if ch >= 'A' && ch <= 'z' {
			latin++
		} else if ch >= 0x300 && !(ch >= 0x1E00 && ch <= 0x1EFF) {
			nonLatin++
		}
	}
	if latin*2 >= nonLatin {
		return rs
	}
	out := rs[:0:0]
	for _, ch := range rs {
		if ch < 'A' || ch > 'z' {
			out = append(out, ch)
		}
	}
	return out
}

// normalizeRune mirrors NGram.normalize.
func (m *Model) normalizeRune(ch rune) rune {
	switch {
	case ch <= 0x7F:
		if ch < 'A' || (ch > 'Z' && ch < 'a') || ch > 'z' {
			return ' '
		}
	case ch <= 0xFF:
		if m.latin1Exclude[ch] {
			return ' '
		}
	case ch >= 0x180 && ch <= 0x24F:
		switch ch {
		case 0x219:
			return 0x15f
		case 0x21b:
			return 0x163
		}
	case ch >= 0x2000 && ch <= 0x206F:
		return ' '
	case ch >= 0x600 && ch <= 0x6FF:
		if ch == 0x6cc {
			return 0x64a
		}
	case ch >= 0x1E00 && ch <= 0x1EFF:
		if ch >= 0x1ea0 {
			return 0x1ec3
		}
	case ch >= 0x3040 && ch <= 0x309F:
		return 0x3042
	case ch >= 0x30A0 && ch <= 0x30FF:
		return 0x30a2
	case (ch >= 0x3100 && ch <= 0x312F) || (ch >= 0x31A0 && ch <= 0x31BF):
		return 0x3105
	case ch >= 0x4E00 && ch <= 0x9FFF:
		if r, ok := m.cjk[ch]; ok {
			return r
		}
	case ch >= 0xAC00 && ch <= 0xD7AF:
		return 0xac00
	}
	return ch
}

// packGram packs an n-gram of 1 to 3 runes into one map key, 21 bits per
// rune. Normalised text and the profiles never contain U+0000, so unused
// slots (zero) keep keys of different lengths distinct.
func packGram(rs []rune) uint64 {
	var k uint64
	for i, r := range rs {
		k |= uint64(r&0x1FFFFF) << (21 * uint(i))
	}
	return k
}

// extractNgrams mirrors Detector._extract_ngrams and returns gram indexes.
func (m *Model) extractNgrams(rs []rune) []int32 {
	var out []int32
	grams := make([]rune, 0, nGram+1)
	grams = append(grams, ' ')
	capital := false
	for _, raw := range rs {
		ch := m.normalizeRune(raw)
		last := grams[len(grams)-1]
		if last == ' ' {
			grams = append(grams[:0], ' ')
			capital = false
			if ch == ' ' {
				continue
			}
		} else if len(grams) >= nGram {
			copy(grams, grams[1:])
			grams = grams[:len(grams)-1]
		}
		grams = append(grams, ch)
		if pystr.IsUpperRune(ch) {
			if pystr.IsUpperRune(last) {
				capital = true
			}
		} else {
			capital = false
		}
		if capital {
			continue
		}
		for n := 1; n <= nGram; n++ {
			if len(grams) < n {
				break
			}
			w := grams[len(grams)-n:]
			if n == 1 && w[0] == ' ' {
				continue
			}
			if g, ok := m.gramIdx[packGram(w)]; ok {
				out = append(out, g)
			}
		}
	}
	return out
}
