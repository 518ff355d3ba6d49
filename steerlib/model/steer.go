package model

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

// OpKind is a steering operator on the residual stream.
type OpKind int

// The operators of Stolfo et al. (2025), with u a unit direction:
const (
	// OpAdd: x ← x + C·u.
	OpAdd OpKind = iota
	// OpClamp: x ← x + (C − x·u)·u, i.e. the projection on u is set to C (z̄).
	OpClamp
	// OpAblate: x ← x − (x·u)·u (C is ignored).
	OpAblate
)

// String returns "add", "clamp" or "ablate".
func (k OpKind) String() string {
	switch k {
	case OpAdd:
		return "add"
	case OpClamp:
		return "clamp"
	case OpAblate:
		return "ablate"
	}
	return "OpKind(" + strconv.Itoa(int(k)) + ")"
}

// SteerScope selects which tokens of a call a steering operator acts on: the
// prompt, the generated tokens, or both. (Position ids are Batch.Positions.)
type SteerScope int

const (
	// SteerAll: every prompt token and every generated token.
	SteerAll SteerScope = iota
	// SteerPrompt: the prompt tokens (the prefill pass) only.
	SteerPrompt
	// SteerGenerated: the generated tokens (decode steps) only.
	SteerGenerated
)

// String returns "all", "prompt" or "generated".
func (s SteerScope) String() string {
	switch s {
	case SteerAll:
		return "all"
	case SteerPrompt:
		return "prompt"
	case SteerGenerated:
		return "generated"
	}
	return "SteerScope(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText writes the scope's name (String).
func (s SteerScope) MarshalText() ([]byte, error) {
	if s < SteerAll || s > SteerGenerated {
		return nil, fmt.Errorf("unknown steering scope %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads "all", "prompt" or "generated".
func (s *SteerScope) UnmarshalText(b []byte) error {
	for _, c := range []SteerScope{SteerAll, SteerPrompt, SteerGenerated} {
		if string(b) == c.String() {
			*s = c
			return nil
		}
	}
	return fmt.Errorf("unknown steering scope %q (all, prompt or generated)", b)
}

// SteerOp is one steering operator applied to the residual stream after
// decoder block Layer (0-based; the same point as resid_post.<Layer>). Several
// ops run in the order given; ops on the same layer compose in that order.
//
// U and C are graph inputs: changing them never recompiles (see the package
// documentation for what does).
type SteerOp struct {
	Layer int
	Kind  OpKind
	U     []float32 // unit direction, length HiddenSize
	C     float32   // add coefficient, or clamp target z̄
	Scope SteerScope
}

// coefficients returns (α, β) with x ← x + (α + β·(x·u))·u, which expresses
// all three kinds with one graph formula.
func (op SteerOp) coefficients() (alpha, beta float32) {
	switch op.Kind {
	case OpAdd:
		return op.C, 0
	case OpClamp:
		return op.C, -1
	default:
		return 0, -1
	}
}

// acts reports whether op acts on the prompt pass (generated false) or on
// the decode steps (generated true).
func (op SteerOp) acts(generated bool) bool {
	return op.Scope == SteerAll || (op.Scope == SteerPrompt) != generated
}

// CheckSteer checks operators against a model with the given hidden size and
// number of layers (a non-positive value skips that check): layer in range,
// known kind and scope, direction length, finite direction and coefficient.
// Forward and Generate run it on every call.
func CheckSteer(ops []SteerOp, hidden, numLayers int) error {
	for i, op := range ops {
		what := fmt.Sprintf("steer op %d (%s at layer %d)", i, op.Kind, op.Layer)
		if op.Layer < 0 || (numLayers > 0 && op.Layer >= numLayers) {
			return fmt.Errorf("%s: layer out of range: the model has %d layers (0..%d)", what, numLayers, numLayers-1)
		}
		if op.Kind < OpAdd || op.Kind > OpAblate {
			return fmt.Errorf("%s: unknown kind %d", what, int(op.Kind))
		}
		if op.Scope < SteerAll || op.Scope > SteerGenerated {
			return fmt.Errorf("%s: unknown scope %d", what, int(op.Scope))
		}
		if hidden > 0 && len(op.U) != hidden {
			return fmt.Errorf("%s: dimension mismatch: direction has %d values, the model's hidden size is %d", what, len(op.U), hidden)
		}
		for j, v := range op.U {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%s: direction value %d is %v (NaN/Inf in a vector)", what, j, v)
			}
		}
		if math.IsNaN(float64(op.C)) || math.IsInf(float64(op.C), 0) {
			return fmt.Errorf("%s: coefficient is %v", what, op.C)
		}
	}
	return nil
}

// batchSteer validates a batch and its steering (Steer for every row, or
// RowSteer: one list per row, nil for none) and returns each row's ops (nil
// when nothing is steered).
func batchSteer(cfg *Config, batch Batch, ops []SteerOp, rowOps [][]SteerOp) ([][]SteerOp, error) {
	if err := batch.validate(cfg); err != nil {
		return nil, err
	}
	if err := CheckSteer(ops, cfg.HiddenSize, cfg.NumLayers); err != nil {
		return nil, err
	}
	if rowOps == nil {
		if len(ops) == 0 {
			return nil, nil
		}
		rows := make([][]SteerOp, batch.B)
		for i := range rows {
			rows[i] = ops
		}
		return rows, nil
	}
	if len(ops) > 0 {
		return nil, fmt.Errorf("give Steer (every row) or RowSteer (per row), not both")
	}
	if len(rowOps) != batch.B {
		return nil, fmt.Errorf("RowSteer has %d rows, the batch has %d", len(rowOps), batch.B)
	}
	for b, ops := range rowOps {
		if err := CheckSteer(ops, cfg.HiddenSize, cfg.NumLayers); err != nil {
			return nil, fmt.Errorf("row %d: %w", b, err)
		}
	}
	return rowOps, nil
}

// steerPlan is the compiled structure of a batch's steering: the layer of
// each slot, sorted by layer. Slot j of layer l holds, for every row, that
// row's j-th op at layer l (or nothing: u = 0, α = β = 0).
type steerPlan struct {
	layers []int
}

// newSteerPlan gives each layer as many slots as the most ops one row has
// there. With allLayers (per-row steering) every layer gets the largest such
// count, so any mix of layers, kinds and values shares one graph.
func newSteerPlan(rows [][]SteerOp, numLayers int, allLayers bool) steerPlan {
	count := make([]int, numLayers)
	most := 0
	for _, ops := range rows {
		per := make([]int, numLayers)
		for _, op := range ops {
			per[op.Layer]++
			count[op.Layer] = max(count[op.Layer], per[op.Layer])
			most = max(most, count[op.Layer])
		}
	}
	var p steerPlan
	for l, n := range count {
		if allLayers {
			n = most
		}
		for range n {
			p.layers = append(p.layers, l)
		}
	}
	return p
}

// key identifies the graph structure: which layers have how many slots.
func (p steerPlan) key() string {
	var sb strings.Builder
	for i, l := range p.layers {
		if i == 0 || p.layers[i-1] != l {
			n := 0
			for _, l2 := range p.layers[i:] {
				if l2 == l {
					n++
				}
			}
			fmt.Fprintf(&sb, "%d:%d,", l, n)
		}
	}
	return sb.String()
}

// numInputs is the number of graph inputs of the plan: per slot u and (α, β).
func (p steerPlan) numInputs() int { return 2 * len(p.layers) }

// steerValues are the plan's inputs for one call: per slot the directions
// u [B, D] and the coefficients (α, β) [B, 2] of the prompt pass and of the
// decode steps (zero where an op's scope excludes the pass).
type steerValues struct {
	u, prompt, generated []*tensors.Tensor
}

// newSteerValues lays out rows' ops (B ≤ B2 rows; bucket rows get none) on the plan's slots.
func newSteerValues(p steerPlan, rows [][]SteerOp, B2, D int, dtype dtypes.DType) steerValues {
	n := len(p.layers)
	first := map[int]int{}
	for s := n - 1; s >= 0; s-- {
		first[p.layers[s]] = s
	}
	u := make([][]float32, n)
	coef := [2][][]float32{make([][]float32, n), make([][]float32, n)}
	for s := range n {
		u[s] = make([]float32, B2*D)
		coef[0][s], coef[1][s] = make([]float32, 2*B2), make([]float32, 2*B2)
	}
	for b, ops := range rows {
		next := map[int]int{}
		for _, op := range ops {
			s := first[op.Layer] + next[op.Layer]
			next[op.Layer]++
			copy(u[s][b*D:(b+1)*D], op.U)
			a, be := op.coefficients()
			for pass, generated := range []bool{false, true} {
				if op.acts(generated) {
					coef[pass][s][2*b], coef[pass][s][2*b+1] = a, be
				}
			}
		}
	}
	var v steerValues
	for s := range n {
		v.u = append(v.u, floatTensor(u[s], dtype, B2, D))
		v.prompt = append(v.prompt, tensors.FromFlatDataAndDimensions(coef[0][s], B2, 2))
		v.generated = append(v.generated, tensors.FromFlatDataAndDimensions(coef[1][s], B2, 2))
	}
	return v
}

// args returns the graph inputs of the prompt pass or of a decode step.
func (v steerValues) args(generated bool) []any {
	coef := v.prompt
	if generated {
		coef = v.generated
	}
	out := make([]any, 0, 2*len(v.u))
	for s := range v.u {
		out = append(out, v.u[s], coef[s])
	}
	return out
}

// finalize frees the tensors.
func (v steerValues) finalize() {
	finalizeAll(v.u)
	finalizeAll(v.prompt)
	finalizeAll(v.generated)
}

// floatTensor makes a host tensor of dtype (float32 or bfloat16) from float32 values.
func floatTensor(v []float32, dtype dtypes.DType, dims ...int) *tensors.Tensor {
	if dtype == dtypes.BFloat16 {
		return tensors.FromFlatDataAndDimensions(bfloat16.FromFloat32s(v...), dims...)
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

// steerGraph holds a plan's graph inputs: per slot u [B, D] and coef [B, 2].
type steerGraph struct {
	plan    steerPlan
	u, coef []*Node
}

// newSteerGraph takes the plan's inputs from the front of in.
func newSteerGraph(p steerPlan, in []*Node) steerGraph {
	g := steerGraph{plan: p}
	for s := range p.layers {
		g.u = append(g.u, in[2*s])
		g.coef = append(g.coef, in[2*s+1])
	}
	return g
}

// apply steers x [B, T, D] after block l with each of l's slots in order:
// x ← x + (α_b + β_b·(x·u_b))·u_b per row b.
func (s steerGraph) apply(l int, x *Node) *Node {
	B, D := x.Shape().Dim(0), x.Shape().Dim(2)
	for i, sl := range s.plan.layers {
		if sl != l {
			continue
		}
		u := Reshape(s.u[i], B, 1, D)
		proj := ReduceAndKeep(ConvertDType(Mul(x, u), dtypes.Float32), ReduceSum, -1) // [B, T, 1]
		alpha := Reshape(Slice(s.coef[i], AxisRange(), AxisRange(0, 1)), B, 1, 1)
		beta := Reshape(Slice(s.coef[i], AxisRange(), AxisRange(1, 2)), B, 1, 1)
		c := Add(alpha, Mul(beta, proj))
		x = Add(x, Mul(ConvertDType(c, x.DType()), u))
	}
	return x
}

// then returns the hook that steers at each layer and passes the result to next (nil: none).
func (s steerGraph) then(next BlockHook) BlockHook {
	return func(l int, x *Node) *Node {
		x = s.apply(l, x)
		if next != nil {
			x = next(l, x)
		}
		return x
	}
}
