package model

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
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

// Positions selects where a steering operator applies.
type Positions int

const (
	// SteerAll positions: every prompt token and every generated token.
	SteerAll Positions = iota
	// SteerPrompt: the prompt tokens (the prefill pass) only.
	SteerPrompt
	// SteerGenerated: the generated tokens (decode steps) only.
	SteerGenerated
)

// String returns "all", "prompt" or "generated".
func (p Positions) String() string {
	switch p {
	case SteerAll:
		return "all"
	case SteerPrompt:
		return "prompt"
	case SteerGenerated:
		return "generated"
	}
	return "Positions(" + strconv.Itoa(int(p)) + ")"
}

// SteerOp is one steering operator applied to the residual stream after
// decoder block Layer (0-based; the same point as resid_post.<Layer>). Several
// ops run in the order given; ops on the same layer compose in that order.
//
// U and C are graph inputs: changing them never recompiles. Changing the
// number of ops per layer (i.e. which layers are steered) selects another
// compiled graph (kept in a cache).
type SteerOp struct {
	Layer     int
	Kind      OpKind
	U         []float32 // unit direction, length HiddenSize
	C         float32   // add coefficient, or clamp target z̄
	Positions Positions
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

// validateSteer checks ops against cfg.
func validateSteer(cfg *Config, ops []SteerOp) error {
	for i, op := range ops {
		if op.Layer < 0 || op.Layer >= cfg.NumLayers {
			return fmt.Errorf("steer op %d: layer %d out of range [0, %d)", i, op.Layer, cfg.NumLayers)
		}
		if op.Kind < OpAdd || op.Kind > OpAblate {
			return fmt.Errorf("steer op %d: unknown kind %d", i, int(op.Kind))
		}
		if op.Positions < SteerAll || op.Positions > SteerGenerated {
			return fmt.Errorf("steer op %d: unknown positions %d", i, int(op.Positions))
		}
		if len(op.U) != cfg.HiddenSize {
			return fmt.Errorf("steer op %d: direction has %d values, model hidden size is %d", i, len(op.U), cfg.HiddenSize)
		}
		for _, v := range op.U {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("steer op %d: direction contains NaN or Inf", i)
			}
		}
		if math.IsNaN(float64(op.C)) || math.IsInf(float64(op.C), 0) {
			return fmt.Errorf("steer op %d: coefficient is %v", i, op.C)
		}
	}
	return nil
}

// steerPlan is the compiled structure of a list of ops: op indices per layer.
type steerPlan struct {
	byLayer map[int][]int
	n       int
}

func newSteerPlan(ops []SteerOp) steerPlan {
	p := steerPlan{byLayer: map[int][]int{}, n: len(ops)}
	for i, op := range ops {
		p.byLayer[op.Layer] = append(p.byLayer[op.Layer], i)
	}
	return p
}

// key identifies the graph structure: which layers have how many slots.
func (p steerPlan) key() string {
	layers := make([]int, 0, len(p.byLayer))
	for l := range p.byLayer {
		layers = append(layers, l)
	}
	sort.Ints(layers)
	var sb strings.Builder
	for _, l := range layers {
		fmt.Fprintf(&sb, "%d:%d,", l, len(p.byLayer[l]))
	}
	return sb.String()
}

// steerInputs flattens ops into graph inputs for one call: per op a direction
// [D] in dtype and coefficients [2] float32 (α, β), zeroed when the op's
// Positions exclude this pass.
func steerInputs(ops []SteerOp, generated bool, dtype dtypes.DType) []any {
	in := make([]any, 0, 2*len(ops))
	for _, op := range ops {
		a, b := op.coefficients()
		active := op.Positions == SteerAll || (op.Positions == SteerPrompt) != generated
		if !active {
			a, b = 0, 0
		}
		in = append(in, hostVector(op.U, dtype), []float32{a, b})
	}
	return in
}

// applySteer applies the ops of layer l to x [B, T, D]; slots holds, per op
// index, its (u, coef) graph inputs.
func applySteer(p steerPlan, slots [][2]*Node, l int, x *Node) *Node {
	for _, i := range p.byLayer[l] {
		u, coef := slots[i][0], slots[i][1]
		ub := ExpandLeftToRank(u, x.Rank())
		proj := ReduceAndKeep(ConvertDType(Mul(x, ub), dtypes.Float32), ReduceSum, -1) // [B, T, 1]
		alpha := Slice(coef, AxisRange(0, 1))
		beta := Slice(coef, AxisRange(1, 2))
		c := Add(ExpandLeftToRank(alpha, 3), Mul(ExpandLeftToRank(beta, 3), proj))
		x = Add(x, Mul(ConvertDType(c, x.DType()), ub))
	}
	return x
}
