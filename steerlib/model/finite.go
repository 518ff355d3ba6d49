package model

import (
	"errors"
	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

// ErrNonFinite is wrapped by the error of a Forward or Generate call whose
// residual stream or logits hold a NaN or an infinity (NaN weights, a
// steering coefficient that overflows float32, ...).
var ErrNonFinite = errors.New("non-finite values (NaN or Inf)")

// finiteCheck is the in-graph guard against non-finite numbers: per layer l
// it reduces the residual stream after block l (and after its steering) to
// one flag bad_l = ¬∧ isfinite(x), plus bad_L for the logits, and returns
//
//	first = min{ i : bad_i }, or −1 when none is set
//
// as one int32 scalar output, so a step hands the host one number, never a
// scan of its [B, V] logits or [B, T, D] activations.
type finiteCheck struct {
	bad []*Node
}

// hook is a BlockHook that records the layer's flag and then runs next
// (nil: nothing).
func (c *finiteCheck) hook(next BlockHook) BlockHook {
	return func(l int, x *Node) *Node {
		c.bad = append(c.bad, notFinite(x))
		if next != nil {
			x = next(l, x)
		}
		return x
	}
}

// notFinite is the boolean scalar "x holds a NaN or an infinity".
func notFinite(x *Node) *Node {
	return LogicalNot(ReduceLogicalAnd(IsFinite(x)))
}

// result returns the first-bad index (int32 scalar) over the recorded layers
// and then logits (nil: no logits in this graph).
func (c *finiteCheck) result(logits *Node) *Node {
	flags := append([]*Node(nil), c.bad...)
	if logits != nil {
		flags = append(flags, notFinite(logits))
	}
	g := flags[0].Graph()
	v := ConvertDType(Stack(flags, 0), dtypes.Int32) // [L(+1)]
	first := ArgMax(v, 0, dtypes.Int32)
	return Where(GreaterThan(ReduceAllMax(v), Scalar(g, dtypes.Int32, 0)), first, Scalar(g, dtypes.Int32, -1))
}

// finiteHint is what a non-finite error suggests checking.
const finiteHint = "check the weights, rms_norm_eps and steering coefficients"

// checkFinite reads a finiteCheck output of a model with L layers and
// returns an error wrapping ErrNonFinite naming where the non-finite values
// first appear, or nil.
func checkFinite(t *tensors.Tensor, L int) error {
	v, err := tensors.CopyFlatData[int32](t)
	if err != nil {
		return fmt.Errorf("read finite check: %w", err)
	}
	switch first := int(v[0]); {
	case first < 0:
		return nil
	case first < L:
		return fmt.Errorf("%w first appear in the output of layer %d (after its steering); %s", ErrNonFinite, first, finiteHint)
	default:
		return fmt.Errorf("%w first appear in the logits (every layer's output is finite); %s", ErrNonFinite, finiteHint)
	}
}
