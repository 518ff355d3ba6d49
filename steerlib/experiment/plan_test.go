package experiment

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// writeTestSet writes a vector file of width d over layers 0..n-1 (u = e_l,
// ‖v‖ = 2, z̄ = 1.5).
func writeTestSet(t *testing.T, path, id string, d, n int) {
	t.Helper()
	s := &vectors.Set{ModelHint: "test", Method: vectors.MethodMeanDiff, InstructionID: id, Hidden: d, NumLayers: n, NPairs: 3, ChosenLayer: vectors.NoLayer}
	for l := range n {
		u := make([]float32, d)
		u[l%d] = 1
		s.Layers = append(s.Layers, vectors.Direction{Layer: l, U: u, Norm: 2, ZBar: 1.5, MeanProjWithout: 0.1, Coef: math.NaN()})
	}
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
}

func TestPlanResolve(t *testing.T) {
	dir := t.TempDir()
	writeTestSet(t, filepath.Join(dir, "lc.safetensors"), "change_case:english_lowercase", 8, 4)
	writeTestSet(t, filepath.Join(dir, "wide.safetensors"), "punctuation:no_comma", 16, 4)
	cfg := &model.Config{NumLayers: 4, HiddenSize: 8}
	cases := []struct {
		name, plan string
		wantErr    []string
		check      func(t *testing.T, r Resolved)
	}{
		{"clamp default z", `{"instructions":{"change_case:english_lowercase":{"vector":"lc.safetensors","layer":2,"op":"clamp"}}}`, nil,
			func(t *testing.T, r Resolved) {
				rc := r["change_case:english_lowercase"]
				if len(rc.Ops) != 1 || rc.Ops[0].Layer != 2 || rc.Ops[0].Kind != model.OpClamp || rc.Ops[0].C != 1.5 || rc.Steering.Coef != 1.5 {
					t.Errorf("%+v", rc)
				}
			}},
		{"add", `{"instructions":{"change_case:english_lowercase":{"vector":"lc.safetensors","layer":1,"op":"add","coef":-3}}}`, nil,
			func(t *testing.T, r Resolved) {
				if op := r["change_case:english_lowercase"].Ops[0]; op.Kind != model.OpAdd || op.C != -3 || op.U[1] != 1 {
					t.Errorf("%+v", op)
				}
			}},
		{"none", `{"instructions":{"punctuation:no_comma":{"layer":"none"}}}`, nil,
			func(t *testing.T, r Resolved) {
				if rc := r["punctuation:no_comma"]; rc.Ops != nil || rc.Steering.Layer != vectors.NoLayer {
					t.Errorf("%+v", rc)
				}
			}},
		{"layer out of range", `{"instructions":{"change_case:english_lowercase":{"vector":"lc.safetensors","layer":4,"op":"clamp"}}}`,
			[]string{"change_case:english_lowercase", "layer 4 out of range", "4 layers"}, nil},
		{"wrong width", `{"instructions":{"punctuation:no_comma":{"vector":"wide.safetensors","layer":1,"op":"clamp"}}}`,
			[]string{"punctuation:no_comma", "width 16", "hidden size is 8"}, nil},
		{"add without coef", `{"instructions":{"change_case:english_lowercase":{"vector":"lc.safetensors","layer":1,"op":"add"}}}`,
			[]string{"op add needs coef"}, nil},
		{"bad op", `{"instructions":{"change_case:english_lowercase":{"vector":"lc.safetensors","layer":1,"op":"ablate"}}}`,
			[]string{`op "ablate"`}, nil},
		{"missing layer", `{"instructions":{"change_case:english_lowercase":{"vector":"lc.safetensors","op":"clamp"}}}`,
			[]string{`needs "layer"`}, nil},
		{"unknown field", `{"instructions":{"change_case:english_lowercase":{"vector":"lc.safetensors","layer":1,"op":"clamp","coeff":2}}}`,
			[]string{`unknown field "coeff"`}, nil},
		{"missing file", `{"instructions":{"change_case:english_lowercase":{"vector":"nope.safetensors","layer":1,"op":"clamp"}}}`,
			[]string{"nope.safetensors"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "plan.json")
			if err := os.WriteFile(path, []byte(c.plan), 0o644); err != nil {
				t.Fatal(err)
			}
			var r Resolved
			p, err := LoadPlan(path)
			if err == nil {
				r, err = p.Resolve(cfg)
			}
			if c.wantErr != nil {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range c.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, r)
		})
	}
}

func TestPlanSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	writeTestSet(t, filepath.Join(dir, "lc.safetensors"), "change_case:english_lowercase", 8, 4)
	c := 2.0
	p := &Plan{Setting: CondWithout, Instructions: map[string]Choice{
		"change_case:english_lowercase": {Vector: filepath.Join(dir, "lc.safetensors"), Layer: 3, Op: OpAdd, Coef: &c},
		"punctuation:no_comma":          {Layer: vectors.NoLayer},
	}}
	path := filepath.Join(dir, "sub", "plan.json")
	os.Mkdir(filepath.Dir(path), 0o755)
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"layer": "none"`) || !strings.Contains(string(b), `"vector": "../lc.safetensors"`) {
		t.Errorf("plan file:\n%s", b)
	}
	q, err := LoadPlan(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := q.Resolve(&model.Config{NumLayers: 4, HiddenSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{Line: 1, Key: "k", EvalIDs: []string{"change_case:english_lowercase"}}
	sts, ops, err := r.For(rec)
	if err != nil || len(ops) != 1 || ops[0].C != 2 || sts[0].Layer != 3 {
		t.Fatalf("%v %v %v", sts, ops, err)
	}
	// A record override: its own vector, layer and coefficient.
	q.Records = map[string]Choice{"k": {Vector: "../lc.safetensors", Layer: 1, Op: OpAdd, Coef: &c}}
	if r, err = q.Resolve(&model.Config{NumLayers: 4, HiddenSize: 8}); err != nil {
		t.Fatal(err)
	}
	if sts, ops, err = r.For(rec); err != nil || len(ops) != 1 || ops[0].Layer != 1 || sts[0].ID != "change_case:english_lowercase" {
		t.Fatalf("record override: %v %v %v", sts, ops, err)
	}
	rec.Key = "other"
	rec.EvalIDs = []string{"startend:quotation"}
	if _, _, err := r.For(rec); err == nil || !strings.Contains(err.Error(), `no entry for "startend:quotation"`) {
		t.Errorf("missing entry: %v", err)
	}
}
