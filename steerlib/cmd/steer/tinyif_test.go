package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTinyIFCorpusCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"tinyif", "corpus", "--n", "3", "--seed", "2"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 JSON lines, got %d:\n%s", len(lines), out.String())
	}
	for _, l := range lines {
		var ex struct{ Prompt, Answer, Topic string }
		if err := json.Unmarshal([]byte(l), &ex); err != nil || ex.Prompt == "" || ex.Answer == "" || ex.Topic == "" {
			t.Errorf("bad example %q: %v", l, err)
		}
	}
}

func TestTinyIFCommandErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"tinyif"}, 2, "Usage: steer tinyif"},
		{[]string{"tinyif", "bogus"}, 2, "unknown subcommand"},
		{[]string{"tinyif", "train"}, 1, "--out is required"},
		{[]string{"tinyif", "extract"}, 1, "--out is required"},
		{[]string{"tinyif", "train", "--out", "x", "--heads", "3"}, 1, "not divisible"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		if code != c.code || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", c.args, code, c.code, errb.String(), c.want)
		}
	}
}

func TestTinyIFExtractCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	var out, errb bytes.Buffer
	if code := run([]string{"tinyif", "extract", "--out", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}
