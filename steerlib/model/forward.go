package model

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
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
	// TokenLogProbs returns, instead of logits, log p(ids[t] | ids[<t]) at
	// every position [B, T] (0 at a row's first position and at padding),
	// computed in the graph so the [B, T, V] logits never leave it.
	TokenLogProbs
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
	// Steer ops act on every row, as on prompt tokens (SteerPrompt and
	// SteerAll ops act).
	Steer []SteerOp
	// RowSteer gives each row its own ops (nil or empty: none for that row),
	// acting as Steer's do; len(RowSteer) must be the number of rows.
	// Exclusive with Steer.
	RowSteer [][]SteerOp
}

// ForwardResult holds Forward's outputs as float32, in the caller's batch
// layout (bucket padding removed).
type ForwardResult struct {
	B, T, V, D int
	// Logits is [B, T, V] (LogitsAll), [B, V] (LogitsLast), [B, T]
	// (TokenLogProbs) or nil.
	Logits []float32
	// Resid maps a layer to its residual stream: [B, T, D] (AllPositions) or [B, D] (LastToken).
	Resid map[int][]float32
}

// forwardPlan is what a Forward call compiles and feeds.
type forwardPlan struct {
	opts         ForwardOptions
	layers       []int // sorted capture layers
	rows         [][]SteerOp
	steer        steerPlan
	B2, T2       int
	padded       Batch
	last         []int32 // per bucketed row, its last real position
	captureAll   bool
	captureLast  bool
	logitsOutput bool
}

// Forward runs the model over a padded batch. Shapes are bucketed (see
// BucketLen, BucketBatch), so batches of nearby sizes share one compiled
// graph; the package documentation lists what compiles when.
func (m *Model) Forward(batch Batch, opts ForwardOptions) (res *ForwardResult, err error) {
	defer recoverTo(&err, "forward")
	p, err := m.planForward(batch, opts)
	if err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	e, err := m.forwardExec(p)
	if err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	steer := newSteerValues(p.steer, p.rows, p.B2, m.Config.HiddenSize, m.dtype)
	defer steer.finalize()
	args := []any{tensorI32(p.padded.IDs, p.B2, p.T2), tensorI32(p.padded.Positions, p.B2, p.T2),
		tensorI32(p.padded.Mask, p.B2, p.T2), tensorI32(p.last, p.B2)}
	args = append(args, steer.args(false)...)
	args = append(args, m.weightArgs()...)
	outs, err := call(e, args...)
	if err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	defer finalizeAll(outs)
	res, err = m.forwardResult(p, batch, outs)
	if err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	return res, nil
}

// planForward validates a Forward call and lays out its bucketed inputs.
func (m *Model) planForward(batch Batch, opts ForwardOptions) (*forwardPlan, error) {
	cfg := m.Config
	rows, err := batchSteer(cfg, batch, opts.Steer, opts.RowSteer)
	if err != nil {
		return nil, err
	}
	layers := append([]int(nil), opts.Layers...)
	sort.Ints(layers)
	for i, l := range layers {
		if l < 0 || l >= cfg.NumLayers {
			return nil, fmt.Errorf("capture layer %d out of range [0, %d)", l, cfg.NumLayers)
		}
		if i > 0 && layers[i-1] == l {
			return nil, fmt.Errorf("capture layer %d listed twice", l)
		}
	}
	p := &forwardPlan{opts: opts, layers: layers, rows: rows, steer: newSteerPlan(rows, cfg.NumLayers, opts.RowSteer != nil),
		B2: BucketBatch(batch.B), T2: BucketLen(batch.T)}
	p.padded = batch.padTo(p.B2, p.T2)
	p.last = make([]int32, p.B2)
	for i := range p.last {
		p.last[i] = int32(p.T2 - 1)
		for t := p.T2 - 1; t >= 0; t-- {
			if p.padded.Mask[i*p.T2+t] != 0 {
				p.last[i] = int32(t)
				break
			}
		}
	}
	p.captureAll = opts.At == AllPositions && len(layers) > 0
	p.captureLast = opts.At == LastToken && len(layers) > 0
	p.logitsOutput = opts.Logits != LogitsNone
	return p, nil
}

// forwardExec compiles (or finds) the graph of a forward plan: inputs ids,
// positions, mask [B, T], last positions [B], steering slots, weights;
// outputs the chosen logits, then the captured layers, then the finite check
// (see finiteCheck).
func (m *Model) forwardExec(p *forwardPlan) (*Exec, error) {
	cfg := m.Config
	var sb strings.Builder
	fmt.Fprintf(&sb, "forward|logits=%d|steer=%s|", p.opts.Logits, p.steer.key())
	if p.captureAll {
		fmt.Fprintf(&sb, "all=%v", p.layers)
	} else if p.captureLast {
		sb.WriteString("last")
	}
	return m.exec(sb.String(), func(in []*Node) []*Node {
		ids, pos, mask, lastIdx := in[0], in[1], in[2], in[3]
		steer := newSteerGraph(p.steer, in[4:])
		ws := m.bind(in[4+p.steer.numInputs():])
		g := ids.Graph()
		Bn := ids.Shape().Dim(0)
		// gather indices [B, 2] = (row, last token) for per-row selection.
		sel := Concatenate([]*Node{Iota(g, shapesI32(Bn, 1), 0), Reshape(lastIdx, Bn, 1)}, 1)
		var caps []*Node
		capture := func(l int, x *Node) *Node {
			if p.captureAll && containsInt(p.layers, l) {
				caps = append(caps, x)
			}
			if p.captureLast {
				caps = append(caps, Gather(x, sel))
			}
			return x
		}
		check := &finiteCheck{}
		x := decoderStack(cfg, ws, ids, pos, sequenceKV(cfg, mask, nil), steer.then(check.hook(capture)))
		var outs []*Node
		switch p.opts.Logits {
		case LogitsAll:
			outs = append(outs, lmHead(cfg, ws, x))
		case LogitsLast:
			outs = append(outs, lmHead(cfg, ws, Gather(x, sel)))
		case TokenLogProbs:
			outs = append(outs, tokenLogProbs(lmHead(cfg, ws, x), ids))
		}
		var logits *Node
		if len(outs) > 0 {
			logits = outs[0]
		}
		if p.captureLast {
			caps = []*Node{Stack(caps, 0)} // [L, B, D]
		}
		return append(append(outs, caps...), check.result(logits))
	})
}

// tokenLogProbs returns log softmax(logits[:, t-1])[ids[:, t]] at t ≥ 1 and 0
// at t = 0: [B, T] float32.
func tokenLogProbs(logits, ids *Node) *Node {
	g := ids.Graph()
	B, T := logits.Shape().Dim(0), logits.Shape().Dim(1)
	zero := Zeros(g, shapes.Make(dtypes.Float32, B, 1))
	if T == 1 {
		return zero
	}
	lp := LogSoftmax(Slice(logits, AxisRange(), AxisRange(0, T-1), AxisRange()), -1) // [B, T-1, V]
	// Gather indices (b, t, ids[b, t+1]): [B, T-1, 3].
	at := Concatenate([]*Node{Iota(g, shapesI32(B, T-1, 1), 0), Iota(g, shapesI32(B, T-1, 1), 1),
		Reshape(Slice(ids, AxisRange(), AxisRange(1, T)), B, T-1, 1)}, 2)
	return Concatenate([]*Node{zero, Gather(lp, at)}, 1)
}

// forwardResult copies a forward graph's outputs into the caller's layout.
func (m *Model) forwardResult(p *forwardPlan, batch Batch, outs []*tensors.Tensor) (*ForwardResult, error) {
	B, T, V, D := batch.B, batch.T, m.Config.VocabSize, m.Config.HiddenSize
	res := &ForwardResult{B: B, T: T, V: V, D: D, Resid: map[int][]float32{}}
	if err := checkFinite(outs[len(outs)-1], m.Config.NumLayers); err != nil {
		return nil, err
	}
	outs = outs[:len(outs)-1]
	if p.logitsOutput {
		full, err := toFloat32(outs[0])
		if err != nil {
			return nil, err
		}
		switch p.opts.Logits {
		case LogitsAll:
			res.Logits = unpad(full, B, T, p.T2, V)
		case LogitsLast:
			res.Logits = full[:B*V]
		case TokenLogProbs:
			res.Logits = unpad(full, B, T, p.T2, 1)
		}
		outs = outs[1:]
	}
	if p.captureAll {
		for i, l := range p.layers {
			full, err := toFloat32(outs[i])
			if err != nil {
				return nil, err
			}
			res.Resid[l] = unpad(full, B, T, p.T2, D)
		}
	}
	if p.captureLast {
		full, err := toFloat32(outs[0]) // [L, B2, D]
		if err != nil {
			return nil, err
		}
		for _, l := range p.layers {
			off := l * p.B2 * D
			res.Resid[l] = append([]float32(nil), full[off:off+B*D]...)
		}
	}
	return res, nil
}

// TokenLogProbs returns, for each row of token ids, log p(row[t] | row[:t])
// for t = 1 … len(row)−1 (so len(row)−1 values; none for a one-token row),
// from one batched forward pass over the left-padded rows. A perplexity is
// exp(−mean) of a row's values. Rows must fit the context (MaxPositions); the
// graph holds [B, T, V] float32 logits, so batch long rows of a large
// vocabulary in small groups (GPT-2, 1024 tokens: 206 MB per row).
func (m *Model) TokenLogProbs(rows [][]int) ([][]float32, error) {
	batch, err := LeftPad(rows, 0)
	if err != nil {
		return nil, fmt.Errorf("token log-probs: %w", err)
	}
	res, err := m.Forward(batch, ForwardOptions{Logits: TokenLogProbs})
	if err != nil {
		return nil, fmt.Errorf("token log-probs: %w", err)
	}
	out := make([][]float32, len(rows))
	for i, r := range rows {
		start := i*batch.T + batch.T - len(r)
		out[i] = append([]float32{}, res.Logits[start+1:(i+1)*batch.T]...)
	}
	return out, nil
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
