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
	Experiment, Instruction, Vector string
	// Op is "clamp" (coefficient z̄ of the layer) or "add" (Scales × ‖v_l‖).
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

// Choice is the outcome of a layer search.
type Choice struct {
	Instruction string           `json:"instruction"`
	Setting     string           `json:"setting"`
	Layer       int              `json:"layer"`
	Scale       float64          `json:"scale,omitempty"`
	Coef        float64          `json:"coef"`
	Scores      []CandidateScore `json:"scores"`
}

// Steering returns the operator the choice stands for.
func (c Choice) Steering(vector, op string) Steering {
	return Steering{Vector: vector, Layer: c.Layer, Op: op, Coef: c.Coef}
}

// candidates lists (layer, scale, coef) triples of a search.
func (e *Env) candidates(s Search) ([]CandidateScore, error) {
	set, ok := e.Vectors[s.Vector]
	if !ok {
		return nil, fmt.Errorf("search %s: no direction %q", s.Instruction, s.Vector)
	}
	var out []CandidateScore
	for _, l := range s.Layers {
		if l < 0 {
			out = append(out, CandidateScore{Layer: -1})
			continue
		}
		lv, ok := set.Get(l)
		if !ok {
			return nil, fmt.Errorf("search %s: layer %d out of range (%d layers)", s.Instruction, l, len(set.Layers))
		}
		if s.Op == "clamp" {
			out = append(out, CandidateScore{Layer: l, Coef: lv.ZBar})
			continue
		}
		for _, sc := range s.Scales {
			out = append(out, CandidateScore{Layer: l, Scale: sc, Coef: s.Sign * sc * lv.Norm})
		}
	}
	return out, nil
}

// Run runs the search's units and returns the choice; ok is false while
// other shards still owe units.
func (e *Env) RunSearch(ctx context.Context, s Search) (ch Choice, ok bool, err error) {
	cands, err := e.candidates(s)
	if err != nil {
		return Choice{}, false, err
	}
	var units []Unit
	for _, c := range cands {
		for _, it := range s.Items {
			u := it.unit(s.Experiment, PhaseValidation, s.Setting, []Steering{{Vector: s.Vector, Layer: c.Layer, Op: s.Op, Coef: c.Coef}})
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
		for _, r := range rows[i*n : (i+1)*n] {
			if (s.Strict && r.Strict) || (!s.Strict && r.Loose) {
				c.Accuracy++
			}
			if r.Degenerate {
				c.Degenerate++
			}
		}
		c.Accuracy /= float64(n)
		c.Degenerate /= float64(n)
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

// conditionUnits builds the four conditions of each item: without, without
// with steering wo, with, with with steering w.
func conditionUnits(exp string, items []Item, wo, w []Steering) []Unit {
	var out []Unit
	for _, it := range items {
		for _, c := range Conditions {
			setting, st := Without, []Steering(nil)
			switch c {
			case WithoutSteer:
				st = wo
			case With:
				setting = With
			case WithSteer:
				setting, st = With, w
			}
			u := it.unit(exp, PhaseTest, setting, st)
			u.Key = exp + "/" + PhaseTest + "/" + it.Instruction + "/" + c + "/" + it.Key
			u.Condition = c
			out = append(out, u)
		}
	}
	return out
}
