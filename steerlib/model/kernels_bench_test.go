package model

import (
	"fmt"
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosteer/gosteer/steerlib/backend"
)

// BenchmarkProjectionLayout times a chain of 20 projections of the
// SmolLM2-135M MLP shape (576 → 1536) for 1, 16 and 128 input rows, with the
// weight stored as Hugging Face's [out, in] or as the runtime's [in, out]:
//
//	GOEXPERIMENT=simd GOMLX_BACKEND=go nice -n 10 go test ./steerlib/model -run XXX -bench ProjectionLayout -benchtime 10x -count 2
func BenchmarkProjectionLayout(b *testing.B) {
	be, err := backend.Shared("")
	if err != nil {
		b.Fatal(err)
	}
	const O, D, n = 1536, 576, 20
	for _, rows := range []int{1, 16, 128} {
		x := tensors.FromFlatDataAndDimensions(make([]float32, rows*D), rows, D)
		for _, inOut := range []bool{false, true} {
			ws := make([]any, n)
			for i := range ws {
				if inOut {
					ws[i] = tensors.FromFlatDataAndDimensions(make([]float32, O*D), D, O)
				} else {
					ws[i] = tensors.FromFlatDataAndDimensions(make([]float32, O*D), O, D)
				}
			}
			e, err := NewExec(be, func(in []*Node) *Node {
				h := in[0]
				for _, w := range in[1:] {
					h = Slice(linear(h, w, nil, inOut), AxisRange(), AxisRange(0, D)) // dependent chain
				}
				return ReduceAllSum(h)
			})
			if err != nil {
				b.Fatal(err)
			}
			args := append([]any{x}, ws...)
			b.Run(fmt.Sprintf("rows=%d/inOut=%v", rows, inOut), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					out, err := e.Call(args...)
					if err != nil {
						b.Fatal(err)
					}
					finalizeAll(out)
				}
			})
		}
	}
}

// BenchmarkOutputHeadLayout times the batch-1 output projection of the
// SmolLM2-135M shape (tied embedding, V=49152, D=576) with the embedding
// stored [V, D] (Hugging Face) or [D, V] (the runtime):
//
//	GOEXPERIMENT=simd GOMLX_BACKEND=go nice -n 10 go test ./steerlib/model -run XXX -bench OutputHeadLayout -benchtime 20x -count 3
func BenchmarkOutputHeadLayout(b *testing.B) {
	be, err := backend.Shared("")
	if err != nil {
		b.Fatal(err)
	}
	const V, D = 49152, 576
	x := tensors.FromFlatDataAndDimensions(make([]float32, D), 1, D)
	for _, inOut := range []bool{false, true} {
		var w *tensors.Tensor
		if inOut {
			w = tensors.FromFlatDataAndDimensions(make([]float32, V*D), D, V)
		} else {
			w = tensors.FromFlatDataAndDimensions(make([]float32, V*D), V, D)
		}
		e, err := NewExec(be, func(x, w *Node) *Node { return ReduceAllSum(linear(x, w, nil, inOut)) })
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("inOut=%v", inOut), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				out, err := e.Call(x, w)
				if err != nil {
					b.Fatal(err)
				}
				finalizeAll(out)
			}
		})
	}
}

// BenchmarkSiLU times x·σ(x) on a [512, 1536] activation (the SmolLM2-135M
// MLP at batch 16 × 32 tokens) with the backend's Logistic op and with σ as
// a two-way softmax (what the runtime uses on the pure-Go backend):
//
//	GOEXPERIMENT=simd GOMLX_BACKEND=go nice -n 10 go test ./steerlib/model -run XXX -bench SiLU -benchtime 10x -count 3
func BenchmarkSiLU(b *testing.B) {
	be, err := backend.Shared("")
	if err != nil {
		b.Fatal(err)
	}
	const N, I = 512, 1536
	v := make([]float32, N*I)
	for i := range v {
		v[i] = float32(i%200-100) * 0.05
	}
	x := tensors.FromFlatDataAndDimensions(v, N, I)
	for _, soft := range []bool{false, true} {
		ws := weights{softmaxSigmoid: soft}
		e, err := NewExec(be, func(x *Node) *Node { return ReduceAllSum(Mul(x, ws.sigmoid(x))) })
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("softmaxSigmoid=%v", soft), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				out, err := e.Call(x)
				if err != nil {
					b.Fatal(err)
				}
				finalizeAll(out)
			}
		})
	}
}

// TestSoftmaxSigmoid checks the softmax form of σ against the Logistic op.
func TestSoftmaxSigmoid(t *testing.T) {
	be, err := backend.Shared("")
	if err != nil {
		t.Fatal(err)
	}
	in := []float32{-90, -20, -3.5, -1, -1e-3, 0, 1e-3, 0.5, 2, 7, 30, 90}
	x := tensors.FromFlatDataAndDimensions(in, 2, len(in)/2)
	outs := make([][]float32, 2)
	for i, soft := range []bool{false, true} {
		ws := weights{softmaxSigmoid: soft}
		r, err := ExecOnce(be, func(x *Node) *Node { return ws.sigmoid(x) }, x)
		if err != nil {
			t.Fatal(err)
		}
		outs[i] = tensors.MustCopyFlatData[float32](r)
	}
	for i := range in {
		d := math.Abs(float64(outs[0][i] - outs[1][i]))
		if d > 1e-7*math.Max(1e-30, float64(outs[0][i]))+1e-37 && d > 2e-7 {
			t.Errorf("σ(%g): logistic %g, softmax form %g", in[i], outs[0][i], outs[1][i])
		}
	}
}
