package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// quickstartCommands returns the commands of the fenced sh blocks in the
// "## Quickstart" section of a README.
func quickstartCommands(readme string) []string {
	_, sec, ok := strings.Cut(readme, "\n## Quickstart\n")
	if !ok {
		return nil
	}
	if i := strings.Index(sec, "\n## "); i >= 0 {
		sec = sec[:i]
	}
	var cmds []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(sec, -1) {
		cmds = append(cmds, strings.TrimSpace(m[1]))
	}
	return cmds
}

// ciTestCommand returns the test_cmd assignment of .ci/run.
func ciTestCommand(script string) string {
	m := regexp.MustCompile(`(?m)^test_cmd='([^']*)'$`).FindStringSubmatch(script)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestReadmeCommands keeps README's quickstart honest: exactly two one-line
// commands, the second being the full test suite that .ci/run runs.
func TestReadmeCommands(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile(filepath.Join("..", ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := quickstartCommands(string(readme))
	if len(cmds) != 2 {
		t.Fatalf("README quickstart has %d commands, want exactly 2: %q", len(cmds), cmds)
	}
	for i, c := range cmds {
		if strings.Contains(c, "\n") {
			t.Errorf("quickstart command %d spans several lines: %q", i+1, c)
		}
		if !strings.HasPrefix(c, "go run ./kernel install && ") {
			t.Errorf("quickstart command %d does not start by installing: %q", i+1, c)
		}
	}
	test := cmds[1]
	if !strings.Contains(test, "go test") || !strings.HasSuffix(test, " ./...") {
		t.Errorf("second command %q is not the whole test suite", test)
	}
	for _, hide := range []string{"-short", "-run", "-skip"} {
		if strings.Contains(test, " "+hide) {
			t.Errorf("second command %q hides tests with %s", test, hide)
		}
	}
	if got := ciTestCommand(string(ci)); got != test {
		t.Errorf(".ci/run runs %q, README says %q", got, test)
	}
}

func TestQuickstartParsing(t *testing.T) {
	readme := "# x\n## Quickstart\ntext\n```sh\na && b\n```\nmore\n```sh\nc\n```\n## Other\n```sh\nd\n```\n"
	if got := quickstartCommands(readme); len(got) != 2 || got[0] != "a && b" || got[1] != "c" {
		t.Errorf("quickstartCommands = %q", got)
	}
	if got := ciTestCommand("x\ntest_cmd='go test ./...'\n"); got != "go test ./..." {
		t.Errorf("ciTestCommand = %q", got)
	}
}
