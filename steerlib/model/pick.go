package model

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

// pickPlan is the structure of the in-graph token choice at the end of a
// prefill or decode step: greedy (argmax), or sampling with the top-k and
// top-p stages compiled in only when a call uses them, and whether the step
// also returns its logits. Temperature, K, P and the RNG state are inputs:
// changing them never recompiles.
type pickPlan struct {
	sample, topK, topP, logits bool
}

// newPickPlan derives the plan of a Generate call over a vocabulary of V.
func newPickPlan(opts GenerateOptions, V int) pickPlan {
	p := pickPlan{sample: !opts.Greedy && opts.Temperature > 0, logits: opts.OnLogits != nil}
	if p.sample {
		p.topK = opts.TopK > 0 && opts.TopK < V
		p.topP = opts.TopP > 0 && opts.TopP < 1
	}
	return p
}

// key is the plan's part of a graph cache key.
func (p pickPlan) key() string {
	return fmt.Sprintf("pick=%t,%t,%t,%t", p.sample, p.topK, p.topP, p.logits)
}

// numInputs is how many graph inputs the plan reads: the RNG state and the
// temperature, then K and P when those stages are on.
func (p pickPlan) numInputs() int {
	if !p.sample {
		return 0
	}
	n := 2
	if p.topK {
		n++
	}
	if p.topP {
		n++
	}
	return n
}

// numOutputs is how many outputs the plan adds before the caches: the ids
// [B], the new RNG state when sampling, the logits [B, V] when asked.
func (p pickPlan) numOutputs() int {
	n := 1
	if p.sample {
		n++
	}
	if p.logits {
		n++
	}
	return n
}

// args returns the plan's host inputs for a call, rng being the current RNG
// state (nil for greedy plans).
func (p pickPlan) args(opts GenerateOptions, rng *tensors.Tensor) []any {
	if !p.sample {
		return nil
	}
	args := []any{rng, tensors.FromScalar(float32(opts.Temperature))}
	if p.topK {
		args = append(args, tensors.FromScalar(int32(opts.TopK)))
	}
	if p.topP {
		args = append(args, tensors.FromScalar(float32(opts.TopP)))
	}
	return args
}

// graph picks the next token of every row from logits [B, V] (float32) with
// the plan's inputs in; it returns the plan's outputs (see numOutputs).
func (p pickPlan) graph(logits *Node, in []*Node) []*Node {
	if !p.sample {
		return p.withLogits([]*Node{ArgMax(logits, -1, dtypes.Int32)}, logits)
	}
	rng, temp := in[0], in[1]
	var k, topP *Node
	i := 2
	if p.topK {
		k, i = in[i], i+1
	}
	if p.topP {
		topP = in[i]
	}
	keep, scaled := sampleMask(logits, temp, k, topP)
	newRNG, u := RandomUniform(rng, shapes.Make(dtypes.Float32, logits.Shape().Dimensions...))
	gumbel := Neg(Log(Neg(Log(u))))
	score := Where(keep, Add(scaled, gumbel), Infinity(logits.Graph(), dtypes.Float32, -1))
	return p.withLogits([]*Node{ArgMax(score, -1, dtypes.Int32), newRNG}, logits)
}

// withLogits appends logits to outs when the plan returns them.
func (p pickPlan) withLogits(outs []*Node, logits *Node) []*Node {
	if p.logits {
		outs = append(outs, logits)
	}
	return outs
}

// sampleMask returns which tokens of logits [B, V] may be sampled and the
// logits divided by the temperature temp (scalar). k (int32 scalar, nil:
// no top-k) keeps the tokens whose logit is at least the k-th largest; topP
// (float32 scalar, nil: no top-p) then keeps the tokens whose logit is at
// least t, t the largest logit with Σ{p_j : logit_j ≥ t} ≥ P, where p is the
// softmax of logits/T over the top-k tokens, in float64. Both thresholds are
// found by a radix select over the float32 bit patterns (exact, no sort);
// see the package documentation.
func sampleMask(logits, temp, k, topP *Node) (keep, scaled *Node) {
	g := logits.Graph()
	keep = OnesLike(ConvertDType(logits, dtypes.Bool))
	if k != nil {
		ones := OnesLike(ConvertDType(logits, dtypes.Float64))
		keep = GreaterOrEqual(logits, radixThreshold(logits, ones, ConvertDType(k, dtypes.Float64)))
	}
	scaled = Div(logits, temp)
	if topP != nil {
		l64 := Div(ConvertDType(logits, dtypes.Float64), ConvertDType(temp, dtypes.Float64))
		probs := Softmax(Where(keep, l64, Infinity(g, dtypes.Float64, -1)), -1)
		t := radixThreshold(logits, probs, ConvertDType(topP, dtypes.Float64))
		keep = LogicalAnd(keep, GreaterOrEqual(logits, t))
	}
	return keep, scaled
}

// radixThreshold returns, per row of x [B, V] (float32) with weights w
// [B, V] (float64, ≥ 0), the largest float32 t ([B, 1]) with
// Σ{w_j : x_j ≥ t} ≥ target (scalar), assuming Σw ≥ target. It walks the
// 32-bit keys ordered like the floats (the bit pattern of x ≥ 0, the pattern
// with its 31 low bits flipped for x < 0, plus 2³¹) one byte at a time, from
// the top: a pass adds each candidate's weight into 256 buckets of its next
// byte (ScatterSum), takes suffix sums over the buckets (a product with a
// 256×256 triangle) plus the weight already above the prefix, and extends
// the prefix with the highest byte whose suffix sum still reaches target.
// Four passes over [B, V], exact.
func radixThreshold(x, w, target *Node) *Node {
	g := x.Graph()
	B, V := x.Shape().Dim(0), x.Shape().Dim(1)
	b := Bitcast(x, dtypes.Int32)
	key := Where(LessThan(b, ZerosLike(b)), BitwiseXor(b, Scalar(g, dtypes.Int32, math.MaxInt32)), b)
	ukey := AddScalar(ConvertDType(key, dtypes.Int64), 1<<31) // [0, 2³²)
	tri := make([][]float64, 256)                             // tri[d'][d] = 1 if d' ≥ d
	for d := range tri {
		tri[d] = make([]float64, 256)
		for e := 0; e <= d; e++ {
			tri[d][e] = 1
		}
	}
	triangle := Const(g, tri)
	rows := Iota(g, shapes.Make(dtypes.Int64, B, V, 1), 0)
	buckets := Iota(g, shapes.Make(dtypes.Int64, 1, 256), 1)
	prefix := BroadcastToDims(Scalar(g, dtypes.Int64, 0), B, 1)
	above := BroadcastToDims(Scalar(g, dtypes.Float64, 0), B, 1)
	for shift := 24; shift >= 0; shift -= 8 {
		match := Equal(Div(ukey, Scalar(g, dtypes.Int64, int64(1)<<(shift+8))), prefix)
		digit := Rem(Div(ukey, Scalar(g, dtypes.Int64, int64(1)<<shift)), Scalar(g, dtypes.Int64, 256))
		at := Concatenate([]*Node{rows, Reshape(digit, B, V, 1)}, 2)
		counts := ScatterSum(Zeros(g, shapes.Make(dtypes.Float64, B, 256)), at, Where(match, w, ZerosLike(w)), false, false)
		suffix := Add(MatMul(counts, triangle), above) // [B, 256]
		d := AddScalar(ReduceAndKeep(ConvertDType(GreaterOrEqual(suffix, target), dtypes.Int64), ReduceSum, -1), -1)
		sel := Equal(buckets, d)
		above = ReduceAndKeep(Where(sel, Sub(suffix, counts), ZerosLike(counts)), ReduceSum, -1)
		prefix = Add(MulScalar(prefix, 256), d)
	}
	return keyFloat(AddScalar(prefix, -(1 << 31)))
}

// keyFloat is the float32 whose ordered key (see radixThreshold, less 2³¹)
// is key (int64 in the int32 range).
func keyFloat(key *Node) *Node {
	k := ConvertDType(key, dtypes.Int32)
	neg := LessThan(k, ZerosLike(k))
	bits := Where(neg, BitwiseXor(k, Scalar(key.Graph(), dtypes.Int32, math.MaxInt32)), k)
	return Bitcast(bits, dtypes.Float32)
}

// newRNGState returns the sampler's initial RNG state for seed.
func newRNGState(seed uint64) (*tensors.Tensor, error) {
	return RNGStateFromSeed(int64(seed))
}
