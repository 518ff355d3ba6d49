package model

import (
	"fmt"
	"strings"
	"testing"
)

// TestBenchPerRow: with PerRow, Bench measures plain, steered and per-row
// generation for each batch size, and logs each with its throughput ratio.
func TestBenchPerRow(t *testing.T) {
	m := loadFixture(t, "gpt2")
	var log strings.Builder
	res, err := Bench(m, BenchOptions{Batches: []int{1, 5}, PromptLen: 4, NewTokens: 3, SteerLayer: -1, PerRow: true, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 6 {
		t.Fatalf("%d rows, want 6", len(res.Rows))
	}
	for i, r := range res.Rows {
		want := []string{"plain", "steered", "per-row"}[i%3]
		if r.Mode != want || r.Batch != []int{1, 5}[i/3] || r.TokPerS <= 0 || r.DecodeMsPerStep <= 0 {
			t.Errorf("row %d: %+v, want mode %s", i, r, want)
		}
	}
	if !strings.Contains(log.String(), "per-row") || !strings.Contains(log.String(), "plain/this") {
		t.Errorf("log lacks the per-row rows:\n%s", log.String())
	}
}

// BenchmarkPerRowSweep compares per-row steering (a layer sweep's mix of
// candidates in one batch) with plain batched generation of the same batch
// size and lengths on the SmolLM2-135M shape (random weights); it reports
// plain/per-row throughput per batch size (BENCHMARKS.md):
//
//	GOEXPERIMENT=simd GOMLX_BACKEND=go nice -n 10 go test ./steerlib/model -run XXX -bench PerRowSweep -benchtime 1x
func BenchmarkPerRowSweep(b *testing.B) {
	cfg, err := ShapeConfig("smollm2-135m")
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewRandom(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	for range b.N {
		var log strings.Builder
		res, err := Bench(m, BenchOptions{Batches: []int{8, 16}, PromptLen: 32, NewTokens: 16, SteerLayer: -1, PerRow: true, Log: &log})
		if err != nil {
			b.Fatal(err)
		}
		b.Log("\n" + log.String())
		for i := 0; i+2 < len(res.Rows); i += 3 {
			plain, rows := res.Rows[i], res.Rows[i+2]
			b.ReportMetric(plain.TokPerS/rows.TokPerS, fmt.Sprintf("plain/per-row@B%d", plain.Batch))
		}
	}
}
