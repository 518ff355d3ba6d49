package vectors

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/safetensors"
)

func TestParseSpec(t *testing.T) {
	cases := []struct {
		in   string
		want Spec
		err  string
	}{
		{"v.safetensors@3:add=4", Spec{File: "v.safetensors", Layer: 3, Kind: model.OpAdd, Value: 4, HasValue: true}, ""},
		{"dir/a@b.st@12:add=-2.5e-1", Spec{File: "dir/a@b.st", Layer: 12, Kind: model.OpAdd, Value: -0.25, HasValue: true}, ""},
		{"v@2:clamp", Spec{File: "v", Layer: 2, Kind: model.OpClamp}, ""},
		{"v@2:clamp=3", Spec{File: "v", Layer: 2, Kind: model.OpClamp, Value: 3, HasValue: true}, ""},
		{"v@0:ablate", Spec{File: "v", Layer: 0, Kind: model.OpAblate}, ""},
		{"v:clamp", Spec{File: "v", Layer: -1, Kind: model.OpClamp}, ""},
		{"C:/x/v@1:add=1:prompt", Spec{File: "C:/x/v", Layer: 1, Kind: model.OpAdd, Value: 1, HasValue: true, Positions: model.SteerPrompt}, ""},
		{"v@1:ablate:generated", Spec{File: "v", Layer: 1, Kind: model.OpAblate, Positions: model.SteerGenerated}, ""},
		{"v@1:add=2:all", Spec{File: "v", Layer: 1, Kind: model.OpAdd, Value: 2, HasValue: true}, ""},
		{"v@1", Spec{}, "no operator"},
		{"v", Spec{}, "no operator"},
		{"v@1:scale=2", Spec{}, "unknown operator \"scale\""},
		{"v@1:add=x", Spec{}, "not a number"},
		{"v@1:add=NaN", Spec{}, "not a finite"},
		{"v@1:clamp=Inf", Spec{}, "not a finite"},
		{"v@1:add=1e39", Spec{}, "not a finite float32"},
		{"v@1:ablate=2", Spec{}, "ablate takes no value"},
		{"v@x:add=1", Spec{}, "layer \"x\""},
		{"v@-1:add=1", Spec{}, "negative"},
		{"@1:add=1", Spec{}, "no file"},
	}
	for _, c := range cases {
		got, err := ParseSpec(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), c.in) {
				t.Errorf("ParseSpec(%q) err = %v, want containing %q and the spec", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
			continue
		}
		// String renders back to an equivalent spec.
		again, err := ParseSpec(got.String())
		if err != nil || again != got {
			t.Errorf("ParseSpec(%q.String()=%q) = %+v, %v", c.in, got.String(), again, err)
		}
	}
}

func TestLoadSpecs(t *testing.T) {
	dir := t.TempDir()
	s := testSet([]int{0, 1, 2, 3}, 16, 9)
	s.ChosenLayer = 2
	path := filepath.Join(dir, "v.safetensors")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	other := testSet([]int{1}, 16, 10)
	other.ChosenLayer = NoLayer
	opath := filepath.Join(dir, "o.safetensors")
	if err := other.Save(opath); err != nil {
		t.Fatal(err)
	}
	ops, err := LoadSpecs([]string{path + "@1:add=4", path + "@3:clamp", path + ":ablate:prompt", opath + "@1:clamp=-2:generated", path + "@1:clamp=3"}, 16, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.SteerOp{
		{Layer: 1, Kind: model.OpAdd, U: s.Layers[1].U, C: 4},
		{Layer: 3, Kind: model.OpClamp, U: s.Layers[3].U, C: float32(s.Layers[3].ZBar)},
		{Layer: 2, Kind: model.OpAblate, U: s.Layers[2].U, Scope: model.SteerPrompt},
		{Layer: 1, Kind: model.OpClamp, U: other.Layers[0].U, C: -2, Scope: model.SteerGenerated},
		{Layer: 1, Kind: model.OpClamp, U: s.Layers[1].U, C: 3},
	}
	if len(ops) != len(want) {
		t.Fatalf("%d ops", len(ops))
	}
	for i := range want {
		g, w := ops[i], want[i]
		if g.Layer != w.Layer || g.Kind != w.Kind || g.C != w.C || g.Scope != w.Scope || !equalF32(g.U, w.U) {
			t.Errorf("op %d = %+v, want %+v", i, g, w)
		}
	}
	// Library helpers build the same operators.
	if op, err := s.Clamp(3); err != nil || op.C != float32(s.Layers[3].ZBar) || op.Kind != model.OpClamp {
		t.Errorf("Clamp(3) = %+v, %v", op, err)
	}
	if op, err := s.Add(1, -8); err != nil || op.C != -8 || op.Kind != model.OpAdd {
		t.Errorf("Add = %+v, %v", op, err)
	}
	if op, err := s.Ablate(0); err != nil || op.Kind != model.OpAblate {
		t.Errorf("Ablate = %+v, %v", op, err)
	}

	nanPath := filepath.Join(dir, "nan.safetensors")
	nan := append([]float32(nil), s.Layers[0].U...)
	nan[5] = float32(math.NaN())
	if err := safetensors.Write(nanPath, []safetensors.Tensor{safetensors.F32("direction.1", []int{16}, nan)}, nil); err != nil {
		t.Fatal(err)
	}
	errCases := []struct {
		spec       string
		hidden, nl int
		want       string
	}{
		{path + "@1:add=4", 32, 4, "dimension mismatch: " + path + " holds vectors of size 16, the model's hidden size is 32"},
		{path + "@3:add=4", 16, 3, "layer out of range: the model has 3 layers (0..2)"},
		{path + "@7:add=4", 16, 8, "layer 7 is not in the vector file (layers 0..3)"},
		{nanPath + "@1:add=1", 16, 4, "NaN/Inf"},
		{opath + ":add=1", 16, 4, "no layer of choice"},
		{path + "@1:add", 16, 4, "add needs a coefficient"},
		{filepath.Join(dir, "missing.safetensors") + "@1:add=1", 16, 4, "missing.safetensors"},
		{path + "@1:bogus", 16, 4, "unknown operator"},
	}
	for _, c := range errCases {
		_, err := LoadSpecs([]string{c.spec}, c.hidden, c.nl)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadSpecs(%q) err = %v, want containing %q", c.spec, err, c.want)
		}
	}
	// Without a model size LoadSpecs does no model checks but still checks the file.
	if _, err := LoadSpecs([]string{path + "@3:add=1"}, 0, 0); err != nil {
		t.Errorf("LoadSpecs: %v", err)
	}
	if _, err := LoadSpecs([]string{nanPath + "@1:add=1"}, 0, 0); err == nil {
		t.Error("LoadSpecs of a NaN file: no error")
	}
	if err := model.CheckSteer([]model.SteerOp{{Layer: 0, U: make([]float32, 4), C: float32(math.Inf(1))}}, 4, 2); err == nil || !strings.Contains(err.Error(), "coefficient") {
		t.Errorf("CheckSteer infinite C: %v", err)
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
