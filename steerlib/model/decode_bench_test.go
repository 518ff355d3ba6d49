package model

import (
	"math"
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
	m := randomSmolLM2(b)
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

// BenchmarkSamplingStep compares greedy decoding with sampling (temperature
// 0.8 alone, with top-k 50, with top-p 0.95, with both) on the SmolLM2-135M
// shape (random weights, vocabulary 49152) at batch 16, prompt 32, 16 new
// tokens: the least process CPU time and the best wall time per decode step
// over two measured runs, each after an unmeasured one (Bench's timing;
// BENCHMARKS.md):
//
//	GOEXPERIMENT=simd GOMLX_BACKEND=go nice -n 10 go test ./steerlib/model -run XXX -bench SamplingStep -benchtime 1x
func BenchmarkSamplingStep(b *testing.B) {
	m := randomSmolLM2(b)
	cfg := m.Config
	const B, promptLen, newTokens = 16, 32, 16
	prompts := make([][]int, B)
	for r := range prompts {
		for t := range promptLen {
			prompts[r] = append(prompts[r], (r*7919+t*104729+13)%cfg.VocabSize)
		}
	}
	for _, mode := range []struct {
		name string
		opts GenerateOptions
	}{
		{"greedy", GenerateOptions{Greedy: true}},
		{"T", GenerateOptions{Temperature: 0.8, Seed: 1}},
		{"T+k", GenerateOptions{Temperature: 0.8, TopK: 50, Seed: 1}},
		{"T+p", GenerateOptions{Temperature: 0.8, TopP: 0.95, Seed: 1}},
		{"T+k+p", GenerateOptions{Temperature: 0.8, TopK: 50, TopP: 0.95, Seed: 1}},
	} {
		bestWall, bestCPU := math.Inf(1), math.Inf(1)
		for range 2 { // benchGenerate compiles, then measures
			row, err := benchGenerate(m, prompts, BenchOptions{PromptLen: promptLen, NewTokens: newTokens}, benchMode{opts: mode.opts})
			if err != nil {
				b.Fatal(err)
			}
			bestWall, bestCPU = math.Min(bestWall, row.DecodeMsPerStep), math.Min(bestCPU, row.DecodeCPUMsPerStep)
		}
		b.ReportMetric(bestCPU, "cpu-ms/step-"+mode.name)
		b.ReportMetric(bestWall, "ms/step-"+mode.name)
	}
}

// randomSmolLM2 returns the SmolLM2-135M shape with random weights, closed
// when the benchmark ends.
func randomSmolLM2(b *testing.B) *Model {
	b.Helper()
	cfg, err := ShapeConfig("smollm2-135m")
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewRandom(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}
