package safetensors

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.safetensors")
	in := []Tensor{
		F32("b.weight", []int{2, 3}, []float32{1, -2, 3.5, 0, float32(math.Inf(1)), -0.25}),
		I32("a.ids", []int{3}, []int32{7, -1, 1 << 30}),
		F32("scalar", nil, []float32{42}),
	}
	meta := map[string]string{"format": "pt", "k": "v"}
	if err := Write(path, in, meta); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, want := strings.Join(f.Names(), ","), "a.ids,b.weight,scalar"; got != want {
		t.Fatalf("names %q, want %q", got, want)
	}
	if f.Metadata()["k"] != "v" {
		t.Fatalf("metadata %v", f.Metadata())
	}
	b, _ := f.Tensor("b.weight")
	v, err := b.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float32{1, -2, 3.5, 0, float32(math.Inf(1)), -0.25} {
		if v[i] != want {
			t.Fatalf("b.weight[%d] = %v, want %v", i, v[i], want)
		}
	}
	a, _ := f.Tensor("a.ids")
	ids, err := a.Int32s()
	if err != nil || ids[0] != 7 || ids[1] != -1 || ids[2] != 1<<30 {
		t.Fatalf("a.ids = %v, %v", ids, err)
	}
	s, _ := f.Tensor("scalar")
	if len(s.Shape) != 0 || s.NumElements() != 1 {
		t.Fatalf("scalar shape %v", s.Shape)
	}
	if _, err := a.Float32s(); err == nil {
		t.Fatal("converting I32 to float32 must fail")
	}
}

func TestHalfConversions(t *testing.T) {
	for _, tc := range []struct {
		bits uint16
		want float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 5.960464477539063e-08},
		{0x0000, 0}, {0x7c00, float32(math.Inf(1))}, {0x3555, 0.333251953125},
	} {
		if got := HalfToFloat32(tc.bits); got != tc.want {
			t.Errorf("HalfToFloat32(%#04x) = %v, want %v", tc.bits, got, tc.want)
		}
	}
	bf := Tensor{Name: "x", DType: BFloat16, Shape: []int{2}, Data: []byte{0x80, 0x3f, 0x40, 0xc0}}
	v, err := bf.Float32s()
	if err != nil || v[0] != 1 || v[1] != -3 {
		t.Fatalf("bf16 -> %v %v", v, err)
	}
}

func header(h string) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, uint64(len(h)))
	return append(b, h...)
}

func TestCorruptFiles(t *testing.T) {
	good, err := Encode([]Tensor{F32("w", []int{4}, []float32{1, 2, 3, 4})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	huge := make([]byte, 16)
	binary.LittleEndian.PutUint64(huge, 1<<40)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"truncated data", good[:len(good)-3], "outside"},
		{"truncated header", good[:12], "truncated"},
		{"oversized header", huge, "exceeds"},
		{"bad json", header("{not json"), "header"},
		{"size mismatch", append(header(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`), make([]byte, 8)...), "want 12"},
		{"unknown dtype", append(header(`{"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}`), 0), "unsupported dtype"},
		{"overlap", append(header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}`), make([]byte, 6)...), "overlap"},
	}
	dir := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := Open(p)
			if err == nil {
				f.Close()
				t.Fatalf("Open succeeded, want error mentioning %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
	if _, err := Open(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing file must fail")
	}
}

func TestEncodeRejects(t *testing.T) {
	bad := Tensor{Name: "w", DType: Float32, Shape: []int{3}, Data: make([]byte, 8)}
	if _, err := Encode([]Tensor{bad}, nil); err == nil {
		t.Fatal("size mismatch must fail")
	}
	x := F32("w", []int{1}, []float32{1})
	if _, err := Encode([]Tensor{x, x}, nil); err == nil {
		t.Fatal("duplicate name must fail")
	}
}

// TestReadsHuggingFaceFile reads a file written by the Python safetensors
// library (a fixture from ../shared), when present.
func TestReadsHuggingFaceFile(t *testing.T) {
	p := filepath.Join("..", "..", "..", "shared", "fixtures", "hf-tiny", "llama", "reference.safetensors")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("fixture not present (%v): skipping", err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids, ok := f.Tensor("input_ids")
	if !ok || ids.DType != Int32 || len(ids.Shape) != 2 || ids.Shape[0] != 2 || ids.Shape[1] != 12 {
		t.Fatalf("input_ids = %+v", ids)
	}
	if f.Metadata()["steer_layer"] != "2" {
		t.Fatalf("metadata = %v", f.Metadata())
	}
}
