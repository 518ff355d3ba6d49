package paper

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gosteer/gosteer/steerlib/pairs"
	"github.com/gosteer/gosteer/steerlib/tinyif"
)

// Dataset provides the prompts of the experiments: pairs for directions,
// validation items for layer searches, test items, and base queries.
type Dataset interface {
	// Name describes the dataset in reports.
	Name() string
	// FormatIDs lists the evaluated format and language instructions.
	FormatIDs() []string
	// Pairs returns n training pairs for the direction of an evaluated id.
	Pairs(id string, n int) ([]pairs.Pair, error)
	// Validation returns n validation items of an evaluated id.
	Validation(id string, n int, seed uint64) ([]Item, error)
	// Test returns the test items of an evaluated id.
	Test(id string) ([]Item, error)
	// Queries returns base queries without instructions: the head split
	// (for directions) or the tail split (for evaluation).
	Queries(head bool) []string
	// Words returns the test items of word inclusion (exclude false) or
	// exclusion, and validation items for each, keyed by word.
	Words(exclude, validation bool) ([]Item, error)
	// Phrase appends a request to include word to a query.
	Phrase(word, query string) string
}

// checkOf maps an evaluated id (languages suffixed _xx) to its IFEval check.
func checkOf(id string, kwargs map[string]any) Check {
	if base, code, ok := strings.Cut(id, "language:response_language_"); ok && base == "" {
		return Check{ID: "language:response_language", Kwargs: map[string]any{"language": code}}
	}
	return Check{ID: id, Kwargs: kwargs}
}

// itemsFromPairs turns pairs into items of an evaluated id.
func itemsFromPairs(prefix, id string, ps []pairs.Pair) []Item {
	out := make([]Item, len(ps))
	for i, p := range ps {
		c := checkOf(id, p.Kwargs)
		if c.Kwargs == nil {
			c.Kwargs = p.Kwargs
		}
		out[i] = Item{Key: prefix + strconv.Itoa(i), Instruction: id, Vector: id, With: p.With, Without: p.Without, Checks: []Check{c}}
	}
	return out
}

// sample returns n elements of xs drawn without replacement with seed (all
// of them, in order, when n ≤ 0 or n ≥ len(xs)).
func sample[T any](xs []T, n int, seed uint64) []T {
	if n <= 0 || n >= len(xs) {
		return xs
	}
	idx := rand.New(rand.NewPCG(seed, 0x5eed)).Perm(len(xs))[:n]
	sort.Ints(idx)
	out := make([]T, n)
	for i, k := range idx {
		out[i] = xs[k]
	}
	return out
}

// Embedded is the embedded tinyif model's own prompt sets: requests about
// training topics for directions, validation topics for layer searches and
// held-out topics for tests, with tinyif's instruction phrasings.
type Embedded struct{}

// embeddedWords are the keywords of tinyif's keyword instruction.
var embeddedWords = []string{"adventure", "harmony", "mystery", "freedom", "balance", "nostalgia", "courage", "treasure"}

// Name implements Dataset.
func (Embedded) Name() string { return "tinyif prompt sets (embedded)" }

// FormatIDs implements Dataset: tinyif's clamp (format and case) instructions.
func (Embedded) FormatIDs() []string {
	var out []string
	for _, in := range tinyif.Instructions {
		if in.Op == "clamp" {
			out = append(out, in.ID)
		}
	}
	return out
}

func embeddedItems(prefix, id string, s tinyif.Split, seed uint64) ([]Item, error) {
	exs, err := tinyif.EvalExamples(seed, s, id, 1)
	if err != nil {
		return nil, fmt.Errorf("tinyif %s: %w", id, err)
	}
	out := make([]Item, len(exs))
	for i, e := range exs {
		out[i] = Item{Key: prefix + strconv.Itoa(i), Instruction: id, Vector: id, With: e.Prompt, Without: e.Request,
			Checks: []Check{{ID: id, Kwargs: e.Kwargs}}}
	}
	return out, nil
}

// Pairs implements Dataset.
func (Embedded) Pairs(id string, n int) ([]pairs.Pair, error) {
	its, err := embeddedItems("train-", id, tinyif.SplitTrain, 101)
	if err != nil {
		return nil, err
	}
	its = sample(its, n, 1)
	ps := make([]pairs.Pair, len(its))
	for i, it := range its {
		ps[i] = pairs.Pair{InstructionID: id, With: it.With, Without: it.Without, Kwargs: it.Checks[0].Kwargs}
	}
	return ps, nil
}

// Validation implements Dataset.
func (Embedded) Validation(id string, n int, seed uint64) ([]Item, error) {
	its, err := embeddedItems("val-", id, tinyif.SplitValidation, 202)
	return sample(its, n, seed), err
}

// Test implements Dataset.
func (Embedded) Test(id string) ([]Item, error) {
	return embeddedItems("test-", id, tinyif.SplitTest, 303)
}

// Queries implements Dataset: requests about training topics (head) or
// held-out topics (tail).
func (Embedded) Queries(head bool) []string {
	s := tinyif.SplitTest
	if head {
		s = tinyif.SplitTrain
	}
	exs, _ := tinyif.EvalExamples(404, s, "", 1)
	out := make([]string, len(exs))
	for i, e := range exs {
		out[i] = e.Request
	}
	return out
}

// Phrase implements Dataset with tinyif's keyword wording.
func (Embedded) Phrase(word, query string) string {
	return query + " Include the word \"" + word + "\" in your answer."
}

// Words implements Dataset: held-out (or validation) requests, each with a
// word of tinyif's keyword list in turn.
func (d Embedded) Words(exclude, validation bool) ([]Item, error) {
	s, prefix := tinyif.SplitTest, "test-"
	if validation {
		s, prefix = tinyif.SplitValidation, "val-"
	}
	exs, err := tinyif.EvalExamples(505, s, "", 1)
	if err != nil {
		return nil, fmt.Errorf("tinyif words: %w", err)
	}
	out := make([]Item, len(exs))
	for i, e := range exs {
		w := embeddedWords[i%len(embeddedWords)]
		it := Item{Key: prefix + strconv.Itoa(i), Vector: wordVector(w), Without: e.Request}
		if exclude {
			it.Instruction, it.With = "keywords:forbidden_words", e.Request+" Do not use the word \""+w+"\" in your answer."
			it.Checks = []Check{{ID: it.Instruction, Kwargs: map[string]any{"forbidden_words": []any{w}}}}
		} else {
			it.Instruction, it.With = "keywords:existence", d.Phrase(w, e.Request)
			it.Checks = []Check{{ID: it.Instruction, Kwargs: map[string]any{"keywords": []any{w}}}}
		}
		out[i] = it
	}
	return out, nil
}

// Paper is the reference's data folder (llm-steer-instruct's data files).
type Paper struct {
	Dir string
	// format holds the format test records by evaluated id.
	format map[string][]Item
	// head and tail are the base queries not derived from any test prompt.
	head, tail []string
}

// paperRecord is a line of the paper's JSONL files.
type paperRecord struct {
	Key                      int              `json:"key"`
	Prompt                   string           `json:"prompt"`
	PromptWithoutInstruction string           `json:"prompt_without_instruction"`
	InstructionIDList        []string         `json:"instruction_id_list"`
	InstructionIDListForEval []string         `json:"instruction_id_list_for_eval"`
	Kwargs                   []map[string]any `json:"kwargs"`
}

// readRecords reads one of the paper's JSONL files.
func readRecords(path string) ([]paperRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("paper data: %w", err)
	}
	defer f.Close()
	var out []paperRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r paperRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("paper data %s:%d: %w", path, line, err)
		}
		if r.PromptWithoutInstruction == "" || len(r.InstructionIDList) != 1 {
			return nil, fmt.Errorf("paper data %s:%d: want prompt_without_instruction and one instruction id", path, line)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// evalID is the evaluated id of a record (its _for_eval id when present).
func (r paperRecord) evalID() string {
	if len(r.InstructionIDListForEval) == 1 {
		return r.InstructionIDListForEval[0]
	}
	return r.InstructionIDList[0]
}

// item turns a record into a test item.
func (r paperRecord) item() Item {
	id := r.evalID()
	var kw map[string]any
	if len(r.Kwargs) == 1 && len(r.Kwargs[0]) > 0 {
		kw = r.Kwargs[0]
	}
	c := checkOf(id, kw)
	if strings.HasPrefix(id, "language:") && kw != nil {
		c.Kwargs = kw
	}
	return Item{Key: strconv.Itoa(r.Key), Instruction: id, Vector: id, With: r.Prompt, Without: r.PromptWithoutInstruction, Checks: []Check{c}}
}

// OpenPaper reads the format test file and the base queries of dir; the
// base queries whose IFEval key is a test prompt of any test file are
// dropped, the rest is split 2:1 into head (directions) and tail.
func OpenPaper(dir string) (*Paper, error) {
	p := &Paper{Dir: dir, format: map[string][]Item{}}
	test := map[int]bool{}
	for _, name := range []string{"ifeval_single_instr_format.jsonl", "ifeval_single_keyword_include.jsonl", "ifeval_single_keyword_exclude.jsonl"} {
		recs, err := readRecords(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			test[r.Key] = true
			if name == "ifeval_single_instr_format.jsonl" {
				p.format[r.evalID()] = append(p.format[r.evalID()], r.item())
			}
		}
	}
	bq, err := pairs.LoadBaseQueries(filepath.Join(dir, "ifeval_wo_instructions.jsonl"))
	if err != nil {
		return nil, err
	}
	var qs []string
	for _, b := range bq {
		if !test[b.Key] {
			qs = append(qs, b.Query)
		}
	}
	cut := len(qs) * 2 / 3
	p.head, p.tail = qs[:cut], qs[cut:]
	return p, nil
}

// Name implements Dataset.
func (p *Paper) Name() string { return "llm-steer-instruct data (" + p.Dir + ")" }

// FormatIDs implements Dataset.
func (p *Paper) FormatIDs() []string {
	out := make([]string, 0, len(p.format))
	for id := range p.format {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// build phrases the instruction of an evaluated id over queries.
func build(id string, queries []string, seed uint64) ([]pairs.Pair, error) {
	c := checkOf(id, nil)
	return pairs.Build(queries, pairs.BuildOptions{IDs: []string{c.ID}, Kwargs: c.Kwargs, Seed: seed})
}

// Pairs implements Dataset: the head queries with gosteer's phrasings.
func (p *Paper) Pairs(id string, n int) ([]pairs.Pair, error) {
	return build(id, sample(p.head, n, 1), 1)
}

// Validation implements Dataset: tail queries with gosteer's phrasings.
func (p *Paper) Validation(id string, n int, seed uint64) ([]Item, error) {
	ps, err := build(id, sample(p.tail, n, seed), seed)
	if err != nil {
		return nil, err
	}
	return itemsFromPairs("val-", id, ps), nil
}

// Test implements Dataset.
func (p *Paper) Test(id string) ([]Item, error) {
	its, ok := p.format[id]
	if !ok {
		return nil, fmt.Errorf("paper data: no test records of %q (have %s)", id, strings.Join(p.FormatIDs(), ", "))
	}
	return its, nil
}

// Queries implements Dataset.
func (p *Paper) Queries(head bool) []string {
	if head {
		return p.head
	}
	return p.tail
}

// Phrase implements Dataset with gosteer's keyword phrasing.
func (p *Paper) Phrase(word, query string) string {
	r := rand.New(rand.NewPCG(uint64(len(query)), uint64(len(word))))
	in, err := pairs.Phrase("keywords:existence", query, map[string]any{"keywords": []string{word}}, r)
	if err != nil {
		return query + " Include the word \"" + word + "\" in your answer."
	}
	return query + " " + in.Text
}

// Words implements Dataset with the paper's keyword files.
func (p *Paper) Words(exclude, validation bool) ([]Item, error) {
	name := map[[2]bool]string{
		{false, false}: "ifeval_single_keyword_include.jsonl", {true, false}: "ifeval_single_keyword_exclude.jsonl",
		{false, true}: "inclusion_validation.jsonl", {true, true}: "exclusion_validation.jsonl",
	}[[2]bool{exclude, validation}]
	recs, err := readRecords(filepath.Join(p.Dir, name))
	if err != nil {
		return nil, err
	}
	out := make([]Item, 0, len(recs))
	for i, r := range recs {
		it := r.item()
		if validation {
			it.Key = "val-" + strconv.Itoa(i)
		}
		w, err := recordWord(r)
		if err != nil {
			return nil, fmt.Errorf("paper data %s line %d: %w", name, i+1, err)
		}
		it.Vector = wordVector(w)
		out = append(out, it)
	}
	return out, nil
}

// recordWord is the single keyword (inclusion) or forbidden word of a record.
func recordWord(r paperRecord) (string, error) {
	if len(r.Kwargs) != 1 {
		return "", fmt.Errorf("want one kwargs object")
	}
	for _, k := range []string{"keywords", "forbidden_words"} {
		if ws, ok := r.Kwargs[0][k].([]any); ok && len(ws) > 0 {
			w, _ := ws[0].(string)
			return w, nil
		}
	}
	return "", fmt.Errorf("no keywords or forbidden_words in kwargs")
}
