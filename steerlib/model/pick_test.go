package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

// pickCase is one sampling configuration.
type pickCase struct {
	temp float64
	k    int
	p    float64
}

func (c pickCase) opts() GenerateOptions {
	return GenerateOptions{Temperature: c.temp, TopK: c.k, TopP: c.p}
}

// hostKeep is the reference top-k / top-p rule, the one the host sampler
// applied before sampling moved into the graph: sort by logit, keep the K
// largest, then the shortest prefix whose probability (softmax of
// logits/T over the K, in float64) reaches P.
func hostKeep(logits []float32, c pickCase) []bool {
	idx := make([]int, len(logits))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
	if c.k > 0 && c.k < len(idx) {
		idx = idx[:c.k]
	}
	probs := make([]float64, len(idx))
	var sum float64
	for i, j := range idx {
		probs[i] = math.Exp((float64(logits[j]) - float64(logits[idx[0]])) / c.temp)
		sum += probs[i]
	}
	if c.p > 0 && c.p < 1 {
		cum := 0.0
		for i := range probs {
			cum += probs[i] / sum
			if cum >= c.p {
				idx = idx[:i+1]
				break
			}
		}
	}
	keep := make([]bool, len(logits))
	for _, j := range idx {
		keep[j] = true
	}
	return keep
}

// runPick runs the in-graph sampler of plan c on logits [B, V] with the RNG
// state rng; it returns the ids, the keep mask and the next RNG state.
func runPick(t *testing.T, m *Model, c pickCase, logits []float32, B int, rng *tensors.Tensor) ([]int32, []bool, *tensors.Tensor) {
	t.Helper()
	V := len(logits) / B
	plan := newPickPlan(c.opts(), V)
	e, err := m.exec(fmt.Sprintf("test-pick|B=%d|V=%d|%s", B, V, plan.key()), func(in []*Node) []*Node {
		pin := in[1:]
		var k, p *Node
		if plan.topK {
			k = pin[2]
		}
		if plan.topP {
			p = pin[len(pin)-1]
		}
		keep, _ := sampleMask(in[0], pin[1], k, p)
		return append(plan.graph(in[0], pin), ConvertDType(keep, dtypes.Int32))
	})
	if err != nil {
		t.Fatal(err)
	}
	args := append([]any{tensors.FromFlatDataAndDimensions(logits, B, V)}, plan.args(c.opts(), rng)...)
	outs, err := call(e, args...)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := tensors.CopyFlatData[int32](outs[0])
	if err != nil {
		t.Fatal(err)
	}
	keepI, err := tensors.CopyFlatData[int32](outs[2])
	if err != nil {
		t.Fatal(err)
	}
	keep := make([]bool, len(keepI))
	for i, v := range keepI {
		keep[i] = v != 0
	}
	return ids, keep, outs[1]
}

// TestSampleMaskExact compares the graph's top-k / top-p sets with the host
// rule on random logits (no ties) of a vocabulary the size of SmolLM2's.
func TestSampleMaskExact(t *testing.T) {
	m := loadFixture(t, "llama")
	const B, V = 4, 49152
	src := rand.New(rand.NewPCG(1, 2))
	logits := make([]float32, B*V)
	for i := range logits {
		logits[i] = float32(src.NormFloat64() * 3)
	}
	rng, err := newRNGState(7)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []pickCase{
		{temp: 1, k: 1}, {temp: 1, k: 50}, {temp: 0.7, k: 1000}, {temp: 1, p: 0.9}, {temp: 0.5, p: 0.5},
		{temp: 1.5, p: 0.95}, {temp: 0.8, k: 200, p: 0.7}, {temp: 1, k: 5, p: 0.999},
	} {
		t.Run(fmt.Sprintf("T=%g,k=%d,p=%g", c.temp, c.k, c.p), func(t *testing.T) {
			_, keep, _ := runPick(t, m, c, logits, B, rng)
			for b := 0; b < B; b++ {
				want := hostKeep(logits[b*V:(b+1)*V], c)
				got := keep[b*V : (b+1)*V]
				if !slices.Equal(got, want) {
					n := func(s []bool) (k int) {
						for _, x := range s {
							if x {
								k++
							}
						}
						return k
					}
					t.Errorf("row %d: graph keeps %d tokens, host %d", b, n(got), n(want))
				}
			}
		})
	}
}

// TestSampleDistribution draws many tokens from a small fixed logits vector
// and compares the frequencies with the target probabilities: softmax of
// logits/T over the kept tokens. With N draws a frequency has standard
// deviation σ = √(p(1−p)/N); every category must lie within 5σ (an unbiased
// sampler fails that with probability < 1e-6 per category; the runs are
// seeded, so the outcome is fixed), and a masked token is never drawn.
func TestSampleDistribution(t *testing.T) {
	m := loadFixture(t, "llama")
	base := []float32{2, 1.5, 1, 0.2, -0.5, -3}
	V := len(base)
	const B, calls = 8192, 4
	logits := make([]float32, 0, B*V)
	for range B {
		logits = append(logits, base...)
	}
	for _, c := range []pickCase{{temp: 1}, {temp: 0.7, k: 3}, {temp: 1.3, p: 0.8}, {temp: 1, k: 4, p: 0.9}} {
		t.Run(fmt.Sprintf("T=%g,k=%d,p=%g", c.temp, c.k, c.p), func(t *testing.T) {
			keep := hostKeep(base, c)
			want := make([]float64, V)
			var sum float64
			for i, l := range base {
				if keep[i] {
					want[i] = math.Exp(float64(l) / c.temp)
					sum += want[i]
				}
			}
			rng, err := newRNGState(11)
			if err != nil {
				t.Fatal(err)
			}
			counts := make([]int, V)
			for range calls {
				var ids []int32
				ids, _, rng = runPick(t, m, c, logits, B, rng)
				for _, id := range ids {
					counts[id]++
				}
			}
			N := float64(B * calls)
			for i := range want {
				p := want[i] / sum
				f := float64(counts[i]) / N
				if tol := 5 * math.Sqrt(p*(1-p)/N); math.Abs(f-p) > tol || (p == 0 && counts[i] != 0) {
					t.Errorf("token %d: frequency %.4f, want %.4f ± %.4f", i, f, p, tol)
				}
			}
		})
	}
}

// TestSampleSeeded checks that the same RNG state gives the same draws and
// the next state different ones.
func TestSampleSeeded(t *testing.T) {
	m := loadFixture(t, "llama")
	const B, V = 64, 100
	logits := make([]float32, B*V) // uniform: every draw depends on the RNG only
	c := pickCase{temp: 1}
	rng, err := newRNGState(3)
	if err != nil {
		t.Fatal(err)
	}
	a, _, next := runPick(t, m, c, logits, B, rng)
	b, _, _ := runPick(t, m, c, logits, B, rng)
	d, _, _ := runPick(t, m, c, logits, B, next)
	if !slices.Equal(a, b) {
		t.Errorf("same RNG state, different draws")
	}
	if slices.Equal(a, d) {
		t.Errorf("the step's new RNG state repeats the draws")
	}
}

// TestGenerateOnLogits checks that OnLogits gets every step's logits of the
// prompts' rows, that greedy picks their argmax, and which sampling changes
// compile: new temperature, K, P or seed values never do; switching a
// top-k / top-p stage on or asking for logits compiles one prefill and one
// decode graph.
func TestGenerateOnLogits(t *testing.T) {
	m := loadFixture(t, "llama")
	prompts := [][]int{{7, 8, 9, 10}, {40, 41}, {5}}
	steps := 0
	res, err := m.Generate(prompts, GenerateOptions{MaxNewTokens: 5, Greedy: true, OnLogits: func(step int, logits [][]float32) {
		if step != steps || len(logits) != len(prompts) {
			t.Errorf("step %d (want %d): %d rows of logits, want %d", step, steps, len(logits), len(prompts))
		}
		steps++
	}})
	if err != nil {
		t.Fatal(err)
	}
	var argmax [][]int
	_, err = m.Generate(prompts, GenerateOptions{MaxNewTokens: 5, Greedy: true, OnLogits: func(step int, logits [][]float32) {
		if step == 0 {
			argmax = make([][]int, len(logits))
		}
		for b, row := range logits {
			if len(row) != m.Config.VocabSize {
				t.Fatalf("row %d: %d logits, want %d", b, len(row), m.Config.VocabSize)
			}
			argmax[b] = append(argmax[b], slices.Index(row, slices.Max(row)))
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if steps != 5 || !slices.EqualFunc(res.Tokens, argmax, slices.Equal) {
		t.Errorf("%d steps; greedy tokens %v, argmax of the logits %v", steps, res.Tokens, argmax)
	}
	compiles := func(o GenerateOptions) int {
		t.Helper()
		n := m.NumCompiled()
		o.MaxNewTokens = 3
		if _, err := m.Generate(prompts, o); err != nil {
			t.Fatal(err)
		}
		return m.NumCompiled() - n
	}
	for _, c := range []struct {
		o    GenerateOptions
		want int
	}{
		{GenerateOptions{Temperature: 0.8, TopK: 20, Seed: 1}, 2},
		{GenerateOptions{Temperature: 1.2, TopK: 7, Seed: 2}, 0},
		{GenerateOptions{Temperature: 1.2, TopK: 7, TopP: 0.9, Seed: 2}, 2},
		{GenerateOptions{Temperature: 0.5, TopK: 3, TopP: 0.5, Seed: 9}, 0},
		{GenerateOptions{Greedy: true}, 2}, // the greedy graphs above returned logits
		{GenerateOptions{Greedy: true, StopAtEOS: true}, 0},
	} {
		if got := compiles(c.o); got != c.want {
			t.Errorf("%+v compiled %d graphs, want %d", c.o, got, c.want)
		}
	}
}

// TestKeyFloat checks the ordered keys the radix select returns: −∞ and
// +∞, and the float order kept across zero.
func TestKeyFloat(t *testing.T) {
	m := loadFixture(t, "llama")
	keys := []int64{int64(math.MinInt32) + (1 << 23) - 1, -1065353217, -1, 0, 1065353216, 0x7f800000}
	want := []float32{float32(math.Inf(-1)), -1, 0, 0, 1, float32(math.Inf(1))}
	e, err := m.exec("test-keyfloat", func(in []*Node) []*Node { return []*Node{keyFloat(in[0])} })
	if err != nil {
		t.Fatal(err)
	}
	outs, err := call(e, tensors.FromValue(keys))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tensors.CopyFlatData[float32](outs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("keyFloat(%v) = %v, want %v", keys, got, want)
	}
}
