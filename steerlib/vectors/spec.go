package vectors

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gosteer/gosteer/steerlib/model"
)

// Steering specs are the text form of a steering operator, used by the
// --steer flags of `steer activations` and `steer generate`:
//
//	FILE@L:add=C        x ← x + C·u at layer L
//	FILE@L:add          C = the file's coefficient for L (GGUF imports only)
//	FILE@L:clamp=Z      x ← x + (Z − x·u)·u
//	FILE@L:clamp        Z = the file's z̄ for layer L
//	FILE@L:ablate       x ← x − (x·u)·u
//
// FILE is a native vector file or a GGUF control vector (when
// steerlib/controlvec is imported; see RegisterFormat). "@L" may be left out
// to use the file's layer of choice. A suffix ":prompt" or ":generated"
// restricts the operator to the prompt tokens or to the generated tokens
// (default ":all", every position).
//
// Order: operators apply after their block, so layers apply in ascending
// order (the forward pass); several operators on the same layer apply in the
// order they are given (which matters for clamp).

// Spec is a parsed steering spec, before its vector file is read (see
// LoadSpecs for specs to operators in one call).
type Spec struct {
	// File is the vector file path.
	File string
	// Layer is the 0-based block, or NoLayer for the file's layer of choice.
	Layer int
	// Kind is the operator.
	Kind model.OpKind
	// Value is C (add) or Z (clamp) when HasValue.
	Value    float64
	HasValue bool
	// Positions restricts where the operator applies.
	Positions model.SteerScope
}

// String renders the spec in the syntax ParseSpec reads.
func (sp Spec) String() string {
	var b strings.Builder
	b.WriteString(sp.File)
	if sp.Layer != NoLayer {
		fmt.Fprintf(&b, "@%d", sp.Layer)
	}
	fmt.Fprintf(&b, ":%s", sp.Kind)
	if sp.HasValue {
		b.WriteString("=" + fmtFloat(sp.Value))
	}
	if sp.Positions != model.SteerAll {
		fmt.Fprintf(&b, ":%s", sp.Positions)
	}
	return b.String()
}

// ParseSpec parses the syntax of a steering spec without reading the file.
func ParseSpec(spec string) (Spec, error) {
	bad := func(format string, args ...any) (Spec, error) {
		return Spec{}, fmt.Errorf("steer spec %q: %s (want FILE@LAYER:add=C, FILE@LAYER:clamp[=Z] or FILE@LAYER:ablate, optionally followed by :prompt or :generated)", spec, fmt.Sprintf(format, args...))
	}
	sp := Spec{Layer: NoLayer, Positions: model.SteerAll}
	rest := spec
	// Optional trailing positions.
	for _, p := range []model.SteerScope{model.SteerAll, model.SteerPrompt, model.SteerGenerated} {
		if r, ok := strings.CutSuffix(rest, ":"+p.String()); ok {
			sp.Positions, rest = p, r
			break
		}
	}
	// The operator is the last ":"-separated field.
	i := strings.LastIndex(rest, ":")
	if i < 0 {
		return bad("no operator")
	}
	head, op := rest[:i], rest[i+1:]
	name, val, hasVal := strings.Cut(op, "=")
	switch name {
	case "add":
		sp.Kind = model.OpAdd
	case "clamp":
		sp.Kind = model.OpClamp
	case "ablate":
		sp.Kind = model.OpAblate
	default:
		return bad("unknown operator %q", name)
	}
	if hasVal {
		if sp.Kind == model.OpAblate {
			return bad("ablate takes no value")
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return bad("value %q is not a number", val)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
			return bad("value %v is not a finite float32", v)
		}
		sp.Value, sp.HasValue = v, true
	}
	// Optional @L after the file name.
	if j := strings.LastIndex(head, "@"); j >= 0 {
		l, err := strconv.Atoi(head[j+1:])
		if err != nil {
			return bad("layer %q is not an integer", head[j+1:])
		}
		if l < 0 {
			return bad("layer %d is negative", l)
		}
		sp.Layer, head = l, head[:j]
	}
	if head == "" {
		return bad("no file")
	}
	sp.File = head
	return sp, nil
}

// Op returns the steering operator of spec applied with the directions of s.
func (s *Set) Op(sp Spec) (model.SteerOp, error) {
	l := sp.Layer
	if l == NoLayer {
		if s.ChosenLayer == NoLayer {
			return model.SteerOp{}, fmt.Errorf("no layer given and the vector file has no layer of choice (layers %s)", layerRange(s))
		}
		l = s.ChosenLayer
	}
	ly, ok := s.Get(l)
	if !ok {
		return model.SteerOp{}, fmt.Errorf("layer %d is not in the vector file (layers %s)", l, layerRange(s))
	}
	op := model.SteerOp{Layer: l, Kind: sp.Kind, U: ly.U, Scope: sp.Positions}
	c := sp.Value
	switch {
	case sp.Kind == model.OpAdd && !sp.HasValue:
		if math.IsNaN(ly.Coef) {
			return model.SteerOp{}, fmt.Errorf("add needs a coefficient (…@%d:add=C): the file records none for layer %d", l, l)
		}
		c = ly.Coef
	case sp.Kind == model.OpClamp && !sp.HasValue:
		if math.IsNaN(ly.ZBar) {
			return model.SteerOp{}, fmt.Errorf("clamp needs a value (…@%d:clamp=Z): the file records no z̄ for layer %d", l, l)
		}
		c = ly.ZBar
	}
	if math.IsNaN(c) || math.IsInf(c, 0) || math.Abs(c) > math.MaxFloat32 {
		return model.SteerOp{}, fmt.Errorf("coefficient %v is not a finite float32", c)
	}
	op.C = float32(c)
	return op, nil
}

// layerRange describes the layers of s for error messages.
func layerRange(s *Set) string {
	ids := s.LayerIDs()
	if len(ids) > 0 && ids[len(ids)-1]-ids[0] == len(ids)-1 {
		return fmt.Sprintf("%d..%d", ids[0], ids[len(ids)-1])
	}
	return fmt.Sprint(ids)
}

// LoadSpecs parses steering specs, reads their vector files (each once) and
// returns the operators in the order of specs. It checks the files
// (dimensions, NaN/Inf, unit directions) and that each layer is held; when
// hidden and numLayers are positive it also checks the operators against
// the model with model.CheckSteer. ParseSpec is the syntax alone.
func LoadSpecs(specs []string, hidden, numLayers int) ([]model.SteerOp, error) {
	cache := map[string]*Set{}
	ops := make([]model.SteerOp, 0, len(specs))
	for _, spec := range specs {
		sp, err := ParseSpec(spec)
		if err != nil {
			return nil, err
		}
		s, ok := cache[sp.File]
		if !ok {
			if s, err = Load(sp.File); err != nil {
				return nil, fmt.Errorf("steer spec %q: %w", spec, err)
			}
			cache[sp.File] = s
		}
		op, err := s.Op(sp)
		if err != nil {
			return nil, fmt.Errorf("steer spec %q: %s: %w", spec, sp.File, err)
		}
		if hidden > 0 && s.Hidden != hidden {
			return nil, fmt.Errorf("steer spec %q: dimension mismatch: %s holds vectors of size %d, the model's hidden size is %d", spec, sp.File, s.Hidden, hidden)
		}
		ops = append(ops, op)
	}
	if hidden > 0 || numLayers > 0 {
		if err := model.CheckSteer(ops, hidden, numLayers); err != nil {
			return nil, err
		}
	}
	return ops, nil
}

// Add returns the operator x ← x + c·u at layer l.
func (s *Set) Add(l int, c float64) (model.SteerOp, error) {
	return s.Op(Spec{Layer: l, Kind: model.OpAdd, Value: c, HasValue: true})
}

// Clamp returns the operator x ← x + (z̄ − x·u)·u at layer l with the file's z̄.
func (s *Set) Clamp(l int) (model.SteerOp, error) {
	return s.Op(Spec{Layer: l, Kind: model.OpClamp})
}

// ClampTo is Clamp with an explicit target z.
func (s *Set) ClampTo(l int, z float64) (model.SteerOp, error) {
	return s.Op(Spec{Layer: l, Kind: model.OpClamp, Value: z, HasValue: true})
}

// Ablate returns the operator x ← x − (x·u)·u at layer l.
func (s *Set) Ablate(l int) (model.SteerOp, error) {
	return s.Op(Spec{Layer: l, Kind: model.OpAblate})
}
