// Package tinyif builds gosteer's embedded default model: a tiny Llama-style
// instruction follower trained from scratch on a synthetic corpus, so the
// whole steering method can be shown offline on any machine.
//
// The package holds the corpus generator (requests about everyday topics with
// and without one added formatting instruction, each instruction mapped to an
// IFEval id), a byte-level BPE trainer that writes a Hugging Face
// tokenizer.json, the GoMLX training loop, the embedded trained model, and the
// demo pipeline run by `steer demo`.
package tinyif

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Split names a disjoint set of topics.
type Split int

const (
	// SplitTrain topics are the only ones seen during training.
	SplitTrain Split = iota
	// SplitValidation topics are used to choose the steering layer.
	SplitValidation
	// SplitTest topics are held out for the final evaluation.
	SplitTest
)

// String returns the split's name.
func (s Split) String() string {
	switch s {
	case SplitTrain:
		return "train"
	case SplitValidation:
		return "validation"
	case SplitTest:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// TopicSplit returns the split of the i-th topic: every sixth topic is held
// out for testing, every sixth with offset 3 is for validation.
func TopicSplit(i int) Split {
	switch i % 6 {
	case 0:
		return SplitTest
	case 3:
		return SplitValidation
	}
	return SplitTrain
}

// Topics returns the topics of a split, in a fixed order.
func Topics(s Split) []string {
	var out []string
	for i, t := range topicWords {
		if TopicSplit(i) == s {
			out = append(out, t)
		}
	}
	return out
}

// AllTopics returns every topic of every split.
func AllTopics() []string { return append([]string(nil), topicWords...) }

// Instruction is one instruction type of the corpus, identified by the IFEval
// id whose checker scores it.
type Instruction struct {
	// ID is the IFEval instruction id, e.g. "change_case:english_lowercase".
	ID string
	// Short is a short name for tables.
	Short string
	// Op is the steering operator the paper uses for this kind of
	// instruction: "clamp" for format and case, "add" for words and length.
	Op string
}

// Instructions lists the instruction types in a fixed order.
var Instructions = []Instruction{
	{ID: "change_case:english_lowercase", Short: "lowercase", Op: "clamp"},
	{ID: "change_case:english_capital", Short: "capitals", Op: "clamp"},
	{ID: "detectable_format:json_format", Short: "json", Op: "clamp"},
	{ID: "startend:quotation", Short: "quotation", Op: "clamp"},
	{ID: "punctuation:no_comma", Short: "no_comma", Op: "clamp"},
	{ID: "startend:end_checker", Short: "end_phrase", Op: "add"},
	{ID: "detectable_format:title", Short: "title", Op: "clamp"},
	{ID: "keywords:existence", Short: "keyword", Op: "add"},
	{ID: "length_constraints:number_sentences", Short: "one_sentence", Op: "add"},
	{ID: "detectable_format:number_bullet_lists", Short: "bullets", Op: "clamp"},
}

// InstructionByID returns the instruction with the given IFEval id.
func InstructionByID(id string) (Instruction, bool) {
	for _, in := range Instructions {
		if in.ID == id {
			return in, true
		}
	}
	return Instruction{}, false
}

// Example is one request and its answer. When InstructionID is empty the
// request carries no instruction.
type Example struct {
	Topic         string         `json:"topic"`
	Request       string         `json:"request"`     // the base request, without instruction
	Instruction   string         `json:"instruction"` // the instruction text ("" for none)
	InstructionID string         `json:"instruction_id,omitempty"`
	Kwargs        map[string]any `json:"kwargs,omitempty"`
	Prompt        string         `json:"prompt"` // Request + " " + Instruction, or Request
	Answer        string         `json:"answer"`
	// Plain is the answer the same request gets without the instruction.
	Plain string `json:"plain"`
}

// Fixed evaluation arguments: during evaluation and pair building each
// parameterised instruction uses one fixed argument, so one steering vector
// per instruction id suffices.
const (
	EvalKeyword   = "adventure"
	EvalEndPhrase = "Is there anything else I can help with?"
	EvalBullets   = 3
)

// content is the instruction-independent content of one answer.
type content struct {
	topic     string
	sentences []sentence
}

// sentence is one sentence of an answer, rendered with or without commas.
type sentence func(noComma bool) string

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// pickN returns n distinct elements of xs.
func pickN[T any](r *rand.Rand, xs []T, n int) []T {
	idx := r.Perm(len(xs))[:n]
	out := make([]T, n)
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// list joins three items as "a, b and c", or "a and b and c" without commas.
func list(items []string, noComma bool) string {
	if noComma {
		return strings.Join(items, " and ")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// clause joins an introductory phrase and a main clause with a comma (or
// without one).
func clause(intro, main string, noComma bool) string {
	if noComma {
		return intro + " " + main
	}
	return intro + ", " + main
}

// openers build the first sentence; each always contains a comma when
// commas are allowed.
var openers = []func(r *rand.Rand, t string) sentence{
	func(r *rand.Rand, t string) sentence {
		s := pickN(r, settings, 3)
		return func(nc bool) string {
			return clause("When you think about it", "you can find "+t+" in "+list(s, nc)+".", nc)
		}
	},
	func(r *rand.Rand, t string) sentence {
		p, a := pick(r, people), pickN(r, adjectives, 3)
		return func(nc bool) string {
			return fmt.Sprintf("Many of the %s think that %s can be %s.", p, t, list(a, nc))
		}
	},
	func(r *rand.Rand, t string) sentence {
		c, tm := pick(r, countries), pick(r, times)
		return func(nc bool) string {
			return clause(fmt.Sprintf("In %s", c), fmt.Sprintf("people often talk about %s on a %s.", t, tm), nc)
		}
	},
	func(r *rand.Rand, t string) sentence {
		a := pickN(r, adjectives, 2)
		p := pick(r, people)
		return func(nc bool) string {
			return clause("For many of the "+p, fmt.Sprintf("%s can be both %s and %s at the same time.", t, a[0], a[1]), nc)
		}
	},
	func(r *rand.Rand, t string) sentence {
		a, s := pick(r, adjectives), pick(r, settings)
		return func(nc bool) string {
			return clause("Like many things", fmt.Sprintf("%s can be %s and can often be found in %s.", t, a, s), nc)
		}
	},
	func(r *rand.Rand, t string) sentence {
		p, tm := pickN(r, people, 2), pick(r, times)
		return func(nc bool) string {
			return clause("Ask the "+p[0]+" about "+t, fmt.Sprintf("and you will hear a story about a %s with the %s.", tm, p[1]), nc)
		}
	},
	func(r *rand.Rand, t string) sentence {
		a := pickN(r, adjectives, 3)
		return func(nc bool) string {
			return fmt.Sprintf("Here is what I know about %s: %s can be %s.", t, t, list(a, nc))
		}
	},
}

// followers build the later sentences.
var followers = []func(r *rand.Rand, t string) sentence{
	func(r *rand.Rand, t string) sentence {
		tm, a := pick(r, times), pick(r, adjectives)
		return func(nc bool) string {
			return clause("On a "+tm, fmt.Sprintf("it is said that %s can seem very %s.", t, a), nc)
		}
	},
	func(r *rand.Rand, t string) sentence {
		s := pickN(r, sources, 3)
		return func(nc bool) string {
			return clause("If you want to learn more about "+t, "you can look at "+list(s, nc)+".", nc)
		}
	},
	func(r *rand.Rand, t string) sentence {
		c, p, a := pick(r, countries), pick(r, people), pick(r, adjectives)
		return func(nc bool) string {
			return clause("In "+c, fmt.Sprintf("many of the %s would say that %s can be very %s.", p, t, a), nc)
		}
	},
	func(r *rand.Rand, t string) sentence {
		tm, a := pick(r, times), pick(r, adjectives)
		return func(nc bool) string { return fmt.Sprintf("%s can make a %s feel %s.", capitalize(t), tm, a) }
	},
	func(r *rand.Rand, t string) sentence {
		c := pick(r, countries)
		return func(nc bool) string {
			return clause("For many years", fmt.Sprintf("the artists of %s have painted %s with great care.", c, t), nc)
		}
	},
	func(r *rand.Rand, t string) sentence {
		m, p := pick(r, months), pick(r, people)
		return func(nc bool) string {
			return clause("Every year in "+m, fmt.Sprintf("a group of %s will get together to talk about %s.", p, t), nc)
		}
	},
	func(r *rand.Rand, t string) sentence {
		a := pickN(r, adjectives, 2)
		return func(nc bool) string {
			return fmt.Sprintf("Most people agree that %s can be %s and %s.", t, a[0], a[1])
		}
	},
	func(r *rand.Rand, t string) sentence {
		p := pickN(r, people, 3)
		return func(nc bool) string {
			return fmt.Sprintf("There is something about %s that the %s all enjoy.", t, list(p, nc))
		}
	},
	func(r *rand.Rand, t string) sentence {
		s, a := pick(r, settings), pick(r, adjectives)
		return func(nc bool) string {
			return fmt.Sprintf("A walk through %s shows how %s %s can be.", s, a, t)
		}
	},
	func(r *rand.Rand, t string) sentence {
		p, c := pick(r, people), pick(r, countries)
		return func(nc bool) string {
			return clause("Long ago in "+c, fmt.Sprintf("the %s wrote songs about %s.", p, t), nc)
		}
	},
	func(r *rand.Rand, t string) sentence {
		a := pick(r, adjectives)
		return func(nc bool) string {
			return fmt.Sprintf("Some would say that %s can stay %s for a very long time.", t, a)
		}
	},
}

// newContent draws the content of an answer with n sentences (2..3).
func newContent(r *rand.Rand, topic string, n int) content {
	c := content{topic: topic}
	c.sentences = append(c.sentences, pick(r, openers)(r, topic))
	for _, i := range r.Perm(len(followers))[:n-1] {
		c.sentences = append(c.sentences, followers[i](r, topic))
	}
	return c
}

func (c content) render(noComma bool) []string {
	out := make([]string, len(c.sentences))
	for i, s := range c.sentences {
		out[i] = s(noComma)
	}
	return out
}

// plain is the answer without any instruction: one paragraph.
func (c content) plain() string { return strings.Join(c.render(false), " ") }

// titleCase capitalizes every word.
func titleCase(s string) string {
	w := strings.Fields(s)
	for i := range w {
		w[i] = capitalize(w[i])
	}
	return strings.Join(w, " ")
}

// Instruction phrasings. %s / %d are the instruction's argument.
var instructionTexts = map[string][]string{
	"change_case:english_lowercase": {
		"Write your whole answer in lowercase letters.",
		"Use only lowercase letters, no capitals at all.",
		"Please reply entirely in lowercase.",
	},
	"change_case:english_capital": {
		"Write your whole answer in capital letters.",
		"Reply using only uppercase letters.",
		"Please answer in all caps.",
	},
	"detectable_format:json_format": {
		"Wrap your entire answer in JSON.",
		"Give the answer as a JSON object.",
		"Format your whole reply as JSON.",
	},
	"startend:quotation": {
		"Put double quotation marks around your whole answer.",
		"Wrap the entire reply in double quotes.",
		"Enclose your answer in double quotation marks.",
	},
	"punctuation:no_comma": {
		"Do not use any commas.",
		"Avoid commas entirely in your reply.",
		"Your answer must not contain a single comma.",
	},
	"startend:end_checker": {
		"Finish your answer with the exact phrase \"%s\"",
		"End your reply with the words \"%s\"",
		"Your last words must be \"%s\"",
	},
	"detectable_format:title": {
		"Give your answer a title in double angular brackets, like <<title>>.",
		"Start with a title wrapped in double angular brackets such as <<my title>>.",
		"Include a title written as <<title>>.",
	},
	"keywords:existence": {
		"Include the word \"%s\" in your answer.",
		"Make sure to use the word \"%s\".",
		"Your reply should mention the word \"%s\".",
	},
	"length_constraints:number_sentences": {
		"Answer in a single sentence.",
		"Keep it to one sentence only.",
		"Reply with exactly one sentence.",
	},
	"detectable_format:number_bullet_lists": {
		"Answer with exactly %d bullet points using markdown such as * point.",
		"Use exactly %d markdown bullet points like * this.",
		"Format the reply as %d bullet points written as * item.",
	},
}

// apply returns the instruction text, the answer obeying it, and the IFEval
// kwargs for instruction id on content c. arg selects the argument of
// parameterised instructions (keyword, end phrase, number of bullets); nil
// draws one at random.
func apply(r *rand.Rand, id string, c content, arg any) (text, answer string, kwargs map[string]any, err error) {
	texts, ok := instructionTexts[id]
	if !ok {
		return "", "", nil, fmt.Errorf("tinyif: unknown instruction id %q", id)
	}
	tmpl := pick(r, texts)
	sents := c.render(false)
	plain := strings.Join(sents, " ")
	switch id {
	case "change_case:english_lowercase":
		return tmpl, strings.ToLower(plain), nil, nil
	case "change_case:english_capital":
		return tmpl, strings.ToUpper(plain), nil, nil
	case "detectable_format:json_format":
		return tmpl, fmt.Sprintf("{\"answer\": \"%s\"}", plain), nil, nil
	case "startend:quotation":
		return tmpl, "\"" + plain + "\"", nil, nil
	case "punctuation:no_comma":
		return tmpl, strings.Join(c.render(true), " "), nil, nil
	case "startend:end_checker":
		phrase, _ := arg.(string)
		if phrase == "" {
			phrase = pick(r, endPhraseChoices)
		}
		return fmt.Sprintf(tmpl, phrase), plain + " " + phrase, map[string]any{"end_phrase": phrase}, nil
	case "detectable_format:title":
		return tmpl, "<<" + titleCase(c.topic) + ">>\n" + plain, nil, nil
	case "keywords:existence":
		kw, _ := arg.(string)
		if kw == "" {
			kw = pick(r, keywordChoices)
		}
		extra := fmt.Sprintf("%s can bring a feeling of %s.", capitalize(c.topic), kw)
		out := append([]string{sents[0], extra}, sents[1:]...)
		return fmt.Sprintf(tmpl, kw), strings.Join(out, " "), map[string]any{"keywords": []any{kw}}, nil
	case "length_constraints:number_sentences":
		return tmpl, sents[0], map[string]any{"relation": "less than", "num_sentences": 2}, nil
	case "detectable_format:number_bullet_lists":
		n := len(sents)
		var b strings.Builder
		for i, s := range sents {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString("* " + s)
		}
		return fmt.Sprintf(tmpl, n), b.String(), map[string]any{"num_bullets": n}, nil
	}
	return "", "", nil, fmt.Errorf("tinyif: instruction %q has no answer rule", id)
}

// Generator draws corpus examples deterministically from a seed.
type Generator struct {
	r *rand.Rand
	// pieces, when set (UsePieces), are the tokenizer's letter tokens that
	// made-up topic words are also spliced from.
	pieces *wordPieces
}

// wordPieces are a tokenizer's all-lowercase-letter tokens: initial holds
// those that begin a word (a leading space in the byte-level vocabulary),
// inner the others; the strings have no space.
type wordPieces struct{ initial, inner []string }

// UsePieces makes half of g's made-up topic words splices of tok's letter
// tokens (see SplicedTopic) instead of syllables, so that every letter token
// of the vocabulary — also the ones only unseen words are cut into, such as
// " an" in "ants" — is trained as a piece the model copies from the request.
// Without it the held-out topics' rarer pieces keep untrained embeddings, and
// the model writes "nts" for "ants".
func (g *Generator) UsePieces(tok *BPE) {
	var p wordPieces
	for _, v := range tok.Vocab {
		w, initial := strings.CutPrefix(v, string(byteToRune[' ']))
		if w == "" || strings.TrimLeft(w, "abcdefghijklmnopqrstuvwxyz") != "" {
			continue
		}
		if initial {
			p.initial = append(p.initial, w)
		} else {
			p.inner = append(p.inner, w)
		}
	}
	if len(p.initial) > 0 && len(p.inner) > 0 {
		g.pieces = &p
	}
}

// SplicedTopic draws a made-up topic word of 4 to 12 letters from a
// word-initial letter token followed by one to three other letter tokens.
func (p *wordPieces) SplicedTopic(r *rand.Rand) string {
	for {
		w := pick(r, p.initial)
		for range 1 + r.IntN(3) {
			w += pick(r, p.inner)
		}
		if len(w) >= 4 && len(w) <= 12 && !isReservedWord(w) {
			return w
		}
	}
}

// pseudoTopic draws a made-up topic: one word, or one time in eight two
// (like "harbor towns"), each spliced from tokens (UsePieces, half of the
// time) or built from syllables (PseudoTopic).
func (g *Generator) pseudoTopic() string {
	word := func() string {
		if g.pieces != nil && g.r.IntN(2) == 0 {
			return g.pieces.SplicedTopic(g.r)
		}
		return PseudoTopic(g.r)
	}
	if g.pieces != nil && g.r.IntN(8) == 0 {
		return word() + " " + word()
	}
	return word()
}

// NewGenerator returns a generator seeded with seed; the same seed always
// yields the same sequence of examples.
func NewGenerator(seed uint64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, 0x7431_6e79_6966))}
}

// Example draws one example about topic. id is the instruction id ("" for
// none). For the parameterised instructions the evaluation argument is used
// when eval is true, otherwise one is drawn.
func (g *Generator) Example(topic, id string, eval bool) (Example, error) {
	r := g.r
	n := 2 + r.IntN(2)
	var arg any
	if id == "detectable_format:number_bullet_lists" && eval {
		n = EvalBullets
	}
	if eval {
		switch id {
		case "keywords:existence":
			arg = EvalKeyword
		case "startend:end_checker":
			arg = EvalEndPhrase
		}
	} else if id == "keywords:existence" && g.pieces != nil && r.IntN(2) == 0 {
		// Half of the training keywords are made-up words, which the model
		// can only copy from the request (as with topics).
		arg = g.pieces.SplicedTopic(r)
	}
	req := fmt.Sprintf(pick(r, requestTemplates), topic)
	c := newContent(r, topic, n)
	ex := Example{Topic: topic, Request: req, Prompt: req, Plain: c.plain(), Answer: c.plain()}
	if id == "" {
		return ex, nil
	}
	text, ans, kw, err := apply(r, id, c, arg)
	if err != nil {
		return Example{}, err
	}
	ex.Instruction, ex.InstructionID, ex.Kwargs, ex.Answer = text, id, kw, ans
	ex.Prompt = req + " " + text
	return ex, nil
}

// Syllables of made-up topic words.
var (
	onsets = []string{"b", "br", "c", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "l", "m", "n", "p",
		"pl", "qu", "r", "s", "sl", "sn", "st", "t", "tr", "v", "w", "z", "sh", "ch", "th"}
	vowels = []string{"a", "e", "i", "o", "u", "ai", "ee", "oo", "ou", "ea", "y"}
	codas  = []string{"", "", "n", "m", "r", "l", "s", "t", "ck", "nd", "st", "x", "mp", "ng"}
	ends   = []string{"s", "s", "s", "les", "ers", "ets", "ins", "ies", ""}
)

// PseudoTopic draws a made-up topic word such as "drimbles". Two thirds of the
// training examples are about such words: the model cannot memorize them, so
// it learns to copy the topic from the request, which is what lets it stay on
// topic for the held-out topics.
func PseudoTopic(r *rand.Rand) string {
	for {
		var b strings.Builder
		for range 1 + r.IntN(2) {
			b.WriteString(pick(r, onsets) + pick(r, vowels) + pick(r, codas))
		}
		b.WriteString(pick(r, ends))
		w := b.String()
		if len(w) < 4 || len(w) > 12 || isReservedWord(w) {
			continue
		}
		return w
	}
}

// isReservedWord reports whether w is a real topic or contains a keyword of
// the keyword instruction (which must not appear in plain answers).
func isReservedWord(w string) bool {
	for _, t := range topicWords {
		if t == w {
			return true
		}
	}
	for _, k := range keywordChoices {
		if strings.Contains(w, k) {
			return true
		}
	}
	return false
}

// TrainingExample draws a random training example: a random training topic
// (or, two times in three, a made-up one: see PseudoTopic, and UsePieces for
// the spliced ones) and, with probability 1/4, no instruction, otherwise a
// uniformly chosen one.
func (g *Generator) TrainingExample(topics []string) (Example, error) {
	topic := pick(g.r, topics)
	if g.r.IntN(3) != 0 {
		topic = g.pseudoTopic()
	}
	id := ""
	if k := g.r.IntN(4 * len(Instructions)); k >= len(Instructions) {
		id = Instructions[k%len(Instructions)].ID
	}
	return g.Example(topic, id, false)
}

// Corpus returns n training examples from seed over the training topics.
func Corpus(seed uint64, n int) ([]Example, error) {
	g := NewGenerator(seed)
	topics := Topics(SplitTrain)
	out := make([]Example, 0, n)
	for range n {
		ex, err := g.TrainingExample(topics)
		if err != nil {
			return nil, err
		}
		out = append(out, ex)
	}
	return out, nil
}

// EvalExamples returns, for each topic of split s, perTopic examples of
// instruction id using the fixed evaluation arguments. The base request and
// content of the i-th example do not depend on id, so the same call with
// id = "" gives the matching un-instructed prompts.
func EvalExamples(seed uint64, s Split, id string, perTopic int) ([]Example, error) {
	var out []Example
	for ti, topic := range Topics(s) {
		for k := range perTopic {
			g := NewGenerator(seed ^ uint64(ti*1000+k+1)*0x9e3779b97f4a7c15)
			ex, err := g.Example(topic, id, true)
			if err != nil {
				return nil, err
			}
			out = append(out, ex)
		}
	}
	return out, nil
}
