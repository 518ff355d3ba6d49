package paper

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Shard is a deterministic share of the work units: unit k belongs to shard
// I of N when fnv64a(k) mod N = I. The zero value (N = 0) is the whole run.
type Shard struct{ I, N int }

// ParseShard reads "i/n" (0 ≤ i < n); "" is the whole run.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 0 <= i < n", s)
	}
	return Shard{I: i, N: n}, nil
}

// Has reports whether the unit key belongs to the shard.
func (s Shard) Has(key string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64()%uint64(s.N)) == s.I
}

// ResultsName is the merged results file of a run folder.
const ResultsName = "results.jsonl"

// fileName is the journal file of the shard in a run folder.
func (s Shard) fileName() string {
	if s.N <= 1 {
		return ResultsName
	}
	return fmt.Sprintf("results.shard-%d-of-%d.jsonl", s.I, s.N)
}

// Journal holds the finished rows of a run folder (from every results file
// there) and appends this shard's new rows to its own file, one complete
// line per write.
type Journal struct {
	dir   string
	shard Shard
	rows  map[string]Row
	f     *os.File
}

// OpenJournal reads every results*.jsonl in dir and opens this shard's file
// for appending. A torn last line (a killed run) is cut off.
func OpenJournal(dir string, shard Shard) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &Journal{dir: dir, shard: shard, rows: map[string]Row{}}
	files, err := filepath.Glob(filepath.Join(dir, "results*.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	own := filepath.Join(dir, shard.fileName())
	for _, p := range files {
		if err := j.load(p, p == own); err != nil {
			return nil, err
		}
	}
	if j.f, err = os.OpenFile(own, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return j, nil
}

// load reads the complete lines of one results file; for the run's own file
// a torn tail is truncated so that the next append starts a fresh line.
func (j *Journal) load(path string, own bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	end := bytes.LastIndexByte(data, '\n') + 1
	if own && end < len(data) {
		if err := os.Truncate(path, int64(end)); err != nil {
			return fmt.Errorf("journal: cut torn line of %s: %w", path, err)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data[:end]))
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Key == "" {
			return fmt.Errorf("journal: %s:%d: not a result row (%v)", path, line, err)
		}
		j.rows[r.Key] = r
	}
	return sc.Err()
}

// Get returns the finished row of a unit key.
func (j *Journal) Get(key string) (Row, bool) {
	r, ok := j.rows[key]
	return r, ok
}

// Mine reports whether this run's shard does the unit.
func (j *Journal) Mine(key string) bool { return j.shard.Has(key) }

// Sharded reports whether the run is one shard of several.
func (j *Journal) Sharded() bool { return j.shard.N > 1 }

// Append writes rows, each as one line in a single write.
func (j *Journal) Append(rows []Row) error {
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		if _, err := j.f.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		j.rows[r.Key] = r
	}
	return nil
}

// Close closes the shard's file.
func (j *Journal) Close() error { return j.f.Close() }

// WriteMerged writes every row of the run, sorted by key, as results.jsonl
// (through a temporary file and a rename). Unsharded runs already append to
// results.jsonl; rewriting sorts it.
func (j *Journal) WriteMerged() error {
	rows := make([]Row, 0, len(j.rows))
	for _, r := range j.rows {
		rows = append(rows, r)
	}
	sortRows(rows)
	var buf bytes.Buffer
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		buf.Write(append(b, '\n'))
	}
	return writeFileAtomic(filepath.Join(j.dir, ResultsName), buf.Bytes())
}

// writeFileAtomic writes data to path through path.tmp and a rename.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
