package tokenizer

import (
	"encoding/json"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gosteer/gosteer/steerlib/tokenizer/tokenizertest"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEncodeCorpus encodes a corpus with each npm tokenizer: the JSON
// array of strings in $GOSTEER_BENCH_CORPUS (scripts/oracle/bench.sh writes
// it), else the committed test cases. After one warm-up pass it makes
// $GOSTEER_BENCH_PASSES (default 1) timed passes, like
// scripts/oracle/bench_rust.mjs, and reports besides ns/op:
//
//	best-MB/s  throughput of the fastest pass (wall clock)
//	cpu-MB/s   bytes over the process CPU time of all passes
//
// GOSTEER_BENCH_NOFAST=1 disables the hand-written pre-tokenizer matchers
// (the regexp2 baseline); GOSTEER_BENCH_NOCACHE=1 disables the word cache.
func BenchmarkEncodeCorpus(b *testing.B) {
	var docs []string
	if path := os.Getenv("GOSTEER_BENCH_CORPUS"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(data, &docs); err != nil {
			b.Fatal(err)
		}
	} else {
		docs = loadVectors(b).Cases
	}
	passes := 1
	if s := os.Getenv("GOSTEER_BENCH_PASSES"); s != "" {
		var err error
		if passes, err = strconv.Atoi(s); err != nil || passes < 1 {
			b.Fatalf("GOSTEER_BENCH_PASSES=%q", s)
		}
	}
	if os.Getenv("GOSTEER_BENCH_NOFAST") == "1" {
		fastMatchers = false
		defer func() { fastMatchers = true }()
		clear(loaded)
		defer clear(loaded)
	}
	if os.Getenv("GOSTEER_BENCH_NOCACHE") == "1" {
		saved := maxCacheEntries
		maxCacheEntries = 0
		defer func() { maxCacheEntries = saved }()
		clear(loaded)
		defer clear(loaded)
	}
	total := 0
	for _, d := range docs {
		total += len(d)
	}
	for _, name := range tokenizertest.Names {
		b.Run(name, func(b *testing.B) {
			tk := loadNamed(b, name)
			encodeAll := func() {
				for _, d := range docs {
					if _, err := tk.Encode(d, false); err != nil {
						b.Fatal(err)
					}
				}
			}
			encodeAll() // warm-up, as on the Rust side
			b.SetBytes(int64(total * passes))
			b.ResetTimer()
			var best time.Duration
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				for p := 0; p < passes; p++ {
					t0 := time.Now()
					encodeAll()
					if d := time.Since(t0); best == 0 || d < best {
						best = d
					}
				}
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(total)/best.Seconds()/1e6, "best-MB/s")
			if cpu > 0 {
				b.ReportMetric(float64(total*passes*b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
			}
		})
	}
}
