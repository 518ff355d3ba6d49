package model

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph DSL reads best unqualified
)

// WeightFn returns the graph node holding the weight with a canonical name
// (see WeightShapes). Inference binds it to graph parameters fed from the
// loaded checkpoint; a trainer can bind it to trainable variables and reuse
// exactly the same forward code.
type WeightFn func(name string) *Node

// BlockHook is called with the residual stream after decoder block layer
// (shape [B, T, D]) and returns the stream the next block reads. Use it to
// capture activations (return x unchanged) or to steer them.
type BlockHook func(layer int, x *Node) *Node

// Weight names used by WeightFn. Per-layer names are prefixed "layers.<l>.".
const (
	WEmbed    = "embed"     // [V, D] token embeddings
	WPosEmbed = "pos_embed" // [P, D] learned position embeddings (GPT-2)
	WLMHead   = "lm_head"   // [V, D]; equal to embed for tied checkpoints
	WNorm     = "norm"      // [D] final norm (LayerNorm: plus "norm_bias")

	WAttnNorm     = "attn_norm"      // [D] norm before attention (input_layernorm)
	WAttnPostNorm = "attn_post_norm" // [D] Gemma: norm of the attention output
	WMLPNorm      = "mlp_norm"       // [D] norm before the MLP
	WMLPPostNorm  = "mlp_post_norm"  // [D] Gemma: norm of the MLP output
	WQ, WK, WV    = "q", "k", "v"    // [H·hd, D], [KV·hd, D], [KV·hd, D]
	WO            = "o"              // [D, H·hd]
	WQNorm        = "q_norm"         // [hd] Qwen3 / Gemma 3
	WKNorm        = "k_norm"         // [hd]
	WGate, WUp    = "gate", "up"     // [I, D] (GPT-2: up only)
	WDown         = "down"           // [D, I]
	BiasSuffix    = "_bias"          // e.g. "q_bias" [H·hd], "attn_norm_bias" [D]
)

// LayerWeight returns the canonical name of a per-layer weight.
func LayerWeight(layer int, name string) string { return fmt.Sprintf("layers.%d.%s", layer, name) }

// WeightShapes lists every weight the forward graph of cfg reads, by canonical
// name, with its shape. Tied checkpoints have no lm_head entry.
func WeightShapes(cfg *Config) map[string][]int {
	D, I, hd := cfg.HiddenSize, cfg.IntermediateSize, cfg.HeadDim
	qd, kvd := cfg.NumHeads*hd, cfg.NumKVHeads*hd
	m := map[string][]int{WEmbed: {cfg.VocabSize, D}, WNorm: {D}}
	if !cfg.TieEmbeddings {
		m[WLMHead] = []int{cfg.VocabSize, D}
	}
	if cfg.LearnedPositions {
		m[WPosEmbed] = []int{cfg.MaxPositions, D}
	}
	if cfg.LayerNorm {
		m[WNorm+BiasSuffix] = []int{D}
	}
	for l := 0; l < cfg.NumLayers; l++ {
		add := func(n string, s ...int) { m[LayerWeight(l, n)] = s }
		add(WAttnNorm, D)
		add(WMLPNorm, D)
		if cfg.LayerNorm {
			add(WAttnNorm+BiasSuffix, D)
			add(WMLPNorm+BiasSuffix, D)
		}
		if cfg.GemmaNorms {
			add(WAttnPostNorm, D)
			add(WMLPPostNorm, D)
		}
		add(WQ, qd, D)
		add(WK, kvd, D)
		add(WV, kvd, D)
		add(WO, D, qd)
		if cfg.QKVBias {
			add(WQ+BiasSuffix, qd)
			add(WK+BiasSuffix, kvd)
			add(WV+BiasSuffix, kvd)
		}
		if cfg.OutBias {
			add(WO+BiasSuffix, D)
		}
		if cfg.QKNorm {
			add(WQNorm, hd)
			add(WKNorm, hd)
		}
		if !cfg.PlainMLP {
			add(WGate, I, D)
		}
		add(WUp, I, D)
		add(WDown, D, I)
		if cfg.MLPBias {
			if !cfg.PlainMLP {
				add(WGate+BiasSuffix, I)
			}
			add(WUp+BiasSuffix, I)
			add(WDown+BiasSuffix, D)
		}
	}
	return m
}

// ropeTables holds cos/sin ([B, T, 1, rotaryDim]) per layer type.
type ropeTables map[string][2]*Node

// newRopeTables computes cos and sin of positions·inv_freq for each layer
// type, in float32 (as transformers does), converted to dtype; nil for a
// model with learned position embeddings.
func newRopeTables(cfg *Config, positions *Node, dtype dtypes.DType) ropeTables {
	if cfg.LearnedPositions {
		return nil
	}
	g := positions.Graph()
	B, T := positions.Shape().Dim(0), positions.Shape().Dim(1)
	rd := cfg.RotaryDim()
	pos := Reshape(ConvertDType(positions, dtypes.Float32), B, T, 1)
	tables := ropeTables{}
	for _, lt := range []string{"full_attention", "sliding_attention"} {
		r := cfg.RoPE[lt]
		invFreq := Reshape(Const(g, r.InvFreq(rd)), 1, 1, rd/2)
		angle := Mul(pos, invFreq)                     // [B, T, rd/2]
		angle = Concatenate([]*Node{angle, angle}, -1) // [B, T, rd]
		angle = Reshape(angle, B, T, 1, rd)
		tables[lt] = [2]*Node{ConvertDType(Cos(angle), dtype), ConvertDType(Sin(angle), dtype)}
	}
	return tables
}

// applyRoPE rotates the first rotaryDim features of x [B, T, N, hd] in the
// non-interleaved (Hugging Face) layout: x·cos + rotate_half(x)·sin.
func applyRoPE(x *Node, cs [2]*Node) *Node {
	hd := x.Shape().Dim(-1)
	rd := cs[0].Shape().Dim(-1)
	xr, pass := x, (*Node)(nil)
	if rd < hd {
		xr = Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRange(0, rd))
		pass = Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRange(rd, hd))
	}
	x1 := Slice(xr, AxisRange(), AxisRange(), AxisRange(), AxisRange(0, rd/2))
	x2 := Slice(xr, AxisRange(), AxisRange(), AxisRange(), AxisRange(rd/2, rd))
	rot := Concatenate([]*Node{Neg(x2), x1}, -1)
	n := x.Shape().Dim(2)
	cos := BroadcastToDims(cs[0], cs[0].Shape().Dim(0), cs[0].Shape().Dim(1), n, rd)
	sin := BroadcastToDims(cs[1], cs[1].Shape().Dim(0), cs[1].Shape().Dim(1), n, rd)
	y := Add(Mul(xr, cos), Mul(rot, sin))
	if pass != nil {
		y = Concatenate([]*Node{y, pass}, -1)
	}
	return y
}

// layerNorm is LayerNorm over the last axis in float32: (x−mean)/√(var+eps)·w + b.
func layerNorm(x, w, b *Node, eps float64) *Node {
	dt := x.DType()
	xf := ConvertDType(x, dtypes.Float32)
	c := Sub(xf, ReduceAndKeep(xf, ReduceMean, -1))
	y := Mul(c, Rsqrt(AddScalar(ReduceAndKeep(Square(c), ReduceMean, -1), eps)))
	wb := func(v *Node) *Node { return ExpandLeftToRank(ConvertDType(v, dtypes.Float32), x.Rank()) }
	return ConvertDType(Add(Mul(y, wb(w)), wb(b)), dt)
}

// rmsNorm normalizes over the last axis in float32. Llama-style scales by w
// after casting back; Gemma-style scales by (1+w) before casting back,
// matching the respective transformers implementations.
func rmsNorm(x, w *Node, eps float64, gemma bool) *Node {
	dt := x.DType()
	xf := ConvertDType(x, dtypes.Float32)
	ms := ReduceAndKeep(Square(xf), ReduceMean, -1)
	y := Mul(xf, Rsqrt(AddScalar(ms, eps)))
	wb := func(v *Node) *Node { return ExpandLeftToRank(v, x.Rank()) }
	if gemma {
		scale := OnePlus(ConvertDType(w, dtypes.Float32))
		return ConvertDType(Mul(y, wb(scale)), dt)
	}
	return Mul(wb(w), ConvertDType(y, dt))
}

// linear computes x·Wᵀ (+b) for x [..., in] and a weight stored [out, in]
// (Hugging Face's layout) or, with inOut, [in, out]. The pure-Go backend's
// matrix-vector kernel streams an [in, out] weight 1.4–1.7× faster for
// decode-sized inputs (see BENCHMARKS.md), so the runtime stores that layout.
func linear(x, w, b *Node, inOut bool) *Node {
	dims := x.Shape().Dimensions
	in := dims[len(dims)-1]
	rows := x.Shape().Size() / in
	contract, outDim := 1, w.Shape().Dim(0)
	if inOut {
		contract, outDim = 0, w.Shape().Dim(1)
	}
	y := DotGeneral(Reshape(x, rows, in), []int{1}, nil, w, []int{contract}, nil)
	if b != nil {
		y = Add(y, ExpandLeftToRank(b, 2))
	}
	out := append(append([]int{}, dims[:len(dims)-1]...), outDim)
	return Reshape(y, out...)
}

// weights is a WeightFn plus how the graph should use it.
type weights struct {
	get WeightFn
	// inOut: every matrix is stored transposed: projections [in, out], the
	// embedding [D, V] (so a tied output projection is [in, out] too).
	inOut bool
	// softmaxSigmoid computes σ(x) as softmax([x, 0])₀: the pure-Go backend's
	// fused softmax uses a fast float32 exp (relative error < 1e-7), its
	// Logistic op a float64 math.Exp per element, ~4× slower (BENCHMARKS.md).
	softmaxSigmoid bool
}

// sigmoid is the logistic function of x.
func (ws weights) sigmoid(x *Node) *Node {
	if !ws.softmaxSigmoid {
		return Sigmoid(x)
	}
	xf := ConvertDType(x, dtypes.Float32) // the fused softmax is float32-only here
	p := Softmax(Stack([]*Node{xf, ZerosLike(xf)}, -1), -1)
	return ConvertDType(Squeeze(SliceAxis(p, -1, AxisRange(0, 1)), -1), x.DType())
}

// lin applies the projection name (and its bias when hasBias).
func (ws weights) lin(x *Node, name string, hasBias bool) *Node {
	var b *Node
	if hasBias {
		b = ws.get(name + BiasSuffix)
	}
	return linear(x, ws.get(name), b, ws.inOut)
}

// norm applies the norm named name: LayerNorm with bias (GPT-2) or RMSNorm.
func (ws weights) norm(cfg *Config, x *Node, name string) *Node {
	if cfg.LayerNorm {
		return layerNorm(x, ws.get(name), ws.get(name+BiasSuffix), cfg.RMSNormEps)
	}
	return rmsNorm(x, ws.get(name), cfg.RMSNormEps, cfg.GemmaNorms)
}

// geluTanh is GELU with the tanh approximation (gelu_pytorch_tanh).
func geluTanh(x *Node) *Node {
	c := math.Sqrt(2 / math.Pi)
	inner := MulScalar(Add(x, MulScalar(Mul(x, Square(x)), 0.044715)), c)
	return Mul(MulScalar(x, 0.5), OnePlus(Tanh(inner)))
}

func softcap(x *Node, cap float64) *Node {
	return MulScalar(Tanh(DivScalar(x, cap)), cap)
}

// attentionBlock computes self-attention of block l on the normed input h [B, T, D].
func attentionBlock(cfg *Config, ws weights, l int, h *Node, rope ropeTables, kv kvFn) *Node {
	B, T := h.Shape().Dim(0), h.Shape().Dim(1)
	H, KV, hd := cfg.NumHeads, cfg.NumKVHeads, cfg.HeadDim
	G := H / KV
	lw := func(n string) *Node { return ws.get(LayerWeight(l, n)) }
	q := ws.lin(h, LayerWeight(l, WQ), cfg.QKVBias)
	k := ws.lin(h, LayerWeight(l, WK), cfg.QKVBias)
	v := ws.lin(h, LayerWeight(l, WV), cfg.QKVBias)
	q = Reshape(q, B, T, H, hd)
	k = Reshape(k, B, T, KV, hd)
	v = Reshape(v, B, T, KV, hd)
	if cfg.QKNorm {
		q = rmsNorm(q, lw(WQNorm), cfg.RMSNormEps, cfg.GemmaNorms)
		k = rmsNorm(k, lw(WKNorm), cfg.RMSNormEps, cfg.GemmaNorms)
	}
	lt := "full_attention"
	if cfg.Window(l) > 0 {
		lt = "sliding_attention"
	}
	if rope != nil {
		q = applyRoPE(q, rope[lt])
		k = applyRoPE(k, rope[lt])
	}
	q = TransposeAllAxes(q, 0, 2, 1, 3) // [B, H, T, hd]
	k = TransposeAllAxes(k, 0, 2, 1, 3) // [B, KV, T, hd]
	v = TransposeAllAxes(v, 0, 2, 1, 3)

	keys, values, mask := kv(l, k, v)
	S := keys.Shape().Dim(2)
	// Query head h uses key head h/G: group the G query heads of each KV head.
	qg := Reshape(q, B*KV, G*T, hd)
	kg := Reshape(keys, B*KV, S, hd)
	vg := Reshape(values, B*KV, S, hd)
	scores := DotGeneral(qg, []int{2}, []int{0}, kg, []int{2}, []int{0}) // [B·KV, G·T, S]
	scores = MulScalar(ConvertDType(scores, dtypes.Float32), cfg.AttnScale)
	if cfg.AttnSoftcap > 0 {
		scores = softcap(scores, cfg.AttnSoftcap)
	}
	scores = Reshape(scores, B, H, T, S)
	visible := BroadcastToDims(Reshape(mask, B, 1, T, S), B, H, T, S)
	// A large finite negative keeps fully masked rows (left padding) finite.
	scores = Where(visible, scores, Scalar(h.Graph(), dtypes.Float32, -1e30))
	probs := ConvertDType(Softmax(scores, -1), h.DType())
	out := DotGeneral(Reshape(probs, B*KV, G*T, S), []int{2}, []int{0}, vg, []int{1}, []int{0}) // [B·KV, G·T, hd]
	out = TransposeAllAxes(Reshape(out, B, H, T, hd), 0, 2, 1, 3)
	out = Reshape(out, B, T, H*hd)
	return ws.lin(out, LayerWeight(l, WO), cfg.OutBias)
}

// mlpBlock is the gated MLP down(act(gate(h)) · up(h)), or with PlainMLP
// (GPT-2) down(act(up(h))).
func mlpBlock(cfg *Config, ws weights, l int, h *Node) *Node {
	act := func(x *Node) *Node {
		if cfg.Activation == "gelu_tanh" {
			return geluTanh(x)
		}
		return Mul(x, ws.sigmoid(x))
	}
	up := ws.lin(h, LayerWeight(l, WUp), cfg.MLPBias)
	if cfg.PlainMLP {
		return ws.lin(act(up), LayerWeight(l, WDown), cfg.MLPBias)
	}
	gate := ws.lin(h, LayerWeight(l, WGate), cfg.MLPBias)
	return ws.lin(Mul(act(gate), up), LayerWeight(l, WDown), cfg.MLPBias)
}

// decoderBlock is one pre-norm transformer block; Gemma adds post-norms on
// both branches.
func decoderBlock(cfg *Config, ws weights, l int, x *Node, rope ropeTables, kv kvFn) *Node {
	norm := func(h *Node, n string) *Node { return ws.norm(cfg, h, LayerWeight(l, n)) }
	a := attentionBlock(cfg, ws, l, norm(x, WAttnNorm), rope, kv)
	if cfg.GemmaNorms {
		a = norm(a, WAttnPostNorm)
	}
	x = Add(x, a)
	m := mlpBlock(cfg, ws, l, norm(x, WMLPNorm))
	if cfg.GemmaNorms {
		m = norm(m, WMLPPostNorm)
	}
	return Add(x, m)
}

// lookup gathers rows of the embedding table name for ids [B, T]: [B, T, D].
func (ws weights) lookup(name string, ids *Node) *Node {
	E := ws.get(name)
	if !ws.inOut {
		return Gather(E, ExpandAxes(ids, -1))
	}
	// Embedding stored [D, V]: gather columns.
	x := GatherSlices(E, []int{1}, ExpandAxes(ids, -1), []int{1}, false) // [B, T, D, 1]
	return Reshape(x, ids.Shape().Dim(0), ids.Shape().Dim(1), E.Shape().Dim(0))
}

// embed looks up token ids [B, T] (int32), adds learned position embeddings
// (GPT-2) and applies Gemma's √D scale.
func embed(cfg *Config, ws weights, ids, positions *Node) *Node {
	x := ws.lookup(WEmbed, ids)
	if cfg.LearnedPositions {
		x = Add(x, ws.lookup(WPosEmbed, positions))
	}
	if cfg.GemmaNorms {
		// transformers rounds √D to the activation dtype first.
		x = Mul(x, Scalar(x.Graph(), x.DType(), math.Sqrt(float64(cfg.HiddenSize))))
	}
	return x
}

// lmHead applies the final norm, the output projection and the optional
// final soft-capping to x [..., D], returning float32 logits [..., V].
func lmHead(cfg *Config, ws weights, x *Node) *Node {
	x = ws.norm(cfg, x, WNorm)
	var logits *Node
	if cfg.TieEmbeddings {
		logits = ws.lin(x, WEmbed, false)
	} else {
		logits = ws.lin(x, WLMHead, false)
	}
	logits = ConvertDType(logits, dtypes.Float32)
	if cfg.FinalSoftcap > 0 {
		logits = softcap(logits, cfg.FinalSoftcap)
	}
	return logits
}
