package paper

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/gosteer/gosteer/steerlib/experiment"
)

// Compose runs the composition experiment: each format test prompt gets a
// seeded random "at most N sentences" request; the steered conditions apply
// the format clamp at its chosen layer and the conciseness add at the
// length layer in the same generation. Each response is scored on both
// instructions, each alone and jointly (IFEval loose).
func (e *Env) Compose(ctx context.Context, o Options) (*Report, error) {
	o.fill(e.Model.Config.NumLayers)
	ids, err := formatIDs(o.Data, o.Instructions)
	if err != nil {
		return nil, err
	}
	if err := e.ConcisenessVector(ctx, o.Out, sample(o.Data.Queries(true), o.PairsN, 1)); err != nil {
		return nil, err
	}
	plan, err := e.searchFormat(ctx, "compose", ids, &o)
	if err != nil {
		return nil, err
	}
	concise := func(it Item) (Steering, error) {
		return e.steerFor(Item{Key: it.Key, Instruction: "length", Vector: ConciseVector}, experiment.OpAdd, o.LengthLayer, o.ComposeScale, 1)
	}
	// Each test prompt gets a seeded random "at most N sentences" request.
	r := rand.New(rand.NewPCG(o.Seed, 0xc0))
	items := func(id string) ([]Item, error) {
		its, err := testItems(&o)(id)
		for i := range its {
			n := 1 + r.IntN(5)
			it := &its[i]
			it.With += " " + lengthRequest(n)
			it.Checks = append(append([]Check(nil), it.Checks...), lengthCheck(n))
			it.MaxSentences = n
		}
		return its, err
	}
	steer := e.planSteer(plan, concise)
	rows, err := e.runTests(ctx, "compose", ids, items, func(string) steerFunc { return steer })
	if err != nil {
		return nil, err
	}
	return composeReport(o, ids, plan, rows)
}

// composeRates returns the number of rows of a condition and the share
// following the format instruction, the length instruction and both.
func composeRates(rows []Row, cond string) (n int, rates [3]float64) {
	rs := filter(rows, "", cond)
	for _, r := range rs {
		if len(r.Checks) != 2 {
			continue
		}
		f, l := r.Checks[0].Loose, r.Checks[1].Loose
		rates[0], rates[1], rates[2] = rates[0]+float64(b2i(f)), rates[1]+float64(b2i(l)), rates[2]+float64(b2i(f && l))
	}
	for k := range rates {
		rates[k] /= float64(max(len(rs), 1))
	}
	return len(rs), rates
}

// ComposeTable gives, per condition, the accuracy of the format instruction
// alone, the length instruction alone and both together (all test rows).
func ComposeTable(rows []Row) Table {
	t := Table{Title: "Format + length: accuracy (loose) per condition",
		Header: []string{"condition", "n", "format", "length", "both"}}
	for _, c := range Conditions {
		n, r := composeRates(rows, c)
		t.Rows = append(t.Rows, []string{c, fmt.Sprint(n), f3(r[0]), f3(r[1]), f3(r[2])})
	}
	return t
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// composeReport builds the composition tables and figures.
func composeReport(o Options, ids []string, plan *formatPlan, rows []Row) (*Report, error) {
	tab := ComposeTable(rows)
	vals := make([][]float64, 3)
	for _, c := range Conditions {
		_, r := composeRates(rows, c)
		for k := range vals {
			vals[k] = append(vals[k], r[k])
		}
	}
	p, err := bars("Format and length instructions together", "accuracy", Conditions, []string{"format", "length", "both"}, vals)
	if err != nil {
		return nil, err
	}
	per := ConditionTable(ids, rows, false)
	per.Title = "Both instructions followed (loose), per format instruction"
	return &Report{Experiment: "compose", Title: "Composition: format clamp + conciseness add in one generation",
		Intro: fmt.Sprintf("Data: %s. Format test prompts with a seeded random \"at most N sentences\" request; steered conditions clamp the "+
			"format direction at its chosen layer and add %g·‖v‖ of the conciseness direction at layer %d.", o.Data.Name(), o.ComposeScale, o.LengthLayer),
		Tables:  []Table{tab, per},
		Figures: []Figure{{Name: "compose", Caption: "Accuracy on the format instruction, the length instruction and both, per condition.", Plot: p}},
		Plan:    plan, Examples: examples(rows, experiment.CondWithSteer, 3)}, nil
}
