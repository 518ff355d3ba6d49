package plots

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var galleryDir = flag.String("gallery", "", "write every chart kind as PNG and SVG (and the token view as HTML) into this folder, to look at")

// gallery returns one chart of every kind, on data shaped like the
// notebooks' (accuracies per instruction and condition, response lengths per
// coefficient, PCA of difference vectors, projections per layer, cosines).
func gallery(t *testing.T) map[string]Chart {
	t.Helper()
	must := func(c Chart, err error) Chart {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	instr := []string{"english_capital", "json_format", "quotation", "number_sentences"}
	charts := map[string]Chart{
		"lines": must(LayerAccuracy("Steered accuracy per layer", []Series{
			{Name: "english_capital", X: []float64{0, 1, 2, 3}, Y: []float64{0.1, 0.6, 1, 0.8}},
			{Name: "json_format", X: []float64{0, 1, 2, 3}, Y: []float64{0, 0.3, 0.7, 0.9}},
		})),
		"bars": must(GroupedBars("IFEval loose accuracy on held-out topics", "accuracy", instr, []Group{
			{"with instruction", []float64{1, 0.95, 0.9, 0.7}},
			{"without", []float64{0, 0.05, 0, 0.2}},
			{"steered", []float64{0.85, 0.6, 0.75, 0.4}},
		})),
		"box": must(Distributions("Response length per coefficient", "coefficient c", "words", []Group{
			{"-25", []float64{80, 92, 75, 101, 88, 95, 140}},
			{"0", []float64{60, 66, 71, 58, 64, 69, 62}},
			{"25", []float64{30, 35, 28, 41, 33, 12, 38}},
			{"50", []float64{12, 15, 9, 18, 14, 11, 16}},
		})),
		"scatter": must(Scatter("PCA of difference vectors (layer 2)", "PC 1", "PC 2", []Points{
			{Name: "english_capital", X: []float64{2.1, 2.5, 1.8}, Y: []float64{0.3, -0.2, 0.1}, Labels: []string{"owls", "harbor", ""}},
			{Name: "json_format", X: []float64{-1.5, -1.9, -1.2}, Y: []float64{1.4, 1.1, 1.8}},
			{Name: "quotation", X: []float64{-0.4, 0.1, -0.2}, Y: []float64{-1.8, -1.5, -2.2}},
		})),
		"heatmap": must(CosineHeatmap("Cosine similarity of instruction directions", instr, [][]float64{
			{1, 0.12, -0.35, 0.05}, {0.12, 1, 0.62, -0.8}, {-0.35, 0.62, 1, 0.2}, {0.05, -0.8, 0.2, 1},
		})),
		"strip": must(ProjectionStrip("Projections onto u at layer 2", []Group{
			{"with instruction", []float64{2.1, 2.5, 3.0, 2.8, 3.3, 2.2, 2.9}},
			{"without", []float64{-0.4, 0.1, 0.3, -0.2, 0.0, 0.5}},
		})),
		"histogram": must(ProjectionHistogram("Projections at layer 2", []Group{
			{"with instruction", []float64{2.1, 2.5, 3.0, 2.8, 3.3, 2.2, 2.9}},
			{"without", []float64{-0.4, 0.1, 0.3, -0.2, 0.0, 0.5}},
		}, 10)),
	}
	var panels []Panel
	for l := range 6 {
		s := float64(l) * 0.6
		panels = append(panels, Panel{Title: "layer " + string(rune('0'+l)), Groups: []Group{
			{"with", []float64{1 + s, 1.3 + s, 0.8 + s, 1.1 + s, 1.2 + s}},
			{"without", []float64{-0.2, 0.1, 0, 0.3, -0.1}},
		}})
	}
	charts["multiples"] = must(ProjectionMultiples("With/without projections by layer", 3, panels))
	return charts
}

// TestGallery renders every chart kind as SVG and PNG and checks the
// documents; with -gallery DIR it also writes them there.
func TestGallery(t *testing.T) {
	for name, c := range gallery(t) {
		t.Run(name, func(t *testing.T) {
			svg, png := checkRender(t, c)
			if *galleryDir != "" {
				write(t, filepath.Join(*galleryDir, name+".png"), png)
				write(t, filepath.Join(*galleryDir, name+".svg"), svg)
			}
		})
	}
	if *galleryDir != "" {
		h, err := TokenHighlight("Projection of each token onto u (layer 2)",
			[]string{"Tell", " me", " about", " owls", ".", "\n", "<b>", "ANSWER", ":", " Owls", " are", " birds"},
			[]float64{-0.5, -0.2, 0.1, 0.3, 0, 0.2, 1.2, 2.5, 0.4, 1.9, -1.1, 0.7}, 0)
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(*galleryDir, "tokens.html"), []byte("<html><body>"+h+"</body></html>"))
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
