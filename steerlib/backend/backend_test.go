package backend

import (
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/notimplemented"
)

func TestResolve(t *testing.T) {
	t.Setenv(EnvVar, "")
	if got := Resolve(""); got != Default {
		t.Fatalf("Resolve(\"\") = %q, want %q", got, Default)
	}
	t.Setenv(EnvVar, "go")
	if got := Resolve("xla:/x.so"); got != "xla:/x.so" {
		t.Fatalf("explicit name must win over env, got %q", got)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{"tpu", "unknown backend"},
		{"xla:/nonexistent/pjrt_plugin.so", "PJRT plugin"},
	} {
		_, err := New(tc.config)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q) error = %v, want it to mention %q", tc.config, err, tc.want)
		}
	}
}

func TestNewGo(t *testing.T) {
	b, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	if b.Name() == "" {
		t.Fatal("empty backend name")
	}
	b2, err := Shared("go")
	if err != nil {
		t.Fatal(err)
	}
	b3, _ := Shared("go")
	if b2 != b3 {
		t.Fatal("Shared must return the same backend")
	}
}

func TestIsGo(t *testing.T) {
	goB, err := Shared("go")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    compute.Backend
		want bool
	}{
		{"go", goB, true},
		{"another backend", &notimplemented.Backend{}, false},
	} {
		if got := IsGo(tc.b); got != tc.want {
			t.Errorf("IsGo(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
