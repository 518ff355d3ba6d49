package codestyle

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// moduleRoot walks up from the test's folder to the folder holding go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's folder")
		}
		dir = parent
	}
}

// longFuncs lists the functions of the non-test Go files under root longer
// than limit lines, as "file:line name (n lines)", and counts the files read.
func longFuncs(root string, limit int) (out []string, files int, err error) {
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "executed") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil && p != root {
				return filepath.SkipDir // another module (kernel/tools)
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			start, end := fset.Position(fn.Pos()), fset.Position(fn.End())
			if n := end.Line - start.Line + 1; n > limit {
				rel, _ := filepath.Rel(root, p)
				out = append(out, fmt.Sprintf("%s:%d %s (%d lines)", rel, start.Line, fn.Name.Name, n))
			}
		}
		return nil
	})
	return out, files, err
}

func TestFunctionLength(t *testing.T) {
	long, files, err := longFuncs(moduleRoot(t), MaxFuncLines)
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("read only %d Go files: the walk missed the module", files)
	}
	for _, l := range long {
		t.Errorf("longer than %d lines: %s", MaxFuncLines, l)
	}
}

// TestLongFuncsFinds checks the checker itself on a file it writes.
func TestLongFuncsFinds(t *testing.T) {
	dir := t.TempDir()
	src := "package x\n\nfunc short() {\n}\n\nfunc long() {\n" + strings.Repeat("\t_ = 1\n", 5) + "}\n"
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x_test.go"), []byte("package x\n\nfunc TestLong() {\n"+strings.Repeat("\t_ = 1\n", 9)+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, files, err := longFuncs(dir, 6)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "x.go:6 long (7 lines)" || files != 1 {
		t.Errorf("longFuncs = %q over %d files, want [x.go:6 long (7 lines)] over 1 (tests are skipped)", got, files)
	}
}
