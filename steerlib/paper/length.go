package paper

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/gosteer/gosteer/plots"
	"github.com/gosteer/gosteer/steerlib/experiment"
)

// ConciseVector names the conciseness direction.
const ConciseVector = "concise"

// lengthLevels are gosteer's five requests, from most concise to most
// verbose, that the conciseness direction is computed from.
var lengthLevels = [5]string{
	"Be extremely brief: a few words are enough.",
	"Keep the answer short and to the point.",
	"Answer at a normal length.",
	"Go into detail and explain thoroughly.",
	"Be as elaborate and long-winded as you can, covering every aspect at length.",
}

// levelWeights weigh the levels' mean activations: v = Σ_k w_k·m_k with
// w = (2, 1, 0, −1, −2)/3, i.e. v = (2m₁ + m₂)/3 − (m₄ + 2m₅)/3; the middle
// level has weight 0.
var levelWeights = [5]float64{2, 1, 0, -1, -2}

// ConcisenessVector computes (or loads) the conciseness direction from the
// head queries, each followed by each level's request:
// v = (2m₁ + m₂)/3 − (m₄ + 2m₅)/3, z̄ = ((2m₁ + m₂)/3)·û.
func (e *Env) ConcisenessVector(ctx context.Context, dir string, queries []string) error {
	if e.cached(dir, ConciseVector) {
		return nil
	}
	if len(queries) == 0 {
		return fmt.Errorf("conciseness vector: no queries")
	}
	var groups [][]string
	var ws []float64
	for k, lv := range lengthLevels {
		if levelWeights[k] == 0 {
			continue
		}
		g := make([]string, len(queries))
		for i, q := range queries {
			g[i] = q + " " + lv
		}
		groups, ws = append(groups, g), append(ws, levelWeights[k])
	}
	fmt.Fprintf(e.Progress, "[vectors] conciseness from %d queries × %d levels\n", len(queries), len(groups))
	means, err := e.meanActs(ctx, groups)
	if err != nil {
		return fmt.Errorf("conciseness vector: %w", err)
	}
	pos, neg := weighted(means, ws, 1), weighted(means, ws, -1)
	set, err := e.setFromMeans("length_constraints:number_sentences", len(queries), pos, neg)
	if err != nil {
		return err
	}
	return e.save(dir, ConciseVector, set)
}

// weighted returns Σ |w_g|·means_g / Σ |w_g| over the groups whose weight
// has the given sign.
func weighted(means [][][]float64, ws []float64, sign float64) [][]float64 {
	L, D := len(means[0]), len(means[0][0])
	out := make([][]float64, L)
	total := 0.0
	for _, w := range ws {
		if w*sign > 0 {
			total += w * sign
		}
	}
	for l := range out {
		out[l] = make([]float64, D)
		for g, w := range ws {
			if w*sign <= 0 {
				continue
			}
			for d := range D {
				out[l][d] += w * sign * means[g][l][d] / total
			}
		}
	}
	return out
}

// lengthRequest is the evaluation request "answer using at most N sentences".
func lengthRequest(n int) string {
	if n == 1 {
		return "Answer using at most 1 sentence."
	}
	return "Answer using at most " + strconv.Itoa(n) + " sentences."
}

// lengthCheck is the IFEval check of "at most N sentences" (fewer than N+1).
func lengthCheck(n int) Check {
	return Check{ID: "length_constraints:number_sentences", Kwargs: map[string]any{"relation": "less than", "num_sentences": n + 1}}
}

// lengthItems crosses queries with N = 0 (no request) .. 5.
func lengthItems(queries []string) []Item {
	var out []Item
	for i, q := range queries {
		for n := 0; n <= 5; n++ {
			it := Item{Key: fmt.Sprintf("q%d/n%d", i, n), Instruction: "length", Vector: ConciseVector, Without: q, With: q, MaxSentences: n}
			if n > 0 {
				it.With = q + " " + lengthRequest(n)
				it.Checks = []Check{lengthCheck(n)}
			}
			out = append(out, it)
		}
	}
	return out
}

// Length runs the length experiment: the conciseness add at a fixed layer
// for each coefficient, over tail queries asking for at most N sentences.
func (e *Env) Length(ctx context.Context, o Options) (*Report, error) {
	o.fill(e.Model.Config.NumLayers)
	if err := e.ConcisenessVector(ctx, o.Out, sample(o.Data.Queries(true), o.PairsN, 1)); err != nil {
		return nil, err
	}
	items := lengthItems(sample(o.Data.Queries(false), o.N, o.Seed))
	var units []Unit
	for _, sc := range o.Coefs {
		layer := o.LengthLayer
		if sc == 0 {
			layer = -1
		}
		for _, it := range items {
			st, err := e.steerFor(it, "add", layer, sc, 1)
			if err != nil {
				return nil, err
			}
			u := it.unit("length", PhaseTest, experiment.CondWith, []Steering{st})
			u.Key += "/s" + strconv.FormatFloat(sc, 'g', -1, 64)
			u.Condition, u.Scale = "c="+strconv.FormatFloat(sc, 'g', -1, 64), sc
			units = append(units, u)
		}
	}
	rows, complete, err := e.Run(ctx, "length", units)
	if err != nil {
		return nil, err
	}
	if !complete {
		return nil, ErrPending
	}
	return lengthReport(o, rows)
}

// LengthTable summarizes length rows per coefficient scale: sentence and
// word counts and the accuracy of "at most N" (all N, and each N).
func LengthTable(scales []float64, rows []Row) Table {
	t := Table{Title: "Length per coefficient (scale × ‖v‖; < 0 more verbose)",
		Header: []string{"scale", "n", "sentences mean", "sentences median", "words mean", "at most N"}}
	for n := 1; n <= 5; n++ {
		t.Header = append(t.Header, "N="+strconv.Itoa(n))
	}
	for _, sc := range scales {
		rs := byScale(rows, sc)
		sent, words := counts(rs)
		var asked []Row
		for _, r := range rs {
			if r.MaxSentences > 0 {
				asked = append(asked, r)
			}
		}
		row := []string{strconv.FormatFloat(sc, 'g', -1, 64), strconv.Itoa(len(rs)), f3(mean(sent)), f3(median(sent)), f3(mean(words)), f3(accuracy(asked, false))}
		for n := 1; n <= 5; n++ {
			var rn []Row
			for _, r := range asked {
				if r.MaxSentences == n {
					rn = append(rn, r)
				}
			}
			row = append(row, f3(accuracy(rn, false)))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// byScale returns the rows of one coefficient scale.
func byScale(rows []Row, sc float64) []Row {
	var out []Row
	for _, r := range rows {
		if r.Scale == sc {
			out = append(out, r)
		}
	}
	return out
}

// counts returns the sentence and word counts of rows.
func counts(rows []Row) (sent, words []float64) {
	for _, r := range rows {
		sent, words = append(sent, float64(r.Sentences)), append(words, float64(r.Words))
	}
	return sent, words
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// lengthReport builds the length table and figures.
func lengthReport(o Options, rows []Row) (*Report, error) {
	var labels []string
	var sents, words [][]float64
	acc := make([]plots.Series, 5)
	for n := range acc {
		acc[n].Name = "at most " + strconv.Itoa(n+1)
	}
	for _, sc := range o.Coefs {
		rs := byScale(rows, sc)
		s, w := counts(rs)
		labels, sents, words = append(labels, strconv.FormatFloat(sc, 'g', -1, 64)), append(sents, s), append(words, w)
		for n := range acc {
			var rn []Row
			for _, r := range rs {
				if r.MaxSentences == n+1 {
					rn = append(rn, r)
				}
			}
			acc[n].X, acc[n].Y = append(acc[n].X, sc), append(acc[n].Y, accuracy(rn, false))
		}
	}
	ps, err := distributions("Sentences per response vs coefficient", "coefficient (× ‖v‖)", "sentences", labels, sents)
	if err != nil {
		return nil, err
	}
	pw, err := distributions("Words per response vs coefficient", "coefficient (× ‖v‖)", "words", labels, words)
	if err != nil {
		return nil, err
	}
	pa, err := plots.Lines("Accuracy of \"at most N sentences\" vs coefficient", "coefficient (× ‖v‖)", "accuracy", acc)
	if err != nil {
		return nil, err
	}
	shareAxis(pa)
	return &Report{Experiment: "length", Title: "Length: conciseness direction added at layer " + strconv.Itoa(o.LengthLayer),
		Intro: "Data: " + o.Data.Name() + ". Add c·‖v‖·û after the layer (c < 0: more verbose); prompts ask for at most N sentences (N = 1..5) or nothing; " +
			"sentences counted with the NLTK-compatible splitter of steerlib/ifeval. The paper (Phi-3, layer 12) reports shorter answers and higher length-constraint accuracy as c grows.",
		Tables: []Table{LengthTable(o.Coefs, rows)},
		Figures: []Figure{
			{Name: "length_sentences", Caption: "Distribution of sentence counts per coefficient (all prompts).", Plot: ps},
			{Name: "length_words", Caption: "Distribution of word counts per coefficient (all prompts).", Plot: pw},
			{Name: "length_accuracy", Caption: "Share of responses within the requested number of sentences, per N and coefficient.", Plot: pa},
		},
		Plan: map[string]any{"layer": o.LengthLayer, "scales": o.Coefs}, Examples: examples(rows, "c="+labels[len(labels)-1], 2)}, nil
}
