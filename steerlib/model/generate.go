package model

import (
	"errors"
	"fmt"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

// GenerateOptions configures Generate. The zero value (plus MaxNewTokens)
// is greedy decoding without stopping.
type GenerateOptions struct {
	// MaxNewTokens is the number of tokens generated per row (fewer only
	// when a row stops at EOS or a stop string).
	MaxNewTokens int
	// Greedy picks the argmax. Sampling happens only when Greedy is false and
	// Temperature > 0.
	Greedy bool
	// Temperature divides the logits before sampling.
	Temperature float64
	// TopK keeps the K most likely tokens (0: all).
	TopK int
	// TopP keeps the smallest set of tokens whose probability reaches P (0 or 1: all).
	TopP float64
	// Seed makes sampling reproducible.
	Seed uint64
	// StopAtEOS stops a row after it produced an end-of-sequence token (kept in
	// the output). EOS overrides the model's EOS ids when not nil.
	StopAtEOS bool
	EOS       []int
	// StopStrings stop a row once its decoded text contains one of them; this
	// needs Decode, which turns a row's generated ids into text.
	StopStrings []string
	Decode      func(ids []int) (string, error)
	// Steer ops act on every row, on prompt and/or generated tokens per
	// their Scope.
	Steer []SteerOp
	// RowSteer gives each row its own ops (nil or empty: none for that row);
	// len(RowSteer) must be the number of prompts. Exclusive with Steer. Any
	// mix of layers, kinds, directions and coefficients runs in one compiled
	// graph (see the package documentation).
	RowSteer [][]SteerOp
	// OnToken, if set, receives each new token as it is produced (streaming).
	OnToken func(row, step, id int)
	// OnLogits, if set, receives at each step the float32 logits [V] that
	// every prompt's row (padding rows excluded) chose its step token from,
	// before temperature. Without it the logits never leave the device: a
	// step returns only the new ids.
	OnLogits func(step int, logits [][]float32)
}

// Stop reasons reported in GenerateResult.Reasons.
const (
	StopLength = "length"
	StopEOS    = "eos"
	StopString = "stop"
)

// GenerateResult holds the new tokens of each row and why each row stopped.
type GenerateResult struct {
	Tokens  [][]int
	Reasons []string
}

// Generate continues each prompt (token ids; rows may differ in length and
// are left-padded) with a KV cache: one prompt pass (prefill), then one
// decode step per new token. The package documentation lists what compiles
// when.
func (m *Model) Generate(prompts [][]int, opts GenerateOptions) (res *GenerateResult, err error) {
	defer recoverTo(&err, "generate")
	r, err := m.newGeneration(prompts, opts)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	defer r.close()
	if err := r.prefill(); err != nil {
		return nil, fmt.Errorf("generate: prefill: %w", err)
	}
	for step := 0; step < r.N; step++ {
		tok, err := r.fetch(step)
		if err != nil {
			return nil, fmt.Errorf("generate: step %d: %w", step, err)
		}
		active, err := r.record(step, tok)
		if err != nil {
			return nil, fmt.Errorf("generate: step %d: %w", step, err)
		}
		if active == 0 || step == r.N-1 {
			break
		}
		if err := r.decode(step); err != nil {
			return nil, fmt.Errorf("generate: decode step %d: %w", step, err)
		}
	}
	return r.result(), nil
}

// generation is the state of one Generate call.
type generation struct {
	m                 *Model
	opts              GenerateOptions
	eos               []int
	B, B2, Tp, S, N   int
	padded            Batch
	steer             steerValues
	pick              pickPlan
	prefillE, decodeE *Exec
	keyMask, nextPos  []int32
	// outs are the last step's outputs: pick.numOutputs() (ids [B], the RNG
	// state when sampling, logits when asked), the finite check (int32
	// scalar, see finiteCheck), then the 2L caches.
	outs []*tensors.Tensor
	res  *GenerateResult
	done []bool
}

// newGeneration validates a Generate call, pads the prompts to their
// buckets and compiles (or finds) the prefill and decode graphs.
func (m *Model) newGeneration(prompts [][]int, opts GenerateOptions) (*generation, error) {
	cfg := m.Config
	if opts.MaxNewTokens <= 0 {
		return nil, fmt.Errorf("MaxNewTokens must be positive, got %d", opts.MaxNewTokens)
	}
	if len(opts.StopStrings) > 0 && opts.Decode == nil {
		return nil, errors.New("StopStrings need a Decode function")
	}
	batch, err := LeftPad(prompts, 0)
	if err != nil {
		return nil, err
	}
	rows, err := batchSteer(cfg, batch, opts.Steer, opts.RowSteer)
	if err != nil {
		return nil, err
	}
	N := opts.MaxNewTokens
	if cfg.MaxPositions > 0 && batch.T+N > cfg.MaxPositions {
		return nil, fmt.Errorf("prompt of %d tokens + %d new tokens exceeds the context of %d", batch.T, N, cfg.MaxPositions)
	}
	r := &generation{m: m, opts: opts, eos: cfg.EOS, B: batch.B, B2: BucketBatch(batch.B), Tp: BucketLen(batch.T), N: N,
		res: &GenerateResult{Tokens: make([][]int, batch.B), Reasons: make([]string, batch.B)}, done: make([]bool, batch.B)}
	if opts.EOS != nil {
		r.eos = opts.EOS
	}
	r.S = BucketLen(r.Tp + N)
	kv, err := kvCacheBytes(cfg, r.B2, r.S, m.dtype)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("the KV cache for batch %d (bucket %d) × length %d (%s)", r.B, r.B2, r.S, dtypeName(m.dtype))
	if err := checkFits(what, kv, m.kvLimit()); err != nil {
		return nil, err
	}
	r.padded = batch.padTo(r.B2, r.Tp)
	plan := newSteerPlan(rows, cfg.NumLayers, opts.RowSteer != nil)
	r.pick = newPickPlan(opts, cfg.VocabSize)
	if r.prefillE, err = m.prefillExec(plan, r.pick, r.S); err != nil {
		return nil, err
	}
	if r.decodeE, err = m.decodeExec(plan, r.pick); err != nil {
		return nil, err
	}
	r.steer = newSteerValues(plan, rows, r.B2, cfg.HiddenSize, m.dtype)
	return r, nil
}

// prefill runs the prompt pass and sets up the key mask and next positions.
func (r *generation) prefill() error {
	args := []any{tensorI32(r.padded.IDs, r.B2, r.Tp), tensorI32(r.padded.Positions, r.B2, r.Tp), tensorI32(r.padded.Mask, r.B2, r.Tp)}
	args = append(args, r.steer.args(false)...)
	var rng *tensors.Tensor
	if r.pick.sample {
		var err error
		if rng, err = newRNGState(r.opts.Seed); err != nil {
			return err
		}
	}
	args = append(args, r.pick.args(r.opts, rng)...)
	args = append(args, r.m.weightArgs()...)
	outs, err := call(r.prefillE, args...)
	if rng != nil {
		rng.FinalizeAll()
	}
	if err != nil {
		return err
	}
	r.outs = outs
	r.keyMask = make([]int32, r.B2*r.S)
	r.nextPos = make([]int32, r.B2)
	for b := 0; b < r.B2; b++ {
		copy(r.keyMask[b*r.S:b*r.S+r.Tp], r.padded.Mask[b*r.Tp:(b+1)*r.Tp])
		r.nextPos[b] = r.padded.Positions[b*r.Tp+r.Tp-1] + 1
	}
	return nil
}

// record appends step's tokens to the rows still running, streams them and
// applies the stop rules; it returns how many rows are still running.
func (r *generation) record(step int, tok []int32) (active int, err error) {
	opts := r.opts
	for b := 0; b < r.B; b++ {
		if r.done[b] {
			continue
		}
		id := int(tok[b])
		r.res.Tokens[b] = append(r.res.Tokens[b], id)
		if opts.OnToken != nil {
			opts.OnToken(b, step, id)
		}
		switch {
		case opts.StopAtEOS && containsInt(r.eos, id):
			r.done[b], r.res.Reasons[b] = true, StopEOS
		case len(opts.StopStrings) > 0:
			text, err := opts.Decode(r.res.Tokens[b])
			if err != nil {
				return 0, fmt.Errorf("decode row %d: %w", b, err)
			}
			for _, s := range opts.StopStrings {
				if s != "" && strings.Contains(text, s) {
					r.done[b], r.res.Reasons[b] = true, StopString
					break
				}
			}
		}
		if !r.done[b] {
			active++
		}
	}
	return active, nil
}

// fetch checks that step's residual streams and logits are finite and
// copies its ids (and, with OnLogits, its logits) to the host.
func (r *generation) fetch(step int) ([]int32, error) {
	nOut := r.pick.numOutputs()
	if err := checkFinite(r.outs[nOut], r.m.Config.NumLayers); err != nil {
		return nil, err
	}
	tok, err := tensors.CopyFlatData[int32](r.outs[0])
	if err != nil {
		return nil, err
	}
	if r.pick.logits {
		flat, err := tensors.CopyFlatData[float32](r.outs[nOut-1])
		if err != nil {
			return nil, err
		}
		V := len(flat) / r.B2
		rows := make([][]float32, r.B)
		for b := range rows {
			rows[b] = flat[b*V : (b+1)*V]
		}
		r.opts.OnLogits(step, rows)
	}
	return tok, nil
}

// decode runs one decode step on the last step's ids (fed back as they
// are, never through the host), writing cache slot Tp+step; the caches are
// donated to the step, which updates them in place.
func (r *generation) decode(step int) error {
	slot := r.Tp + step
	pos := make([]int32, r.B2)
	for b := 0; b < r.B2; b++ {
		r.keyMask[b*r.S+slot] = 1
		pos[b] = r.nextPos[b] + int32(step)
	}
	args := []any{r.outs[0], tensorI32(pos, r.B2, 1), tensors.FromScalar(int32(slot)), tensorI32(r.keyMask, r.B2, r.S)}
	args = append(args, r.steer.args(true)...)
	var rng *tensors.Tensor
	if r.pick.sample {
		rng = r.outs[1]
	}
	args = append(args, r.pick.args(r.opts, rng)...)
	for _, c := range r.outs[r.pick.numOutputs()+1:] {
		donated, err := DonateTensorBuffer(c, r.m.backend, 0)
		if err != nil {
			return err
		}
		args = append(args, donated)
	}
	args = append(args, r.m.weightArgs()...)
	next, err := call(r.decodeE, args...)
	if err != nil {
		return err
	}
	finalizeAll(r.outs)
	r.outs = next
	return nil
}

// result returns the tokens, with StopLength for rows that ran to the end.
func (r *generation) result() *GenerateResult {
	for b := range r.res.Reasons {
		if r.res.Reasons[b] == "" {
			r.res.Reasons[b] = StopLength
		}
	}
	return r.res
}

// close frees the last outputs and the steering inputs.
func (r *generation) close() {
	finalizeAll(r.outs)
	r.steer.finalize()
}

// lastLogits returns the logits [B, V] of x [B, T, D] at position T-1.
func lastLogits(cfg *Config, ws weights, x *Node) *Node {
	B, T, D := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2)
	last := Reshape(Slice(x, AxisRange(), AxisRange(T-1, T), AxisRange()), B, D)
	return lmHead(cfg, ws, last)
}

// prefillExec compiles the prompt pass: inputs ids, positions, mask [B, T],
// steering slots, the pick plan's inputs, weights; outputs the pick plan's
// outputs (the first new ids [B], ...) for the last position, the finite
// check, and per layer
// K and V caches [B, KV, S, hd] holding the prompt in slots [0, T).
func (m *Model) prefillExec(plan steerPlan, pick pickPlan, S int) (*Exec, error) {
	cfg := m.Config
	key := fmt.Sprintf("prefill|S=%d|steer=%s|%s", S, plan.key(), pick.key())
	return m.exec(key, func(in []*Node) []*Node {
		ids, pos, mask := in[0], in[1], in[2]
		steer := newSteerGraph(plan, in[3:])
		n := 3 + plan.numInputs()
		ws := m.bind(in[n+pick.numInputs():])
		caches := make([]*Node, 2*cfg.NumLayers)
		record := func(l int, k, v *Node) { caches[2*l], caches[2*l+1] = padCache(k, S), padCache(v, S) }
		check := &finiteCheck{}
		x := decoderStack(cfg, ws, ids, pos, sequenceKV(cfg, mask, record), steer.then(check.hook(nil)))
		logits := lastLogits(cfg, ws, x)
		return append(append(pick.graph(logits, in[n:]), check.result(logits)), caches...)
	})
}

// decodeExec compiles one decode step: inputs the last ids [B], positions
// [B, 1], the cache slot being written (scalar), key mask [B, S], steering
// slots, the pick plan's inputs, the 2L caches and the weights; outputs the
// pick plan's outputs, the finite check and the updated caches.
func (m *Model) decodeExec(plan steerPlan, pick pickPlan) (*Exec, error) {
	cfg := m.Config
	L := cfg.NumLayers
	key := fmt.Sprintf("decode|steer=%s|%s", plan.key(), pick.key())
	return m.exec(key, func(in []*Node) []*Node {
		tok, pos, slot, keyMask := in[0], in[1], in[2], in[3]
		steer := newSteerGraph(plan, in[4:])
		n := 4 + plan.numInputs()
		c := n + pick.numInputs()
		ws := m.bind(in[c+2*L:])
		caches := make([]*Node, 2*L)
		tok = Reshape(tok, tok.Shape().Dim(0), 1)
		check := &finiteCheck{}
		x := decoderStack(cfg, ws, tok, pos, cachedKV(cfg, slot, keyMask, in[c:c+2*L], caches), steer.then(check.hook(nil)))
		logits := lastLogits(cfg, ws, x)
		return append(append(pick.graph(logits, in[n:]), check.result(logits)), caches...)
	})
}
