package experiment

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/gosteer/gosteer/steerlib/internal/atomicfile"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// Result is one line of a results file: one work unit's response and verdicts.
type Result struct {
	// Key identifies the work unit (record × condition × candidate).
	Key string `json:"key"`
	// Run is the fingerprint id of the run that wrote the line.
	Run string `json:"run"`
	// Record is the record's key; Instructions its eval ids.
	Record       string   `json:"record"`
	Instructions []string `json:"instruction_id_list"`
	// Condition is one of the four conditions; Candidate the layer-search
	// candidate ("" in evaluations).
	Condition string `json:"condition"`
	Candidate string `json:"candidate,omitempty"`
	Prompt    string `json:"prompt"`
	Response  string `json:"response"`
	// Strict and Loose: every instruction followed; the lists hold one
	// verdict per instruction. Errors holds checker problems (counted as not
	// followed).
	Strict     bool     `json:"strict"`
	Loose      bool     `json:"loose"`
	StrictList []bool   `json:"strict_list"`
	LooseList  []bool   `json:"loose_list"`
	Errors     []string `json:"errors,omitempty"`
	// Perplexity under the screen model and Degenerate (perplexity below
	// DegenerateBelow), when a screen model is given.
	Perplexity *float64 `json:"perplexity,omitempty"`
	Degenerate *bool    `json:"degenerate,omitempty"`
	// Steering is the steering applied (nil: none).
	Steering []Steering `json:"steering"`
	// NewTokens is the number of generated tokens; Stop why generation stopped.
	NewTokens int    `json:"new_tokens"`
	Stop      string `json:"stop"`
}

// Fingerprint describes a run: results of different runs never mix.
type Fingerprint struct {
	Model   string            `json:"model"`
	Data    string            `json:"data"`
	Plan    string            `json:"plan,omitempty"`
	Options map[string]string `json:"options,omitempty"`
}

// ID is a short hash of the fingerprint.
func (f Fingerprint) ID() string {
	b, _ := json.Marshal(f) // map keys are sorted: canonical
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// String describes the fingerprint: its id and what it covers.
func (f Fingerprint) String() string {
	b, _ := json.Marshal(f)
	return f.ID() + " " + string(b)
}

// FileDigest returns the hex SHA-256 of a file's content
// (vectors.FileFingerprint).
func FileDigest(path string) (string, error) { return vectors.FileFingerprint(path) }

// ModelDigest identifies a model folder without reading its weights: the
// digest of config.json and the names and sizes of its weight files.
func ModelDigest(dir string) (string, error) {
	cfg, err := FileDigest(filepath.Join(dir, "config.json"))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(cfg))
	files, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	sort.Strings(files)
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return "", fmt.Errorf("fingerprint: %w", err)
		}
		fmt.Fprintf(h, "%s:%d;", filepath.Base(f), st.Size())
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// ResultsWriter appends results to a file, one JSON line per unit, synced
// after every Append. Done holds the units already in the file.
type ResultsWriter struct {
	Path string
	Run  string
	Done map[string]Result
	f    *os.File
}

// OpenResults opens (or creates, with its folder) a results file for run. Lines already there
// are loaded into Done; a torn last line (no final newline: the writer was
// killed mid-write) is cut off; a line of another run is an error.
func OpenResults(path, run string) (*ResultsWriter, error) {
	rs, good, err := readResultsFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	w := &ResultsWriter{Path: path, Run: run, Done: make(map[string]Result, len(rs))}
	if err := w.add(path, rs); err != nil {
		return nil, err
	}
	if err := truncateTo(path, good); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	// O_APPEND: every Append lands at the end, even beside another writer.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	w.f = f
	return w, nil
}

// Include adds the results of other files of the same run (e.g. the other
// shards' files in a shared folder) to Done, so that Runner.Run skips their
// units; the writer's own file and missing files are skipped, and a result
// of another run is an error.
func (w *ResultsWriter) Include(paths ...string) error {
	for _, p := range paths {
		if p == w.Path {
			continue
		}
		rs, err := ReadResults(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := w.add(p, rs); err != nil {
			return err
		}
	}
	return nil
}

// add puts results read from path into Done, refusing another run's.
func (w *ResultsWriter) add(path string, rs []Result) error {
	for _, r := range rs {
		if r.Run != w.Run {
			return fmt.Errorf("results %s: written by run %s, this run is %s (another model, data, plan or options): use another --out, or delete the file to start over", path, r.Run, w.Run)
		}
		w.Done[r.Key] = r
	}
	return nil
}

// truncateTo cuts a results file after its last complete line (a missing
// file is left missing).
func truncateTo(path string, size int64) error {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) || (err == nil && st.Size() == size) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.Truncate(path, size); err != nil {
		return fmt.Errorf("results %s: drop torn last line: %w", path, err)
	}
	return nil
}

// Append writes results as one write and syncs the file.
func (w *ResultsWriter) Append(rs []Result) error {
	var buf bytes.Buffer
	for _, r := range rs {
		r.Run = w.Run
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("results: %s: %w", r.Key, err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
		w.Done[r.Key] = r
	}
	if _, err := w.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("results %s: %w", w.Path, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("results %s: sync: %w", w.Path, err)
	}
	return nil
}

// Close closes the file.
func (w *ResultsWriter) Close() error { return w.f.Close() }

// ReadResults reads a results file. A torn last line is ignored.
func ReadResults(path string) ([]Result, error) {
	rs, _, err := readResultsFile(path)
	return rs, err
}

// readResultsFile parses complete lines and returns the offset after the last one.
func readResultsFile(path string) ([]Result, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var rs []Result
	var off int64
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err == io.EOF {
			return rs, off, nil // b (if any) is a torn line
		}
		if err != nil {
			return nil, 0, fmt.Errorf("results %s: %w", path, err)
		}
		off += int64(len(b))
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var r Result
		if err := json.Unmarshal(b, &r); err != nil || r.Key == "" {
			return nil, 0, fmt.Errorf("results %s:%d: not a result line (%v)", path, line, err)
		}
		rs = append(rs, r)
	}
}

// Merge combines results files of one run (e.g. its shards) into out, one
// line per unit sorted by key. Files of different runs are refused; a unit
// present in several files is kept once.
func Merge(out string, inputs []string) ([]Result, error) {
	byKey := map[string]Result{}
	run, first := "", ""
	for _, in := range inputs {
		rs, err := ReadResults(in)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if run == "" {
				run, first = r.Run, in
			}
			if r.Run != run {
				return nil, fmt.Errorf("merge: %s is from run %s but %s is from run %s: shards of different runs (model, data, plan or options differ)", in, r.Run, first, run)
			}
			if _, dup := byKey[r.Key]; !dup {
				byKey[r.Key] = r
			}
		}
	}
	if len(byKey) == 0 {
		return nil, errors.New("merge: no results in the input files")
	}
	rs := make([]Result, 0, len(byKey))
	for _, r := range byKey {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Key < rs[j].Key })
	var buf bytes.Buffer
	for _, r := range rs {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return rs, writeFileAtomic(out, buf.Bytes())
}

// writeFileAtomic writes data through a temporary file beside path (see
// internal/atomicfile: synced, mode 0666 less the umask, renamed over path),
// creating path's folder first.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.WriteBytes(path, data, nil)
}

// finite keeps a perplexity JSON-encodable.
func finite(x float64) float64 {
	if math.IsInf(x, 1) || math.IsNaN(x) {
		return math.MaxFloat64
	}
	return x
}
