package tokenizer

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/gosteer/gosteer/steerlib/tokenizer/tokenizertest"
)

// BenchmarkEncodeCorpus encodes a corpus with each npm tokenizer: the JSON
// array of strings in $GOSTEER_BENCH_CORPUS (scripts/oracle/bench.sh writes
// it), else the committed test cases. Each iteration makes
// $GOSTEER_BENCH_PASSES (default 1) passes after one warm-up pass, matching
// scripts/oracle/bench_rust.mjs.
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
	total := 0
	for _, d := range docs {
		total += len(d)
	}
	for _, name := range tokenizertest.Names {
		b.Run(name, func(b *testing.B) {
			tk := loadNamed(b, name)
			for _, d := range docs { // warm-up, as on the Rust side
				if _, err := tk.Encode(d, false); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(total * passes))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for p := 0; p < passes; p++ {
					for _, d := range docs {
						if _, err := tk.Encode(d, false); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		})
	}
}
