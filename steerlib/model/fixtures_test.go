package model

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gosteer/gosteer/steerlib/safetensors"
)

// fixtureNames are the nine architectures in testdata/hf-tiny.
var fixtureNames = []string{"llama", "llama_tied", "qwen2", "qwen3", "mistral", "phi3", "gemma2", "gemma3", "gpt2"}

// residFromPadded reports whether a fixture's resid_post.<l> were captured
// during its padded forward (the eight transformers fixtures) rather than
// the unpadded one (gpt2); see testdata/hf-tiny/README.md.
func residFromPadded(name string) bool { return name != "gpt2" }

func fixtureDir(name string) string { return filepath.Join("testdata", "hf-tiny", name) }

// reference holds a fixture's reference.safetensors.
type reference struct {
	f *safetensors.File
}

func openReference(t *testing.T, name string) *reference {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(fixtureDir(name), "reference.safetensors"))
	if err != nil {
		t.Fatalf("open reference: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return &reference{f: f}
}

func (r *reference) floats(t *testing.T, name string) ([]float32, []int) {
	t.Helper()
	tt, ok := r.f.Tensor(name)
	if !ok {
		t.Fatalf("reference lacks %s", name)
	}
	v, err := tt.Float32s()
	if err != nil {
		t.Fatalf("reference %s: %v", name, err)
	}
	return v, tt.Shape
}

func (r *reference) ints(t *testing.T, name string) ([]int32, []int) {
	t.Helper()
	tt, ok := r.f.Tensor(name)
	if !ok {
		t.Fatalf("reference lacks %s", name)
	}
	v, err := tt.Int32s()
	if err != nil {
		t.Fatalf("reference %s: %v", name, err)
	}
	return v, tt.Shape
}

func (r *reference) metaInt(t *testing.T, key string) int {
	t.Helper()
	v, err := strconv.Atoi(r.f.Metadata()[key])
	if err != nil {
		t.Fatalf("reference metadata %s: %v", key, err)
	}
	return v
}

// relErr is ‖out−ref‖/‖ref‖ over the entries where keep is true (nil: all).
func relErr(out, ref []float32, keep func(i int) bool) float64 {
	var num, den float64
	for i := range ref {
		if keep != nil && !keep(i) {
			continue
		}
		d := float64(out[i]) - float64(ref[i])
		num += d * d
		den += float64(ref[i]) * float64(ref[i])
	}
	return math.Sqrt(num / den)
}

// loadFixture loads a fixture model once per test.
func loadFixture(t *testing.T, name string) *Model {
	t.Helper()
	m, err := Load(fixtureDir(name))
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMain(m *testing.M) {
	debugPanics = true
	os.Exit(m.Run())
}
