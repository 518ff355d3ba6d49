package controlvec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	gguf "github.com/gpustack/gguf-parser-go"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// randUnit returns a random unit vector of length d.
func randUnit(r *rand.Rand, d int) []float32 {
	u := make([]float32, d)
	for i := range u {
		u[i] = float32(r.NormFloat64())
	}
	n := vectors.Norm(u)
	for i := range u {
		u[i] = float32(float64(u[i]) / n)
	}
	return u
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 99)) }

// testSet returns a set with the given layers, random unit directions and
// distinct statistics; its layer of choice is the middle one.
func testSet(layers []int, d int, seed uint64) *vectors.Set {
	r := newRand(seed)
	s := &vectors.Set{ModelHint: "llama", Method: vectors.MethodMeanDiff, InstructionID: "change_case:english_lowercase",
		Hidden: d, NumLayers: 6, NPairs: 37, ChosenLayer: layers[len(layers)/2]}
	for _, l := range layers {
		s.Layers = append(s.Layers, vectors.Direction{Layer: l, U: randUnit(r, d), Norm: 1 + r.Float64(),
			ZBar: 3*r.Float64() - 1, MeanProjWithout: r.Float64() - 2, Coef: math.NaN()})
	}
	return s
}

// equalSets fails unless the sets have the same metadata (header and
// statistics, written with round-trip precision) and bit-exact directions.
func equalSets(t *testing.T, got, want *vectors.Set) {
	t.Helper()
	if g, w := got.Metadata(), want.Metadata(); !reflect.DeepEqual(g, w) {
		t.Fatalf("metadata differs:\n got %v\nwant %v", g, w)
	}
	for i, w := range want.Layers {
		for j := range w.U {
			if math.Float32bits(got.Layers[i].U[j]) != math.Float32bits(w.U[j]) {
				t.Fatalf("layer %d: U[%d] = %v, want %v (not bit-exact)", w.Layer, j, got.Layers[i].U[j], w.U[j])
			}
		}
	}
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func TestGGUFCodecRoundTrip(t *testing.T) {
	for _, align := range []uint64{0, 64} {
		g := &ggufFile{Alignment: align, KV: []ggufKV{
			{"general.architecture", ggufString, "controlvector"},
			{"u8", ggufUint8, uint8(200)}, {"i8", ggufInt8, int8(-5)},
			{"u16", ggufUint16, uint16(65000)}, {"i16", ggufInt16, int16(-30000)},
			{"u32", ggufUint32, uint32(4000000000)}, {"i32", ggufInt32, int32(-7)},
			{"f32", ggufFloat32, float32(1.5)}, {"bool", ggufBool, true},
			{"u64", ggufUint64, uint64(1 << 60)}, {"i64", ggufInt64, int64(-1 << 60)},
			{"f64", ggufFloat64, 0.1},
			{"strs", ggufArray, ggufArr{Type: ggufString, Items: []any{"a", "", "ünï"}}},
			{"nested", ggufArray, ggufArr{Type: ggufArray, Items: []any{ggufArr{Type: ggufInt32, Items: []any{int32(1), int32(2)}}}}},
		}}
		if align != 0 {
			g.KV = append(g.KV, ggufKV{"general.alignment", ggufUint32, uint32(align)})
		}
		for i, n := range []int{3, 8, 1} {
			v := make([]float32, n)
			for j := range v {
				v[j] = float32(i*10 + j)
			}
			g.Tensors = append(g.Tensors, ggufTensor{Name: "direction." + string(rune('1'+i)), Dims: []uint64{uint64(n)}, Type: ggmlTypeF32, Data: f32bytes(v)})
		}
		var buf bytes.Buffer
		if err := encodeGGUF(&buf, g); err != nil {
			t.Fatal(err)
		}
		got, err := decodeGGUF(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.KV, g.KV) {
			t.Fatalf("metadata differs:\n got %#v\nwant %#v", got.KV, g.KV)
		}
		want := uint64(align)
		if want == 0 {
			want = ggufDefaultAlignment
		}
		if got.Alignment != want {
			t.Errorf("alignment %d, want %d", got.Alignment, want)
		}
		for i := range g.Tensors {
			a, b := got.Tensors[i], g.Tensors[i]
			if a.Name != b.Name || !reflect.DeepEqual(a.Dims, b.Dims) || a.Type != b.Type || a.Offset != b.Offset || !bytes.Equal(a.Data, b.Data) {
				t.Fatalf("tensor %d differs: %+v vs %+v", i, a, b)
			}
			if a.Offset%want != 0 {
				t.Errorf("tensor %s offset %d not aligned", a.Name, a.Offset)
			}
		}
		// Every truncation is an error, never a panic.
		full := buf.Bytes()
		lastT := got.Tensors[len(got.Tensors)-1]
		end := len(full) - int(alignUp(uint64(len(lastT.Data)), want)) + len(lastT.Data) // trailing padding is optional
		if _, err := decodeGGUF(full[:end-1]); err == nil {
			t.Fatal("file missing its last data byte: no error")
		}
		for n := 0; n < end; n += 7 {
			if _, err := decodeGGUF(full[:n]); err == nil {
				t.Fatalf("truncated to %d of %d bytes: no error", n, len(full))
			}
		}
	}
}

// TestExportReadByGGUFParser checks an exported control vector with the
// independent parser github.com/gpustack/gguf-parser-go.
func TestExportReadByGGUFParser(t *testing.T) {
	s := testSet([]int{0, 1, 3, 5}, 40, 11)
	path := filepath.Join(t.TempDir(), "cv.gguf")
	const c = 2.5
	if err := Export(s, path, ExportOptions{Layers: []int{5, 1, 3}, Scale: c}); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.ParseGGUFFile(path)
	if err != nil {
		t.Fatalf("gguf-parser-go: %v", err)
	}
	if f.Header.Version != 3 || f.Header.TensorCount != 3 {
		t.Fatalf("header %+v", f.Header)
	}
	kv := f.Header.MetadataKV
	str := func(k string) string {
		v, ok := kv.Get(k)
		if !ok {
			t.Fatalf("key %s missing", k)
		}
		return v.ValueString()
	}
	if a := str("general.architecture"); a != "controlvector" {
		t.Errorf("general.architecture = %q", a)
	}
	if h := str("controlvector.model_hint"); h != s.ModelHint {
		t.Errorf("model_hint = %q", h)
	}
	lc, ok := kv.Get("controlvector.layer_count")
	if !ok || lc.ValueType != gguf.GGUFMetadataValueTypeUint32 || lc.ValueUint32() != 3 {
		t.Errorf("layer_count = %+v", lc)
	}
	if z := str("gosteer.zbar.3"); z != formatFloat(s.Layers[2].ZBar) {
		t.Errorf("gosteer.zbar.3 = %q", z)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range []int{1, 3, 5} {
		ti := f.TensorInfos[i]
		if ti.Name != "direction."+itoa(l) || ti.NDimensions != 1 || ti.Dimensions[0] != 40 || ti.Type != gguf.GGMLTypeF32 {
			t.Fatalf("tensor %d info %+v", i, ti)
		}
		start := f.TensorDataStartOffset + int64(ti.Offset)
		ly, _ := s.Get(l)
		for j, u := range ly.U {
			got := math.Float32frombits(binary.LittleEndian.Uint32(raw[start+int64(4*j):]))
			if want := float32(c) * u; math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("direction.%d[%d] = %v, want c·u = %v", l, j, got, want)
			}
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestGGUFExactRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := testSet([]int{1, 2, 4}, 64, 5)
	path := filepath.Join(dir, "cv.gguf")
	if err := Export(s, path, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := vectors.Load(path) // Load recognizes GGUF by its magic (registered in init)
	if err != nil {
		t.Fatal(err)
	}
	want := *s
	want.Layers = append([]vectors.Direction(nil), s.Layers...)
	for i := range want.Layers {
		want.Layers[i].Coef = 1 // the export coefficient
	}
	equalSets(t, got, &want)
	// GGUF → native → GGUF gives identical bytes.
	nat := filepath.Join(dir, "v.safetensors")
	if err := got.Save(nat); err != nil {
		t.Fatal(err)
	}
	back, err := vectors.Load(nat)
	if err != nil {
		t.Fatal(err)
	}
	path2 := filepath.Join(dir, "cv2.gguf")
	if err := Export(back, path2, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(path)
	b2, _ := os.ReadFile(path2)
	if !bytes.Equal(b1, b2) {
		// Only coef.<l> may differ in metadata; directions must not.
		g1, _ := decodeGGUF(b1)
		g2, _ := decodeGGUF(b2)
		for i := range g1.Tensors {
			if !bytes.Equal(g1.Tensors[i].Data, g2.Tensors[i].Data) {
				t.Fatalf("direction %s changed after GGUF→native→GGUF", g1.Tensors[i].Name)
			}
		}
	}
	// A scaled export recovers u to float32 rounding and the statistics exactly.
	if err := Export(s, path, ExportOptions{Scale: -3}); err != nil {
		t.Fatal(err)
	}
	sc, err := Import(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range sc.Layers {
		if l.Coef != -3 || l.ZBar != s.Layers[i].ZBar || l.Norm != s.Layers[i].Norm {
			t.Fatalf("layer %d: %+v", l.Layer, l)
		}
		for j, u := range l.U {
			if d := math.Abs(float64(u - s.Layers[i].U[j])); d > 1.2e-7*math.Abs(float64(u)) {
				t.Fatalf("layer %d U[%d] = %v, want %v", l.Layer, j, u, s.Layers[i].U[j])
			}
		}
	}
}

func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	s := testSet([]int{0, 2, 3}, 16, 3)
	path := filepath.Join(dir, "x.gguf")
	if err := Export(s, path, ExportOptions{}); !errors.Is(err, ErrLayerZero) || !strings.Contains(err.Error(), "layer 0 cannot be expressed") {
		t.Errorf("layer 0: err = %v", err)
	}
	if err := Export(s, path, ExportOptions{Layers: []int{2, 7}}); err == nil || !strings.Contains(err.Error(), "layer 7 is not in") {
		t.Errorf("missing layer: err = %v", err)
	}
	if err := Export(s, path, ExportOptions{Layers: []int{2}, Op: model.OpClamp}); err == nil || !strings.Contains(err.Error(), "clamp has no llama.cpp equivalent") {
		t.Errorf("clamp: err = %v", err)
	}
	if err := Export(s, path, ExportOptions{Layers: []int{2}, Op: model.OpAblate}); err == nil {
		t.Error("unknown op: no error")
	}
	if err := Export(s, path, ExportOptions{Layers: []int{2}, Scale: math.Inf(1)}); err == nil {
		t.Error("infinite scale: no error")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a failed export left a file: %v", err)
	}
	// The documented clamp approximation: c_l = z̄_l − mean_proj_without_l.
	if err := Export(s, path, ExportOptions{Layers: []int{2, 3}, Op: model.OpClamp, ClampApprox: true}); err != nil {
		t.Fatal(err)
	}
	g, err := readGGUFFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range []int{2, 3} {
		ly, _ := s.Get(l)
		c := float32(ly.ZBar - ly.MeanProjWithout)
		for j, u := range ly.U {
			got := math.Float32frombits(binary.LittleEndian.Uint32(g.Tensors[i].Data[4*j:]))
			if math.Float32bits(got) != math.Float32bits(c*u) {
				t.Fatalf("clamp approx layer %d[%d] = %v, want %v", l, j, got, c*u)
			}
		}
	}
	if op, _ := g.getString("gosteer.op"); op != "clamp_approx" {
		t.Errorf("gosteer.op = %q", op)
	}
	noZ := testSet([]int{2}, 16, 3)
	noZ.Layers[0].ZBar = math.NaN()
	if err := Export(noZ, path, ExportOptions{Op: model.OpClamp, ClampApprox: true}); err == nil || !strings.Contains(err.Error(), "needs z̄") {
		t.Errorf("clamp approx without z̄: err = %v", err)
	}
}

// repengStyle writes, byte by byte and without the package's writer, a
// control vector laid out as repeng's export_gguf (through gguf-py's
// GGUFWriter) does: general.architecture first, controlvector.model_hint,
// controlvector.layer_count = number of directions, then direction.N tensors
// (F32, 1-D) in the order of repeng's layer list (last layer first), data
// aligned to 32 bytes.
func repengStyle(t *testing.T, path string, hint string, dirs map[int][]float32, order []int, extra func(b *bytes.Buffer) int) {
	t.Helper()
	var b bytes.Buffer
	le := binary.LittleEndian
	str := func(s string) { binary.Write(&b, le, uint64(len(s))); b.WriteString(s) }
	nExtra := 0
	b.WriteString("GGUF")
	binary.Write(&b, le, uint32(3))
	binary.Write(&b, le, uint64(len(order)))
	countAt := b.Len()
	binary.Write(&b, le, uint64(3))
	str("general.architecture")
	binary.Write(&b, le, uint32(8))
	str("controlvector")
	str("controlvector.model_hint")
	binary.Write(&b, le, uint32(8))
	str(hint)
	str("controlvector.layer_count")
	binary.Write(&b, le, uint32(4))
	binary.Write(&b, le, uint32(len(order)))
	if extra != nil {
		nExtra = extra(&b)
	}
	var off uint64
	for _, l := range order {
		str("direction." + itoa(l))
		binary.Write(&b, le, uint32(1))
		binary.Write(&b, le, uint64(len(dirs[l])))
		binary.Write(&b, le, uint32(0)) // GGML_TYPE_F32
		binary.Write(&b, le, off)
		off += uint64(4 * len(dirs[l]))
		off = (off + 31) / 32 * 32
	}
	for b.Len()%32 != 0 {
		b.WriteByte(0)
	}
	for _, l := range order {
		binary.Write(&b, le, dirs[l])
		for b.Len()%32 != 0 {
			b.WriteByte(0)
		}
	}
	out := b.Bytes()
	le.PutUint64(out[countAt:], uint64(3+nExtra))
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestImportRepengStyle(t *testing.T) {
	dir := t.TempDir()
	r := newRand(4)
	const D = 24
	dirs := map[int][]float32{}
	norms := map[int]float64{}
	for _, l := range []int{1, 2, 3, 4, 5} {
		u := randUnit(r, D)
		scale := float32(0.5 + float64(l))
		d := make([]float32, D)
		for i := range u {
			d[i] = scale * u[i]
		}
		dirs[l] = d
		norms[l] = vectors.Norm(d)
	}
	path := filepath.Join(dir, "repeng.gguf")
	repengStyle(t, path, "mistral", dirs, []int{5, 4, 3, 2, 1}, nil)
	// The independent parser agrees the file is well formed.
	if _, err := gguf.ParseGGUFFile(path); err != nil {
		t.Fatalf("gguf-parser-go rejects the hand-written file: %v", err)
	}
	s, err := Import(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.ModelHint != "mistral" || s.Method != vectors.MethodGGUF || s.Hidden != D || s.ChosenLayer != vectors.NoLayer || !reflect.DeepEqual(s.LayerIDs(), []int{1, 2, 3, 4, 5}) {
		t.Fatalf("imported set header %+v layers %v", s, s.LayerIDs())
	}
	for _, ly := range s.Layers {
		if ly.Coef != norms[ly.Layer] || !math.IsNaN(ly.ZBar) || !math.IsNaN(ly.Norm) {
			t.Fatalf("layer %d stats %+v, want Coef %v", ly.Layer, ly, norms[ly.Layer])
		}
		if n := vectors.Norm(ly.U); math.Abs(n-1) > 1e-6 {
			t.Fatalf("layer %d: imported direction has norm %v", ly.Layer, n)
		}
		for i, u := range ly.U {
			if want := float64(dirs[ly.Layer][i]) / norms[ly.Layer]; math.Abs(float64(u)-want) > 1e-7 {
				t.Fatalf("layer %d U[%d] = %v, want %v", ly.Layer, i, u, want)
			}
		}
	}
	// "add" without a value reproduces the file's vector: C·u ≈ direction.N.
	ops, err := vectors.LoadSpecs([]string{path + "@3:add"}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	op := ops[0]
	if op.Layer != 3 || float64(op.C) != float64(float32(norms[3])) {
		t.Fatalf("op %+v", op)
	}
	for i, u := range op.U {
		if d := math.Abs(float64(op.C*u - dirs[3][i])); d > 1e-6 {
			t.Fatalf("C·u[%d] = %v, file has %v", i, op.C*u, dirs[3][i])
		}
	}
	// Clamp needs z̄, which a repeng file does not carry.
	if _, err := vectors.LoadSpecs([]string{path + "@3:clamp"}, 0, 0); err == nil || !strings.Contains(err.Error(), "no z̄") {
		t.Fatalf("clamp without z̄: err = %v", err)
	}
}

func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	u := randUnit(newRand(2), 8)
	nan := append([]float32(nil), u...)
	nan[1] = float32(math.NaN())
	zero := make([]float32, 8)
	write := func(name string, g *ggufFile) string {
		p := filepath.Join(dir, name)
		if err := writeGGUFFile(p, g, nil); err != nil {
			t.Fatal(err)
		}
		return p
	}
	arch := ggufKV{"general.architecture", ggufString, "controlvector"}
	cv := func(ts ...ggufTensor) *ggufFile { return &ggufFile{KV: []ggufKV{arch}, Tensors: ts} }
	dirT := func(name string, v []float32) ggufTensor {
		return ggufTensor{Name: name, Dims: []uint64{uint64(len(v))}, Type: ggmlTypeF32, Data: f32bytes(v)}
	}
	cases := []struct {
		name string
		g    *ggufFile
		want string
	}{
		{"layer zero", cv(dirT("direction.0", u)), "layer 0 cannot be expressed"},
		{"other tensor", cv(dirT("direction.1", u), dirT("bias.1", u)), "unexpected tensor \"bias.1\""},
		{"f16", cv(ggufTensor{Name: "direction.1", Dims: []uint64{8}, Type: 1, Data: make([]byte, 16)}), "want F32"},
		{"2-D", cv(ggufTensor{Name: "direction.1", Dims: []uint64{4, 2}, Type: ggmlTypeF32, Data: f32bytes(u)}), "one dimension"},
		{"widths", cv(dirT("direction.1", u), dirT("direction.2", u[:4])), "length 4"},
		{"nan", cv(dirT("direction.1", nan)), "NaN/Inf"},
		{"zero", cv(dirT("direction.2", zero)), "all zeros"},
		{"arch", &ggufFile{KV: []ggufKV{{"general.architecture", ggufString, "llama"}}, Tensors: []ggufTensor{dirT("direction.1", u)}}, "not \"controlvector\""},
		{"empty", cv(), "no direction tensors"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := write(strings.ReplaceAll(c.name, " ", "_")+".gguf", c.g)
			_, err := Import(p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
	junk := filepath.Join(dir, "junk.gguf")
	os.WriteFile(junk, []byte("GGUF\x09\x00\x00\x00"), 0o644)
	if _, err := Import(junk); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("bad version: err = %v", err)
	}
}
