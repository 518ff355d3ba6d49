package model

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
)

// Batch is a rectangular batch of token ids with optional padding.
type Batch struct {
	B, T int
	// IDs holds B·T token ids, row-major.
	IDs []int32
	// Mask holds B·T values, 1 for a token and 0 for padding; nil means no padding.
	Mask []int32
	// Positions holds B·T position ids; nil means the number of real tokens
	// before each token (0 at padding), which is what left padding needs.
	Positions []int32
}

// LeftPad builds a batch from rows of different lengths, padding on the left
// with pad (mask 0).
func LeftPad(rows [][]int, pad int) (Batch, error) {
	if len(rows) == 0 {
		return Batch{}, errors.New("empty batch: no rows")
	}
	T := 0
	for i, r := range rows {
		if len(r) == 0 {
			return Batch{}, fmt.Errorf("row %d is empty", i)
		}
		T = max(T, len(r))
	}
	b := Batch{B: len(rows), T: T, IDs: make([]int32, len(rows)*T), Mask: make([]int32, len(rows)*T)}
	for i, r := range rows {
		off := i*T + T - len(r)
		for j := 0; j < T-len(r); j++ {
			b.IDs[i*T+j] = int32(pad)
		}
		for j, id := range r {
			b.IDs[off+j] = int32(id)
			b.Mask[off+j] = 1
		}
	}
	return b, nil
}

// mask returns the mask, all ones when nil.
func (b Batch) mask() []int32 {
	if b.Mask != nil {
		return b.Mask
	}
	m := make([]int32, b.B*b.T)
	for i := range m {
		m[i] = 1
	}
	return m
}

// positions returns the position ids, derived from the mask when nil.
func (b Batch) positions() []int32 {
	if b.Positions != nil {
		return b.Positions
	}
	mask := b.mask()
	p := make([]int32, b.B*b.T)
	for i := 0; i < b.B; i++ {
		n := int32(0)
		for t := 0; t < b.T; t++ {
			if mask[i*b.T+t] != 0 {
				p[i*b.T+t] = n
				n++
			}
		}
	}
	return p
}

// validate checks sizes, token ids and positions against cfg.
func (b Batch) validate(cfg *Config) error {
	if b.B <= 0 || b.T <= 0 {
		return fmt.Errorf("empty batch: %d rows × %d tokens", b.B, b.T)
	}
	n := b.B * b.T
	if len(b.IDs) != n {
		return fmt.Errorf("batch has %d ids, want %d×%d", len(b.IDs), b.B, b.T)
	}
	if b.Mask != nil && len(b.Mask) != n {
		return fmt.Errorf("batch mask has %d values, want %d×%d", len(b.Mask), b.B, b.T)
	}
	if b.Positions != nil && len(b.Positions) != n {
		return fmt.Errorf("batch positions have %d values, want %d×%d", len(b.Positions), b.B, b.T)
	}
	mask := b.mask()
	for i, id := range b.IDs {
		if mask[i] != 0 && (id < 0 || int(id) >= cfg.VocabSize) {
			return fmt.Errorf("token id %d at row %d position %d outside vocabulary [0, %d)", id, i/b.T, i%b.T, cfg.VocabSize)
		}
		if mask[i] != 0 && mask[i] != 1 {
			return fmt.Errorf("attention mask value %d at row %d position %d (want 0 or 1)", mask[i], i/b.T, i%b.T)
		}
	}
	if cfg.MaxPositions > 0 {
		for i, p := range b.positions() {
			if mask[i] != 0 && (p < 0 || int(p) >= cfg.MaxPositions) {
				return fmt.Errorf("position %d at row %d is outside the context of %d tokens (prompt longer than the context?)", p, i/b.T, cfg.MaxPositions)
			}
		}
	}
	return nil
}

// padTo returns the batch left-padded to T2 ≥ T positions and B2 ≥ B rows
// (extra rows are all padding), for bucketed shapes.
func (b Batch) padTo(B2, T2 int) Batch {
	mask, pos := b.mask(), b.positions()
	out := Batch{B: B2, T: T2, IDs: make([]int32, B2*T2), Mask: make([]int32, B2*T2), Positions: make([]int32, B2*T2)}
	for i := 0; i < b.B; i++ {
		off := i*T2 + T2 - b.T
		copy(out.IDs[off:off+b.T], b.IDs[i*b.T:(i+1)*b.T])
		copy(out.Mask[off:off+b.T], mask[i*b.T:(i+1)*b.T])
		copy(out.Positions[off:off+b.T], pos[i*b.T:(i+1)*b.T])
	}
	for i := range out.IDs {
		if out.Mask[i] == 0 {
			out.IDs[i] = 0
		}
	}
	return out
}

// BucketLen rounds a sequence length up to the lengths graphs are compiled
// for: multiples of 16 up to 128, of 64 up to 512, then of 256.
func BucketLen(n int) int {
	switch {
	case n <= 128:
		return roundUp(n, 16)
	case n <= 512:
		return roundUp(n, 64)
	default:
		return roundUp(n, 256)
	}
}

// BucketBatch rounds a batch size up to a power of two.
func BucketBatch(n int) int {
	b := 1
	for b < n {
		b *= 2
	}
	return b
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// CaptureAt selects the positions captured by Forward.
type CaptureAt int

const (
	// AllPositions captures resid_post at every position: [B, T, D] per layer.
	AllPositions CaptureAt = iota
	// LastToken captures resid_post at each row's last real token: [B, D] per layer.
	LastToken
)

// LogitsMode selects the logits Forward returns.
type LogitsMode int

const (
	// LogitsAll returns logits at every position [B, T, V].
	LogitsAll LogitsMode = iota
	// LogitsLast returns logits at each row's last real token [B, V].
	LogitsLast
	// LogitsNone skips the output projection.
	LogitsNone
)

// ForwardOptions configures Forward.
type ForwardOptions struct {
	// Layers whose residual stream (after the block, and after any steering
	// there) is returned. Nil captures nothing.
	Layers []int
	// At chooses all positions or the last real token of each row.
	At CaptureAt
	// Logits chooses which logits to return.
	Logits LogitsMode
	// Steer ops are applied as on prompt tokens (SteerPrompt and SteerAll ops act).
	Steer []SteerOp
}

// ForwardResult holds Forward's outputs as float32, in the caller's batch
// layout (bucket padding removed).
type ForwardResult struct {
	B, T, V, D int
	// Logits is [B, T, V] (LogitsAll), [B, V] (LogitsLast) or nil.
	Logits []float32
	// Resid maps a layer to its residual stream: [B, T, D] (AllPositions) or [B, D] (LastToken).
	Resid map[int][]float32
}

// Forward runs the model over a padded batch. Shapes are bucketed (see
// BucketLen, BucketBatch), so batches of nearby sizes share one compiled
// graph; a graph is compiled per (bucketed B, bucketed T, logits mode,
// capture mode, steered layers) and, for AllPositions, per layer set.
// LastToken captures every layer inside the graph, so changing Layers never
// recompiles; changing steering vectors or coefficients never recompiles.
func (m *Model) Forward(batch Batch, opts ForwardOptions) (res *ForwardResult, err error) {
	defer recoverTo(&err, "forward")
	cfg := m.Config
	if err := batch.validate(cfg); err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	if err := validateSteer(cfg, opts.Steer); err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	layers := append([]int(nil), opts.Layers...)
	sort.Ints(layers)
	for i, l := range layers {
		if l < 0 || l >= cfg.NumLayers {
			return nil, fmt.Errorf("forward: capture layer %d out of range [0, %d)", l, cfg.NumLayers)
		}
		if i > 0 && layers[i-1] == l {
			return nil, fmt.Errorf("forward: capture layer %d listed twice", l)
		}
	}
	B2, T2 := BucketBatch(batch.B), BucketLen(batch.T)
	padded := batch.padTo(B2, T2)
	last := make([]int32, B2)
	for i := 0; i < B2; i++ {
		last[i] = int32(T2 - 1)
		for t := T2 - 1; t >= 0; t-- {
			if padded.Mask[i*T2+t] != 0 {
				last[i] = int32(t)
				break
			}
		}
	}

	plan := newSteerPlan(opts.Steer)
	captureAll := opts.At == AllPositions && len(layers) > 0
	captureLast := opts.At == LastToken && len(layers) > 0
	var sb strings.Builder
	fmt.Fprintf(&sb, "forward|logits=%d|steer=%s|", opts.Logits, plan.key())
	if captureAll {
		fmt.Fprintf(&sb, "all=%v", layers)
	} else if captureLast {
		sb.WriteString("last")
	}
	nSteer := 2 * plan.n
	e, err := m.exec(sb.String(), func(in []*Node) []*Node {
		ids, pos, mask, lastIdx := in[0], in[1], in[2], in[3]
		slots := steerSlots(in[4:], plan.n)
		ws := m.bind(in[4+nSteer:])
		g := ids.Graph()
		Bn := ids.Shape().Dim(0)
		// gather indices [B, 2] = (row, last token) for per-row selection.
		rows := Iota(g, shapesI32(Bn, 1), 0)
		sel := Concatenate([]*Node{rows, Reshape(lastIdx, Bn, 1)}, 1)
		var outs, lastCaps []*Node
		hook := func(l int, x *Node) *Node {
			x = applySteer(plan, slots, l, x)
			if captureAll && containsInt(layers, l) {
				outs = append(outs, x)
			}
			if captureLast {
				lastCaps = append(lastCaps, Gather(x, sel))
			}
			return x
		}
		x := forwardResidual(cfg, ws, ids, pos, mask, hook)
		switch opts.Logits {
		case LogitsAll:
			outs = append([]*Node{lmHead(cfg, ws, x)}, outs...)
		case LogitsLast:
			outs = append([]*Node{lmHead(cfg, ws, Gather(x, sel))}, outs...)
		}
		if captureLast {
			outs = append(outs, Stack(lastCaps, 0)) // [L, B, D]
		}
		return outs
	})
	if err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	args := []any{tensorI32(padded.IDs, B2, T2), tensorI32(padded.Positions, B2, T2), tensorI32(padded.Mask, B2, T2), tensorI32(last, B2)}
	args = append(args, steerInputs(opts.Steer, false, m.dtype)...)
	args = append(args, m.weightArgs()...)
	outs, err := call(e, args...)
	if err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	defer finalizeAll(outs)

	B, T, V, D := batch.B, batch.T, cfg.VocabSize, cfg.HiddenSize
	res = &ForwardResult{B: B, T: T, V: V, D: D, Resid: map[int][]float32{}}
	k := 0
	if opts.Logits != LogitsNone {
		full, err := toFloat32(outs[0])
		if err != nil {
			return nil, fmt.Errorf("forward: %w", err)
		}
		if opts.Logits == LogitsAll {
			res.Logits = unpad(full, B, T, T2, V)
		} else {
			res.Logits = full[:B*V]
		}
		k++
	}
	if captureAll {
		for _, l := range layers {
			full, err := toFloat32(outs[k])
			if err != nil {
				return nil, fmt.Errorf("forward: %w", err)
			}
			res.Resid[l] = unpad(full, B, T, T2, D)
			k++
		}
	}
	if captureLast {
		full, err := toFloat32(outs[k]) // [L, B2, D]
		if err != nil {
			return nil, fmt.Errorf("forward: %w", err)
		}
		for _, l := range layers {
			off := l * B2 * D
			res.Resid[l] = append([]float32(nil), full[off:off+B*D]...)
		}
	}
	return res, nil
}

// unpad extracts the first B rows and last T of T2 positions of x [B2, T2, F].
func unpad(x []float32, B, T, T2, F int) []float32 {
	out := make([]float32, B*T*F)
	for i := 0; i < B; i++ {
		src := (i*T2 + T2 - T) * F
		copy(out[i*T*F:(i+1)*T*F], x[src:src+T*F])
	}
	return out
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
