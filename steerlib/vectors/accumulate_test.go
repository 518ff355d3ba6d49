package vectors

import (
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// synthPairs returns n pairs of activations [pair][layer][D]: differences
// spread mostly along one direction per layer (so PCA has a clear top
// component) plus a mean shift.
func synthPairs(n, L, D int, seed uint64) (with, without [][][]float32) {
	r := newRand(seed)
	dirs := make([][]float32, L)
	shift := make([][]float32, L)
	for l := range L {
		dirs[l] = randUnit(r, D)
		shift[l] = randUnit(r, D)
	}
	for i := 0; i < n; i++ {
		w := make([][]float32, L)
		o := make([][]float32, L)
		for l := range L {
			w[l] = make([]float32, D)
			o[l] = make([]float32, D)
			a := 4 * r.NormFloat64()
			for j := range D {
				base := 3 * r.NormFloat64()
				o[l][j] = float32(base)
				w[l][j] = float32(base + 1.5*float64(shift[l][j]) + a*float64(dirs[l][j]) + 0.05*r.NormFloat64())
			}
		}
		with = append(with, w)
		without = append(without, o)
	}
	return with, without
}

// refMeanDiff computes the paper's formulas in float64 directly from the
// activations of every pair.
func refMeanDiff(with, without [][][]float32, l int) (u []float64, norm, zbar, mproj float64) {
	n := float64(len(with))
	D := len(with[0][l])
	v := make([]float64, D)
	for i := range with {
		for j := range D {
			v[j] += float64(with[i][l][j]) - float64(without[i][l][j])
		}
	}
	for j := range v {
		v[j] /= n
		norm += v[j] * v[j]
	}
	norm = math.Sqrt(norm)
	u = make([]float64, D)
	for j := range v {
		u[j] = v[j] / norm
	}
	for i := range with {
		for j := range D {
			zbar += float64(with[i][l][j]) * u[j] / n
			mproj += float64(without[i][l][j]) * u[j] / n
		}
	}
	return u, norm, zbar, mproj
}

// refPCA returns the top principal component of the paired differences by
// power iteration on the centered covariance (independent of gonum), oriented
// along the mean difference.
func refPCA(with, without [][][]float32, l int) []float64 {
	n := len(with)
	D := len(with[0][l])
	X := make([][]float64, n)
	m := make([]float64, D)
	for i := range X {
		X[i] = make([]float64, D)
		for j := range D {
			X[i][j] = float64(with[i][l][j]) - float64(without[i][l][j])
			m[j] += X[i][j] / float64(n)
		}
	}
	C := make([]float64, D*D)
	for i := range X {
		for a := range D {
			for b := range D {
				C[a*D+b] += (X[i][a] - m[a]) * (X[i][b] - m[b]) / float64(n)
			}
		}
	}
	u := make([]float64, D)
	for j := range u {
		u[j] = 1 / math.Sqrt(float64(D))
	}
	for it := 0; it < 5000; it++ {
		nu := make([]float64, D)
		var nn float64
		for a := range D {
			for b := range D {
				nu[a] += C[a*D+b] * u[b]
			}
			nn += nu[a] * nu[a]
		}
		nn = math.Sqrt(nn)
		for a := range nu {
			nu[a] /= nn
		}
		u = nu
	}
	var dot float64
	for j := range u {
		dot += u[j] * m[j]
	}
	if dot < 0 {
		for j := range u {
			u[j] = -u[j]
		}
	}
	return u
}

func relClose(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

func TestAccumulatorAgainstDirect(t *testing.T) {
	const n, L, D = 25, 3, 7
	with, without := synthPairs(n, L, D, 1)
	acc := NewAccumulator(L, D, true)
	for i := range with {
		if err := acc.Add(with[i], without[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, method := range []string{MethodMeanDiff, MethodPCADiff} {
		s, err := acc.Vectors(method)
		if err != nil {
			t.Fatal(err)
		}
		if s.NPairs != n || s.Hidden != D || s.NumLayers != L || len(s.Layers) != L || s.Method != method {
			t.Fatalf("%s: header %+v", method, s)
		}
		for l := range L {
			u, norm, _, _ := refMeanDiff(with, without, l)
			if method == MethodPCADiff {
				u = refPCA(with, without, l)
			}
			var zbar, mproj float64
			for i := range with {
				for j := range D {
					zbar += float64(with[i][l][j]) * u[j] / n
					mproj += float64(without[i][l][j]) * u[j] / n
				}
			}
			got := s.Layers[l]
			for j := range D {
				if math.Abs(float64(got.U[j])-u[j]) > 1e-7 {
					t.Fatalf("%s layer %d: U[%d] = %v, direct %v", method, l, j, got.U[j], u[j])
				}
			}
			if !relClose(got.Norm, norm, 1e-12) || !relClose(got.ZBar, zbar, 1e-9) || !relClose(got.MeanProjWithout, mproj, 1e-9) {
				t.Fatalf("%s layer %d: norm %v zbar %v mproj %v; direct %v %v %v", method, l, got.Norm, got.ZBar, got.MeanProjWithout, norm, zbar, mproj)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// PCA and mean difference differ here (the top component is not the mean shift).
	md, _ := acc.Vectors(MethodMeanDiff)
	pc, _ := acc.Vectors(MethodPCADiff)
	if c := Cosine(md.Layers[0].U, pc.Layers[0].U); c > 0.99 {
		t.Errorf("test data does not separate the methods (cosine %v)", c)
	}
}

func TestAccumulatorUpdateMergeState(t *testing.T) {
	const n, L, D = 12, 2, 5
	with, without := synthPairs(n, L, D, 2)
	all := NewAccumulator(L, D, true)
	a := NewAccumulator(L, D, true)
	b := NewAccumulator(L, D, true)
	for i := range with {
		all.Add(with[i], without[i])
		if i < 5 {
			a.Add(with[i], without[i])
		} else {
			b.Add(with[i], without[i])
		}
	}
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	va, _ := a.Vectors(MethodMeanDiff)
	vall, _ := all.Vectors(MethodMeanDiff)
	for l := range L {
		if c := Cosine(va.Layers[l].U, vall.Layers[l].U); math.Abs(c-1) > 1e-12 || !relClose(va.Layers[l].ZBar, vall.Layers[l].ZBar, 1e-12) {
			t.Fatalf("merged layer %d differs from one pass (cos %v)", l, c)
		}
	}
	if err := a.Merge(NewAccumulator(L, D, false)); err == nil {
		t.Error("merging PCA with non-PCA: no error")
	}
	if err := a.Merge(NewAccumulator(L, D+1, true)); err == nil {
		t.Error("merging different widths: no error")
	}
	// State round trip is exact.
	all.ModelHint, all.InstructionID = "qwen2", "punctuation:no_comma"
	all.Fingerprint[3] = 7
	path := filepath.Join(t.TempDir(), "state.safetensors")
	if err := all.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadAccumulator(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, all) {
		t.Fatal("state round trip differs")
	}
	noPCA := NewAccumulator(L, D, false)
	noPCA.Add(with[0], without[0])
	noPCA.Save(path)
	if back, err = LoadAccumulator(path); err != nil || back.HasPCA() || back.N != 1 {
		t.Fatalf("non-PCA state: %v", err)
	}
	if _, err := back.Vectors(MethodPCADiff); err == nil || !strings.Contains(err.Error(), "scatter") {
		t.Errorf("pca without scatter: %v", err)
	}
	// A vector file is not a state file.
	vpath := filepath.Join(t.TempDir(), "v.safetensors")
	vall.Save(vpath)
	if _, err := LoadAccumulator(vpath); err == nil || !strings.Contains(err.Error(), "not a gosteer vector state") {
		t.Errorf("vector file as state: %v", err)
	}
}

func TestAccumulatorErrors(t *testing.T) {
	acc := NewAccumulator(2, 3, false)
	if _, err := acc.Vectors(MethodMeanDiff); err == nil {
		t.Error("no pairs: no error")
	}
	ok := [][]float32{{1, 2, 3}, {4, 5, 6}}
	if err := acc.Add(ok, [][]float32{{1, 2, 3}}); err == nil {
		t.Error("missing layer: no error")
	}
	if err := acc.Add(ok, [][]float32{{1, 2}, {4, 5, 6}}); err == nil {
		t.Error("wrong width: no error")
	}
	if err := acc.Add(ok, [][]float32{{1, float32(math.Inf(-1)), 3}, {4, 5, 6}}); err == nil || !strings.Contains(err.Error(), "NaN/Inf") {
		t.Errorf("Inf activation: %v", err)
	}
	if acc.N != 0 || acc.SumWith[0][0] != 0 {
		t.Error("a rejected pair changed the sums")
	}
	acc.Add(ok, ok)
	if _, err := acc.Vectors(MethodMeanDiff); err == nil || !strings.Contains(err.Error(), "mean difference is zero") {
		t.Errorf("identical prompts: %v", err)
	}
	if _, err := acc.Vectors("median"); err == nil {
		t.Error("unknown method: no error")
	}
}
