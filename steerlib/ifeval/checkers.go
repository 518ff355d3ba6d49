package ifeval

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gosteer/gosteer/steerlib/ifeval/internal/pystr"
)

// checker tests one response. The error is for failures of the machinery
// (for example an unusable language model), not for "not followed".
type checker func(response string) (bool, error)

type builder func(k *kwargs, prompt string) (checker, error)

// Instruction ids, as in the reference registry.
const (
	IDKeywordsExistence         = "keywords:existence"
	IDKeywordsFrequency         = "keywords:frequency"
	IDKeywordsForbiddenWords    = "keywords:forbidden_words"
	IDKeywordsLetterFrequency   = "keywords:letter_frequency"
	IDResponseLanguage          = "language:response_language"
	IDNumberSentences           = "length_constraints:number_sentences"
	IDNumberParagraphs          = "length_constraints:number_paragraphs"
	IDNumberWords               = "length_constraints:number_words"
	IDNthParagraphFirstWord     = "length_constraints:nth_paragraph_first_word"
	IDNumberPlaceholders        = "detectable_content:number_placeholders"
	IDPostscript                = "detectable_content:postscript"
	IDNumberBulletLists         = "detectable_format:number_bullet_lists"
	IDConstrainedResponse       = "detectable_format:constrained_response"
	IDNumberHighlightedSections = "detectable_format:number_highlighted_sections"
	IDMultipleSections          = "detectable_format:multiple_sections"
	IDJSONFormat                = "detectable_format:json_format"
	IDTitle                     = "detectable_format:title"
	IDTwoResponses              = "combination:two_responses"
	IDRepeatPrompt              = "combination:repeat_prompt"
	IDEndChecker                = "startend:end_checker"
	IDCapitalWordFrequency      = "change_case:capital_word_frequency"
	IDEnglishCapital            = "change_case:english_capital"
	IDEnglishLowercase          = "change_case:english_lowercase"
	IDNoComma                   = "punctuation:no_comma"
	IDQuotation                 = "startend:quotation"
	// LengthSentencesID is the paper's length task (not an IFEval id):
	// kwargs {"relation": "at most"|"at least"|"exactly", "num_sentences": n}.
	LengthSentencesID = "length_constraints:sentences_paper"
)

var registry = map[string]builder{
	IDKeywordsExistence:         buildKeywordsExistence,
	IDKeywordsFrequency:         buildKeywordsFrequency,
	IDKeywordsForbiddenWords:    buildForbiddenWords,
	IDKeywordsLetterFrequency:   buildLetterFrequency,
	IDResponseLanguage:          buildResponseLanguage,
	IDNumberSentences:           buildNumberSentences,
	IDNumberParagraphs:          buildNumberParagraphs,
	IDNumberWords:               buildNumberWords,
	IDNthParagraphFirstWord:     buildNthParagraphFirstWord,
	IDNumberPlaceholders:        buildPlaceholders,
	IDPostscript:                buildPostscript,
	IDNumberBulletLists:         buildBulletLists,
	IDConstrainedResponse:       buildConstrainedResponse,
	IDNumberHighlightedSections: buildHighlightedSections,
	IDMultipleSections:          buildMultipleSections,
	IDJSONFormat:                buildJSONFormat,
	IDTitle:                     buildTitle,
	IDTwoResponses:              buildTwoResponses,
	IDRepeatPrompt:              buildRepeatPrompt,
	IDEndChecker:                buildEndChecker,
	IDCapitalWordFrequency:      buildCapitalWordFrequency,
	IDEnglishCapital:            buildEnglishCapital,
	IDEnglishLowercase:          buildEnglishLowercase,
	IDNoComma:                   buildNoComma,
	IDQuotation:                 buildQuotation,
	LengthSentencesID:           buildLengthSentences,
}

// InstructionIDs returns the 25 IFEval instruction ids this package checks,
// sorted. (LengthSentencesID is accepted too but not listed.)
func InstructionIDs() []string {
	var ids []string
	for id := range registry {
		if id != LengthSentencesID {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// UsesLanguageDetection reports whether the checker of id calls the language
// detector (and so inherits its approximations).
func UsesLanguageDetection(id string) bool {
	return id == IDResponseLanguage || id == IDEnglishCapital || id == IDEnglishLowercase
}

func newChecker(id string, kw map[string]any, prompt string) (checker, error) {
	b, ok := registry[id]
	if !ok {
		// The paper's files suffix language ids (language:response_language_fr);
		// their kwargs carry the language, so the plain id is meant.
		if strings.HasPrefix(id, IDResponseLanguage+"_") {
			b = registry[IDResponseLanguage]
		} else {
			return nil, fmt.Errorf("unknown instruction id %q", id)
		}
	}
	k := newKwargs(id, kw)
	c, err := b(k, prompt)
	if err != nil {
		return nil, err
	}
	if err := k.done(); err != nil {
		return nil, err
	}
	return c, nil
}

// pyRegexp compiles a pattern given to Python's re module with IGNORECASE
// (keywords are passed to re.search unescaped in the reference).
func pyRegexp(k *kwargs, pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile("(?i)" + pattern)
	if err != nil {
		return nil, k.errf("pattern %q: %v", pattern, err)
	}
	return re, nil
}

func buildKeywordsExistence(k *kwargs, _ string) (checker, error) {
	words, err := k.strs("keywords")
	if err != nil {
		return nil, err
	}
	sort.Strings(words)
	res := make([]*regexp.Regexp, len(words))
	for i, w := range words {
		if res[i], err = pyRegexp(k, w); err != nil {
			return nil, err
		}
	}
	return func(v string) (bool, error) {
		for _, re := range res {
			if !re.MatchString(v) {
				return false, nil
			}
		}
		return true, nil
	}, nil
}

func buildKeywordsFrequency(k *kwargs, _ string) (checker, error) {
	word, err := k.str("keyword")
	if err != nil {
		return nil, err
	}
	word = pystr.Strip(word)
	if word == "" {
		return nil, k.errf("kwarg \"keyword\" is empty")
	}
	b, err := k.bound("frequency", "relation")
	if err != nil {
		return nil, err
	}
	re, err := pyRegexp(k, word)
	if err != nil {
		return nil, err
	}
	return func(v string) (bool, error) {
		return b.holds(len(re.FindAllStringIndex(v, -1))), nil
	}, nil
}

func buildForbiddenWords(k *kwargs, _ string) (checker, error) {
	words, err := k.strs("forbidden_words")
	if err != nil {
		return nil, err
	}
	res := make([]*regexp.Regexp, len(words))
	for i, w := range words {
		if res[i], err = pyRegexp(k, w); err != nil {
			return nil, err
		}
	}
	return func(v string) (bool, error) {
		for _, re := range res {
			if searchBounded(re, v) {
				return false, nil
			}
		}
		return true, nil
	}, nil
}

// searchBounded mirrors re.search(r"\b" + word + r"\b", v) with Python's
// Unicode word boundaries: it tries every start position in turn.
func searchBounded(re *regexp.Regexp, v string) bool {
	pos := 0
	for pos <= len(v) {
		loc := re.FindStringIndex(v[pos:])
		if loc == nil {
			return false
		}
		start, end := pos+loc[0], pos+loc[1]
		if pystr.WordBoundary(v, start) && pystr.WordBoundary(v, end) {
			return true
		}
		if start >= len(v) {
			return false
		}
		_, size := utf8.DecodeRuneInString(v[start:])
		pos = start + size
	}
	return false
}

func buildLetterFrequency(k *kwargs, _ string) (checker, error) {
	letter, err := k.str("letter")
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(letter) != 1 {
		return nil, k.errf("kwarg \"letter\" = %q, want one character", letter)
	}
	lower := []rune(pyLower(pystr.Strip(letter)))
	if len(lower) != 1 {
		return nil, k.errf("kwarg \"letter\" = %q is not a letter", letter)
	}
	target := lower[0]
	b, err := k.bound("let_frequency", "let_relation")
	if err != nil {
		return nil, err
	}
	return func(v string) (bool, error) {
		n := 0
		for _, r := range pyLower(v) {
			if r == target {
				n++
			}
		}
		return b.holds(n), nil
	}, nil
}

func buildResponseLanguage(k *kwargs, _ string) (checker, error) {
	lang, err := k.str("language")
	if err != nil {
		return nil, err
	}
	if err := checkLanguageCode(lang); err != nil {
		return nil, k.errf("kwarg \"language\": %v", err)
	}
	return func(v string) (bool, error) {
		got, ok, err := detectLanguage(v)
		if err != nil {
			return false, err
		}
		if !ok {
			return true, nil // the reference counts undetectable text as followed
		}
		return got == lang, nil
	}, nil
}

func buildNumberSentences(k *kwargs, _ string) (checker, error) {
	b, err := k.bound("num_sentences", "relation")
	if err != nil {
		return nil, err
	}
	return func(v string) (bool, error) {
		c, err := CountSentences(v)
		return b.holds(c), err
	}, nil
}

var paragraphDivider = regexp.MustCompile(`[` + pystr.SpaceClass + `]?\*\*\*[` + pystr.SpaceClass + `]?`)

func buildNumberParagraphs(k *kwargs, _ string) (checker, error) {
	want, err := k.int("num_paragraphs")
	if err != nil {
		return nil, err
	}
	return func(v string) (bool, error) {
		parts := paragraphDivider.Split(v, -1)
		n := len(parts)
		for i, p := range parts {
			if pystr.IsBlank(p) {
				if i == 0 || i == len(parts)-1 {
					n--
				} else {
					return false, nil
				}
			}
		}
		return n == want, nil
	}, nil
}

func buildNumberWords(k *kwargs, _ string) (checker, error) {
	b, err := k.bound("num_words", "relation")
	if err != nil {
		return nil, err
	}
	return func(v string) (bool, error) {
		return b.holds(CountWords(v)), nil
	}, nil
}

func buildNthParagraphFirstWord(k *kwargs, _ string) (checker, error) {
	want, err := k.int("num_paragraphs")
	if err != nil {
		return nil, err
	}
	nth, err := k.int("nth_paragraph")
	if err != nil {
		return nil, err
	}
	if nth <= 0 || nth > want {
		return nil, k.errf("nth_paragraph = %d outside 1..num_paragraphs (%d)", nth, want)
	}
	first, err := k.str("first_word")
	if err != nil {
		return nil, err
	}
	first = pyLower(first)
	return func(v string) (bool, error) {
		parts := strings.Split(v, "\n\n")
		n := len(parts)
		for _, p := range parts {
			if pystr.IsBlank(p) {
				n--
			}
		}
		if nth > n {
			return false, nil
		}
		para := pystr.Strip(parts[nth-1])
		if para == "" {
			return false, nil
		}
		word := strings.FieldsFunc(para, pystr.IsSpace)[0]
		word = strings.TrimLeft(word, "'")
		word = strings.TrimLeft(word, `"`)
		var b strings.Builder
		for _, r := range word {
			if strings.ContainsRune(`.,?!'"`, r) {
				break
			}
			b.WriteString(pyLower(string(r)))
		}
		return n == want && b.String() == first, nil
	}, nil
}

var placeholderRe = regexp.MustCompile(`\[.*?\]`)

func buildPlaceholders(k *kwargs, _ string) (checker, error) {
	n, err := k.int("num_placeholders")
	if err != nil {
		return nil, err
	}
	return func(v string) (bool, error) {
		return len(placeholderRe.FindAllStringIndex(v, -1)) >= n, nil
	}, nil
}

func buildPostscript(k *kwargs, _ string) (checker, error) {
	marker, err := k.str("postscript_marker")
	if err != nil {
		return nil, err
	}
	marker = pystr.Strip(marker)
	if marker == "" {
		return nil, k.errf("kwarg \"postscript_marker\" is empty")
	}
	sp := `[` + pystr.SpaceClass + `]`
	var pat string
	switch marker {
	case "P.P.S":
		pat = `p\.` + sp + `?p\.` + sp + `?s`
	case "P.S.":
		pat = `p\.` + sp + `?s\.`
	default:
		pat = pyLower(marker)
	}
	// The reference searches \s*MARKER.*$ (MULTILINE) in the lowercased
	// response, which matches wherever MARKER does.
	re, err := regexp.Compile(`(?m)` + pat)
	if err != nil {
		return nil, k.errf("postscript marker %q: %v", marker, err)
	}
	return func(v string) (bool, error) {
		return re.MatchString(pyLower(v)), nil
	}, nil
}

var (
	bulletStarRe = regexp.MustCompile(`(?m)^[` + pystr.SpaceClass + `]*\*[^*].*$`)
	bulletDashRe = regexp.MustCompile(`(?m)^[` + pystr.SpaceClass + `]*-.*$`)
)

// CountBullets returns the number of markdown bullet lines as the reference
// counts them ("* item" or "- item" lines).
func CountBullets(v string) int {
	return len(bulletStarRe.FindAllStringIndex(v, -1)) + len(bulletDashRe.FindAllStringIndex(v, -1))
}

func buildBulletLists(k *kwargs, _ string) (checker, error) {
	n, err := k.int("num_bullets")
	if err != nil {
		return nil, err
	}
	return func(v string) (bool, error) {
		return CountBullets(v) == n, nil
	}, nil
}

var constrainedOptions = []string{"My answer is yes.", "My answer is no.", "My answer is maybe."}

func buildConstrainedResponse(_ *kwargs, _ string) (checker, error) {
	return func(v string) (bool, error) {
		v = pystr.Strip(v)
		for _, o := range constrainedOptions {
			if strings.Contains(v, o) {
				return true, nil
			}
		}
		return false, nil
	}, nil
}

var (
	highlightRe       = regexp.MustCompile(`\*[^\n*]*\*`)
	doubleHighlightRe = regexp.MustCompile(`\*\*[^\n*]*\*\*`)
)

// CountHighlights returns the number of *highlighted* sections as the
// reference counts them (single and double asterisks both count).
func CountHighlights(v string) int {
	n := 0
	for _, h := range highlightRe.FindAllString(v, -1) {
		if !pystr.IsBlank(strings.Trim(h, "*")) {
			n++
		}
	}
	for _, h := range doubleHighlightRe.FindAllString(v, -1) {
		h = strings.TrimSuffix(strings.TrimPrefix(h, "**"), "**")
		if !pystr.IsBlank(h) {
			n++
		}
	}
	return n
}

func buildHighlightedSections(k *kwargs, _ string) (checker, error) {
	n, err := k.int("num_highlights")
	if err != nil {
		return nil, err
	}
	return func(v string) (bool, error) {
		return CountHighlights(v) >= n, nil
	}, nil
}

func buildMultipleSections(k *kwargs, _ string) (checker, error) {
	spliter, err := k.str("section_spliter")
	if err != nil {
		return nil, err
	}
	spliter = pystr.Strip(spliter)
	if spliter == "" {
		return nil, k.errf("kwarg \"section_spliter\" is empty")
	}
	n, err := k.int("num_sections")
	if err != nil {
		return nil, err
	}
	sp := `[` + pystr.SpaceClass + `]?`
	re, err := regexp.Compile(sp + spliter + sp + `\p{Nd}+` + sp)
	if err != nil {
		return nil, k.errf("section spliter %q: %v", spliter, err)
	}
	return func(v string) (bool, error) {
		return len(re.FindAllStringIndex(v, -1)) >= n, nil
	}, nil
}

func buildJSONFormat(_ *kwargs, _ string) (checker, error) {
	return func(v string) (bool, error) {
		v = pystr.Strip(v)
		for _, p := range []string{"```json", "```Json", "```JSON", "```"} {
			v = strings.TrimPrefix(v, p)
		}
		v = pystr.Strip(strings.TrimSuffix(v, "```"))
		return validPythonJSON(v), nil
	}, nil
}

var titleRe = regexp.MustCompile(`<<[^\n]+>>`)

func buildTitle(_ *kwargs, _ string) (checker, error) {
	return func(v string) (bool, error) {
		for _, t := range titleRe.FindAllString(v, -1) {
			t = strings.TrimRight(strings.TrimLeft(t, "<"), ">")
			if !pystr.IsBlank(t) {
				return true, nil
			}
		}
		return false, nil
	}, nil
}

func buildTwoResponses(_ *kwargs, _ string) (checker, error) {
	return func(v string) (bool, error) {
		parts := strings.Split(v, "******")
		var valid []string
		for i, p := range parts {
			if pystr.IsBlank(p) {
				if i != 0 && i != len(parts)-1 {
					return false, nil
				}
			} else {
				valid = append(valid, p)
			}
		}
		return len(valid) == 2 && pystr.Strip(valid[0]) != pystr.Strip(valid[1]), nil
	}, nil
}

func buildRepeatPrompt(k *kwargs, _ string) (checker, error) {
	p, err := k.str("prompt_to_repeat")
	if err != nil {
		return nil, err
	}
	if p == "" {
		return nil, k.errf("kwarg \"prompt_to_repeat\" is empty")
	}
	want := pyLower(pystr.Strip(p))
	return func(v string) (bool, error) {
		return strings.HasPrefix(pyLower(pystr.Strip(v)), want), nil
	}, nil
}

func buildEndChecker(k *kwargs, _ string) (checker, error) {
	end, err := k.str("end_phrase")
	if err != nil {
		return nil, err
	}
	want := pyLower(pystr.Strip(end))
	if want == "" {
		return nil, k.errf("kwarg \"end_phrase\" is empty")
	}
	return func(v string) (bool, error) {
		v = pyLower(strings.Trim(pystr.Strip(v), `"`))
		return strings.HasSuffix(v, want), nil
	}, nil
}

func buildCapitalWordFrequency(k *kwargs, _ string) (checker, error) {
	b, err := k.bound("capital_frequency", "capital_relation")
	if err != nil {
		return nil, err
	}
	return func(v string) (bool, error) {
		c, err := CountCapitalWords(v)
		return b.holds(c), err
	}, nil
}

// CountCapitalWords counts the NLTK word_tokenize tokens of v that are all
// capitals (Python's str.isupper).
func CountCapitalWords(v string) (int, error) {
	toks, err := WordTokenize(v)
	n := 0
	for _, t := range toks {
		if pystr.IsUpper(t) {
			n++
		}
	}
	return n, err
}

func buildEnglishCapital(_ *kwargs, _ string) (checker, error) {
	return func(v string) (bool, error) {
		if !pystr.IsUpper(v) {
			return false, nil
		}
		return isEnglish(v)
	}, nil
}

func buildEnglishLowercase(_ *kwargs, _ string) (checker, error) {
	return func(v string) (bool, error) {
		if !pystr.IsLower(v) {
			return false, nil
		}
		return isEnglish(v)
	}, nil
}

func isEnglish(v string) (bool, error) {
	got, ok, err := detectLanguage(v)
	if err != nil {
		return false, err
	}
	if !ok {
		return true, nil // undetectable counts as followed in the reference
	}
	return got == "en", nil
}

func buildNoComma(_ *kwargs, _ string) (checker, error) {
	return func(v string) (bool, error) {
		return !strings.Contains(v, ","), nil
	}, nil
}

func buildQuotation(_ *kwargs, _ string) (checker, error) {
	return func(v string) (bool, error) {
		v = pystr.Strip(v)
		return utf8.RuneCountInString(v) > 1 && v[0] == '"' && v[len(v)-1] == '"', nil
	}, nil
}
