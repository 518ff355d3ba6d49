// Package safetensors reads and writes the safetensors tensor file format used
// by Hugging Face checkpoints, gosteer's activation dumps and vector files.
//
// A file is an 8-byte little-endian header length N, N bytes of JSON mapping
// tensor names to {dtype, shape, data_offsets} (plus an optional
// "__metadata__" map of strings), then the raw little-endian tensor bytes.
//
// Open memory-maps the file, so loading a multi-gigabyte checkpoint does not
// hold a second copy in memory: Tensor.Data aliases the mapping and is valid
// until File.Close.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"syscall"

	"github.com/gosteer/gosteer/steerlib/internal/atomicfile"
)

// DType is a safetensors element type name, e.g. "F32" or "BF16".
type DType string

// Element types known to this package.
const (
	Float64  DType = "F64"
	Float32  DType = "F32"
	Float16  DType = "F16"
	BFloat16 DType = "BF16"
	Int64    DType = "I64"
	Int32    DType = "I32"
	Int16    DType = "I16"
	Int8     DType = "I8"
	Uint8    DType = "U8"
	Bool     DType = "BOOL"
)

// Size returns the size in bytes of one element, or 0 for an unknown type.
func (d DType) Size() int {
	switch d {
	case Float64, Int64:
		return 8
	case Float32, Int32:
		return 4
	case Float16, BFloat16, Int16:
		return 2
	case Int8, Uint8, Bool:
		return 1
	}
	return 0
}

// MaxHeaderSize bounds the JSON header; larger headers are rejected as corrupt
// (the reference implementation uses the same 100 MB limit).
const MaxHeaderSize = 100 << 20

// Tensor is one named tensor. Data holds the raw little-endian bytes.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// NumElements returns the product of the shape (1 for a scalar), or -1 when
// a dimension is negative or the product overflows an int.
func (t Tensor) NumElements() int {
	n, ok := Elements(t.Shape)
	if !ok {
		return -1
	}
	return n
}

// Elements returns the product of shape and whether it is valid: no negative
// dimension and no overflow of an int (checked before each multiplication, so
// a header claiming 2^40 × 2^40 elements is refused rather than wrapped).
func Elements(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > math.MaxInt/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// byteSize returns NumElements × DType.Size, checked for overflow.
func (t Tensor) byteSize() (int, error) {
	es := t.DType.Size()
	if es == 0 {
		return 0, fmt.Errorf("tensor %q: unsupported dtype %q", t.Name, t.DType)
	}
	n, ok := Elements(t.Shape)
	if !ok || n > math.MaxInt/es {
		return 0, fmt.Errorf("tensor %q: shape %v of %s overflows the addressable size", t.Name, t.Shape, t.DType)
	}
	return n * es, nil
}

// checkData verifies that Data holds exactly the bytes the shape and dtype
// need, so conversions never index outside it.
func (t Tensor) checkData() (int, error) {
	size, err := t.byteSize()
	if err != nil {
		return 0, err
	}
	if size != len(t.Data) {
		return 0, fmt.Errorf("tensor %q: %d bytes for %s%v, want %d", t.Name, len(t.Data), t.DType, t.Shape, size)
	}
	return size / t.DType.Size(), nil
}

// File is an open safetensors file.
type File struct {
	path     string
	mapping  []byte
	tensors  map[string]Tensor
	names    []string
	metadata map[string]string
}

type headerEntry struct {
	DType       DType    `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// Open memory-maps path and validates its header: every tensor's offsets lie
// inside the data section, match its dtype and shape, and do not overlap.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	size := st.Size()
	if size < 8 {
		return nil, fmt.Errorf("safetensors %s: file is %d bytes, too short for a header (truncated?)", path, size)
	}
	var data []byte
	if size > 0 {
		data, err = syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
		if err != nil {
			// Fall back to reading into memory (e.g. filesystems without mmap).
			data, err = os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("safetensors %s: %w", path, err)
			}
		}
	}
	file, err := parse(path, data)
	if err != nil {
		_ = syscall.Munmap(data)
		return nil, err
	}
	file.mapping = data
	return file, nil
}

// Parse reads a safetensors image already in memory. The returned tensors
// alias buf.
func Parse(buf []byte) (*File, error) { return parse("<memory>", buf) }

func parse(path string, data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("safetensors %s: %d bytes, too short for a header (truncated?)", path, len(data))
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors %s: header size %d exceeds the %d-byte limit (corrupt file?)", path, n, MaxHeaderSize)
	}
	if 8+n > uint64(len(data)) {
		return nil, fmt.Errorf("safetensors %s: header of %d bytes but file has %d (truncated?)", path, n, len(data))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &raw); err != nil {
		return nil, fmt.Errorf("safetensors %s: header: %w", path, err)
	}
	body := data[8+n:]
	file := &File{path: path, tensors: map[string]Tensor{}, metadata: map[string]string{}}
	type span struct {
		name       string
		start, end int64
	}
	var spans []span
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &file.metadata); err != nil {
				return nil, fmt.Errorf("safetensors %s: __metadata__ must map strings to strings: %w", path, err)
			}
			continue
		}
		var e headerEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("safetensors %s: tensor %q: %w", path, name, err)
		}
		for _, d := range e.Shape {
			if d < 0 {
				return nil, fmt.Errorf("safetensors %s: tensor %q: negative dimension in shape %v", path, name, e.Shape)
			}
		}
		want, err := Tensor{Name: name, DType: e.DType, Shape: e.Shape}.byteSize()
		if err != nil {
			return nil, fmt.Errorf("safetensors %s: %w", path, err)
		}
		start, end := e.DataOffsets[0], e.DataOffsets[1]
		if start < 0 || end < start || end > int64(len(body)) {
			return nil, fmt.Errorf("safetensors %s: tensor %q: offsets [%d,%d) outside the %d-byte data section (truncated?)", path, name, start, end, len(body))
		}
		if end-start != int64(want) {
			return nil, fmt.Errorf("safetensors %s: tensor %q: %d bytes for %s%v, want %d", path, name, end-start, e.DType, e.Shape, want)
		}
		shape := e.Shape
		if shape == nil {
			shape = []int{}
		}
		file.tensors[name] = Tensor{Name: name, DType: e.DType, Shape: shape, Data: body[start:end:end]}
		file.names = append(file.names, name)
		spans = append(spans, span{name, start, end})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			return nil, fmt.Errorf("safetensors %s: tensors %q and %q overlap", path, spans[i-1].name, spans[i].name)
		}
	}
	sort.Strings(file.names)
	return file, nil
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// Names returns the tensor names in sorted order.
func (f *File) Names() []string { return append([]string(nil), f.names...) }

// Tensor returns the named tensor and whether it exists.
func (f *File) Tensor(name string) (Tensor, bool) {
	t, ok := f.tensors[name]
	return t, ok
}

// Metadata returns the file's "__metadata__" map (never nil).
func (f *File) Metadata() map[string]string { return f.metadata }

// Close releases the memory mapping; tensors obtained from f must not be used
// afterwards.
func (f *File) Close() error {
	if f.mapping == nil {
		return nil
	}
	m := f.mapping
	f.mapping = nil
	if err := syscall.Munmap(m); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("safetensors %s: close: %w", f.path, err)
	}
	return nil
}

// Float32s converts the tensor to float32 (from F32, Float64, Float16 or BF16).
func (t Tensor) Float32s() ([]float32, error) {
	n, err := t.checkData()
	if err != nil {
		return nil, err
	}
	out := make([]float32, n)
	d := t.Data
	switch t.DType {
	case Float32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case Float64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:])))
		}
	case BFloat16:
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(d[2*i:])) << 16)
		}
	case Float16:
		for i := range out {
			out[i] = HalfToFloat32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	default:
		return nil, fmt.Errorf("tensor %q: cannot convert %s to float32", t.Name, t.DType)
	}
	return out, nil
}

// Int32s converts an integer tensor to int32, failing on values out of range.
func (t Tensor) Int32s() ([]int32, error) {
	n, err := t.checkData()
	if err != nil {
		return nil, err
	}
	out := make([]int32, n)
	d := t.Data
	switch t.DType {
	case Int32:
		for i := range out {
			out[i] = int32(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case Int64:
		for i := range out {
			v := int64(binary.LittleEndian.Uint64(d[8*i:]))
			if v < math.MinInt32 || v > math.MaxInt32 {
				return nil, fmt.Errorf("tensor %q: value %d at %d does not fit int32", t.Name, v, i)
			}
			out[i] = int32(v)
		}
	case Int16:
		for i := range out {
			out[i] = int32(int16(binary.LittleEndian.Uint16(d[2*i:])))
		}
	case Int8:
		for i := range out {
			out[i] = int32(int8(d[i]))
		}
	case Uint8, Bool:
		for i := range out {
			out[i] = int32(d[i])
		}
	default:
		return nil, fmt.Errorf("tensor %q: cannot convert %s to int32", t.Name, t.DType)
	}
	return out, nil
}

// HalfToFloat32 converts an IEEE 754 binary16 value to float32.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalise
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		mant &= 0x3ff
		return math.Float32frombits(sign | e<<23 | mant<<13)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// F32 builds an F32 tensor from values (copied, little-endian).
func F32(name string, shape []int, v []float32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DType: Float32, Shape: append([]int{}, shape...), Data: b}
}

// I32 builds an I32 tensor from values (copied, little-endian).
func I32(name string, shape []int, v []int32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return Tensor{Name: name, DType: Int32, Shape: append([]int{}, shape...), Data: b}
}

// Encode serialises tensors (sorted by name, 8-byte aligned data section) and
// metadata into a safetensors image.
func Encode(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	sorted := append([]Tensor(nil), tensors...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	for i, t := range sorted {
		if t.Name == "" || t.Name == "__metadata__" {
			return nil, fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
		}
		if i > 0 && sorted[i-1].Name == t.Name {
			return nil, fmt.Errorf("safetensors: duplicate tensor %q", t.Name)
		}
		if _, err := t.checkData(); err != nil {
			return nil, fmt.Errorf("safetensors: %w", err)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = headerEntry{DType: t.DType, Shape: shape, DataOffsets: [2]int64{off, off + int64(len(t.Data))}}
		off += int64(len(t.Data))
	}
	hdr, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("safetensors: header: %w", err)
	}
	for len(hdr)%8 != 0 {
		hdr = append(hdr, ' ')
	}
	out := make([]byte, 8, 8+len(hdr)+int(off))
	binary.LittleEndian.PutUint64(out, uint64(len(hdr)))
	out = append(out, hdr...)
	for _, t := range sorted {
		out = append(out, t.Data...)
	}
	return out, nil
}

// Write saves tensors and metadata to path atomically (write to a temporary
// file in the same folder, then rename).
func Write(path string, tensors []Tensor, metadata map[string]string) error {
	buf, err := Encode(tensors, metadata)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := atomicfile.WriteBytes(path, buf, nil); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
