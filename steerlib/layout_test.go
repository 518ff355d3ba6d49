package steerlib_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoNotebookImports checks with `go list -deps` that no library package
// (steerlib/...) depends on the GoNB kernel: notebook display code lives in
// plots/gonbplot only.
func TestNoNotebookImports(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not found: %v", err)
	}
	cmd := exec.Command(goBin, "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 20 || !strings.HasPrefix(lines[len(lines)-1], "github.com/gosteer/gosteer/steerlib") {
		t.Fatalf("go list -deps gave %d lines, not the steerlib packages and their dependencies:\n%s", len(lines), out)
	}
	for _, line := range lines {
		pkg, imports, _ := strings.Cut(line, " ")
		for _, imp := range strings.Fields(imports) {
			if strings.HasPrefix(imp, "github.com/janpfeifer/gonb") {
				t.Errorf("%s imports %s: notebook code belongs in plots/gonbplot", pkg, imp)
			}
		}
	}
}
