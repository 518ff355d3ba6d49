package vectors

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/pairs"
)

// byteEncoder encodes a prompt as its bytes.
func byteEncoder(s string) ([]int, error) {
	if s == "" {
		return nil, errors.New("empty prompt")
	}
	ids := make([]int, len(s))
	for i := range s {
		ids[i] = int(s[i])
	}
	return ids, nil
}

// fakeActs is a deterministic stand-in for a model: the activation of a row
// at layer l depends on all its tokens.
func fakeActs(ids []int, l, D int) []float32 {
	out := make([]float32, D)
	for j := range D {
		var s float64
		for t, id := range ids {
			s += math.Sin(float64(id*(j+1)+l) + 0.1*float64(t))
		}
		out[j] = float32(s / math.Sqrt(float64(len(ids))))
	}
	return out
}

func fakeCapture(L, D int, calls *int) CaptureFunc {
	return func(rows [][]int) ([][]float32, error) {
		*calls++
		acts := make([][]float32, L)
		for l := range L {
			for _, r := range rows {
				acts[l] = append(acts[l], fakeActs(r, l, D)...)
			}
		}
		return acts, nil
	}
}

func testPairs(n int, id string) []pairs.Pair {
	var ps []pairs.Pair
	for i := 0; i < n; i++ {
		q := fmt.Sprintf("Tell me about topic number %d.", i)
		ps = append(ps, pairs.Pair{InstructionID: id, With: q + " Use no commas.", Without: q})
	}
	return ps
}

type recProgress struct {
	total int
	sets  []int
	done  bool
}

func (r *recProgress) Start(_ string, total int) { r.total = total }
func (r *recProgress) Set(d int)                 { r.sets = append(r.sets, d) }
func (r *recProgress) Finish()                   { r.done = true }

func TestExtractMatchesPairwise(t *testing.T) {
	const L, D, n = 3, 6, 10
	ps := testPairs(n, "punctuation:no_comma")
	calls := 0
	acc := NewAccumulator(L, D, false)
	prog := &recProgress{}
	err := Extract(context.Background(), acc, &SliceSource{Pairs: ps}, byteEncoder, fakeCapture(L, D, &calls),
		ExtractOptions{BatchSize: 3, Progress: prog, Total: n})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 4 {
		t.Errorf("%d capture calls for %d pairs in batches of 3, want 4", calls, n)
	}
	if prog.total != n || prog.sets[len(prog.sets)-1] != n || !prog.done {
		t.Errorf("progress %+v", prog)
	}
	// Direct: one pair at a time.
	ref := NewAccumulator(L, D, false)
	for _, p := range ps {
		w, _ := byteEncoder(p.With)
		o, _ := byteEncoder(p.Without)
		wa, oa := make([][]float32, L), make([][]float32, L)
		for l := range L {
			wa[l], oa[l] = fakeActs(w, l, D), fakeActs(o, l, D)
		}
		ref.Add(wa, oa)
		ref.Fingerprint = chainFingerprint(ref.Fingerprint, p.With, p.Without)
	}
	ref.InstructionID = "punctuation:no_comma"
	ref.Run.Complete = true // Extract read its whole source
	if !reflect.DeepEqual(acc, ref) {
		t.Fatal("batched extraction differs from pair-by-pair accumulation")
	}
}

func TestExtractResumeAndUpdate(t *testing.T) {
	const L, D, n = 2, 4, 9
	ps := testPairs(n, "x:y")
	dir := t.TempDir()
	state := filepath.Join(dir, "state.safetensors")
	calls := 0
	capture := fakeCapture(L, D, &calls)
	full := NewAccumulator(L, D, true)
	if err := Extract(context.Background(), full, &SliceSource{Pairs: ps}, byteEncoder, capture, ExtractOptions{BatchSize: 2}); err != nil {
		t.Fatal(err)
	}
	// Interrupted run: 4 pairs, state saved, then resumed over the whole dataset.
	part := NewAccumulator(L, D, true)
	if err := Extract(context.Background(), part, &SliceSource{Pairs: ps[:4]}, byteEncoder, capture, ExtractOptions{BatchSize: 2, StatePath: state}); err != nil {
		t.Fatal(err)
	}
	resumed, err := LoadAccumulator(state)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.N != 4 {
		t.Fatalf("state holds %d pairs", resumed.N)
	}
	calls = 0
	if err := Extract(context.Background(), resumed, &SliceSource{Pairs: ps}, byteEncoder, capture, ExtractOptions{BatchSize: 2, Resume: true, StatePath: state}); err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Errorf("resume ran %d batches for 5 remaining pairs, want 3", calls)
	}
	if !reflect.DeepEqual(resumed, full) {
		t.Fatal("resumed run differs from a full run")
	}
	onDisk, _ := LoadAccumulator(state)
	if !reflect.DeepEqual(onDisk, full) {
		t.Fatal("final state on disk differs")
	}
	// Resuming against another dataset is refused.
	other := testPairs(n, "x:y")
	other[1].With += "!"
	again, _ := LoadAccumulator(state)
	again.N = 4
	err = Extract(context.Background(), again, &SliceSource{Pairs: other}, byteEncoder, capture, ExtractOptions{Resume: true})
	if err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("resume on another dataset: %v", err)
	}
	short, _ := LoadAccumulator(state)
	if err := Extract(context.Background(), short, &SliceSource{Pairs: ps[:3]}, byteEncoder, capture, ExtractOptions{Resume: true}); err == nil || !strings.Contains(err.Error(), "only 3") {
		t.Errorf("resume on a shorter dataset: %v", err)
	}
	// Update: more pairs added to an existing state.
	more := testPairs(12, "x:y")[9:]
	upd, _ := LoadAccumulator(state)
	if err := Extract(context.Background(), upd, &SliceSource{Pairs: more}, byteEncoder, capture, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	if upd.N != 12 {
		t.Fatalf("updated state holds %d pairs, want 12", upd.N)
	}
	one := NewAccumulator(L, D, true)
	Extract(context.Background(), one, &SliceSource{Pairs: testPairs(12, "x:y")}, byteEncoder, capture, ExtractOptions{})
	vu, _ := upd.Vectors(MethodMeanDiff)
	vo, _ := one.Vectors(MethodMeanDiff)
	for l := range L {
		if c := Cosine(vu.Layers[l].U, vo.Layers[l].U); math.Abs(c-1) > 1e-12 {
			t.Errorf("updated vector differs from one pass over all pairs: cos %v", c)
		}
	}
}

func TestExtractInstructionsAndErrors(t *testing.T) {
	const L, D = 2, 4
	calls := 0
	capture := fakeCapture(L, D, &calls)
	mixed := append(testPairs(3, "a:a"), testPairs(2, "b:b")...)
	acc := NewAccumulator(L, D, false)
	err := Extract(context.Background(), acc, &SliceSource{Pairs: mixed}, byteEncoder, capture, ExtractOptions{})
	if err == nil || !strings.Contains(err.Error(), "several instructions") {
		t.Errorf("mixed ids: %v", err)
	}
	acc = NewAccumulator(L, D, false)
	if err := Extract(context.Background(), acc, &SliceSource{Pairs: mixed}, byteEncoder, capture, ExtractOptions{InstructionID: "b:b"}); err != nil {
		t.Fatal(err)
	}
	if acc.N != 2 || acc.InstructionID != "b:b" {
		t.Errorf("filtered: N=%d id=%q", acc.N, acc.InstructionID)
	}
	failing := func(rows [][]int) ([][]float32, error) { return nil, errors.New("device lost") }
	acc = NewAccumulator(L, D, false)
	err = Extract(context.Background(), acc, &SliceSource{Pairs: testPairs(5, "a:a")}, byteEncoder, failing, ExtractOptions{BatchSize: 4})
	if err == nil || !strings.Contains(err.Error(), "pairs 1..4: capture: device lost") {
		t.Errorf("capture error: %v", err)
	}
	short := func(rows [][]int) ([][]float32, error) { return [][]float32{{1}}, nil }
	if err := Extract(context.Background(), NewAccumulator(L, D, false), &SliceSource{Pairs: testPairs(1, "a:a")}, byteEncoder, short, ExtractOptions{}); err == nil {
		t.Error("capture with wrong layer count: no error")
	}
	// A cancelled context stops and saves the state.
	ctx, cancel := context.WithCancel(context.Background())
	state := filepath.Join(t.TempDir(), "s.safetensors")
	n := 0
	cancelling := func(rows [][]int) ([][]float32, error) {
		if n++; n == 2 {
			cancel()
		}
		return capture(rows)
	}
	acc = NewAccumulator(L, D, false)
	err = Extract(ctx, acc, &SliceSource{Pairs: testPairs(10, "a:a")}, byteEncoder, cancelling, ExtractOptions{BatchSize: 2, StatePath: state})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
	saved, err := LoadAccumulator(state)
	if err != nil || saved.N != 4 {
		t.Fatalf("state after cancel: %v, N=%d", err, saved.N)
	}
}
