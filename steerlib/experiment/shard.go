package experiment

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is share Index of Count (0 ≤ Index < Count) of a run's work units:
// the units whose position in the run's canonical order is Index mod Count.
// The zero value is treated as 0/1, the whole run.
type Shard struct {
	Index, Count int
}

// String returns "i/n".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, max(s.Count, 1)) }

// Whole reports whether the shard is the whole run.
func (s Shard) Whole() bool { return s.Count <= 1 }

// ParseShard parses "i/n" with 0 ≤ i < n.
func ParseShard(spec string) (Shard, error) {
	a, b, ok := strings.Cut(spec, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want i/n, e.g. 0/4", spec)
	}
	return newShard(i, n, "shard "+spec)
}

func newShard(i, n int, what string) (Shard, error) {
	if n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("%s: index %d is not in 0..%d (shards are numbered from 0 to n-1)", what, i, n-1)
	}
	return Shard{Index: i, Count: n}, nil
}

// ShardFromEnv reads the shard of a Kubernetes Indexed Job
// (JOB_COMPLETION_INDEX of JOB_COMPLETIONS) or a Slurm job array
// (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT; MIN
// defaults to 0). ok is false when neither is set.
func ShardFromEnv(getenv func(string) string) (s Shard, ok bool, err error) {
	if idx := getenv("JOB_COMPLETION_INDEX"); idx != "" {
		s, err = envShard(idx, getenv("JOB_COMPLETIONS"), "0", "JOB_COMPLETION_INDEX/JOB_COMPLETIONS")
		return s, true, err
	}
	if idx := getenv("SLURM_ARRAY_TASK_ID"); idx != "" {
		lo := getenv("SLURM_ARRAY_TASK_MIN")
		if lo == "" {
			lo = "0"
		}
		s, err = envShard(idx, getenv("SLURM_ARRAY_TASK_COUNT"), lo, "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT")
		return s, true, err
	}
	return Shard{}, false, nil
}

func envShard(idx, count, lo, what string) (Shard, error) {
	i, err1 := strconv.Atoi(idx)
	n, err2 := strconv.Atoi(count)
	l, err3 := strconv.Atoi(lo)
	if err1 != nil || err2 != nil || err3 != nil {
		return Shard{}, fmt.Errorf("%s = %q/%q (min %q): want integers", what, idx, count, lo)
	}
	return newShard(i-l, n, what)
}

// Select returns the units of the shard, in order.
func (s Shard) Select(units []Unit) []Unit {
	if s.Whole() {
		return units
	}
	var out []Unit
	for i, u := range units {
		if i%s.Count == s.Index {
			out = append(out, u)
		}
	}
	return out
}
