package paper

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gosteer/gosteer/steerlib/experiment"
)

// ResultsName is the merged results file of a run folder.
const ResultsName = "results.jsonl"

// shardFile is the results file of a shard in a run folder.
func shardFile(s experiment.Shard) string {
	if s.Whole() {
		return ResultsName
	}
	return fmt.Sprintf("results.shard-%d-of-%d.jsonl", s.Index, s.Count)
}

// Journal is a run folder's results: the engine's results writer for this
// shard's file (appended line by line, synced, resumable), whose Done also
// holds the finished units of the other shards' files there.
type Journal struct {
	dir string
	w   *experiment.ResultsWriter
}

// OpenJournal opens this shard's results file in dir for run (an
// experiment.Fingerprint ID; results of another run are refused) and reads
// the other shards' files there.
func OpenJournal(dir string, shard experiment.Shard, run string) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	w, err := experiment.OpenResults(filepath.Join(dir, shardFile(shard)), run)
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "results*.jsonl"))
	if err == nil {
		err = w.Include(files...)
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &Journal{dir: dir, w: w}, nil
}

// Get returns the finished result of a unit key.
func (j *Journal) Get(key string) (experiment.Result, bool) {
	r, ok := j.w.Done[key]
	return r, ok
}

// Close closes the shard's file.
func (j *Journal) Close() error { return j.w.Close() }

// WriteMerged writes every result of the run, sorted by key, as
// results.jsonl (engine's Merge: atomic, refuses mixed runs).
func (j *Journal) WriteMerged() error {
	files, err := filepath.Glob(filepath.Join(j.dir, "results*.jsonl"))
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if _, err := experiment.Merge(filepath.Join(j.dir, ResultsName), files); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
