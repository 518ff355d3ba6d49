package experiment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// Operator names in plans.
const (
	OpClamp = "clamp"
	OpAdd   = "add"
)

// Layer is a decoder block, or vectors.NoLayer for "no steering"; in JSON
// vectors.NoLayer is the string "none".
type Layer int

// MarshalJSON writes "none" for vectors.NoLayer and the number otherwise.
func (l Layer) MarshalJSON() ([]byte, error) {
	if l == vectors.NoLayer {
		return []byte(`"none"`), nil
	}
	return []byte(strconv.Itoa(int(l))), nil
}

// UnmarshalJSON reads "none" or a layer number.
func (l *Layer) UnmarshalJSON(b []byte) error {
	if string(b) == `"none"` {
		*l = vectors.NoLayer
		return nil
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return fmt.Errorf("layer %s: want a number or \"none\"", b)
	}
	*l = Layer(n)
	return nil
}

// Choice is the steering of one instruction: the vector file, the layer
// (vectors.NoLayer for "no steering"), the operator and its value — the add
// coefficient c, or the clamp target z̄ (default: the file's z̄ at the layer).
type Choice struct {
	Vector string   `json:"vector,omitempty"`
	Layer  Layer    `json:"layer"`
	Op     string   `json:"op,omitempty"`
	Coef   *float64 `json:"coef,omitempty"`
}

// missingLayer marks a choice read without a "layer" field.
const missingLayer = Layer(-2)

// UnmarshalJSON reads a choice; "layer" is required (a number or "none").
func (c *Choice) UnmarshalJSON(b []byte) error {
	type plain Choice
	v := plain{Layer: missingLayer}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if v.Layer == missingLayer {
		return errors.New(`a choice needs "layer" (a number, or "none")`)
	}
	*c = Choice(v)
	return nil
}

// CandidateScore is one candidate of a layer search with its validation outcome.
type CandidateScore struct {
	Layer Layer   `json:"layer"`
	Op    string  `json:"op,omitempty"`
	Coef  float64 `json:"coef,omitempty"`
	// N is the number of validation responses; Accuracy is their IFEval loose
	// accuracy; Degenerate is the share with perplexity below DegenerateBelow
	// (0 without a screen model); Score is Accuracy, or 0 when screened out.
	N          int     `json:"n"`
	Accuracy   float64 `json:"accuracy"`
	Degenerate float64 `json:"degenerate"`
	Score      float64 `json:"score"`
	Chosen     bool    `json:"chosen,omitempty"`
}

// Plan maps instruction ids (eval ids, e.g. "language:response_language_kn")
// to their steering. Sweep writes plans; Eval reads them.
type Plan struct {
	// Setting is the condition the layers were chosen for: "without" or "with".
	Setting string `json:"setting,omitempty"`
	// Model names the model the plan was made on (informative).
	Model string `json:"model,omitempty"`
	// Instructions holds the choice per instruction id.
	Instructions map[string]Choice `json:"instructions"`
	// Records optionally steers single records (by record key), overriding
	// their instructions' choices: e.g. one vector per word, each record
	// steered by its own word's vector at the chosen layer and coefficient.
	Records map[string]Choice `json:"records,omitempty"`
	// Candidates holds every candidate's validation outcome per instruction
	// (written by Sweep, for accuracy-per-layer plots).
	Candidates map[string][]CandidateScore `json:"candidates,omitempty"`

	// dir resolves relative vector paths (the plan file's folder).
	dir string
}

// Steering is the steering applied to one instruction of a work unit, as
// recorded in results (Layer vectors.NoLayer: none).
type Steering struct {
	ID     string  `json:"id"`
	Vector string  `json:"vector,omitempty"`
	Layer  Layer   `json:"layer"`
	Op     string  `json:"op,omitempty"`
	Coef   float64 `json:"coef,omitempty"`
}

// LoadPlan reads a plan file; relative vector paths are resolved against the
// plan file's folder.
func LoadPlan(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	p := &Plan{}
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("plan %s: %w", path, err)
	}
	if len(p.Instructions) == 0 && len(p.Records) == 0 {
		return nil, fmt.Errorf("plan %s: no instructions", path)
	}
	p.dir = filepath.Dir(path)
	return p, nil
}

// Save writes the plan as indented JSON (to a temporary file, then renamed).
// Vector paths are written relative to the plan's folder when possible.
func (p *Plan) Save(path string) error {
	q := *p
	rel := func(in map[string]Choice) map[string]Choice {
		if in == nil {
			return nil
		}
		out := make(map[string]Choice, len(in))
		for id, c := range in {
			if c.Vector != "" {
				c.Vector = relTo(filepath.Dir(path), p.vectorPath(c.Vector))
			}
			out[id] = c
		}
		return out
	}
	q.Instructions, q.Records = rel(p.Instructions), rel(p.Records)
	b, err := json.MarshalIndent(&q, "", "  ")
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// relTo returns target relative to dir when both resolve, else target.
func relTo(dir, target string) string {
	ad, err1 := filepath.Abs(dir)
	at, err2 := filepath.Abs(target)
	if err1 != nil || err2 != nil {
		return target
	}
	if rel, err := filepath.Rel(ad, at); err == nil {
		return rel
	}
	return target
}

func (p *Plan) vectorPath(v string) string {
	if filepath.IsAbs(v) || p.dir == "" {
		return v
	}
	return filepath.Join(p.dir, v)
}

// IDs returns the plan's instruction ids, sorted.
func (p *Plan) IDs() []string {
	ids := make([]string, 0, len(p.Instructions))
	for id := range p.Instructions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Resolved is a plan checked against a model: each instruction's steering
// and its operators (none for "no steering"); record overrides are held
// under recordPrefix + key.
type Resolved map[string]ResolvedChoice

// recordPrefix marks a record override in Resolved.
const recordPrefix = "record:"

// ResolvedChoice is one instruction's steering with its operators.
type ResolvedChoice struct {
	Steering Steering
	Ops      []model.SteerOp
}

// Resolve loads the plan's vector files and checks every choice against the
// model config: the layer in range, the vector's width equal to the hidden
// size, a known operator with its value. All problems are returned together.
func (p *Plan) Resolve(cfg *model.Config) (Resolved, error) {
	sets := map[string]*vectors.Set{}
	out := Resolved{}
	var errs []error
	for _, id := range p.IDs() {
		rc, err := p.resolveOne(id, p.Instructions[id], cfg, sets)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
			continue
		}
		out[id] = rc
	}
	for key, c := range p.Records {
		rc, err := p.resolveOne("", c, cfg, sets)
		if err != nil {
			errs = append(errs, fmt.Errorf("record %s: %w", key, err))
			continue
		}
		out[recordPrefix+key] = rc
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("plan: %w", errors.Join(errs...))
	}
	return out, nil
}

func (p *Plan) resolveOne(id string, c Choice, cfg *model.Config, sets map[string]*vectors.Set) (ResolvedChoice, error) {
	st := Steering{ID: id, Vector: c.Vector, Layer: c.Layer, Op: c.Op}
	if c.Layer == vectors.NoLayer {
		return ResolvedChoice{Steering: Steering{ID: id, Layer: vectors.NoLayer}}, nil
	}
	if c.Layer < 0 || int(c.Layer) >= cfg.NumLayers {
		return ResolvedChoice{}, fmt.Errorf("layer %d out of range: the model has %d layers (0..%d) — or \"none\"", c.Layer, cfg.NumLayers, cfg.NumLayers-1)
	}
	if c.Vector == "" {
		return ResolvedChoice{}, errors.New("no vector file")
	}
	path := p.vectorPath(c.Vector)
	set := sets[path]
	if set == nil {
		var err error
		if set, err = vectors.Load(path); err != nil {
			return ResolvedChoice{}, err
		}
		sets[path] = set
	}
	if set.Hidden != cfg.HiddenSize {
		return ResolvedChoice{}, fmt.Errorf("vector file %s has width %d but the model's hidden size is %d (a vector of another model?)", c.Vector, set.Hidden, cfg.HiddenSize)
	}
	op, coef, err := choiceOp(set, c)
	if err != nil {
		return ResolvedChoice{}, fmt.Errorf("vector file %s: %w", c.Vector, err)
	}
	st.Coef = coef
	return ResolvedChoice{Steering: st, Ops: []model.SteerOp{op}}, nil
}

// choiceOp builds the operator of a choice from its vector set.
func choiceOp(set *vectors.Set, c Choice) (model.SteerOp, float64, error) {
	l := int(c.Layer)
	lv, ok := set.Get(l)
	if !ok {
		return model.SteerOp{}, 0, fmt.Errorf("no direction for layer %d (layers %v)", l, set.LayerIDs())
	}
	switch c.Op {
	case OpAdd:
		if c.Coef == nil {
			return model.SteerOp{}, 0, errors.New("op add needs coef")
		}
		op, err := set.Add(l, *c.Coef)
		return op, *c.Coef, err
	case OpClamp:
		z := lv.ZBar
		if c.Coef != nil {
			z = *c.Coef
		}
		if math.IsNaN(z) {
			return model.SteerOp{}, 0, fmt.Errorf("op clamp: the file has no z̄ at layer %d; give coef", l)
		}
		op, err := set.ClampTo(l, z)
		return op, z, err
	}
	return model.SteerOp{}, 0, fmt.Errorf("op %q: want %q or %q", c.Op, OpClamp, OpAdd)
}

// For returns the steering and operators of a record: its record override if
// the plan has one, else every one of its eval ids' choices, in order. An id
// missing from the plan is an error: write {"layer": "none"} to run an
// instruction unsteered on purpose.
func (r Resolved) For(rec Record) ([]Steering, []model.SteerOp, error) {
	if rc, ok := r[recordPrefix+rec.Key]; ok {
		st := rc.Steering
		st.ID = rec.SteerID()
		return []Steering{st}, rc.Ops, nil
	}
	var sts []Steering
	var ops []model.SteerOp
	for _, id := range rec.EvalIDs {
		rc, ok := r[id]
		if !ok {
			return nil, nil, fmt.Errorf("line %d (key %s): the plan has no entry for %q (use {\"layer\": \"none\"} for no steering)", rec.Line, rec.Key, id)
		}
		sts = append(sts, rc.Steering)
		ops = append(ops, rc.Ops...)
	}
	return sts, ops, nil
}
