package model

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
)

func TestParseMemAvailable(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   12000000 kB\n", 12000000 * 1024, true},
		{"MemTotal:       24000000 kB\n", 0, false},
		{"MemAvailable:   x kB\n", 0, false},
		{"MemAvailable:   -5 kB\n", 0, false},
		{"MemAvailable:   99999999999999999 kB\n", 0, false}, // × 1024 overflows int64
		{"MemAvailable:   7 MB\n", 0, false},
	} {
		got, ok := parseMemAvailable([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("parseMemAvailable(%q) = %d, %t; want %d, %t", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestCheckedBytes(t *testing.T) {
	for _, c := range []struct {
		size    int
		dims    []int
		want    int64
		wantErr string
	}{
		{4, []int{2, 3}, 24, ""},
		{2, nil, 2, ""},
		{4, []int{0, 1 << 40}, 0, ""},
		{4, []int{1 << 31, 1 << 31}, 0, "overflows"}, // 2^64 bytes
		{4, []int{math.MaxInt64/4 + 1}, 0, "overflows"},
		{4, []int{3, -1}, 0, "negative"},
	} {
		got, err := checkedBytes(c.size, c.dims...)
		switch {
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("checkedBytes(%d, %v) error %v, want %q", c.size, c.dims, err, c.wantErr)
		case c.wantErr == "" && (err != nil || got != c.want):
			t.Errorf("checkedBytes(%d, %v) = %d, %v; want %d", c.size, c.dims, got, err, c.want)
		}
	}
}

// TestWeightBytesMatchesLoaded checks the pre-load estimate against what
// the loaded weights occupy, for every architecture fixture.
func TestWeightBytesMatchesLoaded(t *testing.T) {
	for _, name := range []string{"llama", "llama_tied", "gemma2", "gpt2", "phi3", "qwen3"} {
		m := loadFixture(t, name)
		est, err := weightBytes(m.Config, dtypes.Float32)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.WeightBytes(); est != got {
			t.Errorf("%s: estimate %d bytes, loaded %d", name, est, got)
		}
		m.Close()
	}
	huge := &Config{VocabSize: 1 << 40, HiddenSize: 1 << 40, NumLayers: 1, NumHeads: 1, NumKVHeads: 1, HeadDim: 1, IntermediateSize: 1}
	if _, err := weightBytes(huge, dtypes.Float32); err == nil || !strings.Contains(err.Error(), "overflows int64") {
		t.Errorf("weightBytes of a 2^80-element embedding: error %v, want an overflow", err)
	}
	if _, err := kvCacheBytes(huge, 1<<30, 1<<30, dtypes.Float32); err == nil || !strings.Contains(err.Error(), "KV cache: ") {
		t.Errorf("kvCacheBytes overflow: error %v", err)
	}
}

// TestMemoryRefusals checks that Load refuses weights over the limit before
// loading, naming both sizes, and that Generate refuses a KV cache that
// does not fit what the weights leave, before allocating it.
func TestMemoryRefusals(t *testing.T) {
	dir := fixtureDir("llama")
	ref := loadFixture(t, "llama")
	W := ref.WeightBytes()
	cfg := ref.Config
	ref.Close()
	prompts := [][]int{{1, 2, 3}}
	S := BucketLen(BucketLen(3) + 4)
	kv, err := kvCacheBytes(cfg, BucketBatch(1), S, dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name          string
		limit         int64
		loadErr, gErr string // "": no error
	}{
		{"no-limit", -1, "", ""},
		{"weights-just-fit-kv-does-not", W + kv - 1, "", "not enough memory for the KV cache for batch 1 (bucket 1) × length "},
		{"weights-and-kv-fit", W + kv, "", ""},
		{"weights-too-big", W - 1, "not enough memory for the weights (float32): " + byteSize(W) + " needed, the memory limit is " + byteSize(W-1), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Load(dir, WithMemoryLimit(c.limit))
			if c.loadErr != "" {
				if !errors.Is(err, ErrMemory) || !strings.Contains(err.Error(), c.loadErr) {
					t.Fatalf("load: error %v, want ErrMemory with %q", err, c.loadErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			before := m.NumCompiled()
			_, err = m.Generate(prompts, GenerateOptions{MaxNewTokens: 4, Greedy: true})
			switch {
			case c.gErr == "" && err != nil:
				t.Errorf("generate: %v", err)
			case c.gErr != "" && (!errors.Is(err, ErrMemory) || !strings.Contains(err.Error(), c.gErr) || !strings.Contains(err.Error(), byteSize(kv))):
				t.Errorf("generate: error %v, want ErrMemory with %q and %s", err, c.gErr, byteSize(kv))
			case c.gErr != "" && m.NumCompiled() != before:
				t.Errorf("generate compiled %d graphs before refusing", m.NumCompiled()-before)
			}
		})
	}
}

func TestByteSize(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 bytes"},
		{1023, "1023 bytes"},
		{1536, "1536 bytes (1.50 KiB)"},
		{3 << 20, "3145728 bytes (3.00 MiB)"},
		{5 << 30, "5368709120 bytes (5.00 GiB)"},
	} {
		if got := byteSize(c.n); got != c.want {
			t.Errorf("byteSize(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
