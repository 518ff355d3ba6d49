package model

import (
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
