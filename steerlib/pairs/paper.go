package pairs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// The paper's reference code (microsoft/llm-steer-instruct) ships its data as
// JSONL files derived from IFEval. They are read from the user's copy (gosteer
// never redistributes them); in this project's CI they live in
// ../shared/data/llm-steer-instruct.

// paperRow is the union of the fields used by the paper's files.
type paperRow struct {
	Key                      *int             `json:"key"`
	Prompt                   *string          `json:"prompt"`
	PromptWithoutInstruction *string          `json:"prompt_without_instruction"`
	InstructionIDList        json.RawMessage  `json:"instruction_id_list"`
	Kwargs                   []map[string]any `json:"kwargs"`
	ModelOutput              *string          `json:"model_output"`
	OriginalPrompt           *string          `json:"original_prompt"`
	IsValid                  *bool            `json:"is_valid"`
}

// LoadPaperPairs reads one of the paper's single-instruction files
// (ifeval_single_instr_format.jsonl, ifeval_single_keyword_include.jsonl,
// ifeval_single_keyword_exclude.jsonl, inclusion_validation.jsonl,
// exclusion_validation.jsonl): `prompt` becomes With,
// `prompt_without_instruction` becomes Without, the single entry of
// `instruction_id_list` the instruction id and the single entry of `kwargs`
// the kwargs (empty kwargs become nil). A row with several instructions is an
// error: a direction is computed for one instruction at a time. Rows whose
// two prompts are identical are kept (the paper's format test set has two;
// they are evaluation rows), so unlike Load the result is not passed through
// Pair.Validate.
func LoadPaperPairs(path string) ([]Pair, error) {
	var out []Pair
	err := scanJSONL(path, func(line int, r paperRow) error {
		if r.Prompt == nil || r.PromptWithoutInstruction == nil {
			return fmt.Errorf("missing \"prompt\" or \"prompt_without_instruction\" (is this a paper pair file?)")
		}
		ids, err := parseIDList(r.InstructionIDList)
		if err != nil {
			return err
		}
		if len(ids) != 1 {
			return fmt.Errorf("want exactly one instruction id, got %d (%v)", len(ids), ids)
		}
		p := Pair{InstructionID: ids[0], With: *r.Prompt, Without: *r.PromptWithoutInstruction}
		if len(r.Kwargs) > 1 {
			return fmt.Errorf("want at most one kwargs object, got %d", len(r.Kwargs))
		}
		if len(r.Kwargs) == 1 && len(r.Kwargs[0]) > 0 {
			p.Kwargs = r.Kwargs[0]
		}
		if p.InstructionID == "" || p.With == "" || p.Without == "" {
			return fmt.Errorf("empty instruction id or prompt")
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// BaseQuery is a request with every IFEval constraint removed, from the
// paper's ifeval_wo_instructions.jsonl.
type BaseQuery struct {
	// Key is the IFEval prompt key.
	Key int
	// Query is the request without its constraints (the file's model_output).
	Query string
	// OriginalPrompt is the IFEval prompt the query was derived from.
	OriginalPrompt string
	// InstructionIDs are the IFEval instructions removed from OriginalPrompt.
	InstructionIDs []string
}

// LoadBaseQueries reads ifeval_wo_instructions.jsonl. Rows marked
// is_valid=false and rows with an empty query are skipped.
func LoadBaseQueries(path string) ([]BaseQuery, error) {
	var out []BaseQuery
	err := scanJSONL(path, func(line int, r paperRow) error {
		if r.ModelOutput == nil {
			return fmt.Errorf("missing \"model_output\" (is this ifeval_wo_instructions.jsonl?)")
		}
		if r.IsValid != nil && !*r.IsValid {
			return nil
		}
		q := strings.TrimSpace(*r.ModelOutput)
		if q == "" {
			return nil
		}
		ids, err := parseIDList(r.InstructionIDList)
		if err != nil {
			return err
		}
		b := BaseQuery{Query: q, InstructionIDs: ids}
		if r.Key != nil {
			b.Key = *r.Key
		}
		if r.OriginalPrompt != nil {
			b.OriginalPrompt = *r.OriginalPrompt
		}
		out = append(out, b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Queries returns the Query field of each base query.
func Queries(bs []BaseQuery) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Query
	}
	return out
}

// LoadWords reads a word list (one word per line, blank lines skipped), such
// as the paper's ifeval_keywords_include.txt.
func LoadWords(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load words: %w", err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if w := strings.TrimSpace(l); w != "" {
			out = append(out, w)
		}
	}
	return out, nil
}

// scanJSONL decodes each non-blank line of path into a paperRow and calls fn;
// errors are prefixed with the file and line.
func scanJSONL(path string, fn func(line int, r paperRow) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("load paper data: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var r paperRow
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if err := fn(line, r); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	return nil
}

// parseIDList accepts a JSON list of strings or a string holding a Python list
// literal such as "['a:b', 'c:d']" (both occur in derived IFEval files).
func parseIDList(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("missing \"instruction_id_list\"")
	}
	var ids []string
	if err := json.Unmarshal(raw, &ids); err == nil {
		return ids, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("instruction_id_list: want a list of strings: %w", err)
	}
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, fmt.Errorf("instruction_id_list: %q is not a list", s)
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if len(part) < 2 || (part[0] != '\'' && part[0] != '"') || part[len(part)-1] != part[0] {
			return nil, fmt.Errorf("instruction_id_list: bad element %q", part)
		}
		ids = append(ids, part[1:len(part)-1])
	}
	return ids, nil
}
