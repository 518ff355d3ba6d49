package model

import (
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosteer/gosteer/steerlib/backend"
)

// BenchmarkCacheWrite times writing one decode step's keys into the 60 K/V
// caches of the SmolLM2-135M shape at batch 4 and cache length 320, with a
// one-hot Where over the slot axis (the first implementation) and with an
// in-place ScatterSum into the donated cache (the current one):
//
//	GOEXPERIMENT=simd GOMLX_BACKEND=go nice -n 10 go test ./steerlib/model -run XXX -bench CacheWrite -benchtime 20x -count 3
func BenchmarkCacheWrite(b *testing.B) {
	be, err := backend.Shared("")
	if err != nil {
		b.Fatal(err)
	}
	const n, B, KV, S, hd = 60, 4, 3, 320, 64
	build := func(scatter bool) *Exec {
		e, err := NewExec(be, func(in []*Node) []*Node {
			g := in[0].Graph()
			slot, k := in[0], in[1] // k [B, KV, 1, hd]
			var out []*Node
			for _, c := range in[2:] {
				if scatter {
					at := Concatenate([]*Node{Iota(g, shapesI32(B, KV, 1), 0), Iota(g, shapesI32(B, KV, 1), 1),
						BroadcastToDims(Reshape(slot, 1, 1, 1), B, KV, 1)}, 2)
					out = append(out, ScatterSum(c, at, Reshape(k, B, KV, hd), true, true))
				} else {
					write := BroadcastToDims(Reshape(Equal(Iota(g, shapesI32(S), 0), slot), 1, 1, S, 1), B, KV, S, hd)
					out = append(out, Where(write, BroadcastToDims(k, B, KV, S, hd), c))
				}
			}
			return out
		})
		if err != nil {
			b.Fatal(err)
		}
		return e
	}
	kf := tensors.FromFlatDataAndDimensions(make([]float32, B*KV*hd), B, KV, 1, hd)
	for _, scatter := range []bool{false, true} {
		name := "where"
		if scatter {
			name = "scatter-donated"
		}
		e := build(scatter)
		b.Run(name, func(b *testing.B) {
			caches := make([]*tensors.Tensor, n)
			for i := range caches {
				caches[i] = tensors.FromFlatDataAndDimensions(make([]float32, B*KV*S*hd), B, KV, S, hd)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				args := []any{tensors.FromScalar(int32(i % S)), kf}
				for _, c := range caches {
					if scatter {
						d, err := DonateTensorBuffer(c, be, 0)
						if err != nil {
							b.Fatal(err)
						}
						args = append(args, d)
					} else {
						args = append(args, c)
					}
				}
				out, err := e.Call(args...)
				if err != nil {
					b.Fatal(err)
				}
				if !scatter {
					finalizeAll(caches)
				}
				caches = out
			}
			b.StopTimer()
			finalizeAll(caches)
		})
	}
}
