package paper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"gonum.org/v1/plot/vg"

	"github.com/gosteer/gosteer/plots"
	"github.com/gosteer/gosteer/steerlib/experiment"
)

// ErrPending is returned when this shard has done its share of a phase and
// other shards still owe units: rerun (any shard) once they finish.
var ErrPending = errors.New("other shards have not finished this phase yet; rerun when they have")

// Options configures an experiment.
type Options struct {
	// Out is the run folder.
	Out  string
	Data Dataset
	// N caps the test items per instruction (0: all); ValN is the number of
	// validation prompts per layer search (default 8); PairsN caps the
	// training pairs per direction (0: all).
	N, ValN, PairsN int
	// Seed draws validation and test samples (default 42).
	Seed uint64
	// Instructions restricts the format instructions (default: all).
	Instructions []string
	// Layers are the layer-search candidates (nil: DefaultCandidates).
	Layers []int
	// Scales are the add coefficients of the word search, in units of ‖v_l‖.
	Scales []float64
	// Coefs are the length sweep's coefficients, in units of ‖v_l‖ (< 0:
	// more verbose).
	Coefs []float64
	// LengthLayer is the layer of the conciseness add (-1: ⌊12·L/32⌋, the
	// reference's layer 12 of Phi-3's 32 scaled to the model).
	LengthLayer int
	// ComposeScale is the conciseness add of the composition, × ‖v_l‖
	// (default 1).
	ComposeScale float64
	// RelativeScreen compares degenerate shares with "no steering" (base
	// models) instead of 0.
	RelativeScreen bool
}

func (o *Options) fill(L int) {
	if o.ValN == 0 {
		o.ValN = 8
	}
	if o.Seed == 0 {
		o.Seed = 42
	}
	if o.Layers == nil {
		o.Layers = experiment.DefaultCandidates(L)
	}
	if len(o.Scales) == 0 {
		o.Scales = []float64{1, 2, 4}
	}
	if len(o.Coefs) == 0 {
		o.Coefs = []float64{-2, -1, 0, 1, 2}
	}
	if o.ComposeScale == 0 {
		o.ComposeScale = 1
	}
	if o.LengthLayer < 0 {
		o.LengthLayer = 12 * L / 32
	}
}

// formatIDs returns the selected format instructions.
func formatIDs(d Dataset, sel []string) ([]string, error) {
	all := d.FormatIDs()
	if len(sel) == 0 {
		return all, nil
	}
	for _, id := range sel {
		if !slices.Contains(all, id) {
			return nil, fmt.Errorf("instruction %q is not in %s (have %v)", id, d.Name(), all)
		}
	}
	return sel, nil
}

// formatPlan is the layer choice per instruction and setting.
type formatPlan struct {
	Without map[string]Choice `json:"without"`
	With    map[string]Choice `json:"with"`
}

// formatVectors computes (or loads) the direction of each instruction from
// its training pairs, named prefix + id.
func (e *Env) formatVectors(ctx context.Context, ids []string, o *Options, prefix string) error {
	for _, id := range ids {
		ps, err := o.Data.Pairs(id, o.PairsN)
		if err != nil {
			return err
		}
		if err := e.ComputeVectors(ctx, o.Out, prefix+id, ps); err != nil {
			return err
		}
	}
	return nil
}

// searchFormat computes the directions and runs both layer searches.
func (e *Env) searchFormat(ctx context.Context, exp string, ids []string, o *Options) (*formatPlan, error) {
	if err := e.formatVectors(ctx, ids, o, ""); err != nil {
		return nil, err
	}
	plan := &formatPlan{Without: map[string]Choice{}, With: map[string]Choice{}}
	pending := false
	for _, setting := range []string{experiment.CondWithout, experiment.CondWith} {
		for _, id := range ids {
			val, err := o.Data.Validation(id, o.ValN, o.Seed)
			if err != nil {
				return nil, err
			}
			s := Search{Experiment: exp, Instruction: id, Op: "clamp", Setting: setting, Items: val,
				Layers: o.Layers, RelativeScreen: o.RelativeScreen}
			ch, ok, err := e.RunSearch(ctx, s)
			if err != nil {
				return nil, err
			}
			pending = pending || !ok
			if setting == experiment.CondWith {
				plan.With[id] = ch
			} else {
				plan.Without[id] = ch
			}
		}
	}
	if pending {
		return nil, ErrPending
	}
	return plan, nil
}

// Format runs the format experiment: directions per instruction, layer
// searches with and without the instruction, four conditions on the test
// items, IFEval loose.
func (e *Env) Format(ctx context.Context, o Options) (*Report, error) {
	o.fill(e.Model.Config.NumLayers)
	ids, err := formatIDs(o.Data, o.Instructions)
	if err != nil {
		return nil, err
	}
	return e.formatRun(ctx, "format", ids, &o)
}

// formatRun runs the layer searches and the four conditions of the format
// instructions and builds their report.
func (e *Env) formatRun(ctx context.Context, exp string, ids []string, o *Options) (*Report, error) {
	plan, err := e.searchFormat(ctx, exp, ids, o)
	if err != nil {
		return nil, err
	}
	steer := e.planSteer(plan, nil)
	rows, err := e.runTests(ctx, exp, ids, testItems(o), func(string) steerFunc { return steer })
	if err != nil {
		return nil, err
	}
	return formatReport(o.Data, ids, plan, rows, false)
}

// planSteer steers an item with the clamp its instruction's plan chose for
// the condition, followed by extra.
func (e *Env) planSteer(plan *formatPlan, extra func(it Item) (Steering, error)) steerFunc {
	return func(it Item, cond string) ([]Steering, error) {
		ch := plan.Without[it.Instruction]
		if cond == experiment.CondWithSteer {
			ch = plan.With[it.Instruction]
		}
		st, err := e.steerFor(it, "clamp", ch.Layer, 0, 1)
		if err != nil || extra == nil {
			return []Steering{st}, err
		}
		x, err := extra(it)
		return []Steering{st, x}, err
	}
}

// formatReport builds the four-condition table and figures of format rows.
func formatReport(d Dataset, ids []string, plan *formatPlan, rows []Row, strict bool) (*Report, error) {
	tab := ConditionTable(ids, rows, strict)
	for i := range tab.Rows[:len(ids)] {
		id := ids[i]
		tab.Rows[i] = append(tab.Rows[i], layerLabel(plan.Without[id].Layer), layerLabel(plan.With[id].Layer))
	}
	tab.Rows[len(ids)] = append(tab.Rows[len(ids)], "", "")
	tab.Header = append(tab.Header, "layer w/o", "layer w/")
	figs, err := conditionFigures(ids, rows, strict)
	if err != nil {
		return nil, err
	}
	for _, setting := range []string{experiment.CondWithout, experiment.CondWith} {
		ch := plan.Without
		if setting == experiment.CondWith {
			ch = plan.With
		}
		f, err := searchFigures(setting, ids, ch)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f...)
	}
	return &Report{Experiment: "format", Title: "Format instructions: four conditions (IFEval loose)",
		Intro: "Data: " + d.Name() + ". Clamp to z̄ at the layer chosen on validation prompts, separately without and with the instruction; " +
			"the paper's Phi-3 overall (loose): 0.110 → 0.307 without the instruction, 0.699 → 0.785 with it.",
		Tables: []Table{tab}, Figures: figs, Plan: plan, Examples: examples(rows, experiment.CondWithoutSteer, 4)}, nil
}

// accuracy is the share of rows passing (strict or loose).
func accuracy(rows []Row, strict bool) float64 {
	if len(rows) == 0 {
		return 0
	}
	k := 0
	for _, r := range rows {
		if (strict && r.Strict) || (!strict && r.Loose) {
			k++
		}
	}
	return float64(k) / float64(len(rows))
}

// filter returns the rows of an instruction ("" any) and condition.
func filter(rows []Row, id, cond string) []Row {
	var out []Row
	for _, r := range rows {
		if (id == "" || r.Instruction == id) && r.Condition == cond {
			out = append(out, r)
		}
	}
	return out
}

// ConditionTable is the paper's table: per instruction and overall (all
// test rows), n and the accuracy in each condition.
func ConditionTable(ids []string, rows []Row, strict bool) Table {
	mode := "loose"
	if strict {
		mode = "strict"
	}
	t := Table{Title: "Accuracy (" + mode + ") per instruction and condition",
		Header: []string{"instruction", "n", "w/o", "w/o+steer", "w/", "w/+steer"}}
	for _, id := range append(slices.Clone(ids), "") {
		name := id
		if id == "" {
			name = "overall"
		}
		r := []string{name, fmt.Sprint(len(filter(rows, id, experiment.CondWithout)))}
		for _, c := range Conditions {
			r = append(r, f3(accuracy(filter(rows, id, c), strict)))
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// conditionFigures draws the grouped bars of the four conditions.
func conditionFigures(ids []string, rows []Row, strict bool) ([]Figure, error) {
	vals := make([][]float64, len(Conditions))
	for c, cond := range Conditions {
		for _, id := range ids {
			vals[c] = append(vals[c], accuracy(filter(rows, id, cond), strict))
		}
	}
	p, err := bars("Accuracy per instruction and condition", "accuracy", shortNames(ids), Conditions, vals)
	if err != nil {
		return nil, err
	}
	// About 3.5 cm per cluster of four labelled bars.
	w := max(plots.DefaultWidth, vg.Length(len(ids))*3.5*vg.Centimeter)
	return []Figure{{Name: "conditions", Caption: "Test accuracy in the four conditions, per instruction.", Plot: p, Width: w}}, nil
}

// shortNames drops the IFEval group prefix of ids for axis labels.
func shortNames(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id
		for j := len(id) - 1; j >= 0; j-- {
			if id[j] == ':' {
				out[i] = id[j+1:]
				break
			}
		}
	}
	return out
}

// searchFigures draws validation accuracy and degenerate share per candidate
// layer (x = -1 is no steering), one line per instruction.
func searchFigures(setting string, ids []string, choices map[string]Choice) ([]Figure, error) {
	var acc, deg []plots.Series
	for _, id := range ids {
		a, d := plots.Series{Name: shortNames([]string{id})[0]}, plots.Series{Name: shortNames([]string{id})[0]}
		for _, c := range choices[id].Scores {
			a.X, a.Y = append(a.X, float64(c.Layer)), append(a.Y, c.Accuracy)
			d.X, d.Y = append(d.X, float64(c.Layer)), append(d.Y, c.Degenerate)
		}
		acc, deg = append(acc, a), append(deg, d)
	}
	pa, err := plots.LayerAccuracy("Validation accuracy per layer ("+setting+" instruction)", acc)
	if err != nil {
		return nil, err
	}
	pd, err := plots.Lines("Degenerate share per layer ("+setting+" instruction)", "layer (-1: no steering)", "share with perplexity < 2.5", deg)
	if err != nil {
		return nil, err
	}
	shareAxis(pd)
	return []Figure{
		{Name: "layers_" + setting, Caption: "Layer search " + setting + " the instruction: validation accuracy per candidate (none: no steering).", Plot: pa},
		{Name: "degenerate_" + setting, Caption: "Share of degenerate responses (perplexity < 2.5) per candidate, " + setting + " the instruction.", Plot: pd},
	}, nil
}

// examples picks up to n rows of a condition, one per instruction.
func examples(rows []Row, cond string, n int) []Row {
	var out []Row
	seen := map[string]bool{}
	for _, r := range rows {
		if r.Condition == cond && !seen[r.Instruction] && len(out) < n {
			seen[r.Instruction] = true
			out = append(out, r)
		}
	}
	return out
}

// layerLabel is a chosen layer for tables: its number, or "none".
func layerLabel(l int) string {
	if l < 0 {
		return "none"
	}
	return strconv.Itoa(l)
}
