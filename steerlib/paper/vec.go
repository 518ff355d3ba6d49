package paper

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/gosteer/gosteer/steerlib/pairs"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// vectorPath is where the direction set of name is cached in a run folder.
func vectorPath(dir, name string) string {
	r := strings.NewReplacer("/", "_", ":", "_", " ", "_")
	return filepath.Join(dir, "vectors", r.Replace(name)+".safetensors")
}

// cached loads the direction set of name from the run folder when present.
func (e *Env) cached(dir, name string) bool {
	set, err := vectors.Load(vectorPath(dir, name))
	if err != nil {
		return false
	}
	e.Vectors[name] = set
	return true
}

// save stores a computed direction set in the run folder and registers it.
func (e *Env) save(dir, name string, set *vectors.Set) error {
	e.Vectors[name] = set
	if err := os.MkdirAll(filepath.Join(dir, "vectors"), 0o755); err != nil {
		return fmt.Errorf("vectors %s: %w", name, err)
	}
	return set.Save(vectorPath(dir, name))
}

// ComputeVectors computes (or loads from dir/vectors) the direction set of
// name from pairs: the mean difference of last-token residuals with and
// without the instruction, per layer.
func (e *Env) ComputeVectors(ctx context.Context, dir, name string, ps []pairs.Pair) error {
	if e.cached(dir, name) {
		return nil
	}
	if len(ps) == 0 {
		return fmt.Errorf("vectors %s: no pairs", name)
	}
	fmt.Fprintf(e.Progress, "[vectors] %s from %d pairs\n", name, len(ps))
	set, err := vectors.Compute(ctx, e.Model, e.Runner.Encode, ps, vectors.ComputeOptions{BatchSize: e.BatchSize, ModelHint: string(e.Model.Config.Family)})
	if err != nil {
		return fmt.Errorf("vectors %s: %w", name, err)
	}
	return e.save(dir, name, set)
}

// meanActs returns the per-layer mean last-token residual of each group of
// prompts; all groups' prompts are captured together in batches.
func (e *Env) meanActs(ctx context.Context, groups [][]string) ([][][]float64, error) {
	L, D := e.Model.Config.NumLayers, e.Model.Config.HiddenSize
	capture := vectors.ModelCapture(e.Model)
	type ref struct{ g, i int }
	var refs []ref
	for g, ps := range groups {
		for i := range ps {
			refs = append(refs, ref{g, i})
		}
	}
	sums := make([][][]float64, len(groups))
	for g := range sums {
		sums[g] = make([][]float64, L)
		for l := range sums[g] {
			sums[g][l] = make([]float64, D)
		}
	}
	for s := 0; s < len(refs); s += e.BatchSize {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch := refs[s:min(len(refs), s+e.BatchSize)]
		rows := make([][]int, len(batch))
		for k, r := range batch {
			ids, err := e.Runner.Encode(groups[r.g][r.i])
			if err != nil {
				return nil, fmt.Errorf("encode: %w", err)
			}
			rows[k] = ids
		}
		acts, err := capture(rows)
		if err != nil {
			return nil, err
		}
		for l := range L {
			for k, r := range batch {
				dst, src := sums[r.g][l], acts[l][k*D:(k+1)*D]
				for d := range D {
					dst[d] += float64(src[d])
				}
			}
		}
		fmt.Fprintf(e.Progress, "[vectors] %d/%d prompts\n", min(len(refs), s+e.BatchSize), len(refs))
	}
	for g := range sums {
		for l := range sums[g] {
			for d := range sums[g][l] {
				sums[g][l][d] /= float64(len(groups[g]))
			}
		}
	}
	return sums, nil
}

// setFromMeans builds a direction set from the per-layer means with (pos)
// and without (neg) the instruction: v = pos − neg, û = v/‖v‖,
// z̄ = pos·û, mean projection without = neg·û.
func (e *Env) setFromMeans(id string, n int, pos, neg [][]float64) (*vectors.Set, error) {
	cfg := e.Model.Config
	set := &vectors.Set{ModelHint: string(cfg.Family), Method: vectors.MethodMeanDiff, InstructionID: id,
		Hidden: cfg.HiddenSize, NumLayers: cfg.NumLayers, NPairs: n, ChosenLayer: vectors.NoLayer}
	for l := range pos {
		v := make([]float64, len(pos[l]))
		norm := 0.0
		for d := range v {
			v[d] = pos[l][d] - neg[l][d]
			norm += v[d] * v[d]
		}
		norm = math.Sqrt(norm)
		if norm == 0 {
			return nil, fmt.Errorf("vectors %s: zero difference at layer %d", id, l)
		}
		u := make([]float32, len(v))
		zp, zn := 0.0, 0.0
		for d := range v {
			u[d] = float32(v[d] / norm)
			zp += pos[l][d] * v[d] / norm
			zn += neg[l][d] * v[d] / norm
		}
		set.Layers = append(set.Layers, vectors.Direction{Layer: l, U: u, Norm: norm, ZBar: zp, MeanProjWithout: zn, Coef: math.NaN()})
	}
	return set, nil
}

// WordVectors computes one direction per word in shared batches: the
// without-instruction mean over the queries is computed once, the
// with-instruction prompts of all words (phrase(word, query)) go through the
// model together. Sets already in dir/vectors are loaded.
func (e *Env) WordVectors(ctx context.Context, dir string, words, queries []string, phrase func(word, query string) string) error {
	var todo []string
	for _, w := range words {
		if !e.cached(dir, wordVector(w)) {
			todo = append(todo, w)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	fmt.Fprintf(e.Progress, "[vectors] %d word directions from %d queries each\n", len(todo), len(queries))
	groups := [][]string{queries}
	for _, w := range todo {
		g := make([]string, len(queries))
		for i, q := range queries {
			g[i] = phrase(w, q)
		}
		groups = append(groups, g)
	}
	means, err := e.meanActs(ctx, groups)
	if err != nil {
		return fmt.Errorf("word vectors: %w", err)
	}
	for k, w := range todo {
		set, err := e.setFromMeans("keywords:existence", len(queries), means[k+1], means[0])
		if err != nil {
			return err
		}
		if err := e.save(dir, wordVector(w), set); err != nil {
			return err
		}
	}
	return nil
}

// wordVector is the direction name of a word.
func wordVector(w string) string { return "word:" + w }
