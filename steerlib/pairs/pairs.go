// Package pairs holds the paired prompts from which gosteer computes
// instruction directions: the same request with an instruction (With) and
// without it (Without).
//
// The on-disk format is JSON Lines, one pair per line:
//
//	{"instruction_id": "change_case:english_lowercase", "with": "...", "without": "...", "kwargs": {...}}
//
// instruction_id is an IFEval instruction id and kwargs (optional) are that
// instruction's IFEval arguments, so that a model's response to With (or to a
// steered Without) can be scored by steerlib/ifeval. The package also reads
// the data files of the paper's reference code (see LoadPaperPairs and
// LoadBaseQueries) and builds pairs from base queries and the project's own
// instruction phrasings (see Build).
package pairs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/gosteer/gosteer/steerlib/internal/atomicfile"
)

// Pair is one request with and without an instruction.
type Pair struct {
	// InstructionID is the IFEval instruction id, e.g. "punctuation:no_comma".
	InstructionID string `json:"instruction_id"`
	// With is the request including the instruction.
	With string `json:"with"`
	// Without is the same request without the instruction.
	Without string `json:"without"`
	// Kwargs are the IFEval arguments of the instruction (nil when it has none).
	// After a JSON round trip numbers are float64.
	Kwargs map[string]any `json:"kwargs,omitempty"`
}

// Validate reports whether p is usable: an instruction id and two different,
// non-empty prompts.
func (p Pair) Validate() error {
	switch {
	case p.InstructionID == "":
		return errors.New("empty instruction_id")
	case p.With == "":
		return errors.New("empty \"with\" prompt")
	case p.Without == "":
		return errors.New("empty \"without\" prompt")
	case p.With == p.Without:
		return errors.New("\"with\" and \"without\" prompts are identical")
	}
	return nil
}

// maxLine is the longest JSONL line accepted (prompts can be long documents).
const maxLine = 16 << 20

// Reader streams pairs from a JSONL source, one line at a time, so a dataset
// never has to fit in memory.
type Reader struct {
	sc   *bufio.Scanner
	name string
	line int
	c    io.Closer
}

// NewReader returns a Reader over r; name is used in error messages.
func NewReader(r io.Reader, name string) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	return &Reader{sc: sc, name: name}
}

// Open opens a JSONL pair file for streaming. Close it when done.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open pairs: %w", err)
	}
	r := NewReader(f, path)
	r.c = f
	return r, nil
}

// Next returns the next pair, or io.EOF after the last one. Blank lines are
// skipped. Each pair is validated; errors name the file and line.
func (r *Reader) Next() (Pair, error) {
	for r.sc.Scan() {
		r.line++
		b := bytes.TrimSpace(r.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var p Pair
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return Pair{}, fmt.Errorf("%s:%d: %w", r.name, r.line, err)
		}
		if err := p.Validate(); err != nil {
			return Pair{}, fmt.Errorf("%s:%d: %w", r.name, r.line, err)
		}
		return p, nil
	}
	if err := r.sc.Err(); err != nil {
		return Pair{}, fmt.Errorf("%s:%d: %w", r.name, r.line+1, err)
	}
	return Pair{}, io.EOF
}

// Close closes the underlying file (if Open created it).
func (r *Reader) Close() error {
	if r.c == nil {
		return nil
	}
	return r.c.Close()
}

// Read reads every pair from r.
func Read(r io.Reader, name string) ([]Pair, error) {
	rd := NewReader(r, name)
	var out []Pair
	for {
		p, err := rd.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
}

// Load reads every pair of a JSONL file.
func Load(path string) ([]Pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load pairs: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// Count returns the number of pairs (non-blank lines) in a JSONL file without
// decoding them; used to size progress bars.
func Count(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("count pairs: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("count pairs %s: %w", path, err)
	}
	return n, nil
}

// Write writes pairs as JSONL to w (one object per line, HTML characters not
// escaped).
func Write(w io.Writer, ps []Pair) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i, p := range ps {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("pair %d: %w", i, err)
		}
		if err := enc.Encode(p); err != nil {
			return fmt.Errorf("pair %d: %w", i, err)
		}
	}
	return nil
}

// Save writes pairs to a JSONL file atomically (temporary file + rename).
func Save(path string, ps []Pair) error {
	err := atomicfile.Write(path, func(f *os.File) error {
		bw := bufio.NewWriter(f)
		if err := Write(bw, ps); err != nil {
			return err
		}
		return bw.Flush()
	}, nil)
	if err != nil {
		return fmt.Errorf("save pairs %s: %w", path, err)
	}
	return nil
}

// ByInstruction groups pairs by instruction id, keeping their order.
func ByInstruction(ps []Pair) map[string][]Pair {
	m := map[string][]Pair{}
	for _, p := range ps {
		m[p.InstructionID] = append(m[p.InstructionID], p)
	}
	return m
}

// IDs returns the distinct instruction ids of ps, sorted.
func IDs(ps []Pair) []string {
	seen := map[string]bool{}
	var ids []string
	for _, p := range ps {
		if !seen[p.InstructionID] {
			seen[p.InstructionID] = true
			ids = append(ids, p.InstructionID)
		}
	}
	sort.Strings(ids)
	return ids
}
