package paper

import (
	"context"
	"fmt"
	"strconv"
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

// DefaultCandidates returns the reference's layer candidates for a model of
// L blocks: -1 ("no steering") and every second layer from ⌊L/5⌋.
func DefaultCandidates(L int) []int {
	out := []int{-1}
	for l := L / 5; l < L; l += 2 {
		out = append(out, l)
	}
	return out
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
	// Setting is With or Without: which prompt of the items is used.
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

// CandidateScore is the validation outcome of one candidate.
type CandidateScore struct {
	Layer      int     `json:"layer"`
	Scale      float64 `json:"scale,omitempty"`
	Coef       float64 `json:"coef"`
	Accuracy   float64 `json:"accuracy"`
	Degenerate float64 `json:"degenerate"`
	// Score is Accuracy, or 0 when the screen rejects the candidate.
	Score float64 `json:"score"`
	N     int     `json:"n"`
}

// Choice is the outcome of a layer search. Coef is the coefficient of the
// first validation item (the same for all when they share one direction).
type Choice struct {
	Instruction string           `json:"instruction"`
	Setting     string           `json:"setting"`
	Layer       int              `json:"layer"`
	Scale       float64          `json:"scale,omitempty"`
	Coef        float64          `json:"coef"`
	Scores      []CandidateScore `json:"scores"`
}

// steerFor returns the operator of a candidate for an item: its own
// direction at the layer with z̄ (clamp) or sign·scale·‖v_l‖ (add).
func (e *Env) steerFor(it Item, op string, layer int, scale, sign float64) (Steering, error) {
	st := Steering{Vector: it.Vector, Layer: layer, Op: op}
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
		if l < 0 || s.Op == "clamp" {
			out = append(out, CandidateScore{Layer: l})
			continue
		}
		for _, sc := range s.Scales {
			out = append(out, CandidateScore{Layer: l, Scale: sc})
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
			st, err := e.steerFor(it, s.Op, c.Layer, c.Scale, s.Sign)
			if err != nil {
				return Choice{}, false, fmt.Errorf("search %s: %w", s.Instruction, err)
			}
			u := it.unit(s.Experiment, PhaseValidation, s.Setting, []Steering{st})
			u.Key += "/L" + strconv.Itoa(c.Layer) + "/s" + strconv.FormatFloat(c.Scale, 'g', -1, 64)
			u.Setting, u.Scale = s.Setting, c.Scale
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
		if len(part) > 0 && len(part[0].Steer) == 1 {
			c.Coef = part[0].Steer[0].Coef
		}
	}
	return choose(s, cands, e.PPL != nil), true, nil
}

// choose applies the screen and picks the best candidate, the earliest on
// ties.
func choose(s Search, cands []CandidateScore, screened bool) Choice {
	base := 0.0
	if s.RelativeScreen {
		for _, c := range cands {
			if c.Layer < 0 {
				base = c.Degenerate
			}
		}
	}
	best := -1
	for i := range cands {
		c := &cands[i]
		c.Score = c.Accuracy
		if screened && c.Degenerate > base {
			c.Score = 0
		}
		if best < 0 || c.Score > cands[best].Score {
			best = i
		}
	}
	b := cands[best]
	return Choice{Instruction: s.Instruction, Setting: s.Setting, Layer: b.Layer, Scale: b.Scale, Coef: b.Coef, Scores: cands}
}

// unit builds the work unit of the item in a phase and prompt setting.
func (it Item) unit(exp, phase, setting string, st []Steering) Unit {
	prompt := it.Without
	if setting == With {
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
			setting := Without
			if c == With || c == WithSteer {
				setting = With
			}
			var steer []Steering
			if c == WithoutSteer || c == WithSteer {
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
