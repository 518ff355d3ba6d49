package vectors

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gosteer/gosteer/steerlib/safetensors"
)

func TestModelFingerprint(t *testing.T) {
	base := t.TempDir()
	w := make([]float32, 4096)
	mk := func(name, cfg string, edit func([]float32)) string {
		d := filepath.Join(base, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "config.json"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		v := append([]float32(nil), w...)
		if edit != nil {
			edit(v)
		}
		if err := safetensors.Write(filepath.Join(d, "model.safetensors"), []safetensors.Tensor{safetensors.F32("w", []int{len(v)}, v)}, nil); err != nil {
			t.Fatal(err)
		}
		return d
	}
	ref := mk("ref", `{"hidden_size": 4}`, nil)
	fp0, err := ModelFingerprint(ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		dir  string
		same bool
	}{
		{"same files", mk("copy", `{"hidden_size": 4}`, nil), true},
		{"config differs", mk("cfg", `{"hidden_size": 5}`, nil), false},
		{"first weight differs", mk("w0", `{"hidden_size": 4}`, func(v []float32) { v[0] = 1 }), false},
		{"all weights differ", mk("wall", `{"hidden_size": 4}`, func(v []float32) {
			for i := range v {
				v[i] = 0.5
			}
		}), false},
	} {
		fp, err := ModelFingerprint(c.dir)
		if err != nil || (fp == fp0) != c.same {
			t.Errorf("%s: fingerprint equal = %v (err %v), want %v", c.name, fp == fp0, err, c.same)
		}
	}
	if _, err := ModelFingerprint(base); err == nil {
		t.Error("a folder without config.json has a fingerprint")
	}
}

func TestRunInfoSavedAndNoEmptyState(t *testing.T) {
	const L, D = 2, 4
	dir := t.TempDir()
	state := filepath.Join(dir, "state.safetensors")
	calls := 0
	// A run that fails at its first batch leaves no state behind.
	failing := func(rows [][]int) ([][]float32, error) { return nil, errors.New("boom") }
	acc := NewAccumulator(L, D, false)
	acc.StartRun("m", "o", "p")
	if err := Extract(context.Background(), acc, &SliceSource{Pairs: testPairs(3, "x:y")}, byteEncoder, failing, ExtractOptions{StatePath: state}); err == nil {
		t.Fatal("no error from a failing capture")
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Fatalf("state after a run that added no pair: %v", err)
	}
	// Cancelled before the first pair: no state either.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Extract(ctx, acc, &SliceSource{Pairs: testPairs(3, "x:y")}, byteEncoder, fakeCapture(L, D, &calls), ExtractOptions{StatePath: state}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Fatalf("state after a run cancelled before its first pair: %v", err)
	}
	// A complete run records what made it.
	if err := Extract(context.Background(), acc, &SliceSource{Pairs: testPairs(3, "x:y")}, byteEncoder, fakeCapture(L, D, &calls), ExtractOptions{StatePath: state}); err != nil {
		t.Fatal(err)
	}
	got, err := LoadAccumulator(state)
	if err != nil {
		t.Fatal(err)
	}
	want := RunInfo{Model: "m", Options: "o", Pairs: "p", Complete: true}
	if !reflect.DeepEqual(got.Run, want) {
		t.Fatalf("run %+v, want %+v", got.Run, want)
	}
	// An update starts from the state: its base is the 3 pairs.
	got.StartRun("m", "o", "q")
	if got.Run.BaseN != 3 || got.Run.BaseFingerprint != got.Fingerprint || got.Run.Complete {
		t.Fatalf("update run %+v", got.Run)
	}
}
