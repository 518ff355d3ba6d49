package model

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosteer/gosteer/steerlib/backend"
)

// Model is a loaded causal LM: its config, its weights on a GoMLX backend and
// a cache of compiled graphs. It is safe for concurrent use.
type Model struct {
	// Config is the architecture read from config.json.
	Config *Config
	// Dir is the local folder the checkpoint was read from ("" for random weights).
	Dir string

	backend compute.Backend
	dtype   dtypes.DType
	weights map[string]*tensors.Tensor
	names   []string // canonical weight names, in graph-parameter order
	// memLimit is the WithMemoryLimit option Generate checks its KV cache against.
	memLimit int64

	mu     sync.Mutex
	execs  map[string]*Exec
	builds int // graphs built (one per executor and input shapes)
}

func newModel(cfg *Config, dir string, b compute.Backend, dtype dtypes.DType, w map[string]*tensors.Tensor) *Model {
	names := make([]string, 0, len(w))
	for n := range w {
		names = append(names, n)
	}
	sort.Strings(names)
	return &Model{Config: cfg, Dir: dir, backend: b, dtype: dtype, weights: w, names: names, execs: map[string]*Exec{}}
}

// DType is the compute dtype of the activations and weights.
func (m *Model) DType() dtypes.DType { return m.dtype }

// Backend is the GoMLX backend the model runs on.
func (m *Model) Backend() compute.Backend { return m.backend }

// WeightBytes is the total size of the weights on the backend.
func (m *Model) WeightBytes() int64 {
	var n int64
	for _, t := range m.weights {
		n += t.Shape().ByteSize()
	}
	return n
}

// NumCompiled is the number of graphs compiled so far (one per kind of call
// and bucketed input shapes); tests use it to check what recompiles.
func (m *Model) NumCompiled() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.builds
}

// Close frees the weights and compiled graphs. The model is unusable afterwards.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, e := range m.execs {
		e.Finalize()
	}
	m.execs = map[string]*Exec{}
	for _, t := range m.weights {
		if err := t.FinalizeAll(); err != nil {
			errs = append(errs, err)
		}
	}
	m.weights = nil
	return errors.Join(errs...)
}

// weightArgs returns the weights in parameter order.
func (m *Model) weightArgs() []any {
	out := make([]any, len(m.names))
	for i, n := range m.names {
		out[i] = m.weights[n]
	}
	return out
}

// bind maps canonical names to the trailing graph inputs; matrices are
// stored transposed (see storedShape).
func (m *Model) bind(inputs []*Node) weights {
	idx := make(map[string]int, len(m.names))
	for i, n := range m.names {
		idx[n] = i
	}
	get := func(name string) *Node {
		i, ok := idx[name]
		if !ok {
			panic(fmt.Errorf("model has no weight %q", name))
		}
		return inputs[i]
	}
	return weights{get: get, inOut: true, softmaxSigmoid: backend.IsGo(m.backend)}
}

// storedShape is the shape the runtime keeps a weight in: matrices
// transposed (projections [in, out], the embedding [D, V]), everything else
// as listed by WeightShapes.
func storedShape(shape []int) []int {
	if storedTransposed(shape) {
		return []int{shape[1], shape[0]}
	}
	return shape
}

// storedTransposed reports whether the runtime keeps a weight of this shape transposed.
func storedTransposed(shape []int) bool { return len(shape) == 2 }

// transpose returns the [cols, rows] transpose of a row-major [rows, cols] matrix.
func transpose(v []float32, rows, cols int) []float32 {
	out := make([]float32, len(v))
	const blk = 32
	for r0 := 0; r0 < rows; r0 += blk {
		for c0 := 0; c0 < cols; c0 += blk {
			for r := r0; r < min(r0+blk, rows); r++ {
				for c := c0; c < min(c0+blk, cols); c++ {
					out[c*rows+r] = v[r*cols+c]
				}
			}
		}
	}
	return out
}

// exec returns the cached executor for key, building it with fn on first use.
func (m *Model) exec(key string, fn func(inputs []*Node) []*Node) (*Exec, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.weights == nil {
		return nil, errors.New("model is closed")
	}
	if e, ok := m.execs[key]; ok {
		return e, nil
	}
	e, err := NewExec(m.backend, func(in []*Node) []*Node {
		m.mu.Lock()
		m.builds++
		m.mu.Unlock()
		return fn(in)
	})
	if err != nil {
		return nil, err
	}
	e.SetMaxCache(-1)
	m.execs[key] = e
	return e, nil
}

// call runs e on args and converts a panic into an error.
func call(e *Exec, args ...any) (out []*tensors.Tensor, err error) {
	defer recoverTo(&err, "execute graph")
	return e.Call(args...)
}

// recoverTo turns a panic into an error wrapped with what. GoMLX reports graph
// building errors by panicking; no panic crosses the package boundary.
func recoverTo(err *error, what string) {
	if r := recover(); r != nil {
		if e, ok := r.(error); ok {
			*err = fmt.Errorf("%s: %w", what, e)
		} else {
			*err = fmt.Errorf("%s: %v", what, r)
		}
		if debugPanics {
			*err = fmt.Errorf("%w\n%s", *err, debug.Stack())
		}
	}
}

// debugPanics adds stack traces to recovered panics (tests flip it on).
var debugPanics = false

func shapesI32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Int32, dims...) }

// and is the logical and of two boolean nodes.
func and(a, b *Node) *Node { return LogicalAnd(a, b) }

// toFloat32 copies a tensor (float32 or bfloat16) to a float32 slice.
func toFloat32(t *tensors.Tensor) ([]float32, error) {
	switch t.DType() {
	case dtypes.Float32:
		return tensors.CopyFlatData[float32](t)
	case dtypes.BFloat16:
		v, err := tensors.CopyFlatData[bfloat16.BFloat16](t)
		if err != nil {
			return nil, err
		}
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = x.Float32()
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected output dtype %s", t.DType())
}

// tensorI32 makes a host tensor from int32 values.
func tensorI32(v []int32, dims ...int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

// finalizeAll frees graph outputs once they have been copied out.
func finalizeAll(ts []*tensors.Tensor) {
	for _, t := range ts {
		if t != nil {
			_ = t.FinalizeAll()
		}
	}
}
