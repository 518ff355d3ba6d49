package model

import (
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
)

// BenchOptions configures Bench.
type BenchOptions struct {
	Batches   []int // batch sizes, e.g. {1, 16}
	PromptLen int   // prompt tokens per row
	NewTokens int   // generated tokens per row (≥ 2)
	// SteerLayer is where the steered runs add c·u (negative: NumLayers/2).
	SteerLayer int
	// PerRow adds a third configuration per batch size: per-row steering as
	// a layer sweep batches it (see Bench).
	PerRow bool
	// Log receives progress lines (nil: none).
	Log io.Writer
}

// BenchRow is one measured configuration.
type BenchRow struct {
	Batch int `json:"batch"`
	// Mode is "plain", "steered" (one add op on every row) or "per-row" (a
	// layer sweep's mix: each row its own candidate layer, some rows none).
	Mode           string  `json:"mode"`
	Steered        bool    `json:"steered"`
	PromptLen      int     `json:"prompt"`
	NewTokens      int     `json:"new"`
	PrefillTokPerS float64 `json:"prefill_tok_per_s"`
	// DecodeMsPerStep is the time of one decode step for the whole batch.
	DecodeMsPerStep float64 `json:"decode_ms_per_step"`
	DecodeTokPerS   float64 `json:"decode_tok_per_s"`
	// DecodeCPUMsPerStep is the process CPU time (user + system) per decode
	// step: on a shared machine it moves less with the load than the wall time.
	DecodeCPUMsPerStep float64 `json:"decode_cpu_ms_per_step"`
	// TokPerS is generated tokens per second over the whole call (prefill included).
	TokPerS float64 `json:"tok_per_s"`
	// FloorRatio is DecodeMsPerStep / the memory-bandwidth floor.
	FloorRatio float64 `json:"decode_over_floor"`
}

// BenchResult holds Bench's figures.
type BenchResult struct {
	Backend     string `json:"backend"`
	DType       string `json:"dtype"`
	WeightBytes int64  `json:"weight_bytes"`
	// GraphFloorMs is the time of a compiled graph that reads every weight once;
	// HostFloorMs is WeightBytes over the host memory read bandwidth measured in
	// this process. FloorMs is the smaller: decode at batch 1 cannot beat it.
	GraphFloorMs float64    `json:"graph_floor_ms"`
	HostFloorMs  float64    `json:"host_floor_ms"`
	FloorMs      float64    `json:"floor_ms"`
	Rows         []BenchRow `json:"rows"`
}

// Bench measures prefill throughput and decode latency for each batch size,
// next to the memory-bandwidth floor: unsteered, with one add operator on
// every row, and with PerRow also per-row steering as a layer sweep batches
// it (row b adds c·u at candidate (b+1) mod k of "none", ⌊L/5⌋, ⌊L/5⌋+2, …).
// Each configuration runs once to compile, then once measured.
func Bench(m *Model, opts BenchOptions) (res *BenchResult, err error) {
	defer recoverTo(&err, "bench")
	cfg := m.Config
	if opts.NewTokens < 2 || opts.PromptLen < 1 || len(opts.Batches) == 0 {
		return nil, errors.New("bench: need NewTokens ≥ 2, PromptLen ≥ 1 and at least one batch size")
	}
	logf := func(format string, args ...any) {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, format+"\n", args...)
		}
	}
	res = &BenchResult{Backend: m.backend.Name(), DType: m.dtype.String(), WeightBytes: m.WeightBytes()}
	res.GraphFloorMs, err = m.graphFloor()
	if err != nil {
		return nil, fmt.Errorf("bench: floor: %w", err)
	}
	res.HostFloorMs = float64(res.WeightBytes) / hostReadBandwidth() * 1e3
	res.FloorMs = math.Min(res.GraphFloorMs, res.HostFloorMs)
	logf("weights %.1f MB (%s); floor: graph %.2f ms, host %.2f ms", float64(res.WeightBytes)/1e6, res.DType, res.GraphFloorMs, res.HostFloorMs)
	for _, B := range opts.Batches {
		prompts := make([][]int, B)
		for b := range prompts {
			prompts[b] = make([]int, opts.PromptLen)
			for t := range prompts[b] {
				prompts[b][t] = (b*7919 + t*104729 + 13) % cfg.VocabSize
			}
		}
		var plain float64
		for _, mode := range benchModes(cfg, B, opts.SteerLayer, opts.PerRow) {
			row, err := benchGenerate(m, prompts, opts, mode)
			if err != nil {
				return nil, fmt.Errorf("bench: batch %d %s: %w", B, mode.Mode, err)
			}
			row.FloorRatio = row.DecodeMsPerStep / res.FloorMs
			if mode.Mode == "plain" {
				plain = row.TokPerS
			}
			logf("batch %2d %-8s prefill %9.1f tok/s  decode %8.2f ms/step (%8.1f tok/s, cpu %8.2f ms/step)  decode/floor %.2f  total %7.1f tok/s (plain/this %.2f)",
				B, row.Mode, row.PrefillTokPerS, row.DecodeMsPerStep, row.DecodeTokPerS, row.DecodeCPUMsPerStep, row.FloorRatio, row.TokPerS, plain/row.TokPerS)
			res.Rows = append(res.Rows, row)
		}
	}
	return res, nil
}

// benchMode is one Bench configuration: its row template and its steering.
type benchMode struct {
	BenchRow
	opts GenerateOptions
}

// benchModes returns the plain, steered and (perRow) per-row configurations for batch B.
func benchModes(cfg *Config, B, steerLayer int, perRow bool) []benchMode {
	if steerLayer < 0 {
		steerLayer = cfg.NumLayers / 2
	}
	u := make([]float32, cfg.HiddenSize)
	for i := range u {
		u[i] = float32(math.Sin(float64(i+1))) / float32(math.Sqrt(float64(cfg.HiddenSize)/2))
	}
	candidates := []int{-1}
	for l := cfg.NumLayers / 5; l < cfg.NumLayers; l += 2 {
		candidates = append(candidates, l)
	}
	rows := make([][]SteerOp, B)
	for b := range rows {
		if l := candidates[(b+1)%len(candidates)]; l >= 0 {
			rows[b] = []SteerOp{{Layer: l, Kind: OpAdd, U: u, C: 4}}
		}
	}
	modes := []benchMode{
		{BenchRow: BenchRow{Mode: "plain"}},
		{BenchRow: BenchRow{Mode: "steered", Steered: true}, opts: GenerateOptions{Steer: []SteerOp{{Layer: steerLayer, Kind: OpAdd, U: u, C: 4}}}},
	}
	if perRow {
		modes = append(modes, benchMode{BenchRow: BenchRow{Mode: "per-row", Steered: true}, opts: GenerateOptions{RowSteer: rows}})
	}
	return modes
}

// benchGenerate times one configuration: a compiling run, then a measured one.
func benchGenerate(m *Model, prompts [][]int, opts BenchOptions, mode benchMode) (BenchRow, error) {
	B := len(prompts)
	row := mode.BenchRow
	row.Batch, row.PromptLen, row.NewTokens = B, opts.PromptLen, opts.NewTokens
	for rep := 0; rep < 2; rep++ { // first run compiles
		var first, last time.Time
		var cpuFirst, cpuLast float64
		g := mode.opts
		g.MaxNewTokens = opts.NewTokens
		g.Greedy = g.Temperature <= 0 // Bench's own modes are greedy
		g.OnToken = func(r, step, id int) {
			if r != 0 {
				return
			}
			if step == 0 {
				first, cpuFirst = time.Now(), cpuSeconds()
			}
			last, cpuLast = time.Now(), cpuSeconds()
		}
		start := time.Now()
		if _, err := m.Generate(prompts, g); err != nil {
			return row, err
		}
		row.PrefillTokPerS = float64(B*opts.PromptLen) / first.Sub(start).Seconds()
		row.DecodeMsPerStep = last.Sub(first).Seconds() * 1e3 / float64(opts.NewTokens-1)
		row.DecodeCPUMsPerStep = (cpuLast - cpuFirst) * 1e3 / float64(opts.NewTokens-1)
		row.TokPerS = float64(B*opts.NewTokens) / last.Sub(start).Seconds()
	}
	row.DecodeTokPerS = float64(B) * 1e3 / row.DecodeMsPerStep
	return row, nil
}

// graphFloor times a compiled graph that reads every weight once (sum of
// per-tensor maxima), best of 2 after a warm-up.
func (m *Model) graphFloor() (float64, error) {
	e, err := m.exec("floor", func(in []*Node) []*Node {
		var total *Node
		for _, w := range in {
			s := ReduceAllMax(ConvertDType(w, dtypes.Float32))
			if total == nil {
				total = s
			} else {
				total = Add(total, s)
			}
		}
		return []*Node{total}
	})
	if err != nil {
		return 0, err
	}
	best := math.Inf(1)
	for rep := 0; rep < 3; rep++ {
		start := time.Now()
		out, err := call(e, m.weightArgs()...)
		if err != nil {
			return 0, err
		}
		if _, err := toFloat32(out[0]); err != nil { // waits for the result
			return 0, err
		}
		finalizeAll(out)
		if rep > 0 {
			best = math.Min(best, time.Since(start).Seconds()*1e3)
		}
	}
	return best, nil
}

// hostReadBandwidth measures how fast this process reads memory (bytes/s):
// all cores stream a 256 MiB buffer through small cache-resident chunks;
// best of 5.
func hostReadBandwidth() float64 {
	const size = 256 << 20
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(i)
	}
	workers := runtime.GOMAXPROCS(0)
	best := 0.0
	for rep := 0; rep < 5; rep++ {
		var wg sync.WaitGroup
		start := time.Now()
		part := size / workers
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(lo, hi int) {
				defer wg.Done()
				scratch := make([]byte, 64<<10)
				for off := lo; off < hi; off += len(scratch) {
					copy(scratch, buf[off:min(off+len(scratch), hi)])
				}
			}(w*part, (w+1)*part)
		}
		wg.Wait()
		best = math.Max(best, float64(size)/time.Since(start).Seconds())
	}
	return best
}
