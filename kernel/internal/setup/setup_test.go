package setup

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestModulePath(t *testing.T) {
	tests := []struct{ gomod, want string }{
		{"module github.com/gosteer/gosteer\n\ngo 1.26\n", ModulePath},
		{"// comment\nmodule \"example.com/x\"\n", "example.com/x"},
		{"go 1.26\n", ""},
		{"modules are great\n", ""},
	}
	for _, tc := range tests {
		if got := modulePath([]byte(tc.gomod)); got != tc.want {
			t.Errorf("modulePath(%q) = %q, want %q", tc.gomod, got, tc.want)
		}
	}
}

func TestRepoRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module "+ModulePath+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A nested module (like kernel/tools) must be walked past.
	nested := filepath.Join(root, "kernel", "tools")
	if err := os.MkdirAll(filepath.Join(nested, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nested, "go.mod"), []byte("module "+ModulePath+"/kernel/tools\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{root, filepath.Join(nested, "sub")} {
		got, err := RepoRoot(dir)
		if err != nil || got != root {
			t.Errorf("RepoRoot(%s) = %q, %v; want %q", dir, got, err, root)
		}
	}
	if _, err := RepoRoot(t.TempDir()); err == nil {
		t.Error("RepoRoot outside the repo: want error")
	}
	// The real repository: this test runs in kernel/internal/setup.
	if got, err := RepoRoot("."); err != nil || filepath.Base(filepath.Join(got, "kernel", "tools", "go.mod")) != "go.mod" {
		t.Errorf("RepoRoot(.) = %q, %v", got, err)
	} else if _, err := os.Stat(filepath.Join(got, "kernel", "tools", "go.mod")); err != nil {
		t.Errorf("tools module missing under repo root: %v", err)
	}
}

func TestKernelSpecEnv(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not in PATH")
	}
	tests := []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{"defaults", nil, map[string]string{"GOMLX_BACKEND": "go", "GOEXPERIMENT": "simd", "GOMLX_NO_AUTO_INSTALL": "1", "GODEBUG": "cpu.fma=off"}},
		{"gpu override", map[string]string{"GOMLX_BACKEND": "xla:/opt/pjrt_plugin.so", "EXTRA": "x"},
			map[string]string{"GOMLX_BACKEND": "xla:/opt/pjrt_plugin.so", "GOEXPERIMENT": "simd", "GOMLX_NO_AUTO_INSTALL": "1", "GODEBUG": "cpu.fma=off", "EXTRA": "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := KernelSpec("/opt/bin/gonb", "/opt/bin", tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Argv) != 3 || s.Argv[0] != "/opt/bin/gonb" || s.Argv[1] != "--kernel" || s.Argv[2] != "{connection_file}" {
				t.Errorf("argv = %q", s.Argv)
			}
			for k, v := range tc.want {
				if s.Env[k] != v {
					t.Errorf("env[%s] = %q, want %q", k, s.Env[k], v)
				}
			}
			if len(s.Env) != len(tc.want)+1 { // + PATH
				t.Errorf("env has %d entries, want %d: %v", len(s.Env), len(tc.want)+1, s.Env)
			}
			if !strings.HasPrefix(s.Env["PATH"], "/opt/bin"+string(filepath.ListSeparator)) {
				t.Errorf("PATH %q must start with the tools bin dir", s.Env["PATH"])
			}
		})
	}
}

func TestJoinPath(t *testing.T) {
	if got, want := joinPath("/a", "/b:/a", "", "/c::/b"), "/a:/b:/c"; got != want {
		t.Errorf("joinPath = %q, want %q", got, want)
	}
}

func TestWriteKernelSpecIdempotent(t *testing.T) {
	path := KernelSpecPath(t.TempDir())
	spec := Spec{Argv: []string{"/x/gonb", "--kernel", "{connection_file}"}, DisplayName: "Go (gonb)", Language: "go",
		InterruptMode: "message", Env: map[string]string{"GOMLX_BACKEND": "go"}}
	steps := []struct {
		name    string
		mutate  func(*Spec)
		changed bool
	}{
		{"first write", func(*Spec) {}, true},
		{"same again", func(*Spec) {}, false},
		{"env changed", func(s *Spec) { s.Env = map[string]string{"GOMLX_BACKEND": "xla:/p.so"} }, true},
		{"same again after change", func(*Spec) {}, false},
	}
	for _, st := range steps {
		st.mutate(&spec)
		changed, err := WriteKernelSpec(path, spec)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if changed != st.changed {
			t.Errorf("%s: changed = %v, want %v", st.name, changed, st.changed)
		}
		got, err := ReadKernelSpec(path)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !specEqual(got, spec) {
			t.Errorf("%s: read back %+v, want %+v", st.name, got, spec)
		}
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	if st := Check(dir); st.KernelSpec != "" || st.Ready() || !strings.Contains(st.Missing(), "GoNB kernel spec") {
		t.Errorf("empty data dir: %+v, missing %q", st, st.Missing())
	}
	gonb := filepath.Join(t.TempDir(), "gonb")
	spec := Spec{Argv: []string{gonb, "--kernel", "{connection_file}"}}
	if _, err := WriteKernelSpec(KernelSpecPath(dir), spec); err != nil {
		t.Fatal(err)
	}
	if st := Check(dir); st.KernelSpec == "" || st.Gonb != "" || !strings.Contains(st.Missing(), "gonb binary") {
		t.Errorf("spec without binary: %+v, missing %q", st, st.Missing())
	}
	if err := os.WriteFile(gonb, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if st := Check(dir); st.Gonb != gonb {
		t.Errorf("spec with binary: %+v", st)
	}
}

func TestToolsUpToDate(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not in PATH")
	}
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	toolsDir := filepath.Join(root, "kernel", "tools")
	stamp, err := ToolsStamp(context.Background(), toolsDir)
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if toolsUpToDate(bin, stamp) {
		t.Fatal("empty bin dir reported up to date")
	}
	for _, tool := range Tools {
		if err := os.WriteFile(filepath.Join(bin, tool), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if toolsUpToDate(bin, stamp) {
		t.Fatal("bin dir without stamp reported up to date")
	}
	if err := os.WriteFile(filepath.Join(bin, stampFile), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if toolsUpToDate(bin, stamp) {
		t.Fatal("stale stamp reported up to date")
	}
	if err := os.WriteFile(filepath.Join(bin, stampFile), []byte(stamp+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !toolsUpToDate(bin, stamp) {
		t.Fatal("matching stamp and binaries reported stale")
	}
	// EnsureTools must then do nothing (no build: it returns at once).
	var log bytes.Buffer
	if err := EnsureTools(context.Background(), toolsDir, bin, &log); err != nil || !strings.Contains(log.String(), "up to date") {
		t.Errorf("EnsureTools = %v, log %q", err, log.String())
	}
	if err := os.Remove(filepath.Join(bin, "gopls")); err != nil {
		t.Fatal(err)
	}
	if toolsUpToDate(bin, stamp) {
		t.Fatal("missing gopls reported up to date")
	}
}

func TestParseEnv(t *testing.T) {
	m, err := ParseEnv([]string{"A=1", "B=x=y", "C="})
	if err != nil || m["A"] != "1" || m["B"] != "x=y" || m["C"] != "" || len(m) != 3 {
		t.Errorf("ParseEnv = %v, %v", m, err)
	}
	for _, bad := range []string{"A", "=1"} {
		if _, err := ParseEnv([]string{bad}); err == nil {
			t.Errorf("ParseEnv(%q): want error", bad)
		}
	}
}

func TestMissingAptPackages(t *testing.T) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("no dpkg-query (not Debian)")
	}
	got, err := MissingAptPackages(context.Background(), []string{"dpkg", "gosteer-no-such-package"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "gosteer-no-such-package" {
		t.Errorf("MissingAptPackages = %q, want only the bogus package", got)
	}
}
