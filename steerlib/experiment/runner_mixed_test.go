package experiment_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/experiment"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/tinyif"
)

// TestMixedSteeringBatch runs units of several steerings interleaved in
// mixed batches (per-row steering) and checks each response against the
// same prompts generated one steering group at a time with batch-wide
// model.GenerateOptions.Steer, on the embedded model.
func TestMixedSteeringBatch(t *testing.T) {
	m, dir := embeddedModel(t)
	r, err := experiment.NewRunner(m, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	r.MaxNewTokens, r.BatchSize = 12, 5
	cfg := m.Config
	rng := rand.New(rand.NewPCG(1, 2))
	dirn := func() []float32 {
		u, n := make([]float32, cfg.HiddenSize), 0.0
		for i := range u {
			u[i] = float32(rng.NormFloat64())
			n += float64(u[i]) * float64(u[i])
		}
		for i := range u {
			u[i] /= float32(math.Sqrt(n))
		}
		return u
	}
	groups := [][]model.SteerOp{
		nil,
		{{Layer: 1, Kind: model.OpAdd, U: dirn(), C: 40}},
		{{Layer: cfg.NumLayers - 1, Kind: model.OpClamp, U: dirn(), C: -30}},
		{{Layer: 0, Kind: model.OpAdd, U: dirn(), C: 25}, {Layer: 0, Kind: model.OpAblate, U: dirn()}, {Layer: 2, Kind: model.OpClamp, U: dirn(), C: 20}},
	}
	prompts := []string{"Write a short note about the sea.", "List three fruits.", "Describe your morning.", "What is a river?"}
	var units []experiment.Unit
	for p, prompt := range prompts { // interleaved: every batch mixes steerings
		for g, ops := range groups {
			units = append(units, experiment.Unit{Key: fmt.Sprintf("p%d|g%d", p, g), Rec: experiment.Record{Key: fmt.Sprint(p)},
				Condition: experiment.CondWithout, Prompt: prompt, Ops: ops})
		}
	}
	w, err := experiment.OpenResults(filepath.Join(t.TempDir(), "r.jsonl"), "mixed")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if n, err := r.Run(context.Background(), units, w); err != nil || n != len(units) {
		t.Fatalf("run: %d units, %v", n, err)
	}
	changed := 0
	for g, ops := range groups {
		want := groupResponses(t, r, prompts, ops)
		for p := range prompts {
			got := w.Done[fmt.Sprintf("p%d|g%d", p, g)].Response
			if got != want[p] {
				t.Errorf("prompt %d, steering %d: mixed batch %q, alone %q", p, g, got, want[p])
			}
			if g > 0 && got != w.Done[fmt.Sprintf("p%d|g0", p)].Response {
				changed++
			}
		}
	}
	if changed == 0 {
		t.Error("no steering changed any response: the test cannot tell rows apart")
	}
}

// groupResponses generates prompts in one batch, every row under ops.
func groupResponses(t *testing.T, r *experiment.Runner, prompts []string, ops []model.SteerOp) []string {
	t.Helper()
	rows := make([][]int, len(prompts))
	for i, p := range prompts {
		ids, err := r.Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		rows[i] = ids
	}
	decode := func(ids []int) (string, error) { return r.Tok.Decode(ids, true) }
	res, err := r.Model.Generate(rows, model.GenerateOptions{MaxNewTokens: r.MaxNewTokens, Greedy: true, StopAtEOS: true, Steer: ops, Decode: decode})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(prompts))
	for i, ids := range res.Tokens {
		s, err := decode(ids)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = strings.TrimSpace(s)
	}
	return out
}

// embeddedModel loads the embedded tinyif model (closed at the test's end)
// and returns it with its folder.
func embeddedModel(t *testing.T) (*model.Model, string) {
	t.Helper()
	dir, err := tinyif.EmbeddedModelDir()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(dir, model.WithOffline())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, dir
}

// TestPerplexityAnyGroup checks that a row's perplexity is the same, bit for
// bit, whatever rows it is scored with (alone, with all, with a shuffled
// half): sharded and unsharded runs must record the same value.
func TestPerplexityAnyGroup(t *testing.T) {
	m, _ := embeddedModel(t)
	rng := rand.New(rand.NewPCG(5, 6))
	rows := make([][]int, 24)
	for i := range rows {
		rows[i] = make([]int, 1+rng.IntN(150)) // several length buckets
		for j := range rows[i] {
			rows[i][j] = rng.IntN(m.Config.VocabSize)
		}
	}
	all, err := experiment.PerplexityIDs(m, rows, 0)
	if err != nil {
		t.Fatal(err)
	}
	perm := rng.Perm(len(rows))[:len(rows)/2]
	half := make([][]int, len(perm))
	for k, i := range perm {
		half[k] = rows[i]
	}
	someOf, err := experiment.PerplexityIDs(m, half, 0)
	if err != nil {
		t.Fatal(err)
	}
	for k, i := range perm {
		if someOf[k] != all[i] {
			t.Errorf("row %d (%d tokens): %v with half the rows, %v with all", i, len(rows[i]), someOf[k], all[i])
		}
	}
	for i, r := range rows[:6] {
		alone, err := experiment.PerplexityIDs(m, [][]int{r}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if alone[0] != all[i] {
			t.Errorf("row %d (%d tokens): %v alone, %v with all", i, len(r), alone[0], all[i])
		}
	}
}
