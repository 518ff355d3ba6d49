// Package controlvec converts vector sets (steerlib/vectors) to and from
// GGUF control vectors, the steering-vector files of llama.cpp
// (--control-vector) and repeng (export_gguf), with its own small GGUF
// reader and writer. Importing it makes vectors.Load (and steering specs)
// read GGUF files.
//
// # File layout
//
//	general.architecture       = "controlvector"
//	controlvector.model_hint   = model type (string)
//	controlvector.layer_count  = number of direction tensors (uint32)
//	tensors direction.N        F32, one dimension of length n_embd, N ≥ 1
//
// llama.cpp adds direction.N to the output of block N (0-based), so gosteer
// layer l maps to direction.l; block 0 has no GGUF equivalent (llama.cpp
// rejects direction.0). llama.cpp rejects a file holding any other tensor, so
// gosteer's own data travels as metadata: every native metadata entry is
// stored as a string under "gosteer.", plus gosteer.op and
// gosteer.export_coef.<l> (the coefficient c the direction was multiplied
// by).
//
// # Operators
//
// A control vector is always added with a constant coefficient. "add" is
// exported exactly: direction.l = fl32(c)·u in float32. "clamp" has no
// llama.cpp equivalent; Export refuses it unless ClampApprox is set, in
// which case it exports the constant approximation
//
//	c_l = z̄_l − mean_proj_without_l
//
// i.e. clamp's per-token coefficient z̄ − x·u with x·u replaced by its mean
// over the without-instruction prompts (at their last prompt token, where it
// was measured). This matches clamp on average for prompts like those, not
// token by token.
package controlvec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

func init() { vectors.RegisterFormat("gguf", ggufMagic, Import) }

// ExportOptions configures Export.
type ExportOptions struct {
	// Layers to export (nil: every layer held). Layer 0 is an error.
	Layers []int
	// Op is model.OpAdd (the default) or model.OpClamp.
	Op model.OpKind
	// Scale is the add coefficient c (0 means 1).
	Scale float64
	// ClampApprox allows model.OpClamp, exported as the constant
	// approximation described in the package documentation.
	ClampApprox bool
}

// ErrLayerZero is returned when block 0 would be exported to GGUF.
var ErrLayerZero = errors.New("layer 0 cannot be expressed as a GGUF control vector: llama.cpp numbers direction tensors from 1 (direction.N is added after block N) and rejects direction.0")

// Export writes the chosen layers of s as a GGUF control vector, through a
// temporary file that Import must accept before it is renamed to path.
func Export(s *vectors.Set, path string, opts ExportOptions) error {
	g, err := toGGUF(s, opts)
	if err != nil {
		return fmt.Errorf("export gguf %s: %w", path, err)
	}
	if err := writeGGUFFile(path, g, importable); err != nil {
		return fmt.Errorf("export gguf %s: %w", path, err)
	}
	return nil
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// exportPlan checks opts against s and returns the sorted layers, the scale
// and the gosteer.op tag.
func exportPlan(s *vectors.Set, opts ExportOptions) (layers []int, scale float64, tag string, err error) {
	if err := s.Validate(); err != nil {
		return nil, 0, "", err
	}
	layers = opts.Layers
	if layers == nil {
		layers = s.LayerIDs()
	}
	if len(layers) == 0 {
		return nil, 0, "", errors.New("no layers to export")
	}
	layers = append([]int(nil), layers...)
	sort.Ints(layers)
	scale = opts.Scale
	if scale == 0 {
		scale = 1
	}
	if math.IsNaN(scale) || math.IsInf(scale, 0) {
		return nil, 0, "", fmt.Errorf("scale %v is not finite", scale)
	}
	switch opts.Op {
	case model.OpAdd:
		return layers, scale, "add", nil
	case model.OpClamp:
		if !opts.ClampApprox {
			return nil, 0, "", errors.New("clamp has no llama.cpp equivalent (a control vector is added with a constant coefficient); export with add, or ask for the constant approximation c = z̄ − mean_proj_without (--clamp-approx)")
		}
		if opts.Scale != 0 {
			return nil, 0, "", errors.New("scale applies to add; the clamp approximation computes its own coefficient per layer")
		}
		return layers, scale, "clamp_approx", nil
	}
	return nil, 0, "", fmt.Errorf("unknown op %s (want add or clamp)", opts.Op)
}

// toGGUF builds the control vector of s: header, gosteer metadata, and one
// direction tensor per exported layer.
func toGGUF(s *vectors.Set, opts ExportOptions) (*ggufFile, error) {
	layers, scale, tag, err := exportPlan(s, opts)
	if err != nil {
		return nil, err
	}
	md := s.Metadata()
	g := &ggufFile{Alignment: ggufDefaultAlignment}
	g.KV = append(g.KV,
		ggufKV{"general.architecture", ggufString, "controlvector"},
		ggufKV{"controlvector.model_hint", ggufString, s.ModelHint},
		ggufKV{"controlvector.layer_count", ggufUint32, uint32(len(layers))},
		ggufKV{"gosteer.op", ggufString, tag},
	)
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		key := k
		if !strings.HasPrefix(k, "gosteer.") {
			key = "gosteer." + k
		}
		g.KV = append(g.KV, ggufKV{key, ggufString, md[k]})
	}
	seen := map[int]bool{}
	for _, l := range layers {
		if seen[l] {
			return nil, fmt.Errorf("layer %d listed twice", l)
		}
		seen[l] = true
		if err := addDirection(g, s, l, opts.Op, scale); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// addDirection appends direction.l = fl32(c)·u and its export coefficient.
func addDirection(g *ggufFile, s *vectors.Set, l int, op model.OpKind, scale float64) error {
	if l == 0 {
		return ErrLayerZero
	}
	ly, ok := s.Get(l)
	if !ok {
		return fmt.Errorf("layer %d is not in the vector file (layers %v)", l, s.LayerIDs())
	}
	c := scale
	if op == model.OpClamp {
		if math.IsNaN(ly.ZBar) || math.IsNaN(ly.MeanProjWithout) {
			return fmt.Errorf("layer %d: the clamp approximation needs z̄ and the mean projection without the instruction, which this file lacks", l)
		}
		c = ly.ZBar - ly.MeanProjWithout
	}
	c32 := float32(c)
	data := make([]byte, 4*len(ly.U))
	for i, x := range ly.U {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(c32*x))
	}
	g.KV = append(g.KV, ggufKV{fmt.Sprintf("gosteer.export_coef.%d", l), ggufString, formatFloat(float64(c32))})
	g.Tensors = append(g.Tensors, ggufTensor{
		Name: fmt.Sprintf("%s%d", vectors.DirectionPrefix, l),
		Dims: []uint64{uint64(len(ly.U))},
		Type: ggmlTypeF32,
		Data: data,
	})
	return nil
}

// Import reads a GGUF control vector. Files written by Export get
// back all their statistics and directions (bit-exact when exported with
// coefficient 1; otherwise direction/c rounded to float32), with Coef set to
// the export coefficient. Other files (llama.cpp, repeng) give
// u = d/‖d‖ and Coef = ‖d‖ per layer, Method "gguf" and unknown statistics,
// so "add" with c = Coef reproduces the file.
func Import(path string) (*vectors.Set, error) {
	g, err := readGGUFFile(path)
	if err != nil {
		return nil, fmt.Errorf("import gguf %s: %w", path, err)
	}
	s, err := fromControlVector(g)
	if err != nil {
		return nil, fmt.Errorf("import gguf %s: %w", path, err)
	}
	return s, nil
}

func fromControlVector(g *ggufFile) (*vectors.Set, error) {
	if arch, ok := g.getString("general.architecture"); ok && arch != "controlvector" {
		return nil, fmt.Errorf("general.architecture is %q, not \"controlvector\"", arch)
	}
	if len(g.Tensors) == 0 {
		return nil, errors.New("no direction tensors")
	}
	dirs := map[int][]float32{}
	n := 0
	for _, t := range g.Tensors {
		l, ok := vectors.ParseLayerName(t.Name, vectors.DirectionPrefix)
		if !ok {
			return nil, fmt.Errorf("unexpected tensor %q: a control vector holds only direction.N tensors (llama.cpp rejects others)", t.Name)
		}
		if l == 0 {
			return nil, fmt.Errorf("tensor direction.0: %w", ErrLayerZero)
		}
		if _, dup := dirs[l]; dup {
			return nil, fmt.Errorf("tensor %s appears twice", t.Name)
		}
		if t.Type != ggmlTypeF32 || len(t.Dims) != 1 {
			return nil, fmt.Errorf("tensor %s: want F32 with one dimension (ggml type 0), got type %d dims %v", t.Name, t.Type, t.Dims)
		}
		if n == 0 {
			n = int(t.Dims[0])
		}
		if int(t.Dims[0]) != n || n == 0 {
			return nil, fmt.Errorf("tensor %s: length %d, other directions have %d", t.Name, t.Dims[0], n)
		}
		d := make([]float32, n)
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
		if err := vectors.CheckFinite(d); err != nil {
			return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
		}
		dirs[l] = d
	}
	if format, _ := g.getString("gosteer.format"); format == vectors.FormatTag {
		return fromGosteerGGUF(g, dirs)
	}
	hint, _ := g.getString("controlvector.model_hint")
	s := &vectors.Set{ModelHint: hint, Method: vectors.MethodGGUF, Hidden: n, ChosenLayer: vectors.NoLayer}
	for l, d := range dirs {
		norm := vectors.Norm(d)
		if norm == 0 {
			return nil, fmt.Errorf("direction.%d is all zeros: no direction to steer along", l)
		}
		u := make([]float32, n)
		for i, x := range d {
			u[i] = float32(float64(x) / norm)
		}
		s.Layers = append(s.Layers, vectors.Direction{Layer: l, U: u, Norm: math.NaN(), ZBar: math.NaN(), MeanProjWithout: math.NaN(), Coef: norm})
	}
	sort.Slice(s.Layers, func(i, j int) bool { return s.Layers[i].Layer < s.Layers[j].Layer })
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// fromGosteerGGUF rebuilds a Set from a file written by Export.
func fromGosteerGGUF(g *ggufFile, dirs map[int][]float32) (*vectors.Set, error) {
	md := map[string]string{}
	coefs := map[int]float64{}
	for _, kv := range g.KV {
		rest, ok := strings.CutPrefix(kv.Key, "gosteer.")
		if !ok || kv.Key == "gosteer.op" {
			continue
		}
		v, ok := kv.Value.(string)
		if !ok {
			return nil, fmt.Errorf("metadata %s: want a string", kv.Key)
		}
		if l, ok := vectors.ParseLayerName(rest, "export_coef."); ok {
			c, err := strconv.ParseFloat(v, 64)
			if err != nil || c == 0 || math.IsNaN(c) || math.IsInf(c, 0) {
				return nil, fmt.Errorf("metadata %s=%q: not a finite non-zero number", kv.Key, v)
			}
			coefs[l] = c
			continue
		}
		if rest == "format" {
			rest = "gosteer.format"
		}
		md[rest] = v
	}
	// Coef records the export coefficient; drop any older coef.<l>.
	for k := range md {
		if strings.HasPrefix(k, "coef.") {
			delete(md, k)
		}
	}
	for l, d := range dirs {
		c, ok := coefs[l]
		if !ok {
			return nil, fmt.Errorf("gosteer.export_coef.%d missing", l)
		}
		if c != 1 {
			for i, x := range d {
				d[i] = float32(float64(x) / c)
			}
		}
		md[fmt.Sprintf("coef.%d", l)] = formatFloat(c)
	}
	// The file holds only the exported layers: the layer of choice may be gone.
	if b, ok := md["layer"]; ok {
		if l, err := strconv.Atoi(b); err == nil {
			if _, held := dirs[l]; !held {
				delete(md, "layer")
			}
		}
	}
	return vectors.FromMetadata(md, dirs)
}
