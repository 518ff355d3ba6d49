//go:build unix

package model

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkPerRowSweep compares per-row steering (a layer sweep's mix of
// candidates in one batch, Bench's "per-row" mode) with plain batched
// generation of the same batch size and lengths on the SmolLM2-135M shape
// (random weights). After a compiling round the two alternate for three
// rounds; each keeps its best wall time and its least process CPU time (the
// work done, which a shared machine's load disturbs far less than the wall
// clock). It reports per-row/plain for both, per batch size (BENCHMARKS.md):
//
//	GOEXPERIMENT=simd GOMLX_BACKEND=go nice -n 10 go test ./steerlib/model -run XXX -bench PerRowSweep -benchtime 1x -timeout 60m
func BenchmarkPerRowSweep(b *testing.B) {
	m := randomSmolLM2(b)
	cfg := m.Config
	const promptLen, newTokens = 32, 16
	for range b.N {
		for _, B := range []int{8, 16} {
			prompts := make([][]int, B)
			for r := range prompts {
				prompts[r] = make([]int, promptLen)
				for t := range prompts[r] {
					prompts[r][t] = (r*7919 + t*104729 + 13) % cfg.VocabSize
				}
			}
			modes := benchModes(cfg, B, -1, true)
			modes = []benchMode{modes[0], modes[2]} // plain, per-row
			wall, cpu := []float64{1e9, 1e9}, []float64{1e9, 1e9}
			for round := range 4 { // round 0 compiles
				for i, mode := range modes {
					g := mode.opts
					g.MaxNewTokens, g.Greedy = newTokens, true
					c0, t0 := cpuSeconds(), time.Now()
					if _, err := m.Generate(prompts, g); err != nil {
						b.Fatal(err)
					}
					w, c := time.Since(t0).Seconds(), cpuSeconds()-c0
					b.Logf("round %d batch %2d %-8s wall %6.2f s, cpu %6.2f s", round, B, mode.Mode, w, c)
					if round > 0 {
						wall[i], cpu[i] = min(wall[i], w), min(cpu[i], c)
					}
				}
			}
			b.ReportMetric(wall[1]/wall[0], fmt.Sprintf("wall-per-row/plain@B%d", B))
			b.ReportMetric(cpu[1]/cpu[0], fmt.Sprintf("cpu-per-row/plain@B%d", B))
			b.Logf("batch %2d best: plain %.2f s wall %.2f s cpu (%.1f tok/s); per-row %.2f s wall %.2f s cpu (%.1f tok/s); per-row/plain wall %.2f, cpu %.2f",
				B, wall[0], cpu[0], float64(B*newTokens)/wall[0], wall[1], cpu[1], float64(B*newTokens)/wall[1], wall[1]/wall[0], cpu[1]/cpu[0])
		}
	}
}
