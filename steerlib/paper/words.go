package paper

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/gosteer/gosteer/plots"
	"github.com/gosteer/gosteer/steerlib/experiment"
)

// wordTask is one side of the word experiment.
type wordTask struct {
	// Instruction is keywords:existence or keywords:forbidden_words.
	Instruction string
	// Sign is +1 (inclusion: +c·û) or −1 (exclusion: −c·û of the same
	// inclusion direction).
	Sign    float64
	Exclude bool
}

var wordTasks = []wordTask{
	{Instruction: "keywords:existence", Sign: 1},
	{Instruction: "keywords:forbidden_words", Sign: -1, Exclude: true},
}

// wordList returns the distinct words the items are steered with.
func wordList(sets ...[]Item) []string {
	var out []string
	for _, its := range sets {
		for _, it := range its {
			w := it.Vector[len("word:"):]
			if !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	return out
}

// Words runs word inclusion and exclusion: one direction per word (all
// computed in shared batches), (layer, c) chosen per side on validation
// prompts, four conditions on the test prompts, IFEval strict.
func (e *Env) Words(ctx context.Context, o Options) (*Report, error) {
	o.fill(e.Model.Config.NumLayers)
	test, val := map[string][]Item{}, map[string][]Item{}
	for _, t := range wordTasks {
		ts, err := o.Data.Words(t.Exclude, false)
		if err != nil {
			return nil, err
		}
		vs, err := o.Data.Words(t.Exclude, true)
		if err != nil {
			return nil, err
		}
		test[t.Instruction], val[t.Instruction] = sample(ts, o.N, o.Seed), sample(vs, o.ValN, o.Seed)
	}
	words := wordList(test["keywords:existence"], test["keywords:forbidden_words"], val["keywords:existence"], val["keywords:forbidden_words"])
	if err := e.WordVectors(ctx, o.Out, words, sample(o.Data.Queries(true), o.PairsN, 1), o.Data.Phrase); err != nil {
		return nil, err
	}
	plan := map[string]Choice{}
	pending := false
	for _, t := range wordTasks {
		s := Search{Experiment: "words", Instruction: t.Instruction, Op: "add", Scales: o.Scales, Sign: t.Sign, Setting: experiment.CondWithout,
			Items: val[t.Instruction], Layers: o.Layers, Strict: true, RelativeScreen: o.RelativeScreen}
		ch, ok, err := e.RunSearch(ctx, s)
		if err != nil {
			return nil, err
		}
		plan[t.Instruction], pending = ch, pending || !ok
	}
	if pending {
		return nil, ErrPending
	}
	ids := []string{wordTasks[0].Instruction, wordTasks[1].Instruction}
	items := func(id string) ([]Item, error) { return test[id], nil }
	rows, err := e.runTests(ctx, "words", ids, items, func(id string) steerFunc {
		ch, sign := plan[id], wordTasks[slices.Index(ids, id)].Sign
		return func(it Item, _ string) ([]Steering, error) {
			st, err := e.steerFor(it, experiment.OpAdd, ch.Layer, ch.Scale, sign)
			return []Steering{st}, err
		}
	})
	if err != nil {
		return nil, err
	}
	return wordsReport(o, plan, rows)
}

// wordsReport builds the strict four-condition table and the figures.
func wordsReport(o Options, plan map[string]Choice, rows []Row) (*Report, error) {
	ids := []string{"keywords:existence", "keywords:forbidden_words"}
	tab := ConditionTable(ids, rows, true)
	tab.Header = append(tab.Header, "layer", "c (× ‖v‖)")
	for i, id := range ids {
		c := ""
		if plan[id].Layer >= 0 {
			c = strconv.FormatFloat(plan[id].Scale*wordTasks[i].Sign, 'g', -1, 64)
		}
		tab.Rows[i] = append(tab.Rows[i], layerLabel(plan[id].Layer), c)
	}
	tab.Rows[len(ids)] = append(tab.Rows[len(ids)], "", "")
	figs, err := conditionFigures(ids, rows, true)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		var series []plots.Series
		for _, l := range o.Layers {
			if l < 0 {
				continue
			}
			s := plots.Series{Name: "layer " + strconv.Itoa(l)}
			for _, c := range plan[id].Scores {
				if int(c.Layer) == l {
					s.X, s.Y = append(s.X, c.Coef*wordTasks[i].Sign), append(s.Y, c.Accuracy)
				}
			}
			series = append(series, s)
		}
		if len(series) == 0 {
			continue
		}
		p, err := plots.Lines("Validation accuracy vs c: "+shortNames([]string{id})[0], "c (× ‖v‖; exclusion adds −c·û)", "accuracy (strict)", series)
		if err != nil {
			return nil, err
		}
		shareAxis(p)
		figs = append(figs, Figure{Name: "words_" + shortNames([]string{id})[0], Caption: fmt.Sprintf(
			"Validation accuracy (strict) of %s per coefficient at each candidate layer; no steering: %s.", id, f3(noSteer(plan[id]))), Plot: p})
	}
	return &Report{Experiment: "words", Title: "Word inclusion and exclusion (IFEval strict)",
		Intro: "Data: " + o.Data.Name() + ". One direction per word; inclusion adds +c·û, exclusion adds −c·û of the same inclusion direction; " +
			"(layer, c) chosen on validation prompts. Scored strictly, as the paper does.",
		Tables: []Table{tab}, Figures: figs, Plan: plan, Examples: examples(rows, experiment.CondWithoutSteer, 2)}, nil
}

// noSteer is the validation accuracy of the no-steering candidate.
func noSteer(ch Choice) float64 {
	for _, c := range ch.Scores {
		if c.Layer < 0 {
			return c.Accuracy
		}
	}
	return 0
}
