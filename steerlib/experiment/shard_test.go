package experiment

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	cases := []struct {
		spec    string
		want    Shard
		wantErr string
	}{
		{"0/1", Shard{0, 1}, ""},
		{"1/2", Shard{1, 2}, ""},
		{" 3 / 4 ", Shard{3, 4}, ""},
		{"3/2", Shard{}, "index 3 is not in 0..1"},
		{"2/2", Shard{}, "index 2 is not in 0..1"},
		{"-1/2", Shard{}, "not in"},
		{"0/0", Shard{}, "not in"},
		{"1", Shard{}, "want i/n"},
		{"a/b", Shard{}, "want i/n"},
	}
	for _, c := range cases {
		got, err := ParseShard(c.spec)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseShard(%q) = %v, %v; want error %q", c.spec, got, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", c.spec, got, err, c.want)
		}
	}
}

func TestShardFromEnv(t *testing.T) {
	cases := []struct {
		env     map[string]string
		want    Shard
		ok      bool
		wantErr bool
	}{
		{map[string]string{}, Shard{}, false, false},
		{map[string]string{"JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "4"}, Shard{2, 4}, true, false},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "3"}, Shard{1, 3}, true, false},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1"}, Shard{2, 3}, true, false},
		{map[string]string{"JOB_COMPLETION_INDEX": "3", "JOB_COMPLETIONS": "2"}, Shard{}, true, true},
		{map[string]string{"JOB_COMPLETION_INDEX": "0"}, Shard{}, true, true},
	}
	for _, c := range cases {
		got, ok, err := ShardFromEnv(func(k string) string { return c.env[k] })
		if got != c.want || ok != c.ok || (err != nil) != c.wantErr {
			t.Errorf("env %v: %v %v %v", c.env, got, ok, err)
		}
	}
}

// TestShardSelectPartitions checks that the shards of n cover every unit
// exactly once.
func TestShardSelectPartitions(t *testing.T) {
	units := make([]Unit, 11)
	for i := range units {
		units[i].Key = fmt.Sprint(i)
	}
	for n := 1; n <= 4; n++ {
		seen := map[string]int{}
		for i := range n {
			for _, u := range (Shard{i, n}).Select(units) {
				seen[u.Key]++
			}
		}
		if len(seen) != len(units) {
			t.Fatalf("n=%d: %d units covered", n, len(seen))
		}
		for k, c := range seen {
			if c != 1 {
				t.Errorf("n=%d: unit %s in %d shards", n, k, c)
			}
		}
	}
}
