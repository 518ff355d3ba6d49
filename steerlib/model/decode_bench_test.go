package model

import (
	"testing"
	"time"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

// BenchmarkCallOverhead measures what one executable call costs apart from
// its arithmetic, on the SmolLM2-135M shape (random weights): a graph with
// a decode step's inputs (the token ids [1] and every weight, 273 tensors)
// that only adds 1 to the ids. Running several decode steps per call (a
// While loop in the graph) could save at most this per step (BENCHMARKS.md):
//
//	GOEXPERIMENT=simd GOMLX_BACKEND=go nice -n 10 go test ./steerlib/model -run XXX -bench CallOverhead -benchtime 200x -count 3
func BenchmarkCallOverhead(b *testing.B) {
	cfg, err := ShapeConfig("smollm2-135m")
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewRandom(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	e, err := m.exec("test-overhead", func(in []*Node) []*Node { return []*Node{AddScalar(in[0], 1)} })
	if err != nil {
		b.Fatal(err)
	}
	ids := tensors.FromValue([]int32{3})
	args := append([]any{ids}, m.weightArgs()...)
	b.ResetTimer()
	start, cpu := time.Now(), cpuSeconds()
	for range b.N {
		outs, err := call(e, args...)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tensors.CopyFlatData[int32](outs[0]); err != nil {
			b.Fatal(err)
		}
		finalizeAll(outs)
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/call")
	b.ReportMetric((cpuSeconds()-cpu)*1e6/float64(b.N), "cpu-µs/call")
	b.ReportMetric(float64(len(args)), "inputs")
}
