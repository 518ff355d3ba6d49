package vectors

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/gosteer/gosteer/steerlib/internal/atomicfile"

	"gonum.org/v1/gonum/mat"

	"github.com/gosteer/gosteer/steerlib/safetensors"
)

// Accumulator holds running per-layer sums over pairs, in float64, from which
// directions are computed. Adding more pairs later (Add, Merge) updates the
// vectors exactly as if all pairs had been processed at once. Memory is
// 2·L·D float64s, plus L·D² for PCA (the scatter matrix of the paired
// differences; 8·D² bytes per layer, e.g. 42 MB for D = 2304).
type Accumulator struct {
	// NumLayers and Hidden are the model's decoder block count and width.
	NumLayers, Hidden int
	// N is the number of pairs added.
	N int
	// SumWith[l] and SumWithout[l] are Σh⁺ and Σh⁻ at layer l.
	SumWith, SumWithout [][]float64
	// Scatter[l] is Σ(h⁺−h⁻)(h⁺−h⁻)ᵀ (row-major D×D), nil unless PCA is on.
	Scatter [][]float64
	// Fingerprint is a running SHA-256 over the prompts of the pairs added,
	// used to check that a resumed run reads the same dataset.
	Fingerprint [32]byte
	// ModelHint and InstructionID are carried into the vector set.
	ModelHint, InstructionID string
	// Run records what made the state (saved with it), so that a resumed
	// or updated run can refuse a different model, pairs or options.
	Run RunInfo
}

// RunInfo describes the run that last added pairs to an Accumulator.
// Fingerprints are opaque strings (hex SHA-256 in the steer CLI: see
// ModelFingerprint and FileFingerprint); empty means unknown.
type RunInfo struct {
	// Model fingerprints the model (config and weights).
	Model string
	// Options fingerprints the options that change the sums (method,
	// prompt format, template date, tokenizer files, instruction).
	Options string
	// Pairs fingerprints the pair file this run reads.
	Pairs string
	// BaseN and BaseFingerprint are N and Fingerprint before this run: the
	// pairs of earlier runs (an update adds to them).
	BaseN           int
	BaseFingerprint [32]byte
	// Complete reports that the run read its whole pair file.
	Complete bool
}

// StartRun records the start of a run over another pair file (a new state,
// or an update): the pairs so far become its base.
func (a *Accumulator) StartRun(model, options, pairs string) {
	a.Run = RunInfo{Model: model, Options: options, Pairs: pairs, BaseN: a.N, BaseFingerprint: a.Fingerprint}
}

// NewAccumulator returns an empty accumulator for a model with numLayers
// blocks of width hidden; pca also keeps the scatter matrices needed by
// MethodPCADiff.
func NewAccumulator(numLayers, hidden int, pca bool) *Accumulator {
	a := &Accumulator{NumLayers: numLayers, Hidden: hidden}
	a.SumWith = make([][]float64, numLayers)
	a.SumWithout = make([][]float64, numLayers)
	for l := range numLayers {
		a.SumWith[l] = make([]float64, hidden)
		a.SumWithout[l] = make([]float64, hidden)
	}
	if pca {
		a.Scatter = make([][]float64, numLayers)
		for l := range numLayers {
			a.Scatter[l] = make([]float64, hidden*hidden)
		}
	}
	return a
}

// HasPCA reports whether the accumulator keeps scatter matrices.
func (a *Accumulator) HasPCA() bool { return a.Scatter != nil }

// Add adds one pair's activations: with[l] and without[l] are the residual
// stream after block l at the last prompt token, for every layer.
func (a *Accumulator) Add(with, without [][]float32) error {
	if len(with) != a.NumLayers || len(without) != a.NumLayers {
		return fmt.Errorf("accumulate: got %d/%d layers, want %d", len(with), len(without), a.NumLayers)
	}
	for l := range a.NumLayers {
		if len(with[l]) != a.Hidden || len(without[l]) != a.Hidden {
			return fmt.Errorf("accumulate: layer %d has width %d/%d, want %d", l, len(with[l]), len(without[l]), a.Hidden)
		}
		if err := CheckFinite(with[l]); err != nil {
			return fmt.Errorf("accumulate: layer %d (with): %w", l, err)
		}
		if err := CheckFinite(without[l]); err != nil {
			return fmt.Errorf("accumulate: layer %d (without): %w", l, err)
		}
	}
	for l := range a.NumLayers {
		sw, so := a.SumWith[l], a.SumWithout[l]
		w, o := with[l], without[l]
		for i := range sw {
			sw[i] += float64(w[i])
			so[i] += float64(o[i])
		}
		if a.Scatter != nil {
			d := make([]float64, a.Hidden)
			for i := range d {
				d[i] = float64(w[i]) - float64(o[i])
			}
			s := a.Scatter[l]
			D := a.Hidden
			for i := range D {
				di := d[i]
				if di == 0 {
					continue
				}
				row := s[i*D : (i+1)*D]
				for j := range D {
					row[j] += di * d[j]
				}
			}
		}
	}
	a.N++
	return nil
}

// Fingerprint chains a pair's prompts onto a running fingerprint.
func chainFingerprint(fp [32]byte, with, without string) [32]byte {
	h := sha256.New()
	h.Write(fp[:])
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(with)))
	h.Write(n[:])
	h.Write([]byte(with))
	binary.LittleEndian.PutUint64(n[:], uint64(len(without)))
	h.Write(n[:])
	h.Write([]byte(without))
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// Merge adds b's sums into a (same model shape; both with or both without
// PCA). The fingerprint becomes a hash of the two fingerprints.
func (a *Accumulator) Merge(b *Accumulator) error {
	if a.NumLayers != b.NumLayers || a.Hidden != b.Hidden {
		return fmt.Errorf("merge: shapes differ (%d×%d vs %d×%d)", a.NumLayers, a.Hidden, b.NumLayers, b.Hidden)
	}
	if a.HasPCA() != b.HasPCA() {
		return errors.New("merge: one accumulator keeps PCA scatter matrices and the other does not")
	}
	for l := range a.NumLayers {
		for i := range a.Hidden {
			a.SumWith[l][i] += b.SumWith[l][i]
			a.SumWithout[l][i] += b.SumWithout[l][i]
		}
		if a.Scatter != nil {
			for i := range a.Scatter[l] {
				a.Scatter[l][i] += b.Scatter[l][i]
			}
		}
	}
	a.N += b.N
	a.Fingerprint = sha256.Sum256(append(a.Fingerprint[:], b.Fingerprint[:]...))
	return nil
}

// Vectors computes the directions of every layer with the given method
// (MethodMeanDiff or MethodPCADiff) from the sums; see the package
// documentation for the formulas. For MethodPCADiff, u is the eigenvector of
// the largest eigenvalue of the covariance of the differences (centered, as
// sklearn's PCA does), oriented so that mean(h⁺−h⁻)·u > 0. (repeng orients by
// a majority vote over pairs, which needs every pair's activations; the two
// agree unless the differences are strongly skewed.) Norm is ‖v‖ of the mean
// difference for both methods, and z̄ and the mean projection without use
// the chosen u.
func (a *Accumulator) Vectors(method string) (*Set, error) {
	if a.N == 0 {
		return nil, errors.New("compute vectors: no pairs")
	}
	if method == "" {
		method = MethodMeanDiff
	}
	if method != MethodMeanDiff && method != MethodPCADiff {
		return nil, fmt.Errorf("compute vectors: unknown method %q (want %s or %s)", method, MethodMeanDiff, MethodPCADiff)
	}
	if method == MethodPCADiff && !a.HasPCA() {
		return nil, errors.New("compute vectors: pca_diff needs the scatter matrices; accumulate with PCA enabled")
	}
	if method == MethodPCADiff && a.N < 2 {
		return nil, errors.New("compute vectors: pca_diff needs at least 2 pairs")
	}
	s := &Set{ModelHint: a.ModelHint, Method: method, InstructionID: a.InstructionID, Hidden: a.Hidden,
		NumLayers: a.NumLayers, NPairs: a.N, ChosenLayer: NoLayer}
	n := float64(a.N)
	D := a.Hidden
	for l := range a.NumLayers {
		v := make([]float64, D)
		var nn float64
		for i := range D {
			v[i] = (a.SumWith[l][i] - a.SumWithout[l][i]) / n
			nn += v[i] * v[i]
		}
		norm := math.Sqrt(nn)
		if norm == 0 {
			return nil, fmt.Errorf("compute vectors: layer %d: the mean difference is zero (are the with/without prompts identical?)", l)
		}
		u := make([]float64, D)
		for i := range D {
			u[i] = v[i] / norm
		}
		if method == MethodPCADiff {
			var err error
			if u, err = topPC(a.Scatter[l], v, n, D); err != nil {
				return nil, fmt.Errorf("compute vectors: layer %d: %w", l, err)
			}
		}
		var zw, zo float64
		for i := range D {
			zw += a.SumWith[l][i] * u[i]
			zo += a.SumWithout[l][i] * u[i]
		}
		u32 := make([]float32, D)
		for i := range D {
			u32[i] = float32(u[i])
		}
		s.Layers = append(s.Layers, Direction{Layer: l, U: u32, Norm: norm, ZBar: zw / n, MeanProjWithout: zo / n, Coef: math.NaN()})
	}
	return s, nil
}

// topPC returns the unit eigenvector of the largest eigenvalue of the
// covariance scatter/n − m mᵀ, oriented so that m·u ≥ 0.
func topPC(scatter, m []float64, n float64, D int) ([]float64, error) {
	cov := mat.NewSymDense(D, nil)
	for i := range D {
		for j := i; j < D; j++ {
			cov.SetSym(i, j, scatter[i*D+j]/n-m[i]*m[j])
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
		return nil, errors.New("eigendecomposition of the difference covariance did not converge")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	best := 0
	for i, v := range vals {
		if v > vals[best] {
			best = i
		}
	}
	if vals[best] <= 0 {
		return nil, errors.New("the paired differences have no variance (all pairs differ identically); use mean_diff")
	}
	u := make([]float64, D)
	var dot float64
	for i := range D {
		u[i] = vecs.At(i, best)
		dot += u[i] * m[i]
	}
	if dot < 0 {
		for i := range u {
			u[i] = -u[i]
		}
	}
	return u, nil
}

// State file (safetensors): sum_with.<l>, sum_without.<l> F64 [D],
// scatter.<l> F64 [D, D] when PCA is on; metadata gosteer.format
// "vectors-state/1", n_pairs, num_layers, hidden_size, fingerprint (hex),
// model_hint, instruction_id.

// StateFormatTag is the gosteer.format value of accumulator state files.
const StateFormatTag = "vectors-state/1"

func f64Tensor(name string, shape []int, v []float64) safetensors.Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return safetensors.Tensor{Name: name, DType: safetensors.Float64, Shape: shape, Data: b}
}

// Save writes the accumulator state to path (atomically), so a long
// extraction can resume and a vector can later be updated with more pairs.
func (a *Accumulator) Save(path string) error {
	var ts []safetensors.Tensor
	for l := range a.NumLayers {
		ts = append(ts, f64Tensor(fmt.Sprintf("sum_with.%d", l), []int{a.Hidden}, a.SumWith[l]),
			f64Tensor(fmt.Sprintf("sum_without.%d", l), []int{a.Hidden}, a.SumWithout[l]))
		if a.Scatter != nil {
			ts = append(ts, f64Tensor(fmt.Sprintf("scatter.%d", l), []int{a.Hidden, a.Hidden}, a.Scatter[l]))
		}
	}
	md := map[string]string{
		"gosteer.format":       StateFormatTag,
		"n_pairs":              strconv.Itoa(a.N),
		"num_layers":           strconv.Itoa(a.NumLayers),
		"hidden_size":          strconv.Itoa(a.Hidden),
		"fingerprint":          hex.EncodeToString(a.Fingerprint[:]),
		"model_hint":           a.ModelHint,
		"instruction_id":       a.InstructionID,
		"run.model":            a.Run.Model,
		"run.options":          a.Run.Options,
		"run.pairs":            a.Run.Pairs,
		"run.base_n":           strconv.Itoa(a.Run.BaseN),
		"run.base_fingerprint": hex.EncodeToString(a.Run.BaseFingerprint[:]),
		"run.complete":         strconv.FormatBool(a.Run.Complete),
	}
	data, err := safetensors.Encode(ts, md)
	if err != nil {
		return fmt.Errorf("save vector state %s: %w", path, err)
	}
	if err := atomicfile.WriteBytes(path, data, nil); err != nil {
		return fmt.Errorf("save vector state: %w", err)
	}
	return nil
}

// LoadAccumulator reads a state file written by Accumulator.Save.
func LoadAccumulator(path string) (*Accumulator, error) {
	st, err := safetensors.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load vector state: %w", err)
	}
	defer st.Close()
	a, err := accumulatorFrom(st)
	if err != nil {
		return nil, fmt.Errorf("load vector state %s: %w", path, err)
	}
	return a, nil
}

// readRun reads the run.* metadata (absent in states of older versions:
// then Run stays empty and BaseN 0).
func (a *Accumulator) readRun(md map[string]string) error {
	a.Run = RunInfo{Model: md["run.model"], Options: md["run.options"], Pairs: md["run.pairs"], Complete: md["run.complete"] == "true"}
	if s, ok := md["run.base_n"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > a.N {
			return fmt.Errorf("metadata run.base_n=%q: want an integer in [0, n_pairs=%d]", s, a.N)
		}
		a.Run.BaseN = n
	}
	if s, ok := md["run.base_fingerprint"]; ok {
		fp, err := hex.DecodeString(s)
		if err != nil || len(fp) != 32 {
			return fmt.Errorf("metadata run.base_fingerprint=%q: want 64 hex digits", s)
		}
		copy(a.Run.BaseFingerprint[:], fp)
	}
	return nil
}

func accumulatorFrom(st *safetensors.File) (*Accumulator, error) {
	md := st.Metadata()
	if md["gosteer.format"] != StateFormatTag {
		return nil, fmt.Errorf("not a gosteer vector state file (gosteer.format=%q)", md["gosteer.format"])
	}
	atoi := func(k string) (int, error) {
		v, err := strconv.Atoi(md[k])
		if err != nil || v < 0 {
			return 0, fmt.Errorf("metadata %s=%q: want a non-negative integer", k, md[k])
		}
		return v, nil
	}
	n, err := atoi("n_pairs")
	if err != nil {
		return nil, err
	}
	L, err := atoi("num_layers")
	if err != nil {
		return nil, err
	}
	D, err := atoi("hidden_size")
	if err != nil {
		return nil, err
	}
	_, pca := st.Tensor("scatter.0")
	a := NewAccumulator(L, D, pca)
	a.N = n
	a.ModelHint, a.InstructionID = md["model_hint"], md["instruction_id"]
	fp, err := hex.DecodeString(md["fingerprint"])
	if err != nil || len(fp) != 32 {
		return nil, fmt.Errorf("metadata fingerprint=%q: want 64 hex digits", md["fingerprint"])
	}
	copy(a.Fingerprint[:], fp)
	if err := a.readRun(md); err != nil {
		return nil, err
	}
	read := func(name string, dst []float64, shape []int) error {
		t, ok := st.Tensor(name)
		if !ok {
			return fmt.Errorf("tensor %s missing", name)
		}
		if t.DType != safetensors.Float64 || t.NumElements() != len(dst) || len(t.Shape) != len(shape) {
			return fmt.Errorf("tensor %s: want F64 %v, got %s %v", name, shape, t.DType, t.Shape)
		}
		for i := range dst {
			dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
		return nil
	}
	for l := range L {
		if err := read(fmt.Sprintf("sum_with.%d", l), a.SumWith[l], []int{D}); err != nil {
			return nil, err
		}
		if err := read(fmt.Sprintf("sum_without.%d", l), a.SumWithout[l], []int{D}); err != nil {
			return nil, err
		}
		if pca {
			if err := read(fmt.Sprintf("scatter.%d", l), a.Scatter[l], []int{D, D}); err != nil {
				return nil, err
			}
		}
	}
	want := 2 * L
	if pca {
		want = 3 * L
	}
	if len(st.Names()) != want {
		return nil, fmt.Errorf("%d tensors, want %d", len(st.Names()), want)
	}
	return a, nil
}
