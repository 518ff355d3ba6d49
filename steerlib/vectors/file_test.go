package vectors

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/safetensors"
)

func TestNativeRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, layers := range [][]int{{0, 1, 2, 3, 4, 5}, {3}, {0, 5}} {
		s := testSet(layers, 48, uint64(len(layers)))
		s.Layers[0].Coef = 2.5
		s.Layers[len(s.Layers)-1].ZBar = math.NaN() // unknown statistics stay unknown
		path := filepath.Join(dir, "v.safetensors")
		if err := s.Save(path); err != nil {
			t.Fatal(err)
		}
		got, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		equalSets(t, got, s)
	}
}

func TestNativeErrors(t *testing.T) {
	dir := t.TempDir()
	u := randUnit(newRand(1), 8)
	nan := append([]float32(nil), u...)
	nan[3] = float32(math.NaN())
	inf := append([]float32(nil), u...)
	inf[0] = float32(math.Inf(1))
	long := make([]float32, 8)
	long[0] = 2
	cases := []struct {
		name    string
		tensors []safetensors.Tensor
		md      map[string]string
		want    string
	}{
		{"nan", []safetensors.Tensor{safetensors.F32("direction.1", []int{8}, nan)}, nil, "NaN/Inf"},
		{"inf", []safetensors.Tensor{safetensors.F32("direction.1", []int{8}, inf)}, nil, "NaN/Inf"},
		{"not unit", []safetensors.Tensor{safetensors.F32("direction.1", []int{8}, long)}, nil, "not a unit vector"},
		{"other tensor", []safetensors.Tensor{safetensors.F32("steer_u", []int{8}, u)}, nil, "unexpected tensor"},
		{"2-D", []safetensors.Tensor{safetensors.F32("direction.1", []int{2, 4}, u)}, nil, "one dimension"},
		{"I32", []safetensors.Tensor{safetensors.I32("direction.1", []int{8}, make([]int32, 8))}, nil, "want F32"},
		{"hidden mismatch", []safetensors.Tensor{safetensors.F32("direction.1", []int{8}, u)}, map[string]string{"hidden_size": "16"}, "hidden size is 16"},
		{"layer out of range", []safetensors.Tensor{safetensors.F32("direction.7", []int{8}, u)}, map[string]string{"num_layers": "4"}, "layer 7 out of range"},
		{"best not held", []safetensors.Tensor{safetensors.F32("direction.1", []int{8}, u)}, map[string]string{"layer": "2"}, "layer of choice 2"},
		{"bad zbar", []safetensors.Tensor{safetensors.F32("direction.1", []int{8}, u)}, map[string]string{"zbar.1": "NaN"}, "zbar.1"},
		{"bad int", []safetensors.Tensor{safetensors.F32("direction.1", []int{8}, u)}, map[string]string{"n_pairs": "x"}, "n_pairs"},
		{"leading zero", []safetensors.Tensor{safetensors.F32("direction.01", []int{8}, u)}, nil, "unexpected tensor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".safetensors")
			if err := safetensors.Write(path, c.tensors, c.md); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want one naming the file and containing %q", err, c.want)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.safetensors")); err == nil {
		t.Fatal("missing file: no error")
	}
	bad := testSet([]int{1}, 8, 1)
	bad.Layers[0].U[0] = float32(math.NaN())
	if err := bad.Save(filepath.Join(dir, "bad.safetensors")); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("Save of a NaN vector: err = %v", err)
	}
}

func TestCosineAndProject(t *testing.T) {
	a := []float32{1, 0, 0}
	b := []float32{1, 1, 0}
	if c := Cosine(a, b); math.Abs(c-1/math.Sqrt2) > 1e-15 {
		t.Errorf("Cosine = %v", c)
	}
	if !math.IsNaN(Cosine(a, []float32{0, 0, 0})) || !math.IsNaN(Cosine(a, []float32{1})) {
		t.Error("Cosine of a zero vector or different lengths should be NaN")
	}
	p, err := Project([]float32{1, 2, 3, -1, 0, 5}, []float32{0, 1, 0})
	if err != nil || len(p) != 2 || p[0] != 2 || p[1] != 0 {
		t.Errorf("Project = %v, %v", p, err)
	}
	if _, err := Project([]float32{1, 2}, []float32{0, 1, 0}); err == nil {
		t.Error("Project with a ragged matrix: no error")
	}
	s := testSet([]int{1, 2, 3}, 16, 3)
	m := s.LayerCosines()
	for i := range m {
		if math.Abs(m[i][i]-1) > 1e-6 {
			t.Errorf("self cosine %v", m[i][i])
		}
		for j := range m {
			if m[i][j] != m[j][i] {
				t.Errorf("cosine matrix not symmetric")
			}
		}
	}
	s2 := testSet([]int{2, 3, 4}, 16, 3)
	cs, err := CompareSets(s, s2)
	if err != nil || len(cs) != 2 {
		t.Fatalf("CompareSets = %v, %v", cs, err)
	}
	if got, want := cs[2], Cosine(s.Layers[1].U, s2.Layers[0].U); got != want {
		t.Errorf("CompareSets[2] = %v, want %v", got, want)
	}
	if _, err := CompareSets(s, testSet([]int{1}, 8, 1)); err == nil {
		t.Error("CompareSets of different widths: no error")
	}
}
