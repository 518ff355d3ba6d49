package ifeval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Item is one line of an IFEval-style JSONL file: the parsed Record, the
// original JSON object (fields in input order, for lossless re-writing) and
// the problems found while reading it. A line that could not be parsed still
// yields an Item (with Problems set), so nothing is dropped silently.
type Item struct {
	Line     int
	Record   Record
	Fields   []Field
	Problems []string
}

// Field is one key of a JSON object with its raw value.
type Field struct {
	Key   string
	Value json.RawMessage
}

// ReadJSONLFile reads an IFEval-style JSONL file, see ReadJSONL.
func ReadJSONLFile(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	items, err := ReadJSONL(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return items, nil
}

// ReadJSONL reads IFEval-style JSONL: Google's input_data.jsonl (key, prompt,
// instruction_id_list, kwargs), response files (prompt, response), files
// combining both, and the paper's llm-steer-instruct files (where
// instruction_id_list may be a Python-literal string and kwargs may be
// absent). Blank lines are skipped; every other line yields one Item. The
// error is only for I/O failures.
func ReadJSONL(r io.Reader) ([]Item, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var items []Item
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			items = append(items, parseItem(line, b))
		}
		if err == io.EOF {
			return items, nil
		}
		if err != nil {
			return items, fmt.Errorf("line %d: %w", line, err)
		}
	}
}

func parseItem(line int, b []byte) Item {
	it := Item{Line: line}
	fields, err := parseObject(b)
	if err != nil {
		it.Problems = append(it.Problems, fmt.Sprintf("line %d: invalid JSON object: %v", line, err))
		return it
	}
	it.Fields = fields
	get := func(k string) json.RawMessage {
		for _, f := range fields {
			if f.Key == k {
				return f.Value
			}
		}
		return nil
	}
	problem := func(format string, args ...any) {
		it.Problems = append(it.Problems, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
	}
	if raw := get("key"); raw != nil {
		var k any
		_ = json.Unmarshal(raw, &k)
		it.Record.Key = k
	}
	if raw := get("prompt"); raw != nil {
		if err := json.Unmarshal(raw, &it.Record.Prompt); err != nil {
			problem("prompt: %v", err)
		}
	} else if raw := get("original_prompt"); raw != nil {
		_ = json.Unmarshal(raw, &it.Record.Prompt)
	}
	if raw := get("response"); raw != nil {
		if string(raw) == "null" {
			problem("response is null")
		} else if err := json.Unmarshal(raw, &it.Record.Response); err != nil {
			problem("response: %v", err)
		}
	}
	if raw := get("instruction_id_list"); raw != nil {
		ids, err := parseIDList(raw)
		if err != nil {
			problem("instruction_id_list: %v", err)
		}
		it.Record.InstructionIDs = ids
	} else {
		problem("no instruction_id_list")
	}
	if raw := get("kwargs"); raw != nil && string(raw) != "null" {
		var kws []map[string]any
		if err := json.Unmarshal(raw, &kws); err != nil {
			problem("kwargs: want a list of objects: %v", err)
		}
		it.Record.Kwargs = kws
		if len(kws) != len(it.Record.InstructionIDs) {
			problem("%d kwargs entries for %d instructions", len(kws), len(it.Record.InstructionIDs))
		}
	} else if len(it.Record.InstructionIDs) > 0 {
		// Checkers that take no arguments still work; the others report the
		// missing kwargs themselves.
		it.Record.Kwargs = make([]map[string]any, len(it.Record.InstructionIDs))
	}
	return it
}

// parseIDList accepts a JSON list of strings or a string holding a Python
// literal list such as "['punctuation:no_comma', 'keywords:existence']".
func parseIDList(raw json.RawMessage) ([]string, error) {
	var ids []string
	if err := json.Unmarshal(raw, &ids); err == nil {
		return ids, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("want a list of strings")
	}
	return parsePythonStrList(s)
}

func parsePythonStrList(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, fmt.Errorf("%q is not a list literal", s)
	}
	body := strings.TrimSpace(s[1 : len(s)-1])
	var out []string
	for body != "" {
		q := body[0]
		if q != '\'' && q != '"' {
			return nil, fmt.Errorf("%q: expected a quoted string", s)
		}
		end := strings.IndexByte(body[1:], q)
		if end < 0 {
			return nil, fmt.Errorf("%q: unterminated string", s)
		}
		out = append(out, body[1:1+end])
		body = strings.TrimSpace(body[2+end:])
		if strings.HasPrefix(body, ",") {
			body = strings.TrimSpace(body[1:])
		} else if body != "" {
			return nil, fmt.Errorf("%q: expected ','", s)
		}
	}
	return out, nil
}

// parseObject decodes one JSON object keeping its keys in order.
func parseObject(b []byte) ([]Field, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not an object")
	}
	var fields []Field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("bad key %v", tok)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("value of %q: %w", key, err)
		}
		fields = append(fields, Field{Key: key, Value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after object")
	}
	return fields, nil
}

// Output field names added by ScoreItem / MarshalScored.
const (
	FieldStrict          = "strict"
	FieldLoose           = "loose"
	FieldFollowAllStrict = "follow_all_strict"
	FieldFollowAllLoose  = "follow_all_loose"
	FieldErrors          = "ifeval_errors"
)

// ScoreItem evaluates an item. Reading problems are merged into the result's
// errors (the record is then marked Failed); a record without a response is
// scored as an empty response and marked.
func ScoreItem(it Item) Result {
	res := Evaluate(it.Record)
	var extra []string
	extra = append(extra, it.Problems...)
	if it.Fields != nil && !hasField(it.Fields, "response") {
		extra = append(extra, fmt.Sprintf("line %d: no response field", it.Line))
	}
	if len(extra) > 0 {
		res.Failed = true
		res.FollowAllStrict, res.FollowAllLoose = false, false
		if res.Errors == nil {
			res.Errors = make([]string, len(res.Strict))
		}
		if len(res.Errors) == 0 {
			res.Errors = []string{""}
		}
		msg := strings.Join(extra, "; ")
		if res.Errors[0] != "" {
			msg = res.Errors[0] + "; " + msg
		}
		res.Errors[0] = msg
	}
	return res
}

func hasField(fs []Field, k string) bool {
	for _, f := range fs {
		if f.Key == k {
			return true
		}
	}
	return false
}

// MarshalScored returns the item's JSON object (fields in input order) with
// strict, loose, follow_all_strict and follow_all_loose set from res (input
// fields of the same names are replaced) and, when res has errors,
// ifeval_errors: the non-empty error messages.
func MarshalScored(it Item, res Result) ([]byte, error) {
	ours := map[string]bool{FieldStrict: true, FieldLoose: true, FieldFollowAllStrict: true, FieldFollowAllLoose: true, FieldErrors: true}
	var buf bytes.Buffer
	buf.WriteByte('{')
	n := 0
	write := func(k string, v []byte) error {
		if n > 0 {
			buf.WriteByte(',')
		}
		n++
		kb, err := json.Marshal(k)
		if err != nil {
			return err
		}
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(v)
		return nil
	}
	if it.Fields == nil {
		lb, _ := json.Marshal(it.Line)
		if err := write("input_line", lb); err != nil {
			return nil, err
		}
	}
	for _, f := range it.Fields {
		if ours[f.Key] {
			continue
		}
		if err := write(f.Key, f.Value); err != nil {
			return nil, err
		}
	}
	add := func(k string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("marshal %s: %w", k, err)
		}
		return write(k, b)
	}
	strict, loose := res.Strict, res.Loose
	if strict == nil {
		strict, loose = []bool{}, []bool{}
	}
	for _, kv := range []struct {
		k string
		v any
	}{{FieldStrict, strict}, {FieldLoose, loose}, {FieldFollowAllStrict, res.FollowAllStrict}, {FieldFollowAllLoose, res.FollowAllLoose}} {
		if err := add(kv.k, kv.v); err != nil {
			return nil, err
		}
	}
	if res.Failed {
		var msgs []string
		for _, e := range res.Errors {
			if e != "" {
				msgs = append(msgs, e)
			}
		}
		if err := add(FieldErrors, msgs); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
