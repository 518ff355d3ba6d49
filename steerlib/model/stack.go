package model

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
)

// decoderStack is the model without its output head, written once for the
// full-sequence forward, the prompt pass (prefill) and the decode step:
//
//	x ← embed(ids, positions)
//	for each block l: x ← after(l, block_l(x))
//
// kv gives attention its keys, values and mask (the sequence itself, or the
// KV cache); after (nil: none) steers and captures the residual stream. It
// returns the residual stream after the last block [B, T, D].
func decoderStack(cfg *Config, ws weights, ids, positions *Node, kv kvFn, after BlockHook) *Node {
	x := embed(cfg, ws, ids, positions)
	rope := newRopeTables(cfg, positions, x.DType())
	for l := 0; l < cfg.NumLayers; l++ {
		x = decoderBlock(cfg, ws, l, x, rope, kv)
		if after != nil {
			x = after(l, x)
		}
	}
	return x
}

// kvFn gives a block the keys, values ([B, KV, S, hd]) and boolean visibility
// mask ([B, Tq, S]) its queries attend to, given this step's keys and values
// ([B, KV, Tq, hd]).
type kvFn func(layer int, k, v *Node) (keys, values, mask *Node)

// maskCache builds each distinct visibility mask of a graph once: one per
// sliding-window size (0 for full attention).
type maskCache struct {
	build    func(window int) *Node
	byWindow map[int]*Node
}

func (c *maskCache) get(window int) *Node {
	if c.byWindow == nil {
		c.byWindow = map[int]*Node{}
	}
	if c.byWindow[window] == nil {
		c.byWindow[window] = c.build(window)
	}
	return c.byWindow[window]
}

// sequenceKV attends over the sequence itself (forward and prefill) with the
// causal mask of mask [B, T]; record, if not nil, sees each layer's keys and
// values (the prefill writes them into the KV cache).
func sequenceKV(cfg *Config, mask *Node, record func(l int, k, v *Node)) kvFn {
	masks := &maskCache{build: func(win int) *Node { return causalMask(mask, win) }}
	return func(l int, k, v *Node) (*Node, *Node, *Node) {
		if record != nil {
			record(l, k, v)
		}
		return k, v, masks.get(cfg.Window(l))
	}
}

// cachedKV attends over the KV cache in a decode step: it writes the step's
// key and value into cache slot slot of cacheIn[2l], cacheIn[2l+1] (storing
// the results in cacheOut) and masks keys that are padding, not yet written
// (keyMask [B, S]) or outside a sliding window. The pure-Go backend has no
// DynamicUpdateSlice: the new entry is added into its still-zero slot with
// ScatterSum, in place since the caches are donated to the step.
func cachedKV(cfg *Config, slot, keyMask *Node, cacheIn, cacheOut []*Node) kvFn {
	g := slot.Graph()
	B, S := keyMask.Shape().Dim(0), keyMask.Shape().Dim(1)
	KV, hd := cfg.NumKVHeads, cfg.HeadDim
	// Scatter indices (b, kv head, slot) for the [B, KV, hd] new keys/values.
	at := Concatenate([]*Node{Iota(g, shapesI32(B, KV, 1), 0), Iota(g, shapesI32(B, KV, 1), 1),
		BroadcastToDims(Reshape(slot, 1, 1, 1), B, KV, 1)}, 2)
	real := Equal(keyMask, Scalar(g, dtypes.Int32, 1)) // [B, S]
	j := Iota(g, shapesI32(S), 0)
	masks := &maskCache{build: func(win int) *Node {
		vis := real
		if win > 0 {
			inWin := LessThan(Sub(slot, j), Scalar(g, dtypes.Int32, win)) // [S]
			vis = and(vis, BroadcastToDims(Reshape(inWin, 1, S), B, S))
		}
		return Reshape(vis, B, 1, S)
	}}
	return func(l int, k, v *Node) (*Node, *Node, *Node) {
		kc := ScatterSum(cacheIn[2*l], at, Reshape(k, B, KV, hd), true, true)
		vc := ScatterSum(cacheIn[2*l+1], at, Reshape(v, B, KV, hd), true, true)
		cacheOut[2*l], cacheOut[2*l+1] = kc, vc
		return kc, vc, masks.get(cfg.Window(l))
	}
}

// causalMask returns the boolean visibility [B, T, T] of key j from query i:
// the key is a real token (mask==1), j ≤ i, and, for a sliding layer, i−j < window.
func causalMask(mask *Node, window int) *Node {
	g := mask.Graph()
	B, T := mask.Shape().Dim(0), mask.Shape().Dim(1)
	qi := Iota(g, shapesI32(T, T), 0)
	kj := Iota(g, shapesI32(T, T), 1)
	vis := LessOrEqual(kj, qi)
	if window > 0 {
		vis = and(vis, LessThan(Sub(qi, kj), Scalar(g, dtypes.Int32, window)))
	}
	real := Equal(Reshape(mask, B, 1, T), Scalar(g, dtypes.Int32, 1))
	return and(BroadcastToDims(Reshape(vis, 1, T, T), B, T, T), BroadcastToDims(real, B, T, T))
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

// ForwardGraph builds the forward pass of cfg over a full (padded) batch:
// ids, positions and mask are int32 [B, T] (mask 1 for tokens, 0 for padding;
// nil positions means 0..T-1, nil mask means no padding). hook, if not nil,
// sees and may replace the residual stream after every block. It returns
// float32 logits [B, T, V].
//
// This is the function a trainer calls with weights bound to variables: the
// inference runtime runs the same decoder stack.
func ForwardGraph(cfg *Config, w WeightFn, ids, positions, mask *Node, hook BlockHook) *Node {
	ws := weights{get: w}
	return lmHead(cfg, ws, ForwardResidual(cfg, w, ids, positions, mask, hook))
}

// ForwardResidual is ForwardGraph without the final norm and output
// projection: it returns the residual stream after the last block [B, T, D].
func ForwardResidual(cfg *Config, w WeightFn, ids, positions, mask *Node, hook BlockHook) *Node {
	g := ids.Graph()
	B, T := ids.Shape().Dim(0), ids.Shape().Dim(1)
	if positions == nil {
		positions = BroadcastToDims(Iota(g, shapesI32(1, T), 1), B, T)
	}
	if mask == nil {
		mask = Ones(g, shapesI32(B, T))
	}
	return decoderStack(cfg, weights{get: w}, ids, positions, sequenceKV(cfg, mask, nil), hook)
}
