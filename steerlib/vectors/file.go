package vectors

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gosteer/gosteer/steerlib/internal/atomicfile"

	"github.com/gosteer/gosteer/steerlib/safetensors"
)

// Native file format (safetensors):
//
//	tensors   direction.<l>  F32 [hidden]   one per layer held (l is the 0-based block)
//	metadata  gosteer.format        "vectors/1"
//	          model_hint, method, instruction_id
//	          hidden_size, num_layers, n_pairs
//	          layer                 layer of choice (absent if none)
//	          zbar.<l>              z̄ at layer l
//	          mean_proj_without.<l> mean projection without the instruction
//	          norm.<l>              ‖v‖ at layer l
//	          coef.<l>              coefficient of an imported GGUF vector
//
// Numbers are written with the shortest decimal that round-trips a float64.
// Statistics that are unknown (NaN) are omitted.

// FormatTag is the value of the gosteer.format metadata key of native files.
const FormatTag = "vectors/1"

// DirectionPrefix starts the name of the tensor holding a layer's direction
// ("direction.<l>"), in native files and in GGUF control vectors alike.
const DirectionPrefix = "direction."

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Metadata returns the safetensors metadata that Save writes for s.
func (s *Set) Metadata() map[string]string {
	md := map[string]string{
		"gosteer.format": FormatTag,
		"model_hint":     s.ModelHint,
		"method":         s.Method,
		"instruction_id": s.InstructionID,
		"hidden_size":    strconv.Itoa(s.Hidden),
		"num_layers":     strconv.Itoa(s.NumLayers),
		"n_pairs":        strconv.Itoa(s.NPairs),
	}
	if s.ChosenLayer != NoLayer {
		md["layer"] = strconv.Itoa(s.ChosenLayer)
	}
	for _, l := range s.Layers {
		put := func(k string, v float64) {
			if !math.IsNaN(v) {
				md[fmt.Sprintf("%s.%d", k, l.Layer)] = fmtFloat(v)
			}
		}
		put("zbar", l.ZBar)
		put("mean_proj_without", l.MeanProjWithout)
		put("norm", l.Norm)
		put("coef", l.Coef)
	}
	return md
}

// Save writes s to a native safetensors file: through a temporary file
// that Load must accept before it is renamed to path.
func (s *Set) Save(path string) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("save vectors %s: %w", path, err)
	}
	ts := make([]safetensors.Tensor, len(s.Layers))
	for i, l := range s.Layers {
		ts[i] = safetensors.F32(fmt.Sprintf("%s%d", DirectionPrefix, l.Layer), []int{s.Hidden}, l.U)
	}
	data, err := safetensors.Encode(ts, s.Metadata())
	if err != nil {
		return fmt.Errorf("save vectors %s: %w", path, err)
	}
	// The file must load back (through the same reader every tool uses)
	// before it replaces path.
	err = atomicfile.WriteBytes(path, data, func(tmp string) error {
		_, err := Load(tmp)
		return err
	})
	if err != nil {
		return fmt.Errorf("save vectors: %w", err)
	}
	return nil
}

// format is a foreign vector file format registered with RegisterFormat.
type format struct {
	name, magic string
	load        func(path string) (*Set, error)
}

var (
	formatsMu sync.Mutex
	formats   []format
)

// RegisterFormat makes Load (and steering specs) read files that start with
// magic through load. Packages for foreign formats register themselves in
// their init, as image formats do with package image: importing
// steerlib/controlvec makes Load read GGUF control vectors.
func RegisterFormat(name, magic string, load func(path string) (*Set, error)) {
	formatsMu.Lock()
	defer formatsMu.Unlock()
	formats = append(formats, format{name, magic, load})
}

// Load reads a vector file: a native safetensors file, or a file of a
// format registered with RegisterFormat (recognized by its magic bytes).
func Load(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load vectors: %w", err)
	}
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	f.Close()
	formatsMu.Lock()
	fs := formats
	formatsMu.Unlock()
	for _, ft := range fs {
		if bytes.HasPrefix(head[:n], []byte(ft.magic)) {
			return ft.load(path)
		}
	}
	if bytes.HasPrefix(head[:n], []byte("GGUF")) {
		return nil, fmt.Errorf("load vectors %s: a GGUF file; import steerlib/controlvec to read GGUF control vectors", path)
	}
	st, err := safetensors.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load vectors: %s cannot be read as a vector file (safetensors or GGUF): %w", path, err)
	}
	defer st.Close()
	s, err := fromSafetensors(st)
	if err != nil {
		return nil, fmt.Errorf("load vectors %s: %w", path, err)
	}
	return s, nil
}

// ParseLayerName returns l for "<prefix><l>" with l a non-negative decimal
// without leading zeros (e.g. "direction.12").
func ParseLayerName(name, prefix string) (int, bool) {
	if !strings.HasPrefix(name, prefix) {
		return 0, false
	}
	num := name[len(prefix):]
	if num == "" || strings.TrimLeft(num, "0123456789") != "" || (len(num) > 1 && num[0] == '0') {
		return 0, false
	}
	l, err := strconv.Atoi(num)
	return l, err == nil
}

func fromSafetensors(st *safetensors.File) (*Set, error) {
	dirs := map[int][]float32{}
	for _, name := range st.Names() {
		l, ok := ParseLayerName(name, DirectionPrefix)
		if !ok {
			return nil, fmt.Errorf("unexpected tensor %q (a vector file holds only direction.<layer> tensors)", name)
		}
		t, _ := st.Tensor(name)
		if t.DType != safetensors.Float32 || len(t.Shape) != 1 {
			return nil, fmt.Errorf("%s: want F32 with one dimension, got %s %v", name, t.DType, t.Shape)
		}
		u, err := t.Float32s()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		dirs[l] = append([]float32(nil), u...) // detach from the mapping
	}
	return FromMetadata(st.Metadata(), dirs)
}

// FromMetadata assembles and validates a Set from native metadata (see
// Set.Metadata) and the direction of each layer.
func FromMetadata(md map[string]string, dirs map[int][]float32) (*Set, error) {
	s := &Set{ChosenLayer: NoLayer, Method: MethodMeanDiff}
	var err error
	mdInt := func(k string, dst *int) {
		if v, ok := md[k]; ok && err == nil {
			if *dst, err = strconv.Atoi(v); err != nil {
				err = fmt.Errorf("metadata %s=%q: not an integer", k, v)
			}
		}
	}
	s.ModelHint = md["model_hint"]
	if v, ok := md["method"]; ok && v != "" {
		s.Method = v
	}
	s.InstructionID = md["instruction_id"]
	mdInt("hidden_size", &s.Hidden)
	mdInt("num_layers", &s.NumLayers)
	mdInt("n_pairs", &s.NPairs)
	mdInt("layer", &s.ChosenLayer)
	if err != nil {
		return nil, err
	}
	for l, u := range dirs {
		if s.Hidden == 0 {
			s.Hidden = len(u)
		}
		if len(u) != s.Hidden {
			return nil, fmt.Errorf("%s%d: length %d, hidden size is %d", DirectionPrefix, l, len(u), s.Hidden)
		}
		ly := Direction{Layer: l, U: u, Norm: math.NaN(), ZBar: math.NaN(), MeanProjWithout: math.NaN(), Coef: math.NaN()}
		for k, dst := range map[string]*float64{"zbar": &ly.ZBar, "mean_proj_without": &ly.MeanProjWithout, "norm": &ly.Norm, "coef": &ly.Coef} {
			key := fmt.Sprintf("%s.%d", k, l)
			if v, ok := md[key]; ok {
				f, perr := strconv.ParseFloat(v, 64)
				if perr != nil || math.IsInf(f, 0) || math.IsNaN(f) {
					return nil, fmt.Errorf("metadata %s=%q: not a finite number", key, v)
				}
				*dst = f
			}
		}
		s.Layers = append(s.Layers, ly)
	}
	sort.Slice(s.Layers, func(i, j int) bool { return s.Layers[i].Layer < s.Layers[j].Layer })
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}
