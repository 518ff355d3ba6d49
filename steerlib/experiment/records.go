package experiment

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/gosteer/gosteer/steerlib/ifeval"
)

// Record is one evaluation or validation prompt in the paper's format.
type Record struct {
	// Line is the 1-based line of the record in its file.
	Line int
	// Key is the record's "key" field as text, or "line<N>" when absent.
	Key string
	// Prompt is the request with its instruction(s).
	Prompt string
	// PromptWithout is the same request with the instruction removed.
	PromptWithout string
	// InstructionIDs and Kwargs are what ifeval scores (instruction_id_list, kwargs).
	InstructionIDs []string
	Kwargs         []map[string]any
	// EvalIDs name the steering of each instruction (instruction_id_list_for_eval,
	// else InstructionIDs); language instructions carry the target language,
	// e.g. "language:response_language_kn".
	EvalIDs []string
}

// rawRecord is the JSON form of a record, or of a pair line of
// steerlib/pairs (instruction_id, with, without, kwargs object).
type rawRecord struct {
	Key            json.RawMessage `json:"key"`
	Prompt         *string         `json:"prompt"`
	PromptWithout  *string         `json:"prompt_without_instruction"`
	InstructionIDs []string        `json:"instruction_id_list"`
	Kwargs         json.RawMessage `json:"kwargs"`
	EvalIDs        []string        `json:"instruction_id_list_for_eval"`
	// Pair lines.
	InstructionID string  `json:"instruction_id"`
	With          *string `json:"with"`
	Without       *string `json:"without"`
}

// fromPair turns a pair line into the record form: prompt = with,
// prompt_without_instruction = without, one instruction whose eval id
// carries the target language of a language instruction.
func (raw *rawRecord) fromPair() error {
	raw.Prompt, raw.PromptWithout = raw.With, raw.Without
	raw.InstructionIDs = []string{raw.InstructionID}
	kw := map[string]any{}
	if len(raw.Kwargs) > 0 && string(raw.Kwargs) != "null" {
		if err := json.Unmarshal(raw.Kwargs, &kw); err != nil {
			return fmt.Errorf("pair kwargs: want an object: %w", err)
		}
	}
	eval := raw.InstructionID
	if lang, ok := kw["language"].(string); ok && eval == "language:response_language" {
		eval += "_" + lang
	}
	raw.EvalIDs = []string{eval}
	b, err := json.Marshal([]map[string]any{kw})
	raw.Kwargs = b
	return err
}

// langSuffix matches the target-language suffix of a language eval id.
var langSuffix = regexp.MustCompile(`^(language:response_language)_([a-z]{2,3})$`)

// KnownID reports whether id is an instruction id ifeval checks, or a
// language id with a target-language suffix (_xx).
func KnownID(id string) bool {
	if m := langSuffix.FindStringSubmatch(id); m != nil {
		id = m[1]
	}
	if id == ifeval.LengthSentencesID {
		return true
	}
	i := sort.SearchStrings(knownIDs, id)
	return i < len(knownIDs) && knownIDs[i] == id
}

var knownIDs = ifeval.InstructionIDs()

// ReadRecords reads a JSONL file of records (see Record). Every problem is
// reported with its file:line; blank lines are skipped. Lines of a pair file
// (steerlib/pairs: instruction_id, with, without, kwargs) are read as
// records too, so pairs held out from training serve as validation data.
func ReadRecords(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	defer f.Close()
	return ParseRecords(f, path)
}

// maxErrors bounds the problems listed in one error.
const maxErrors = 10

// ParseRecords reads JSONL records from r; name is used in error messages.
// All problems are collected and returned together (errors.Join).
func ParseRecords(r io.Reader, name string) ([]Record, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var recs []Record
	var errs []error
	keys := map[string]int{}
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			rec, perr := parseRecord(b, line)
			if perr == nil {
				if prev, dup := keys[rec.Key]; dup {
					perr = fmt.Errorf("key %q repeats the record of line %d", rec.Key, prev)
				}
				keys[rec.Key] = line
			}
			if perr != nil {
				errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, perr))
			} else {
				recs = append(recs, rec)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("records: read %s: %w", name, err)
		}
	}
	if len(errs) > maxErrors {
		errs = append(errs[:maxErrors], fmt.Errorf("… and %d more problems", len(errs)-maxErrors))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("records: %w", errors.Join(errs...))
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("records: %s holds no record", name)
	}
	return recs, nil
}

func parseRecord(b []byte, line int) (Record, error) {
	var raw rawRecord
	if err := json.Unmarshal(b, &raw); err != nil {
		return Record{}, fmt.Errorf("not a JSON object: %w", err)
	}
	if raw.Prompt == nil && raw.InstructionID != "" {
		if err := raw.fromPair(); err != nil {
			return Record{}, err
		}
	}
	rec := Record{Line: line, InstructionIDs: raw.InstructionIDs, EvalIDs: raw.EvalIDs}
	if len(raw.Kwargs) > 0 && string(raw.Kwargs) != "null" {
		if err := json.Unmarshal(raw.Kwargs, &rec.Kwargs); err != nil {
			return rec, fmt.Errorf("kwargs: want a list of objects, one per instruction: %w", err)
		}
	}
	switch {
	case raw.Prompt == nil || strings.TrimSpace(*raw.Prompt) == "":
		return rec, errors.New("no prompt")
	case raw.PromptWithout == nil || strings.TrimSpace(*raw.PromptWithout) == "":
		return rec, errors.New("no prompt_without_instruction")
	case len(raw.InstructionIDs) == 0:
		return rec, errors.New("no instruction_id_list")
	}
	rec.Prompt, rec.PromptWithout = *raw.Prompt, *raw.PromptWithout
	if len(rec.Kwargs) == 0 {
		rec.Kwargs = make([]map[string]any, len(rec.InstructionIDs))
	}
	if len(rec.Kwargs) != len(rec.InstructionIDs) {
		return rec, fmt.Errorf("%d kwargs for %d instructions", len(rec.Kwargs), len(rec.InstructionIDs))
	}
	if len(rec.EvalIDs) == 0 {
		rec.EvalIDs = rec.InstructionIDs
	}
	if len(rec.EvalIDs) != len(rec.InstructionIDs) {
		return rec, fmt.Errorf("%d instruction_id_list_for_eval entries for %d instructions", len(rec.EvalIDs), len(rec.InstructionIDs))
	}
	for _, ids := range [][]string{rec.InstructionIDs, rec.EvalIDs} {
		for _, id := range ids {
			if !KnownID(id) {
				return rec, fmt.Errorf("unknown instruction id %q", id)
			}
		}
	}
	key, err := recordKey(raw.Key, line)
	if err != nil {
		return rec, err
	}
	rec.Key = key
	return rec, nil
}

// recordKey returns the key field as text (a number or a string), or line<N>.
func recordKey(raw json.RawMessage, line int) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "line" + strconv.Itoa(line), nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" || strings.ContainsAny(s, "|\n") {
			return "", fmt.Errorf("key %q: must be non-empty without '|' or newlines", s)
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("key %s: want a number or a string", raw)
	}
	return n.String(), nil
}

// SteerID is the plan entry that steers a record: its eval ids joined by "+"
// (one id for the paper's single-instruction sets).
func (r Record) SteerID() string { return strings.Join(r.EvalIDs, "+") }

// Overlap returns the prompts of recs (with or without the instruction) that
// also appear among train (the prompts vectors were computed from), compared
// after case folding and whitespace collapsing. Training on evaluation
// prompts makes the evaluation meaningless; callers refuse or warn loudly.
func Overlap(train []string, recs []Record) []string {
	seen := make(map[string]bool, len(train))
	for _, p := range train {
		seen[normPrompt(p)] = true
	}
	var out []string
	for _, r := range recs {
		for _, p := range []string{r.Prompt, r.PromptWithout} {
			if seen[normPrompt(p)] {
				out = append(out, fmt.Sprintf("line %d (key %s): %q", r.Line, r.Key, p))
			}
		}
	}
	return out
}

func normPrompt(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }
