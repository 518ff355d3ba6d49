package ifeval

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/dlclark/regexp2"

	"github.com/gosteer/gosteer/steerlib/ifeval/internal/pystr"
)

// rewrite is one substitution step of NLTK's word tokenizer. Steps that need
// look-ahead or Unicode \b use regexp2; the others use the standard library.
type rewrite struct {
	re   *regexp.Regexp
	re2  *regexp2.Regexp
	fn   func(string) string
	repl string
	// need lists lowercase substrings one of which must occur for the rule
	// to match (a cheap pre-filter for the regexp2 rules).
	need []string
	// triggers lists characters one of which every match contains.
	triggers string
}

// apply runs the rule on s. low, when not empty, is strings.ToLower of a text
// that contains every pre-filter word s can contain.
func (r rewrite) apply(s, low string) (string, error) {
	if r.fn != nil {
		return r.fn(s), nil
	}
	if r.re != nil {
		if !strings.ContainsAny(s, r.triggers) {
			return s, nil
		}
		return r.re.ReplaceAllString(s, r.repl), nil
	}
	if len(r.need) > 0 {
		if low == "" {
			low = strings.ToLower(s)
		}
		found := false
		for _, n := range r.need {
			if strings.Contains(low, n) {
				found = true
				break
			}
		}
		if !found {
			return s, nil
		}
	}
	out, err := r.re2.Replace(s, r.repl, -1, -1)
	if err != nil {
		return s, fmt.Errorf("word tokenizer rule %q: %w", r.re2.String(), err)
	}
	return out, nil
}

// std is a rule for the standard regexp engine; it only runs when the text
// contains one of the trigger characters (every match needs one).
func std(pattern, repl, triggers string) rewrite {
	return rewrite{re: regexp.MustCompile(pattern), repl: repl, triggers: triggers}
}

func ext(pattern, repl string, need ...string) rewrite {
	return rewrite{re2: regexp2.MustCompile(pattern, regexp2.None), repl: repl, need: need}
}

// finalPeriod implements the two "final period" rules
// ([^.])(\.)([CLOSERS]*)\s*$ -> "\1 \2<sep>\3 " without a backtracking
// regexp: the only candidate is the last '.' of the text, which must be
// preceded by a non-'.' character and followed only by closing characters
// and then whitespace.
func finalPeriod(closers, sep string) rewrite {
	isCloser := func(r rune) bool { return strings.ContainsRune(closers, r) }
	return rewrite{fn: func(s string) string {
		rs := []rune(s)
		a := len(rs)
		for a > 0 && pystr.IsSpace(rs[a-1]) {
			a--
		}
		b := a
		for b > 0 && isCloser(rs[b-1]) {
			b--
		}
		if b < 2 || rs[b-1] != '.' || rs[b-2] == '.' {
			return s
		}
		c := b
		for c < len(rs) && isCloser(rs[c]) {
			c++
		}
		return string(rs[:b-1]) + " ." + sep + string(rs[b:c]) + " "
	}}
}

const pySpace = `[` + pystr.SpaceClass + `]`

// The substitution rules of NLTK's NLTKWordTokenizer (nltk 3.8), in order:
// starting quotes, punctuation, brackets, double dashes, ending quotes,
// contractions. Python's \d and \s are Unicode-aware, hence \p{Nd} and pySpace.
var (
	startingQuotes = []rewrite{
		std("([«“‘„]|[`]+)", " ${1} ", "«“‘„`"),
		std(`^"`, "``", `"`),
		std("(``)", " ${1} ", "`"),
		std(`([ (\[{<])("|'{2})`, "${1} `` ", `"'`),
		ext(`(?i)(')(?!re|ve|ll|m|t|s|d|n)(\w)\b`, "$1 $2", "'"),
	}
	punctuation = []rewrite{
		finalPeriod(`])}>"'»”’ `, " "),
		{fn: splitColonComma},
		std(`([:,])$`, " ${1} ", ":,"),
		std(`\.{2,}`, " ${0} ", "."),
		std(`[;@#$%&]`, " ${0} ", ";@#$%&"),
		finalPeriod(`])}>"'`, ""),
		std(`[?!]`, " ${0} ", "?!"),
		std(`([^'])' `, "${1} ' ", "'"),
		std(`[*]`, " ${0} ", "*"),
	}
	parensBrackets = std(`[\][(){}<>]`, " ${0} ", "[](){}<>")
	doubleDashes   = std(`--`, " -- ", "-")
	endingQuotes   = []rewrite{
		std(`([»”’])`, " ${1} ", "»”’"),
		std(`''`, " '' ", "'"),
		std(`"`, " '' ", `"`),
		std(`([^' ])('[sS]|'[mM]|'[dD]|') `, "${1} ${2} ", "'"),
		std(`([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) `, "${1} ${2} ", "'"),
	}
	contractions = []rewrite{
		ext(`(?i)\b(can)(not)\b`, " $1 $2 ", "cannot"),
		ext(`(?i)\b(d)('ye)\b`, " $1 $2 ", "d'ye"),
		ext(`(?i)\b(gim)(me)\b`, " $1 $2 ", "gimme"),
		ext(`(?i)\b(gon)(na)\b`, " $1 $2 ", "gonna"),
		ext(`(?i)\b(got)(ta)\b`, " $1 $2 ", "gotta"),
		ext(`(?i)\b(lem)(me)\b`, " $1 $2 ", "lemme"),
		ext(`(?i)\b(more)('n)\b`, " $1 $2 ", "more'n"),
		ext(`(?i)\b(wan)(na)(?=\s)`, " $1 $2 ", "wanna"),
		ext(`(?i) ('t)(is)\b`, " $1 $2 ", "'tis"),
		ext(`(?i) ('t)(was)\b`, " $1 $2 ", "'twas"),
	}
)

// splitColonComma implements ([:,])([^\d]) -> " \1 \2" (Python's \d is
// any decimal digit).
func splitColonComma(s string) string {
	if !strings.ContainsAny(s, ":,") {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(rs); i++ {
		if (rs[i] == ':' || rs[i] == ',') && i+1 < len(rs) && !unicode.Is(unicode.Nd, rs[i+1]) {
			b.WriteByte(' ')
			b.WriteRune(rs[i])
			b.WriteByte(' ')
			b.WriteRune(rs[i+1])
			i++
			continue
		}
		b.WriteRune(rs[i])
	}
	return b.String()
}

// TokenizeSentenceWords tokenizes one sentence like NLTK's
// NLTKWordTokenizer.tokenize (the Treebank rules word_tokenize applies).
func TokenizeSentenceWords(text string) ([]string, error) {
	var err error
	low := ""
	steps := func(rs []rewrite) {
		for _, r := range rs {
			if err != nil {
				return
			}
			text, err = r.apply(text, low)
		}
	}
	steps(startingQuotes)
	steps(punctuation)
	steps([]rewrite{parensBrackets, doubleDashes})
	if err != nil {
		return nil, err
	}
	text = " " + text + " "
	steps(endingQuotes)
	// The contraction rules only insert spaces, so one lowercase copy
	// serves all their pre-filters.
	low = strings.ToLower(text)
	steps(contractions)
	if err != nil {
		return nil, err
	}
	return strings.FieldsFunc(text, pystr.IsSpace), nil
}

// WordTokenize mirrors nltk.word_tokenize: Punkt sentence splitting followed
// by the Treebank word rules on each sentence.
func WordTokenize(text string) ([]string, error) {
	sents, err := SplitSentences(text)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range sents {
		toks, err := TokenizeSentenceWords(s)
		if err != nil {
			return nil, err
		}
		out = append(out, toks...)
	}
	return out, nil
}
