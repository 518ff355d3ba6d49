package main

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/tinyif"
)

// TestDemoProjectionPlot: --plot draws one panel per type from the demo's
// projections (PNG or SVG by the file name), rescaled so that the mean
// without the instruction is 0 and the mean with it is 1; other extensions
// are refused before the demo runs.
func TestDemoProjectionPlot(t *testing.T) {
	res := &tinyif.DemoResult{Instructions: []tinyif.InstructionResult{
		{ID: "startend:quotation", ProjLayer: 2, Steered: 1, ProjWith: []float64{-1.5, -1.7}, ProjWithout: []float64{-6, -5.8}},
		{ID: "punctuation:no_comma", ProjLayer: 1, ProjWith: []float64{2, 2.4}, ProjWithout: []float64{0.1, 0.3}},
	}}
	dir := t.TempDir()
	for _, c := range []struct {
		name, want string
	}{{"p.png", "\\x89PNG"}, {"p.svg", "<svg"}} {
		path := filepath.Join(dir, c.name)
		f, err := plotFormat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeProjectionPlot(path, f, res); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if c.name == "p.png" {
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil || img.Bounds().Dx() < 300 {
				t.Errorf("%s: %v", c.name, err)
			}
		} else if !bytes.Contains(data, []byte(c.want)) || !bytes.Contains(data, []byte("lifted +1.00")) || !bytes.Contains(data, []byte("not lifted")) {
			t.Errorf("%s lacks %q or the panel titles", c.name, c.want)
		}
	}
	with, without := rescale([]float64{3, 5}, []float64{1, 1})
	if math.Abs(with[0]-2.0/3) > 1e-12 || math.Abs(with[1]-4.0/3) > 1e-12 || without[0] != 0 {
		t.Errorf("rescale: with %v without %v", with, without)
	}
	if _, err := plotFormat(filepath.Join(dir, "p.jpg")); err == nil || !strings.Contains(err.Error(), ".png or .svg") {
		t.Errorf("plotFormat(.jpg) = %v", err)
	}
}
