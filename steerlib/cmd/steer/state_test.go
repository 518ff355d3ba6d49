package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/pairs"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// TestComputeStateFingerprint checks that a vectors compute state is tied to
// what made it: --resume and --update refuse another model or other options,
// --update refuses an interrupted run and the pairs already in the state,
// and a run that fails before its first pair leaves no state.
func TestComputeStateFingerprint(t *testing.T) {
	dir := tinyChatModel(t)
	tmp := t.TempDir()
	ps, err := pairs.Build([]string{"Describe a harbor.", "Tell me about owls.", "Explain tides."}, pairs.BuildOptions{IDs: []string{"change_case:english_lowercase"}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	pfile, more := filepath.Join(tmp, "pairs.jsonl"), filepath.Join(tmp, "more.jsonl")
	if err := pairs.Save(pfile, ps[:2]); err != nil {
		t.Fatal(err)
	}
	if err := pairs.Save(more, ps[2:]); err != nil {
		t.Fatal(err)
	}
	// Another model: same config, one weight changed.
	other := filepath.Join(tmp, "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "model.safetensors" {
			b[len(b)-1] ^= 0x40
		}
		if err := os.WriteFile(filepath.Join(other, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(tmp, "v.safetensors")
	state := defaultStatePath(out)
	compute := func(model, pf string, extra ...string) []string {
		return append([]string{"vectors", "compute", "--model", model, "--pairs", pf, "--out", out, "--progress=false"}, extra...)
	}
	// A run that fails before its first pair leaves no state behind.
	bad := filepath.Join(tmp, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"instruction_id\": \"a:b\", \"with\": \n"), 0o644)
	steerOut(t, 1, compute(dir, bad)...)
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Fatalf("state after a run that failed before its first pair: %v", err)
	}
	steerOut(t, 0, compute(dir, pfile)...)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"resume, other weights", compute(other, pfile, "--resume"), "another model"},
		{"update, other weights", compute(other, more, "--update"), "another model"},
		{"resume, other format", compute(dir, pfile, "--resume", "--plain"), "other options"},
		{"update, other date", compute(dir, more, "--update", "--date", "2025-01-02"), "other options"},
		{"update, same pairs", compute(dir, pfile, "--update"), "already in state"},
	} {
		_, stderr := steerOut(t, 1, c.args...)
		if !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: stderr %q, want one line containing %q", c.name, stderr, c.want)
		}
	}
	// An interrupted run cannot be updated, only resumed.
	acc, err := vectors.LoadAccumulator(state)
	if err != nil {
		t.Fatal(err)
	}
	acc.Run.Complete = false
	if err := acc.Save(state); err != nil {
		t.Fatal(err)
	}
	_, stderr := steerOut(t, 1, compute(dir, more, "--update")...)
	if !strings.Contains(stderr, "interrupted run") || !strings.Contains(stderr, "--resume") {
		t.Errorf("update of an interrupted run: %q", stderr)
	}
	stdout, _ := steerOut(t, 0, compute(dir, pfile, "--resume")...)
	if !strings.Contains(stdout, "from 2 pairs (0 new") {
		t.Errorf("resume of the finished pairs: %q", stdout)
	}
	stdout, _ = steerOut(t, 0, compute(dir, more, "--update")...)
	if !strings.Contains(stdout, "from 3 pairs (1 new") {
		t.Errorf("update: %q", stdout)
	}
	// The update's interrupted state resumes from its own pairs: base 2.
	acc, _ = vectors.LoadAccumulator(state)
	if acc.Run.BaseN != 2 || !acc.Run.Complete || acc.N != 3 {
		t.Errorf("state after update: N %d, run %+v", acc.N, acc.Run)
	}
	if st, err := os.Stat(state); err != nil || st.Mode().Perm()&0o044 == 0 {
		t.Errorf("state mode %v (%v): want readable by group and others per umask", st.Mode().Perm(), err)
	}
}
