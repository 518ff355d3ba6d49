// Package vectors computes, stores and applies instruction directions: the
// steering vectors of Stolfo et al. (ICLR 2025), "Improving
// Instruction-Following in Language Models through Activation Steering".
//
// # Method
//
// For pairs of prompts with (p⁺) and without (p⁻) an instruction, h_l is the
// residual stream after decoder block l (0-based; Hugging Face
// hidden_states[l+1]) at the last token of the chat-templated prompt (with
// add_generation_prompt=true). For every layer l:
//
//	v_l = mean_i(h⁺_i − h⁻_i)      (mean difference, the paper's method)
//	u_l = v_l / ‖v_l‖               (always a unit vector)
//	z̄_l = mean_i(h⁺_i · u_l)        (mean projection of the with-instruction prompts)
//
// As an option (MethodPCADiff), u_l is instead the first principal component
// of the paired differences h⁺_i − h⁻_i (repeng's "pca_diff"); see
// Accumulator.Vectors for the sign convention.
//
// The steering operators (applied by steerlib/model after block l at every
// chosen position) are:
//
//	add:    x ← x + c·u
//	clamp:  x ← x + (z̄ − x·u)·u    (the paper's adaptive coefficient)
//	ablate: x ← x − (x·u)·u
//
// Vector sets are stored as safetensors (see Save); steerlib/controlvec
// exports them to and imports them from GGUF control vectors (llama.cpp,
// repeng). Steering specs (see ParseSpec) name a vector file, a layer and an
// operator on the command line.
//
// # Resumable extraction
//
// Extract adds pairs to an Accumulator of running sums (Σh⁺, Σh⁻ per layer)
// and checkpoints it to a state file. The state records what made it
// (RunInfo: fingerprints of the model, the options and the pair file, the
// pairs of earlier runs, and whether the run read its whole file), so a
// resumed or updated run can refuse a state made by something else. Every
// file is written to a temporary name and renamed when complete; vector
// files are read back by Load before the rename.
package vectors

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Methods of computing a direction.
const (
	// MethodMeanDiff is the paper's mean difference of paired activations.
	MethodMeanDiff = "mean_diff"
	// MethodPCADiff is the first principal component of the paired
	// differences (repeng's pca_diff).
	MethodPCADiff = "pca_diff"
	// MethodGGUF marks directions imported from a GGUF control vector that
	// did not come from gosteer.
	MethodGGUF = "gguf"
)

// NoLayer is the ChosenLayer of a set without a layer of choice.
const NoLayer = -1

// unitTol is how far from 1 the norm of a stored direction may be.
const unitTol = 1e-3

// Direction is the unit direction of one layer and its statistics.
// Statistics that are unknown (e.g. for an imported GGUF vector) are NaN.
type Direction struct {
	// Layer is the 0-based decoder block after which the direction applies.
	Layer int
	// U is the unit direction, length hidden size.
	U []float32
	// Norm is ‖v‖, the norm of the mean difference of paired activations.
	Norm float64
	// ZBar is z̄ = mean(h⁺·u), the default clamp value.
	ZBar float64
	// MeanProjWithout is mean(h⁻·u), the mean projection of the prompts
	// without the instruction.
	MeanProjWithout float64
	// Coef is the coefficient a GGUF control vector carried for this layer
	// (the file held Coef·u); the default for "add" when set. NaN otherwise.
	Coef float64
}

// Set is a set of per-layer directions for one instruction.
type Set struct {
	// ModelHint names the model the vectors were computed on (free text; the
	// model_type of config.json or the model folder name).
	ModelHint string
	// Method is MethodMeanDiff, MethodPCADiff or MethodGGUF.
	Method string
	// InstructionID is the IFEval instruction id ("" if unknown).
	InstructionID string
	// Hidden is the hidden size (length of each direction).
	Hidden int
	// NumLayers is the number of decoder blocks of the model (0 if unknown).
	NumLayers int
	// NPairs is the number of pairs the directions were computed from.
	NPairs int
	// ChosenLayer is the layer to steer at (e.g. picked on validation
	// prompts), or NoLayer when none is chosen (not yet, or because
	// steering at no layer beat not steering).
	ChosenLayer int
	// Layers are the directions, sorted by layer.
	Layers []Direction
}

// Get returns the direction of layer l.
func (s *Set) Get(l int) (*Direction, bool) {
	i := sort.Search(len(s.Layers), func(i int) bool { return s.Layers[i].Layer >= l })
	if i < len(s.Layers) && s.Layers[i].Layer == l {
		return &s.Layers[i], true
	}
	return nil, false
}

// LayerIDs returns the layers held, ascending.
func (s *Set) LayerIDs() []int {
	out := make([]int, len(s.Layers))
	for i, l := range s.Layers {
		out[i] = l.Layer
	}
	return out
}

// Validate checks the invariants of a set: a positive hidden size, layers
// sorted, unique and non-negative (and below NumLayers when known), each
// direction of length Hidden, finite and of unit norm.
func (s *Set) Validate() error {
	if s.Hidden <= 0 {
		return fmt.Errorf("hidden size %d", s.Hidden)
	}
	if len(s.Layers) == 0 {
		return errors.New("no directions")
	}
	for i, l := range s.Layers {
		if l.Layer < 0 {
			return fmt.Errorf("negative layer %d", l.Layer)
		}
		if i > 0 && l.Layer <= s.Layers[i-1].Layer {
			return fmt.Errorf("layers not sorted and unique at %d", l.Layer)
		}
		if s.NumLayers > 0 && l.Layer >= s.NumLayers {
			return fmt.Errorf("layer %d out of range: the model has %d layers (0..%d)", l.Layer, s.NumLayers, s.NumLayers-1)
		}
		if len(l.U) != s.Hidden {
			return fmt.Errorf("layer %d: direction has %d values, hidden size is %d", l.Layer, len(l.U), s.Hidden)
		}
		if err := CheckFinite(l.U); err != nil {
			return fmt.Errorf("layer %d: %w", l.Layer, err)
		}
		if n := Norm(l.U); math.Abs(n-1) > unitTol {
			return fmt.Errorf("layer %d: direction is not a unit vector (norm %g)", l.Layer, n)
		}
	}
	if s.ChosenLayer != NoLayer {
		if _, ok := s.Get(s.ChosenLayer); !ok {
			return fmt.Errorf("layer of choice %d is not held (layers %v)", s.ChosenLayer, s.LayerIDs())
		}
	}
	return nil
}

// CheckFinite reports the first NaN or Inf in v.
func CheckFinite(v []float32) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("value %d is %v (NaN/Inf in a vector)", i, x)
		}
	}
	return nil
}

// Dot returns a·b accumulated in float64.
func Dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// Norm returns ‖a‖ computed in float64.
func Norm(a []float32) float64 { return math.Sqrt(Dot(a, a)) }

// Cosine returns the cosine similarity of a and b (NaN if either is zero or
// their lengths differ).
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.NaN()
	}
	na, nb := Norm(a), Norm(b)
	if na == 0 || nb == 0 {
		return math.NaN()
	}
	return Dot(a, b) / (na * nb)
}

// LayerCosines returns the matrix of cosine similarities between the
// directions of the layers of s, in the order of s.Layers.
func (s *Set) LayerCosines() [][]float64 {
	n := len(s.Layers)
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, n)
		for j := range m[i] {
			m[i][j] = Cosine(s.Layers[i].U, s.Layers[j].U)
		}
	}
	return m
}

// CompareSets returns, for every layer held by both sets, the cosine
// similarity of their directions (e.g. two instructions, or an
// instruction-tuned model against its base).
func CompareSets(a, b *Set) (map[int]float64, error) {
	if a.Hidden != b.Hidden {
		return nil, fmt.Errorf("compare vectors: hidden sizes differ (%d vs %d)", a.Hidden, b.Hidden)
	}
	out := map[int]float64{}
	for _, la := range a.Layers {
		if lb, ok := b.Get(la.Layer); ok {
			out[la.Layer] = Cosine(la.U, lb.U)
		}
	}
	return out, nil
}

// Project returns the projection x·u of each row of acts onto u. acts is a
// row-major [n, len(u)] matrix (e.g. a resid_post capture flattened over
// batch and positions).
func Project(acts []float32, u []float32) ([]float64, error) {
	d := len(u)
	if d == 0 || len(acts)%d != 0 {
		return nil, fmt.Errorf("project: %d activations is not a multiple of the direction length %d", len(acts), d)
	}
	out := make([]float64, len(acts)/d)
	for i := range out {
		out[i] = Dot(acts[i*d:(i+1)*d], u)
	}
	return out, nil
}
