package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
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
	// Steer ops apply to prompt and/or generated tokens per their Positions.
	Steer []SteerOp
	// OnToken, if set, receives each new token as it is produced (streaming).
	OnToken func(row, step, id int)
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
// are left-padded) with a KV cache.
//
// Compilation: one prefill graph per (bucketed batch, bucketed prompt length,
// cache length, steered layers) and one decode graph per (bucketed batch,
// cache length, steered layers). The cache length is BucketLen(prompt bucket
// + MaxNewTokens), so a sweep over prompts of similar length with the same
// MaxNewTokens reuses both graphs; steering vectors and coefficients are
// inputs and never recompile.
func (m *Model) Generate(prompts [][]int, opts GenerateOptions) (res *GenerateResult, err error) {
	defer recoverTo(&err, "generate")
	cfg := m.Config
	if opts.MaxNewTokens <= 0 {
		return nil, fmt.Errorf("generate: MaxNewTokens must be positive, got %d", opts.MaxNewTokens)
	}
	if len(opts.StopStrings) > 0 && opts.Decode == nil {
		return nil, errors.New("generate: StopStrings need a Decode function")
	}
	if err := validateSteer(cfg, opts.Steer); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	batch, err := LeftPad(prompts, 0)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	if err := batch.validate(cfg); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	N := opts.MaxNewTokens
	if cfg.MaxPositions > 0 && batch.T+N > cfg.MaxPositions {
		return nil, fmt.Errorf("generate: prompt of %d tokens + %d new tokens exceeds the context of %d", batch.T, N, cfg.MaxPositions)
	}
	eos := cfg.EOS
	if opts.EOS != nil {
		eos = opts.EOS
	}

	B := batch.B
	B2, Tp := BucketBatch(B), BucketLen(batch.T)
	S := BucketLen(Tp + N)
	padded := batch.padTo(B2, Tp)
	plan := newSteerPlan(opts.Steer)

	prefill, err := m.prefillExec(plan, S)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	decode, err := m.decodeExec(plan)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	args := []any{tensorI32(padded.IDs, B2, Tp), tensorI32(padded.Positions, B2, Tp), tensorI32(padded.Mask, B2, Tp)}
	args = append(args, steerInputs(opts.Steer, false, m.dtype)...)
	args = append(args, m.weightArgs()...)
	outs, err := call(prefill, args...)
	if err != nil {
		return nil, fmt.Errorf("generate: prefill: %w", err)
	}
	defer func() { finalizeAll(outs) }()

	keyMask := make([]int32, B2*S)
	nextPos := make([]int32, B2)
	for b := 0; b < B2; b++ {
		copy(keyMask[b*S:b*S+Tp], padded.Mask[b*Tp:(b+1)*Tp])
		nextPos[b] = padded.Positions[b*Tp+Tp-1] + 1
	}
	sampling := !opts.Greedy && opts.Temperature > 0
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	res = &GenerateResult{Tokens: make([][]int, B), Reasons: make([]string, B)}
	done := make([]bool, B)
	tok := make([]int32, B2)
	steerGen := steerInputs(opts.Steer, true, m.dtype)
	for step := 0; step < N; step++ {
		if err := pickTokens(outs, sampling, opts, rng, tok, cfg.VocabSize); err != nil {
			return nil, fmt.Errorf("generate: step %d: %w", step, err)
		}
		active := 0
		for b := 0; b < B; b++ {
			if done[b] {
				continue
			}
			id := int(tok[b])
			res.Tokens[b] = append(res.Tokens[b], id)
			if opts.OnToken != nil {
				opts.OnToken(b, step, id)
			}
			switch {
			case opts.StopAtEOS && containsInt(eos, id):
				done[b], res.Reasons[b] = true, StopEOS
			case len(opts.StopStrings) > 0:
				text, err := opts.Decode(res.Tokens[b])
				if err != nil {
					return nil, fmt.Errorf("generate: decode row %d: %w", b, err)
				}
				for _, s := range opts.StopStrings {
					if s != "" && strings.Contains(text, s) {
						done[b], res.Reasons[b] = true, StopString
						break
					}
				}
			}
			if !done[b] {
				active++
			}
		}
		if active == 0 || step == N-1 {
			break
		}
		slot := Tp + step
		pos := make([]int32, B2)
		for b := 0; b < B2; b++ {
			keyMask[b*S+slot] = 1
			pos[b] = nextPos[b] + int32(step)
		}
		dargs := []any{tensorI32(tok, B2, 1), tensorI32(pos, B2, 1), tensors.FromScalar(int32(slot)), tensorI32(keyMask, B2, S)}
		dargs = append(dargs, steerGen...)
		for _, c := range outs[2:] {
			donated, err := DonateTensorBuffer(c, m.backend, 0)
			if err != nil {
				return nil, fmt.Errorf("generate: decode step %d: %w", step, err)
			}
			dargs = append(dargs, donated)
		}
		dargs = append(dargs, m.weightArgs()...)
		next, err := call(decode, dargs...)
		if err != nil {
			return nil, fmt.Errorf("generate: decode step %d: %w", step, err)
		}
		finalizeAll(outs)
		outs = next
	}
	for b := range res.Reasons {
		if res.Reasons[b] == "" {
			res.Reasons[b] = StopLength
		}
	}
	return res, nil
}

// pickTokens fills tok from a step's outputs: outs[0] argmax [B], outs[1] logits [B, V].
func pickTokens(outs []*tensors.Tensor, sampling bool, opts GenerateOptions, rng *rand.Rand, tok []int32, V int) error {
	if !sampling {
		ids, err := tensors.CopyFlatData[int32](outs[0])
		if err != nil {
			return err
		}
		copy(tok, ids)
		return nil
	}
	logits, err := tensors.CopyFlatData[float32](outs[1])
	if err != nil {
		return err
	}
	for b := range tok {
		tok[b] = int32(sample(logits[b*V:(b+1)*V], opts, rng))
	}
	return nil
}

// sample draws a token from logits with temperature, top-k and top-p.
func sample(logits []float32, opts GenerateOptions, rng *rand.Rand) int {
	idx := make([]int, len(logits))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
	if opts.TopK > 0 && opts.TopK < len(idx) {
		idx = idx[:opts.TopK]
	}
	probs := make([]float64, len(idx))
	top := float64(logits[idx[0]])
	var sum float64
	for i, j := range idx {
		probs[i] = math.Exp((float64(logits[j]) - top) / opts.Temperature)
		sum += probs[i]
	}
	if opts.TopP > 0 && opts.TopP < 1 {
		cum := 0.0
		for i := range probs {
			cum += probs[i] / sum
			if cum >= opts.TopP {
				probs, idx = probs[:i+1], idx[:i+1]
				break
			}
		}
		sum = 0
		for _, p := range probs {
			sum += p
		}
	}
	r := rng.Float64() * sum
	for i, p := range probs {
		r -= p
		if r < 0 {
			return idx[i]
		}
	}
	return idx[len(idx)-1]
}

// lastLogits returns the logits of x [B, T, D] at position T-1 and their argmax.
func lastLogits(cfg *Config, ws weights, x *Node) (argmax, logits *Node) {
	B, T, D := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2)
	last := Reshape(Slice(x, AxisRange(), AxisRange(T-1, T), AxisRange()), B, D)
	logits = lmHead(cfg, ws, last)
	return ArgMax(logits, -1, dtypes.Int32), logits
}

// prefillExec compiles the prompt pass: inputs ids, positions, mask [B, T],
// steering slots, weights; outputs argmax [B], logits [B, V] at the last
// position, and per layer K and V caches [B, KV, S, hd] holding the prompt
// in slots [0, T).
func (m *Model) prefillExec(plan steerPlan, S int) (*Exec, error) {
	cfg := m.Config
	key := fmt.Sprintf("prefill|S=%d|steer=%s", S, plan.key())
	return m.exec(key, func(in []*Node) []*Node {
		ids, pos, mask := in[0], in[1], in[2]
		slots := steerSlots(in[3:], plan.n)
		ws := m.bind(in[3+2*plan.n:])
		caches := make([]*Node, 2*cfg.NumLayers)
		masks := map[int]*Node{}
		kv := func(l int, k, v *Node) (*Node, *Node, *Node) {
			win := cfg.Window(l)
			if masks[win] == nil {
				masks[win] = causalMask(mask, win)
			}
			caches[2*l], caches[2*l+1] = padCache(k, S), padCache(v, S)
			return k, v, masks[win]
		}
		x := embed(cfg, ws, ids)
		rope := newRopeTables(cfg, pos, x.DType())
		for l := 0; l < cfg.NumLayers; l++ {
			x = decoderBlock(cfg, ws, l, x, rope, kv)
			x = applySteer(plan, slots, l, x)
		}
		argmax, logits := lastLogits(cfg, ws, x)
		return append([]*Node{argmax, logits}, caches...)
	})
}

// decodeExec compiles one decode step: inputs token and position [B, 1], the
// cache slot being written (scalar), key mask [B, S], steering slots, the 2L
// caches and the weights; outputs argmax, logits and the updated caches.
// The pure-Go backend has no DynamicUpdateSlice: the new key/value is added
// into its still-zero slot with ScatterSum, in place since the caches are
// donated to the step.
func (m *Model) decodeExec(plan steerPlan) (*Exec, error) {
	cfg := m.Config
	L := cfg.NumLayers
	key := fmt.Sprintf("decode|steer=%s", plan.key())
	return m.exec(key, func(in []*Node) []*Node {
		tok, pos, slot, keyMask := in[0], in[1], in[2], in[3]
		slots := steerSlots(in[4:], plan.n)
		cacheIn := in[4+2*plan.n : 4+2*plan.n+2*L]
		ws := m.bind(in[4+2*plan.n+2*L:])
		g := tok.Graph()
		B, S := keyMask.Shape().Dim(0), keyMask.Shape().Dim(1)
		KV, hd := cfg.NumKVHeads, cfg.HeadDim
		j := Iota(g, shapesI32(S), 0)
		// Scatter indices (b, kv head, slot) for the [B, KV, hd] new keys/values.
		at := Concatenate([]*Node{Iota(g, shapesI32(B, KV, 1), 0), Iota(g, shapesI32(B, KV, 1), 1),
			BroadcastToDims(Reshape(slot, 1, 1, 1), B, KV, 1)}, 2)
		real := Equal(keyMask, Scalar(g, dtypes.Int32, 1)) // [B, S]
		masks := map[int]*Node{}
		caches := make([]*Node, 2*L)
		kv := func(l int, k, v *Node) (*Node, *Node, *Node) {
			// The slot is still zero, so adding writes the value exactly.
			kc := ScatterSum(cacheIn[2*l], at, Reshape(k, B, KV, hd), true, true)
			vc := ScatterSum(cacheIn[2*l+1], at, Reshape(v, B, KV, hd), true, true)
			caches[2*l], caches[2*l+1] = kc, vc
			win := cfg.Window(l)
			if masks[win] == nil {
				vis := real
				if win > 0 {
					inWin := LessThan(Sub(slot, j), Scalar(g, dtypes.Int32, win)) // [S]
					vis = and(vis, BroadcastToDims(Reshape(inWin, 1, S), B, S))
				}
				masks[win] = Reshape(vis, B, 1, S)
			}
			return kc, vc, masks[win]
		}
		x := embed(cfg, ws, tok)
		rope := newRopeTables(cfg, pos, x.DType())
		for l := 0; l < L; l++ {
			x = decoderBlock(cfg, ws, l, x, rope, kv)
			x = applySteer(plan, slots, l, x)
		}
		argmax, logits := lastLogits(cfg, ws, x)
		return append([]*Node{argmax, logits}, caches...)
	})
}

// steerSlots groups the 2n steering inputs into (u, coef) pairs.
func steerSlots(in []*Node, n int) [][2]*Node {
	s := make([][2]*Node, n)
	for i := range s {
		s[i] = [2]*Node{in[2*i], in[2*i+1]}
	}
	return s
}

// padCache extends k [B, KV, T, hd] with zeros to [B, KV, S, hd].
func padCache(k *Node, S int) *Node {
	dims := k.Shape().Dimensions
	if dims[2] == S {
		return k
	}
	zeros := Zeros(k.Graph(), shapes.Make(k.DType(), dims[0], dims[1], S-dims[2], dims[3]))
	return Concatenate([]*Node{k, zeros}, 2)
}
