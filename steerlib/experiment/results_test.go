package experiment

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func someResults(keys ...string) []Result {
	var rs []Result
	for _, k := range keys {
		rs = append(rs, Result{Key: k, Record: k, Instructions: []string{"punctuation:no_comma"}, Condition: CondWithout, Response: "a, b", Loose: k > "b"})
	}
	return rs
}

// writeResults writes someResults(keys...) of run to path.
func writeResults(t *testing.T, path, run string, keys ...string) string {
	t.Helper()
	w, err := OpenResults(path, run)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(someResults(keys...)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return path
}

func TestResultsResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "r.jsonl") // the folder is created
	w, err := OpenResults(path, "run1")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(someResults("a", "b")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// A torn last line, as a kill in the middle of a write leaves it.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"key":"c","run":"run1","resp`)
	f.Close()

	w, err = OpenResults(path, "run1")
	if err != nil {
		t.Fatalf("reopen with a torn line: %v", err)
	}
	if len(w.Done) != 2 || w.Done["a"].Response != "a, b" {
		t.Fatalf("done %v", w.Done)
	}
	if err := w.Append(someResults("c")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	rs, err := ReadResults(path)
	if err != nil || len(rs) != 3 || rs[2].Key != "c" || rs[2].Run != "run1" {
		t.Fatalf("after rerun: %v %v", rs, err)
	}

	if _, err := OpenResults(path, "run2"); err == nil || !strings.Contains(err.Error(), "written by run run1") {
		t.Errorf("another run's file: %v", err)
	}
	os.WriteFile(path, []byte("{\"key\":\"a\",\"run\":\"run1\"}\nnot json\n{\"key\":\"b\",\"run\":\"run1\"}\n"), 0o644)
	if _, err := OpenResults(path, "run1"); err == nil || !strings.Contains(err.Error(), "r.jsonl:2") {
		t.Errorf("corrupt middle line: %v", err)
	}
}

func TestMerge(t *testing.T) {
	dir := t.TempDir()
	write := func(name, run string, keys ...string) string {
		return writeResults(t, filepath.Join(dir, name), run, keys...)
	}
	s0, s1 := write("s0.jsonl", "R", "c", "a"), write("s1.jsonl", "R", "b", "a")
	other := write("o.jsonl", "Q", "d")
	out := filepath.Join(dir, "m.jsonl")
	rs, err := Merge(out, []string{s0, s1})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range rs {
		keys = append(keys, r.Key)
	}
	if strings.Join(keys, ",") != "a,b,c" {
		t.Errorf("merged keys %v", keys)
	}
	if back, err := ReadResults(out); err != nil || len(back) != 3 {
		t.Errorf("merged file: %d lines, %v", len(back), err)
	}
	if _, err := Merge(out, []string{s0, other}); err == nil || !strings.Contains(err.Error(), "different runs") {
		t.Errorf("merge of two runs: %v", err)
	}
}

func TestFingerprintID(t *testing.T) {
	a := Fingerprint{Model: "m", Data: "d", Options: map[string]string{"x": "1", "y": "2"}}
	b := Fingerprint{Model: "m", Data: "d", Options: map[string]string{"y": "2", "x": "1"}}
	c := Fingerprint{Model: "m", Data: "d2", Options: map[string]string{"x": "1", "y": "2"}}
	if a.ID() != b.ID() || a.ID() == c.ID() || len(a.ID()) != 16 {
		t.Errorf("ids %s %s %s", a.ID(), b.ID(), c.ID())
	}
}

func TestResultsInclude(t *testing.T) {
	dir := t.TempDir()
	write := func(name, run string, keys ...string) string {
		return writeResults(t, filepath.Join(dir, name), run, keys...)
	}
	own := write("own.jsonl", "r1", "a")
	other := write("other.jsonl", "r1", "b", "c")
	foreign := write("foreign.jsonl", "r2", "d")
	cases := []struct {
		name    string
		paths   []string
		done    string
		wantErr string
	}{
		{"another shard's file", []string{own, other}, "a b c", ""},
		{"a missing file is skipped", []string{filepath.Join(dir, "none.jsonl")}, "a", ""},
		{"another run is refused", []string{other, foreign}, "", "written by run r2, this run is r1"},
	}
	for _, c := range cases {
		w, err := OpenResults(own, "r1")
		if err != nil {
			t.Fatal(err)
		}
		err = w.Include(c.paths...)
		w.Close()
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
			}
			continue
		}
		var keys []string
		for k := range w.Done {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if err != nil || strings.Join(keys, " ") != c.done {
			t.Errorf("%s: done %v (%v), want %s", c.name, keys, err, c.done)
		}
	}
	if rs, _ := ReadResults(own); len(rs) != 1 {
		t.Errorf("Include wrote into the own file: %d lines", len(rs))
	}
}
