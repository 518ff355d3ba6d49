package experiment

import (
	"os"
	"path/filepath"
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
		p := filepath.Join(dir, name)
		w, err := OpenResults(p, run)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Append(someResults(keys...)); err != nil {
			t.Fatal(err)
		}
		w.Close()
		return p
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
