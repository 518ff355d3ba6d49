package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchCLI runs the benchmark on a fixture folder (tiny, fast) and
// checks the report and JSON carry every configuration with sane figures.
func TestBenchCLI(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	code, stdout, stderr := runSteer("bench", "--model", runtimeFixture("qwen2"), "--batches", "1,3", "--prompt", "5", "--new", "3", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "decode/floor") {
		t.Errorf("report lacks the floor ratio:\n%s", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		FloorMs float64 `json:"floor_ms"`
		Rows    []struct {
			Batch   int     `json:"batch"`
			Steered bool    `json:"steered"`
			Prefill float64 `json:"prefill_tok_per_s"`
			Decode  float64 `json:"decode_ms_per_step"`
			Ratio   float64 `json:"decode_over_floor"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 4 || res.FloorMs <= 0 {
		t.Fatalf("want 4 rows and a positive floor, got %+v", res)
	}
	for i, r := range res.Rows {
		if r.Batch != []int{1, 1, 3, 3}[i] || r.Steered != (i%2 == 1) || r.Prefill <= 0 || r.Decode <= 0 || r.Ratio <= 0 {
			t.Errorf("row %d: %+v", i, r)
		}
	}
	// --per-row adds a third row per batch size: per-row steering.
	code, stdout, stderr = runSteer("bench", "--model", runtimeFixture("qwen2"), "--batches", "2", "--prompt", "5", "--new", "3", "--per-row", "--out", out)
	if code != 0 {
		t.Fatalf("--per-row: exit %d: %s", code, stderr)
	}
	if data, err = os.ReadFile(out); err != nil {
		t.Fatal(err)
	}
	var pr struct {
		Rows []struct {
			Batch   int     `json:"batch"`
			Mode    string  `json:"mode"`
			Steered bool    `json:"steered"`
			Decode  float64 `json:"decode_ms_per_step"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(data, &pr); err != nil {
		t.Fatal(err)
	}
	if len(pr.Rows) != 3 || !strings.Contains(stdout, "per-row") {
		t.Fatalf("--per-row: want plain, steered and per-row rows, got %+v\n%s", pr.Rows, stdout)
	}
	for i, r := range pr.Rows {
		if r.Batch != 2 || r.Mode != []string{"plain", "steered", "per-row"}[i] || r.Steered != (i > 0) || r.Decode <= 0 {
			t.Errorf("--per-row row %d: %+v", i, r)
		}
	}
	if code, _, stderr := runSteer("bench", "--shape", "smollm2-135m", "--model", runtimeFixture("qwen2")); code != 2 {
		t.Errorf("--shape with --model: exit %d (%s), want usage error 2", code, stderr)
	}
}
