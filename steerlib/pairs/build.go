package pairs

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
)

// This file holds gosteer's own wording of each IFEval instruction. The
// instruction ids and kwargs names follow IFEval (so steerlib/ifeval can score
// responses); the sentences are written for this project.

// Instruction is one rendered instruction: its IFEval id, its kwargs and the
// sentence appended to a request.
type Instruction struct {
	ID     string
	Kwargs map[string]any
	Text   string
}

// phrasing describes how to phrase one IFEval instruction.
type phrasing struct {
	// kwargs draws random arguments; fixed (user-given) ones are kept.
	kwargs func(r *rand.Rand, kw map[string]any)
	// texts render the instruction from its kwargs and the base query.
	texts []func(kw map[string]any, query string) string
}

// Lexicons for random kwargs.
var (
	lexWords = []string{"river", "lantern", "harvest", "compass", "velvet", "orbit", "meadow", "puzzle",
		"garden", "signal", "copper", "thunder", "window", "journey", "canvas", "anchor"}
	lexLetters    = []string{"a", "e", "i", "o", "s", "t", "n", "r", "l"}
	lexEndPhrases = []string{"Any other questions?", "That is all for now.", "Hope this helps.",
		"Thanks for reading.", "Let me know if you need more."}
	lexSpliters  = []string{"Section", "SECTION", "Part", "PART", "Chapter"}
	lexPostMarks = []string{"P.S.", "P.P.S"}
	lexRelations = []string{"less than", "at least"}
	// lexLanguages maps the ISO 639-1 codes IFEval uses to English names.
	lexLanguages = map[string]string{
		"fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
		"ru": "Russian", "hi": "Hindi", "ja": "Japanese", "ko": "Korean", "ar": "Arabic",
		"tr": "Turkish", "fi": "Finnish", "sw": "Swahili", "th": "Thai", "vi": "Vietnamese",
		"bn": "Bengali", "ta": "Tamil", "te": "Telugu", "ur": "Urdu", "fa": "Persian",
		"kn": "Kannada", "mr": "Marathi", "pa": "Punjabi", "gu": "Gujarati", "ne": "Nepali",
		"bg": "Bulgarian", "he": "Hebrew", "pl": "Polish", "nl": "Dutch", "en": "English",
	}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// setDefault sets kw[k] = v() unless kw already holds k.
func setDefault(kw map[string]any, k string, v func() any) {
	if _, ok := kw[k]; !ok {
		kw[k] = v()
	}
}

func intArg(kw map[string]any, k string) int {
	switch v := kw[k].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	case float32:
		return int(v)
	}
	return 0
}

func strArg(kw map[string]any, k string) string {
	s, _ := kw[k].(string)
	return s
}

func strsArg(kw map[string]any, k string) []string {
	switch v := kw[k].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		return []string{v}
	}
	return nil
}

// quoted renders words as "a", "b" and "c".
func quoted(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = `"` + w + `"`
	}
	switch len(q) {
	case 0:
		return ""
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// relWord renders an IFEval relation ("less than", "at least") in prose.
func relWord(rel string) string {
	if rel == "less than" {
		return "fewer than"
	}
	return "at least"
}

func langName(code string) string {
	if n, ok := lexLanguages[code]; ok {
		return n
	}
	return "the language with code " + code
}

// phrasings holds gosteer's wording for every IFEval instruction id.
var phrasings = map[string]phrasing{
	"keywords:existence": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "keywords", func() any { return []string{pick(r, lexWords)} })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				ws := strsArg(kw, "keywords")
				return fmt.Sprintf("Work the %s %s into your answer.", plural(len(ws), "word", "words"), quoted(ws))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Somewhere in the reply, use %s.", quoted(strsArg(kw, "keywords")))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Your response has to mention %s at least once.", quoted(strsArg(kw, "keywords")))
			},
		},
	},
	"keywords:frequency": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "keyword", func() any { return pick(r, lexWords) })
			setDefault(kw, "frequency", func() any { return 2 + r.IntN(3) })
			setDefault(kw, "relation", func() any { return pick(r, lexRelations) })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Use the word %q %s %d times.", strArg(kw, "keyword"), relWord(strArg(kw, "relation")), intArg(kw, "frequency"))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Count your uses of %q: it should come up %s %d times.", strArg(kw, "keyword"), relWord(strArg(kw, "relation")), intArg(kw, "frequency"))
			},
		},
	},
	"keywords:forbidden_words": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "forbidden_words", func() any { return []string{pick(r, lexWords)} })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				ws := strsArg(kw, "forbidden_words")
				return fmt.Sprintf("Keep the %s %s out of your answer entirely.", plural(len(ws), "word", "words"), quoted(ws))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Never write %s anywhere in the reply.", quoted(strsArg(kw, "forbidden_words")))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Answer without ever using %s.", quoted(strsArg(kw, "forbidden_words")))
			},
		},
	},
	"keywords:letter_frequency": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "letter", func() any { return pick(r, lexLetters) })
			setDefault(kw, "let_frequency", func() any { return 3 + r.IntN(8) })
			setDefault(kw, "let_relation", func() any { return pick(r, lexRelations) })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("The letter %q must appear %s %d times in what you write.", strArg(kw, "letter"), relWord(strArg(kw, "let_relation")), intArg(kw, "let_frequency"))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Make sure the letter %q shows up %s %d times.", strArg(kw, "letter"), relWord(strArg(kw, "let_relation")), intArg(kw, "let_frequency"))
			},
		},
	},
	"language:response_language": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			codes := make([]string, 0, len(lexLanguages))
			for c := range lexLanguages {
				if c != "en" {
					codes = append(codes, c)
				}
			}
			sort.Strings(codes)
			setDefault(kw, "language", func() any { return pick(r, codes) })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Reply only in %s; use no other language.", langName(strArg(kw, "language")))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Write the whole answer in %s.", langName(strArg(kw, "language")))
			},
		},
	},
	"length_constraints:number_sentences": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "num_sentences", func() any { return 2 + r.IntN(8) })
			setDefault(kw, "relation", func() any { return pick(r, lexRelations) })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Answer in %s %d sentences.", relWord(strArg(kw, "relation")), intArg(kw, "num_sentences"))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("The reply should contain %s %d sentences.", relWord(strArg(kw, "relation")), intArg(kw, "num_sentences"))
			},
		},
	},
	"length_constraints:number_paragraphs": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "num_paragraphs", func() any { return 2 + r.IntN(4) })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Split the reply into %d paragraphs and put the markdown divider *** between consecutive paragraphs.", intArg(kw, "num_paragraphs"))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Write exactly %d paragraphs, separating each from the next with a line holding only ***.", intArg(kw, "num_paragraphs"))
			},
		},
	},
	"length_constraints:number_words": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "num_words", func() any { return 50 * (1 + r.IntN(8)) })
			setDefault(kw, "relation", func() any { return pick(r, lexRelations) })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				if strArg(kw, "relation") == "less than" {
					return fmt.Sprintf("Keep the reply under %d words.", intArg(kw, "num_words"))
				}
				return fmt.Sprintf("Make the reply at least %d words long.", intArg(kw, "num_words"))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Your answer should run to %s %d words.", relWord(strArg(kw, "relation")), intArg(kw, "num_words"))
			},
		},
	},
	"length_constraints:nth_paragraph_first_word": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "num_paragraphs", func() any { return 2 + r.IntN(4) })
			n := intArg(kw, "num_paragraphs")
			if n < 1 {
				n = 1
			}
			setDefault(kw, "nth_paragraph", func() any { return 1 + r.IntN(n) })
			setDefault(kw, "first_word", func() any { return pick(r, lexWords) })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Write %d paragraphs separated by blank lines, and begin paragraph number %d with the word %q.",
					intArg(kw, "num_paragraphs"), intArg(kw, "nth_paragraph"), strArg(kw, "first_word"))
			},
		},
	},
	"detectable_content:number_placeholders": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "num_placeholders", func() any { return 1 + r.IntN(4) })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Leave at least %d fill-in %s written in square brackets, such as [name].", intArg(kw, "num_placeholders"), plural(intArg(kw, "num_placeholders"), "slot", "slots"))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Include %d or more bracketed placeholders like [date] for the reader to fill in.", intArg(kw, "num_placeholders"))
			},
		},
	},
	"detectable_content:postscript": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "postscript_marker", func() any { return pick(r, lexPostMarks) })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Close with an afterthought that begins with %s.", strArg(kw, "postscript_marker"))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("After the main text, add a short note starting with %s.", strArg(kw, "postscript_marker"))
			},
		},
	},
	"detectable_format:number_bullet_lists": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "num_bullets", func() any { return 2 + r.IntN(5) })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Format the answer as exactly %d markdown bullet points, each line starting with \"* \".", intArg(kw, "num_bullets"))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Present it as a list of precisely %d items, using \"* \" at the start of each item.", intArg(kw, "num_bullets"))
			},
		},
	},
	"detectable_format:constrained_response": {
		kwargs: func(*rand.Rand, map[string]any) {},
		texts: []func(map[string]any, string) string{
			func(map[string]any, string) string {
				return "Reply with one of these and nothing else: \"My answer is yes.\", \"My answer is no.\", \"My answer is maybe.\""
			},
		},
	},
	"detectable_format:number_highlighted_sections": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "num_highlights", func() any { return 1 + r.IntN(4) })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Emphasize at least %d %s with markdown, as in *an emphasized part*.", intArg(kw, "num_highlights"), plural(intArg(kw, "num_highlights"), "passage", "passages"))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Mark %d or more phrases as highlighted by wrapping them in single asterisks.", intArg(kw, "num_highlights"))
			},
		},
	},
	"detectable_format:multiple_sections": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "section_spliter", func() any { return pick(r, lexSpliters) })
			setDefault(kw, "num_sections", func() any { return 2 + r.IntN(4) })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Organize the reply into %d sections, each headed \"%s N\" where N is its number.", intArg(kw, "num_sections"), strArg(kw, "section_spliter"))
			},
		},
	},
	"detectable_format:json_format": {
		kwargs: func(*rand.Rand, map[string]any) {},
		texts: []func(map[string]any, string) string{
			func(map[string]any, string) string { return "Give the entire output as valid JSON." },
			func(map[string]any, string) string {
				return "Format everything you write as one JSON object; a markdown code fence around it is fine."
			},
		},
	},
	"detectable_format:title": {
		kwargs: func(*rand.Rand, map[string]any) {},
		texts: []func(map[string]any, string) string{
			func(map[string]any, string) string {
				return "Start with a title enclosed in double angle brackets, for example <<a fitting title>>."
			},
			func(map[string]any, string) string {
				return "Give the answer a heading wrapped like <<this>>."
			},
		},
	},
	"combination:two_responses": {
		kwargs: func(*rand.Rand, map[string]any) {},
		texts: []func(map[string]any, string) string{
			func(map[string]any, string) string {
				return "Give two different answers, separated by a line of exactly six asterisks: ******."
			},
		},
	},
	"combination:repeat_prompt": {
		kwargs: func(*rand.Rand, map[string]any) {},
		texts: []func(map[string]any, string) string{
			func(map[string]any, string) string {
				return "Before answering, copy the request above word for word; then give your answer."
			},
		},
	},
	"startend:end_checker": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "end_phrase", func() any { return pick(r, lexEndPhrases) })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Finish with the exact phrase %q and write nothing after it.", strArg(kw, "end_phrase"))
			},
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("The very last words of your reply must be %q.", strArg(kw, "end_phrase"))
			},
		},
	},
	"startend:quotation": {
		kwargs: func(*rand.Rand, map[string]any) {},
		texts: []func(map[string]any, string) string{
			func(map[string]any, string) string { return "Put double quotation marks around your whole answer." },
			func(map[string]any, string) string {
				return "Enclose the complete reply, from first to last character, in double quotes."
			},
		},
	},
	"change_case:capital_word_frequency": {
		kwargs: func(r *rand.Rand, kw map[string]any) {
			setDefault(kw, "capital_frequency", func() any { return 2 + r.IntN(10) })
			setDefault(kw, "capital_relation", func() any { return pick(r, lexRelations) })
		},
		texts: []func(map[string]any, string) string{
			func(kw map[string]any, _ string) string {
				return fmt.Sprintf("Use words written entirely in capitals (LIKE THIS) %s %d times.", relWord(strArg(kw, "capital_relation")), intArg(kw, "capital_frequency"))
			},
		},
	},
	"change_case:english_capital": {
		kwargs: func(*rand.Rand, map[string]any) {},
		texts: []func(map[string]any, string) string{
			func(map[string]any, string) string {
				return "Write your entire reply in English using only capital letters."
			},
			func(map[string]any, string) string {
				return "Answer in English, and type every letter in upper case."
			},
			func(map[string]any, string) string { return "RESPOND IN ENGLISH, ALL IN CAPITALS." },
		},
	},
	"change_case:english_lowercase": {
		kwargs: func(*rand.Rand, map[string]any) {},
		texts: []func(map[string]any, string) string{
			func(map[string]any, string) string {
				return "Answer in English with lowercase letters only; no capitals anywhere."
			},
			func(map[string]any, string) string {
				return "Write the reply in English, entirely in small letters."
			},
			func(map[string]any, string) string {
				return "please keep every letter of your english reply lowercase."
			},
		},
	},
	"punctuation:no_comma": {
		kwargs: func(*rand.Rand, map[string]any) {},
		texts: []func(map[string]any, string) string{
			func(map[string]any, string) string { return "Avoid commas completely in your reply." },
			func(map[string]any, string) string { return "Do not put a single comma anywhere in the answer." },
			func(map[string]any, string) string { return "Write it without using the comma character." },
		},
	},
}

// InstructionIDs returns the IFEval instruction ids the builder can phrase,
// sorted.
func InstructionIDs() []string {
	ids := make([]string, 0, len(phrasings))
	for id := range phrasings {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Phrase renders instruction id for query with random wording and kwargs
// drawn from r. fixed kwargs (may be nil) override the random ones, e.g.
// {"keywords": []string{"owl"}} for a word-specific direction. It returns the
// IFEval kwargs to score the response with.
func Phrase(id, query string, fixed map[string]any, r *rand.Rand) (Instruction, error) {
	ph, ok := phrasings[id]
	if !ok {
		return Instruction{}, fmt.Errorf("no phrasing for instruction %q (known: %s)", id, strings.Join(InstructionIDs(), ", "))
	}
	kw := map[string]any{}
	for k, v := range fixed {
		kw[k] = v
	}
	ph.kwargs(r, kw)
	text := pick(r, ph.texts)(kw, query)
	if id == "combination:repeat_prompt" {
		kw["prompt_to_repeat"] = query
	}
	if len(kw) == 0 {
		kw = nil
	}
	return Instruction{ID: id, Kwargs: kw, Text: text}, nil
}

// BuildOptions configures Build.
type BuildOptions struct {
	// IDs are the instructions to cross with the queries (required).
	IDs []string
	// PerQuery is how many pairs (different draws of wording and kwargs) to
	// build for each query and instruction; 0 means 1.
	PerQuery int
	// Kwargs fixes some kwargs of every instruction (see Phrase).
	Kwargs map[string]any
	// Seed makes the wording and kwargs draws reproducible.
	Seed uint64
}

// Build crosses base queries with the project's phrasings of each instruction:
// for every query, instruction and repetition, With is the query followed by
// the instruction sentence and Without is the query alone. The output order
// is instruction-major (all pairs of opts.IDs[0] first), then query order,
// and is fully determined by the inputs and opts.Seed.
func Build(queries []string, opts BuildOptions) ([]Pair, error) {
	if len(opts.IDs) == 0 {
		return nil, fmt.Errorf("build pairs: no instruction ids given")
	}
	per := opts.PerQuery
	if per <= 0 {
		per = 1
	}
	var out []Pair
	for ii, id := range opts.IDs {
		r := rand.New(rand.NewPCG(opts.Seed, uint64(ii)+1))
		for qi, q := range queries {
			q = strings.TrimSpace(q)
			if q == "" {
				return nil, fmt.Errorf("build pairs: query %d is empty", qi)
			}
			for k := 0; k < per; k++ {
				ins, err := Phrase(id, q, opts.Kwargs, r)
				if err != nil {
					return nil, fmt.Errorf("build pairs: %w", err)
				}
				out = append(out, Pair{InstructionID: id, With: q + " " + ins.Text, Without: q, Kwargs: ins.Kwargs})
			}
		}
	}
	return out, nil
}
