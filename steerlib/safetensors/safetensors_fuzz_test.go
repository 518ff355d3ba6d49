package safetensors

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds returns seed images: small encoded files and the real reference
// activations of the hf-tiny fixtures.
func fuzzSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	small, err := Encode([]Tensor{F32("a", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}), I32("b", []int{2}, []int32{7, -8}),
		{Name: "h", DType: BFloat16, Shape: []int{}, Data: []byte{0x80, 0x3f}}}, map[string]string{"format": "pt"})
	if err != nil {
		tb.Fatal(err)
	}
	seeds = append(seeds, small)
	hdr := func(json string) []byte {
		b := make([]byte, 8, 8+len(json)+16)
		binary.LittleEndian.PutUint64(b, uint64(len(json)))
		return append(append(b, json...), make([]byte, 16)...)
	}
	seeds = append(seeds,
		hdr(`{"x":{"dtype":"F32","shape":[1152921504606846976,16],"data_offsets":[0,0]}}`),
		hdr(`{"x":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`),
		hdr(`{"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"y":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`),
		hdr(`{"__metadata__":{"k":"v"},"x":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}`))
	paths, _ := filepath.Glob("../model/testdata/hf-tiny/*/reference.safetensors")
	for _, p := range paths[:min(len(paths), 2)] {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzParse checks that any byte string either parses into tensors whose
// data lie inside the input with exactly the bytes their dtype and shape
// need, or gives an error — never a panic, and never an allocation that the
// input's size does not justify (conversions allocate at most 4 bytes of
// output per input byte).
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		for _, name := range file.Names() {
			tn, ok := file.Tensor(name)
			if !ok {
				t.Fatalf("name %q listed but missing", name)
			}
			n := tn.NumElements()
			if n < 0 || n*tn.DType.Size() != len(tn.Data) || len(tn.Data) > len(data) {
				t.Fatalf("tensor %q: %d elements of %s in %d bytes (input %d)", name, n, tn.DType, len(tn.Data), len(data))
			}
			if fs, err := tn.Float32s(); err == nil && len(fs) != n {
				t.Fatalf("tensor %q: Float32s gave %d values for %d elements", name, len(fs), n)
			}
			if is, err := tn.Int32s(); err == nil && len(is) != n {
				t.Fatalf("tensor %q: Int32s gave %d values for %d elements", name, len(is), n)
			}
		}
		if _, err := Encode(tensorsOf(file), file.Metadata()); err != nil {
			t.Fatalf("a parsed file does not re-encode: %v", err)
		}
	})
}

func tensorsOf(f *File) []Tensor {
	var out []Tensor
	for _, n := range f.Names() {
		t, _ := f.Tensor(n)
		out = append(out, t)
	}
	return out
}
