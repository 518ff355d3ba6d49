package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/tinyif"
)

// TestPaperCommand runs `steer paper length` on the embedded model with small
// options: the table on stdout, the run folder's files, and a rerun that
// resumes (generates nothing new and prints the same table).
func TestPaperCommand(t *testing.T) {
	out := t.TempDir()
	args := []string{"paper", "length", "--out", out, "--n", "2", "--pairs-n", "8", "--max-new-tokens", "24", "--coefs", "-1,0,1", "--quiet"}
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"| scale | n | sentences mean", "| -1 | 12 |", "| 1 | 12 |", "wrote " + out} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	for _, f := range []string{"results.jsonl", "table.md", "table.csv", "plan.json", "report.html", "length_words.svg", "length_words.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	first := stdout.String()
	stdout.Reset()
	if code := run(args, &stdout, &stderr); code != 0 || stdout.String() != first {
		t.Errorf("rerun: exit %d, output changed:\n%s", code, stdout.String())
	}
}

// TestPaperCommandErrors checks the usage and input errors of steer paper.
func TestPaperCommandErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no experiment", []string{"paper"}, 2, "Usage: steer paper"},
		{"unknown experiment", []string{"paper", "tables", "--out", "x"}, 2, `unknown experiment "tables"`},
		{"no out", []string{"paper", "format"}, 2, "Usage: steer paper format"},
		{"bad shard", []string{"paper", "length", "--out", "x", "--shard", "3/2"}, 1, "3/2"},
		{"bad layers", []string{"paper", "format", "--out", "x", "--layers", "none,two"}, 1, "--candidates"},
		{"unknown instruction", []string{"paper", "format", "--out", "OUT", "--instructions", "nope:nope"}, 1, `instruction "nope:nope"`},
		{"transfer without base", []string{"paper", "transfer", "--out", "OUT", "--model", "MODEL"}, 1, "--base"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				switch a {
				case "OUT":
					a = t.TempDir()
				case "MODEL":
					a = embeddedDir(t)
				}
				args[i] = a
			}
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tc.code, stderr.String(), tc.want)
			}
		})
	}
}

// embeddedDir is the folder of the embedded tinyif model.
func embeddedDir(t *testing.T) string {
	t.Helper()
	dir, err := tinyif.EmbeddedModelDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
