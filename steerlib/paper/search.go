package paper

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gosteer/gosteer/steerlib/experiment"
)

// Item is one prompt of an experiment: the request with and without the
// instruction, and the checks its response is scored on.
type Item struct {
	// Key identifies the record within its set (e.g. the IFEval key).
	Key string
	// Instruction is the evaluated instruction id (languages suffixed _xx).
	Instruction string
	// Vector names the direction that steers towards it.
	Vector        string
	With, Without string
	Checks        []Check
	// MaxSentences is N of an "at most N sentences" request (0: none).
	MaxSentences int
}

// Search is one layer search: an instruction's direction tried at each
// candidate layer (and, for add, each coefficient scale) on validation
// items, in one prompt setting.
type Search struct {
	Experiment, Instruction string
	// Op is "clamp" (coefficient z̄ of the layer) or "add" (Scales × ‖v_l‖);
	// each item is steered along its own direction (Item.Vector).
	Op     string
	Scales []float64
	// Sign multiplies add coefficients (-1 for exclusion).
	Sign float64
	// Setting is experiment.CondWith or CondWithout: which prompt of the items is used.
	Setting string
	Items   []Item
	// Layers are the candidates; -1 is "no steering".
	Layers []int
	// Strict scores with IFEval strict instead of loose.
	Strict bool
	// RelativeScreen uses the no-steering degenerate share as the baseline
	// (for base models) instead of 0.
	RelativeScreen bool
}

// CandidateScore is the engine's candidate outcome; for add searches Coef
// holds the scale (× ‖v_l‖ of each item's own direction).
type CandidateScore = experiment.CandidateScore

// Choice is the outcome of a layer search: the layer (-1: no steering) and,
// for add, the scale.
type Choice struct {
	Instruction string           `json:"instruction"`
	Setting     string           `json:"setting"`
	Layer       int              `json:"layer"`
	Scale       float64          `json:"scale,omitempty"`
	Scores      []CandidateScore `json:"scores"`
}

// steerFor returns the operator of a candidate for an item: its own
// direction at the layer with z̄ (clamp) or sign·scale·‖v_l‖ (add).
func (e *Env) steerFor(it Item, op string, layer int, scale, sign float64) (Steering, error) {
	st := Steering{ID: it.Instruction, Vector: it.Vector, Layer: experiment.Layer(layer), Op: op}
	if layer < 0 {
		return st, nil
	}
	set, ok := e.Vectors[it.Vector]
	if !ok {
		return st, fmt.Errorf("item %s: no direction %q", it.Key, it.Vector)
	}
	lv, ok := set.Get(layer)
	if !ok {
		return st, fmt.Errorf("item %s: layer %d out of range (%d layers)", it.Key, layer, len(set.Layers))
	}
	st.Coef = lv.ZBar
	if op == "add" {
		st.Coef = sign * scale * lv.Norm
	}
	return st, nil
}

// candidates lists the (layer, scale) pairs of a search.
func candidates(s Search) []CandidateScore {
	var out []CandidateScore
	for _, l := range s.Layers {
		if l < 0 || s.Op == experiment.OpClamp {
			out = append(out, CandidateScore{Layer: experiment.Layer(l), Op: s.Op})
			continue
		}
		for _, sc := range s.Scales {
			out = append(out, CandidateScore{Layer: experiment.Layer(l), Op: s.Op, Coef: sc})
		}
	}
	return out
}

// RunSearch runs the search's units and returns the choice; ok is false
// while other shards still owe units.
func (e *Env) RunSearch(ctx context.Context, s Search) (ch Choice, ok bool, err error) {
	cands := candidates(s)
	var units []Unit
	for _, c := range cands {
		for _, it := range s.Items {
			st, err := e.steerFor(it, s.Op, int(c.Layer), c.Coef, s.Sign)
			if err != nil {
				return Choice{}, false, fmt.Errorf("search %s: %w", s.Instruction, err)
			}
			u := it.unit(s.Experiment, PhaseValidation, s.Setting, []Steering{st})
			u.Key += "/L" + strconv.Itoa(int(c.Layer)) + "/s" + strconv.FormatFloat(c.Coef, 'g', -1, 64)
			u.Setting, u.Scale = s.Setting, c.Coef
			units = append(units, u)
		}
	}
	rows, complete, err := e.Run(ctx, s.Experiment+" search "+s.Instruction+" ("+s.Setting+")", units)
	if err != nil || !complete {
		return Choice{}, false, err
	}
	n := len(s.Items)
	for i := range cands {
		c := &cands[i]
		c.N = n
		part := rows[i*n : (i+1)*n]
		c.Accuracy = accuracy(part, s.Strict)
		for _, r := range part {
			if r.Degenerate {
				c.Degenerate++
			}
		}
		c.Degenerate /= float64(n)
	}
	best := experiment.Choose(cands, s.RelativeScreen)
	cands[best].Chosen = true
	b := cands[best]
	return Choice{Instruction: s.Instruction, Setting: s.Setting, Layer: int(b.Layer), Scale: b.Coef, Scores: cands}, true, nil
}

// unit builds the work unit of the item in a phase and prompt setting.
func (it Item) unit(exp, phase, setting string, st []Steering) Unit {
	prompt := it.Without
	if setting == experiment.CondWith {
		prompt = it.With
	}
	checks := append([]Check(nil), it.Checks...)
	return Unit{
		Key:          exp + "/" + phase + "/" + it.Instruction + "/" + setting + "/" + it.Key,
		Experiment:   exp,
		Phase:        phase,
		Item:         it.Key,
		Instruction:  it.Instruction,
		Steer:        st,
		Prompt:       prompt,
		MaxSentences: it.MaxSentences,
		Checks:       checks,
	}
}

// steerFunc gives the steering of an item in a steered condition.
type steerFunc func(it Item, cond string) ([]Steering, error)

// conditionUnits builds the four conditions of each item: without, without
// steered, with, with steered (steering from st).
func conditionUnits(exp string, items []Item, st steerFunc) ([]Unit, error) {
	var out []Unit
	for _, it := range items {
		for _, c := range Conditions {
			setting := experiment.CondWithout
			if c == experiment.CondWith || c == experiment.CondWithSteer {
				setting = experiment.CondWith
			}
			var steer []Steering
			if c == experiment.CondWithoutSteer || c == experiment.CondWithSteer {
				var err error
				if steer, err = st(it, c); err != nil {
					return nil, err
				}
			}
			u := it.unit(exp, PhaseTest, setting, steer)
			u.Key = exp + "/" + PhaseTest + "/" + it.Instruction + "/" + c + "/" + it.Key
			u.Condition = c
			out = append(out, u)
		}
	}
	return out, nil
}

// runTests runs the four conditions of each instruction's test items (from
// items) with its steering (from st) and returns the rows once all are done.
func (e *Env) runTests(ctx context.Context, exp string, ids []string, items func(id string) ([]Item, error), st func(id string) steerFunc) ([]Row, error) {
	var units []Unit
	for _, id := range ids {
		its, err := items(id)
		if err != nil {
			return nil, err
		}
		us, err := conditionUnits(exp, its, st(id))
		if err != nil {
			return nil, err
		}
		units = append(units, us...)
	}
	rows, complete, err := e.Run(ctx, exp+" test", units)
	if err != nil {
		return nil, err
	}
	if !complete {
		return nil, ErrPending
	}
	return rows, nil
}

// testItems returns the sampled test items of an instruction.
func testItems(o *Options) func(id string) ([]Item, error) {
	return func(id string) ([]Item, error) {
		test, err := o.Data.Test(id)
		return sample(test, o.N, o.Seed), err
	}
}
