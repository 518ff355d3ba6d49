package model

import (
	"os"
	"strconv"
	"testing"
	"time"
)

func TestManualBench(t *testing.T) {
	if os.Getenv("MANUAL_BENCH") == "" {
		t.Skip()
	}
	cfg, _ := ShapeConfig("smollm2-135m")
	m, err := NewRandom(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	B, _ := strconv.Atoi(os.Getenv("MANUAL_B"))
	prompts := make([][]int, B)
	for i := range prompts {
		prompts[i] = make([]int, 32)
		for j := range prompts[i] {
			prompts[i][j] = (i*31 + j*7) % 1000
		}
	}
	for rep := 0; rep < 3; rep++ {
		var first, last time.Time
		start := time.Now()
		_, err := m.Generate(prompts, GenerateOptions{MaxNewTokens: 65, OnToken: func(r, s, id int) {
			if r == 0 && s == 0 {
				first = time.Now()
			}
			last = time.Now()
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("prefill %v decode %v/step", first.Sub(start), last.Sub(first)/64)
	}
}
