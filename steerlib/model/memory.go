package model

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"

	"github.com/gomlx/compute/dtypes"
)

// Memory checks. Before loading, the weights' size in the compute dtype,
//
//	W = Σ_tensors Π shape × sizeof(dtype),
//
// is compared with the memory available; before a Generate call allocates
// its KV cache, so is
//
//	KV = 2 × L × B × KVheads × S × head_dim × sizeof(dtype)
//
// for the bucketed batch B and cache length S. Products are checked for
// int64 overflow (a config can claim any sizes). The memory available is
// the WithMemoryLimit option or, by default, MemAvailable in /proc/meminfo
// (no check where that file is missing, e.g. off Linux).

// ErrMemory is wrapped by the errors of Load and Generate calls refused
// because the weights or the KV cache would not fit in memory.
var ErrMemory = errors.New("not enough memory")

// meminfoPath is the Linux file the memory available is read from.
const meminfoPath = "/proc/meminfo"

// WithMemoryLimit sets the bytes of memory the model may use for its weights
// and, in Generate, its KV cache: n > 0 uses n, 0 (default) reads
// MemAvailable from /proc/meminfo at each check, n < 0 disables the checks.
func WithMemoryLimit(n int64) Option { return func(o *options) { o.memLimit = n } }

// memAvailable returns the bytes available under limit (see
// WithMemoryLimit) and where the figure comes from; ok is false when there
// is nothing to check against.
func memAvailable(limit int64) (n int64, source string, ok bool) {
	switch {
	case limit > 0:
		return limit, "the memory limit", true
	case limit < 0:
		return 0, "", false
	}
	b, err := os.ReadFile(meminfoPath)
	if err != nil {
		return 0, "", false
	}
	n, ok = parseMemAvailable(b)
	return n, "MemAvailable in " + meminfoPath, ok
}

// parseMemAvailable reads the "MemAvailable: N kB" line of /proc/meminfo.
func parseMemAvailable(b []byte) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "MemAvailable:" || f[2] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || kb < 0 || kb > math.MaxInt64/1024 {
			return 0, false
		}
		return kb * 1024, true
	}
	return 0, false
}

// checkedBytes returns Π dims × size, or an error when a factor is negative
// or the product overflows int64.
func checkedBytes(size int, dims ...int) (int64, error) {
	p := uint64(size)
	for _, d := range append([]int{size}, dims...) {
		if d < 0 {
			return 0, fmt.Errorf("size %v: negative dimension %d", dims, d)
		}
	}
	for _, d := range dims {
		hi, lo := bits.Mul64(p, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("size %v × %d bytes overflows int64", dims, size)
		}
		p = lo
	}
	return int64(p), nil
}

// addBytes returns a + b, or an error on int64 overflow (a, b ≥ 0).
func addBytes(a, b int64) (int64, error) {
	if a > math.MaxInt64-b {
		return 0, errors.New("total size overflows int64")
	}
	return a + b, nil
}

// weightBytes is W above for cfg in dtype.
func weightBytes(cfg *Config, dtype dtypes.DType) (int64, error) {
	var total int64
	for name, shape := range WeightShapes(cfg) {
		n, err := checkedBytes(dtype.Size(), shape...)
		if err != nil {
			return 0, fmt.Errorf("weight %s: %w", name, err)
		}
		if total, err = addBytes(total, n); err != nil {
			return 0, fmt.Errorf("weights: %w", err)
		}
	}
	return total, nil
}

// kvCacheBytes is KV above for a batch of B rows and S cache slots.
func kvCacheBytes(cfg *Config, B, S int, dtype dtypes.DType) (int64, error) {
	n, err := checkedBytes(dtype.Size(), 2, cfg.NumLayers, B, cfg.NumKVHeads, S, cfg.HeadDim)
	if err != nil {
		return 0, fmt.Errorf("KV cache: %w", err)
	}
	return n, nil
}

// checkWeightsFit refuses, before loading, weights of cfg that would not
// fit in memory under o's limit.
func checkWeightsFit(cfg *Config, o options) error {
	w, err := weightBytes(cfg, o.dtype)
	if err != nil {
		return err
	}
	return checkFits(fmt.Sprintf("the weights (%s)", dtypeName(o.dtype)), w, o.memLimit)
}

// kvLimit is the limit a KV cache is checked against: an explicit limit
// less the weights (at least 1 byte), else the model's own setting.
func (m *Model) kvLimit() int64 {
	if m.memLimit <= 0 {
		return m.memLimit
	}
	return max(1, m.memLimit-m.WeightBytes())
}

// checkFits returns an error wrapping ErrMemory when need bytes (of what)
// exceed the memory available under limit.
func checkFits(what string, need, limit int64) error {
	avail, source, ok := memAvailable(limit)
	if !ok || need <= avail {
		return nil
	}
	return fmt.Errorf("%w for %s: %s needed, %s is %s", ErrMemory, what, byteSize(need), source, byteSize(avail))
}

// byteSize formats n bytes as "N bytes (x.yz U)", U the largest of GiB,
// MiB and KiB that n reaches (none below 1 KiB).
func byteSize(n int64) string {
	for _, u := range []struct {
		name  string
		shift uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n >= 1<<u.shift {
			return fmt.Sprintf("%d bytes (%.2f %s)", n, float64(n)/float64(int64(1)<<u.shift), u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// dtypeName is dt as users write it ("float32", "bfloat16").
func dtypeName(dt dtypes.DType) string { return strings.ToLower(dt.String()) }
