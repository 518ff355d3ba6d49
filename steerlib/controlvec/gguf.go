package controlvec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/gosteer/gosteer/steerlib/internal/atomicfile"
)

// A minimal GGUF (version 3, little-endian) reader and writer, enough for
// control vectors: every metadata value type, and tensor infos with raw data.
// Layout: magic "GGUF", version u32, tensor count u64, metadata count u64,
// metadata key/value pairs, tensor infos (name, n_dims u32, dims u64…,
// ggml type u32, offset u64 relative to the data section), padding to the
// alignment (general.alignment, default 32), tensor data (each tensor's
// offset a multiple of the alignment).

// GGUF metadata value types.
const (
	ggufUint8   uint32 = 0
	ggufInt8    uint32 = 1
	ggufUint16  uint32 = 2
	ggufInt16   uint32 = 3
	ggufUint32  uint32 = 4
	ggufInt32   uint32 = 5
	ggufFloat32 uint32 = 6
	ggufBool    uint32 = 7
	ggufString  uint32 = 8
	ggufArray   uint32 = 9
	ggufUint64  uint32 = 10
	ggufInt64   uint32 = 11
	ggufFloat64 uint32 = 12
)

// ggmlTypeF32 is GGML_TYPE_F32.
const ggmlTypeF32 uint32 = 0

const (
	ggufMagic            = "GGUF"
	ggufVersion          = 3
	ggufDefaultAlignment = 32
	// Sanity bounds while reading untrusted files.
	ggufMaxString = 1 << 26
	ggufMaxCount  = 1 << 24
	ggufMaxDims   = 4
)

// ggufKV is one metadata entry. Value holds uint8, int8, uint16, int16,
// uint32, int32, float32, bool, string, uint64, int64, float64 or ggufArr.
type ggufKV struct {
	Key   string
	Type  uint32
	Value any
}

// ggufArr is an array value: element type and elements.
type ggufArr struct {
	Type  uint32
	Items []any
}

// ggufTensor is one tensor: name, dimensions (GGUF order, fastest first),
// ggml type and raw data.
type ggufTensor struct {
	Name   string
	Dims   []uint64
	Type   uint32
	Offset uint64
	Data   []byte
}

type ggufFile struct {
	Version   uint32
	KV        []ggufKV
	Tensors   []ggufTensor
	Alignment uint64
}

func (g *ggufFile) get(key string) (ggufKV, bool) {
	for _, kv := range g.KV {
		if kv.Key == key {
			return kv, true
		}
	}
	return ggufKV{}, false
}

func (g *ggufFile) getString(key string) (string, bool) {
	kv, ok := g.get(key)
	if !ok {
		return "", false
	}
	s, ok := kv.Value.(string)
	return s, ok
}

// --- writing ---

type ggufWriter struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (w *ggufWriter) raw(b []byte) {
	if w.err != nil {
		return
	}
	k, err := w.w.Write(b)
	w.n += int64(k)
	w.err = err
}

func (w *ggufWriter) u32(v uint32) { w.raw(binary.LittleEndian.AppendUint32(nil, v)) }
func (w *ggufWriter) u64(v uint64) { w.raw(binary.LittleEndian.AppendUint64(nil, v)) }
func (w *ggufWriter) str(s string) { w.u64(uint64(len(s))); w.raw([]byte(s)) }

// put writes v with write when it holds a T, and reports a mismatch otherwise.
func put[T any](v any, bad func() error, write func(T)) error {
	x, ok := v.(T)
	if !ok {
		return bad()
	}
	write(x)
	return nil
}

// value writes v as a metadata value of type t.
func (w *ggufWriter) value(t uint32, v any) error {
	bad := func() error { return fmt.Errorf("gguf: value %v (%T) does not match type %d", v, v, t) }
	le := binary.LittleEndian
	switch t {
	case ggufUint8:
		return put(v, bad, func(x uint8) { w.raw([]byte{x}) })
	case ggufInt8:
		return put(v, bad, func(x int8) { w.raw([]byte{byte(x)}) })
	case ggufUint16:
		return put(v, bad, func(x uint16) { w.raw(le.AppendUint16(nil, x)) })
	case ggufInt16:
		return put(v, bad, func(x int16) { w.raw(le.AppendUint16(nil, uint16(x))) })
	case ggufUint32:
		return put(v, bad, w.u32)
	case ggufInt32:
		return put(v, bad, func(x int32) { w.u32(uint32(x)) })
	case ggufFloat32:
		return put(v, bad, func(x float32) { w.u32(math.Float32bits(x)) })
	case ggufBool:
		return put(v, bad, func(x bool) {
			if x {
				w.raw([]byte{1})
			} else {
				w.raw([]byte{0})
			}
		})
	case ggufString:
		return put(v, bad, w.str)
	case ggufUint64:
		return put(v, bad, w.u64)
	case ggufInt64:
		return put(v, bad, func(x int64) { w.u64(uint64(x)) })
	case ggufFloat64:
		return put(v, bad, func(x float64) { w.u64(math.Float64bits(x)) })
	case ggufArray:
		a, ok := v.(ggufArr)
		if !ok {
			return bad()
		}
		w.u32(a.Type)
		w.u64(uint64(len(a.Items)))
		for _, it := range a.Items {
			if err := w.value(a.Type, it); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("gguf: unknown value type %d", t)
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

// encodeGGUF writes g to out. Tensor offsets are assigned here (each tensor
// aligned); g.Alignment 0 means the default 32.
func encodeGGUF(out io.Writer, g *ggufFile) error {
	align := g.Alignment
	if align == 0 {
		align = ggufDefaultAlignment
	}
	w := &ggufWriter{w: bufio.NewWriter(out)}
	w.raw([]byte(ggufMagic))
	w.u32(ggufVersion)
	w.u64(uint64(len(g.Tensors)))
	w.u64(uint64(len(g.KV)))
	for _, kv := range g.KV {
		w.str(kv.Key)
		w.u32(kv.Type)
		if err := w.value(kv.Type, kv.Value); err != nil {
			return fmt.Errorf("gguf key %s: %w", kv.Key, err)
		}
	}
	var off uint64
	for i := range g.Tensors {
		t := &g.Tensors[i]
		t.Offset = off
		w.str(t.Name)
		w.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			w.u64(d)
		}
		w.u32(t.Type)
		w.u64(t.Offset)
		off = alignUp(off+uint64(len(t.Data)), align)
	}
	pad := func() {
		if p := alignUp(uint64(w.n), align) - uint64(w.n); p > 0 {
			w.raw(make([]byte, p))
		}
	}
	pad()
	for _, t := range g.Tensors {
		w.raw(t.Data)
		pad()
	}
	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}

// writeGGUFFile writes g to path through a temporary file that validate
// (when not nil) must accept before it is renamed to path
// (steerlib/internal/atomicfile).
func writeGGUFFile(path string, g *ggufFile, validate func(tmp string) error) error {
	return atomicfile.Write(path, func(f *os.File) error { return encodeGGUF(f, g) }, validate)
}

// importable is the validation of Export: the file must import.
func importable(tmp string) error {
	_, err := Import(tmp)
	return err
}

// --- reading ---

type ggufReader struct {
	b   []byte
	pos uint64
}

var errGGUFShort = errors.New("unexpected end of file")

func (r *ggufReader) take(n uint64) ([]byte, error) {
	if n > uint64(len(r.b))-r.pos {
		return nil, errGGUFShort
	}
	out := r.b[r.pos : r.pos+n]
	r.pos += n
	return out, nil
}

func (r *ggufReader) u32() (uint32, error) {
	b, err := r.take(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (r *ggufReader) u64() (uint64, error) {
	b, err := r.take(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (r *ggufReader) str() (string, error) {
	n, err := r.u64()
	if err != nil {
		return "", err
	}
	if n > ggufMaxString {
		return "", fmt.Errorf("string of %d bytes", n)
	}
	b, err := r.take(n)
	return string(b), err
}

func (r *ggufReader) value(t uint32, depth int) (any, error) {
	switch t {
	case ggufUint8, ggufInt8, ggufBool:
		b, err := r.take(1)
		if err != nil {
			return nil, err
		}
		switch t {
		case ggufUint8:
			return b[0], nil
		case ggufInt8:
			return int8(b[0]), nil
		}
		if b[0] > 1 {
			return nil, fmt.Errorf("bool value %d", b[0])
		}
		return b[0] == 1, nil
	case ggufUint16, ggufInt16:
		b, err := r.take(2)
		if err != nil {
			return nil, err
		}
		v := binary.LittleEndian.Uint16(b)
		if t == ggufInt16 {
			return int16(v), nil
		}
		return v, nil
	case ggufUint32, ggufInt32, ggufFloat32:
		v, err := r.u32()
		if err != nil {
			return nil, err
		}
		switch t {
		case ggufInt32:
			return int32(v), nil
		case ggufFloat32:
			return math.Float32frombits(v), nil
		}
		return v, nil
	case ggufUint64, ggufInt64, ggufFloat64:
		v, err := r.u64()
		if err != nil {
			return nil, err
		}
		switch t {
		case ggufInt64:
			return int64(v), nil
		case ggufFloat64:
			return math.Float64frombits(v), nil
		}
		return v, nil
	case ggufString:
		return r.str()
	case ggufArray:
		if depth > 4 {
			return nil, errors.New("arrays nested too deeply")
		}
		et, err := r.u32()
		if err != nil {
			return nil, err
		}
		n, err := r.u64()
		if err != nil {
			return nil, err
		}
		if n > ggufMaxCount {
			return nil, fmt.Errorf("array of %d items", n)
		}
		a := ggufArr{Type: et, Items: make([]any, 0, n)}
		for i := uint64(0); i < n; i++ {
			v, err := r.value(et, depth+1)
			if err != nil {
				return nil, err
			}
			a.Items = append(a.Items, v)
		}
		return a, nil
	}
	return nil, fmt.Errorf("unknown value type %d", t)
}

// ggmlTypeSize returns the bytes per element of the ggml types a control
// vector may use (F32, F16); ok is false for others.
func ggmlTypeSize(t uint32) (uint64, bool) {
	switch t {
	case 0:
		return 4, true
	case 1:
		return 2, true
	}
	return 0, false
}

// decodeGGUF parses a whole GGUF file held in memory. Tensor data of F32/F16
// tensors is sliced out; tensors of other types keep nil Data.
func decodeGGUF(b []byte) (*ggufFile, error) {
	r := &ggufReader{b: b}
	magic, err := r.take(4)
	if err != nil || string(magic) != ggufMagic {
		return nil, errors.New("not a GGUF file (bad magic)")
	}
	g := &ggufFile{}
	if g.Version, err = r.u32(); err != nil {
		return nil, fmt.Errorf("version: %w", err)
	}
	if g.Version != 2 && g.Version != 3 {
		return nil, fmt.Errorf("unsupported GGUF version %d (want 2 or 3)", g.Version)
	}
	nt, err := r.u64()
	if err != nil {
		return nil, fmt.Errorf("tensor count: %w", err)
	}
	nkv, err := r.u64()
	if err != nil {
		return nil, fmt.Errorf("metadata count: %w", err)
	}
	if nt > ggufMaxCount || nkv > ggufMaxCount {
		return nil, fmt.Errorf("implausible counts: %d tensors, %d metadata entries", nt, nkv)
	}
	if err := r.metadata(g, nkv); err != nil {
		return nil, err
	}
	for i := uint64(0); i < nt; i++ {
		t, err := r.tensorInfo(i)
		if err != nil {
			return nil, err
		}
		g.Tensors = append(g.Tensors, t)
	}
	if err := sliceTensorData(g, b, alignUp(r.pos, g.Alignment)); err != nil {
		return nil, err
	}
	return g, nil
}

// metadata reads n metadata entries into g, and its alignment.
func (r *ggufReader) metadata(g *ggufFile, n uint64) error {
	g.Alignment = ggufDefaultAlignment
	for i := uint64(0); i < n; i++ {
		key, err := r.str()
		if err != nil {
			return fmt.Errorf("metadata %d key: %w", i, err)
		}
		t, err := r.u32()
		if err != nil {
			return fmt.Errorf("metadata %s type: %w", key, err)
		}
		v, err := r.value(t, 0)
		if err != nil {
			return fmt.Errorf("metadata %s: %w", key, err)
		}
		g.KV = append(g.KV, ggufKV{Key: key, Type: t, Value: v})
		if key == "general.alignment" {
			a, ok := v.(uint32)
			if !ok || a == 0 || a&(a-1) != 0 {
				return fmt.Errorf("general.alignment %v: want a power-of-two uint32", v)
			}
			g.Alignment = uint64(a)
		}
	}
	return nil
}

// tensorInfo reads the name, dimensions, type and data offset of tensor i.
func (r *ggufReader) tensorInfo(i uint64) (ggufTensor, error) {
	var t ggufTensor
	var err error
	if t.Name, err = r.str(); err != nil {
		return t, fmt.Errorf("tensor %d name: %w", i, err)
	}
	nd, err := r.u32()
	if err != nil {
		return t, fmt.Errorf("tensor %s: %w", t.Name, err)
	}
	if nd > ggufMaxDims {
		return t, fmt.Errorf("tensor %s: %d dimensions", t.Name, nd)
	}
	for j := uint32(0); j < nd; j++ {
		d, err := r.u64()
		if err != nil {
			return t, fmt.Errorf("tensor %s: %w", t.Name, err)
		}
		t.Dims = append(t.Dims, d)
	}
	if t.Type, err = r.u32(); err != nil {
		return t, fmt.Errorf("tensor %s: %w", t.Name, err)
	}
	if t.Offset, err = r.u64(); err != nil {
		return t, fmt.Errorf("tensor %s: %w", t.Name, err)
	}
	return t, nil
}

// sliceTensorData points the Data of every tensor of a known type at its
// bytes in b, whose data section starts at dataStart.
func sliceTensorData(g *ggufFile, b []byte, dataStart uint64) error {
	for i := range g.Tensors {
		t := &g.Tensors[i]
		if t.Offset%g.Alignment != 0 {
			return fmt.Errorf("tensor %s: offset %d not aligned to %d", t.Name, t.Offset, g.Alignment)
		}
		es, ok := ggmlTypeSize(t.Type)
		if !ok {
			continue
		}
		n := es
		for _, d := range t.Dims {
			if d != 0 && n > math.MaxUint64/d {
				return fmt.Errorf("tensor %s: size overflows", t.Name)
			}
			n *= d
		}
		start := dataStart + t.Offset
		if start < dataStart || start > uint64(len(b)) || n > uint64(len(b))-start {
			return fmt.Errorf("tensor %s: data [%d, +%d) lies outside the file (%d bytes)", t.Name, start, n, len(b))
		}
		t.Data = b[start : start+n]
	}
	return nil
}

// readGGUFFile reads and parses path.
func readGGUFFile(path string) (*ggufFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, []byte(ggufMagic)) {
		return nil, errors.New("not a GGUF file (bad magic)")
	}
	return decodeGGUF(b)
}
