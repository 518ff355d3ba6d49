package plots

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

// checkSVG asserts that data is a well-formed SVG document containing every
// string of want (titles and labels are drawn as text elements).
func checkSVG(t *testing.T, data []byte, want ...string) {
	t.Helper()
	if len(data) == 0 {
		t.Fatal("empty SVG")
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
		case xml.CharData:
			text.Write(tok)
			text.WriteByte('\n')
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	for _, w := range want {
		if !strings.Contains(text.String(), w) {
			t.Errorf("SVG text lacks %q", w)
		}
	}
}

// checkPNG asserts that data decodes as a PNG of plausible size with more
// than one color (something was drawn).
func checkPNG(t *testing.T, data []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	b := img.Bounds()
	if b.Dx() < 100 || b.Dy() < 100 {
		t.Fatalf("PNG is %dx%d, want at least 100x100", b.Dx(), b.Dy())
	}
	colors := map[[4]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			colors[[4]uint32{r, g, bl, a}] = true
		}
	}
	if len(colors) < 3 {
		t.Fatalf("PNG has %d colors, want a drawing", len(colors))
	}
}

func TestChartsRender(t *testing.T) {
	layers := []float64{0, 1, 2, 3, 4, 5}
	with := []float64{2.1, 2.5, 3.0, 2.8, 3.3, 2.2, 2.9}
	without := []float64{-0.4, 0.1, 0.3, -0.2, 0.0, 0.5}
	tests := []struct {
		name  string
		build func() (*plot.Plot, error)
		want  []string // text that must appear in the SVG
	}{
		{"layer accuracy", func() (*plot.Plot, error) {
			return LayerAccuracy("Format accuracy by layer", []Series{
				{Name: "steered", X: layers, Y: []float64{.2, .4, .7, .8, .6, .5}},
				{Name: "baseline", X: layers, Y: []float64{.3, .3, .3, .3, .3, .3}},
			})
		}, []string{"Format accuracy by layer", "layer", "accuracy", "steered", "baseline"}},
		{"lines", func() (*plot.Plot, error) {
			return Lines("Loss", "step", "loss", []Series{{Name: "train", X: []float64{1, 2, 3}, Y: []float64{3, 2, 1.5}}})
		}, []string{"Loss", "step", "loss", "train"}},
		{"histogram", func() (*plot.Plot, error) {
			return ProjectionHistogram("Projections at layer 12", []Group{{"with instruction", with}, {"without", without}}, 8)
		}, []string{"Projections at layer 12", "projection onto direction", "count", "with instruction (n=7)", "without (n=6)"}},
		{"histogram one value", func() (*plot.Plot, error) {
			return ProjectionHistogram("Constant", []Group{{"x", []float64{1, 1, 1}}}, 4)
		}, []string{"Constant", "x (n=3)"}},
		{"strip", func() (*plot.Plot, error) {
			return ProjectionStrip("Strip at layer 12", []Group{{"with", with}, {"without", without}})
		}, []string{"Strip at layer 12", "projection onto direction", "with", "without"}},
		{"heatmap", func() (*plot.Plot, error) {
			return CosineHeatmap("Cosine similarity", []string{"L10", "L12", "L14"}, [][]float64{
				{1, 0.8, -0.25}, {0.8, 1, 0.1}, {-0.25, 0.1, 1},
			})
		}, []string{"Cosine similarity", "L10", "L12", "L14", "0.80", "-0.25", "1.00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.build()
			if err != nil {
				t.Fatal(err)
			}
			svg, err := Render(p, SVG, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			checkSVG(t, svg, tc.want...)
			pngData, err := Render(p, PNG, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			checkPNG(t, pngData)
		})
	}
}

func TestChartErrors(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name  string
		build func() (*plot.Plot, error)
		want  string
	}{
		{"no series", func() (*plot.Plot, error) { return Lines("t", "x", "y", nil) }, "no series"},
		{"length mismatch", func() (*plot.Plot, error) {
			return Lines("t", "x", "y", []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{1}}})
		}, "2 x and 1 y"},
		{"nan", func() (*plot.Plot, error) {
			return Lines("t", "x", "y", []Series{{Name: "a", X: []float64{1}, Y: []float64{nan}}})
		}, "finite"},
		{"accuracy above 1", func() (*plot.Plot, error) {
			return LayerAccuracy("t", []Series{{Name: "a", X: []float64{1}, Y: []float64{1.5}}})
		}, "outside 0..1"},
		{"histogram no groups", func() (*plot.Plot, error) { return ProjectionHistogram("t", nil, 5) }, "no groups"},
		{"histogram empty group", func() (*plot.Plot, error) { return ProjectionHistogram("t", []Group{{"g", nil}}, 5) }, "empty"},
		{"histogram bins", func() (*plot.Plot, error) { return ProjectionHistogram("t", []Group{{"g", []float64{1}}}, 0) }, "bins"},
		{"histogram inf", func() (*plot.Plot, error) {
			return ProjectionHistogram("t", []Group{{"g", []float64{math.Inf(1)}}}, 3)
		}, "finite"},
		{"strip empty", func() (*plot.Plot, error) { return ProjectionStrip("t", []Group{{"g", nil}}) }, "empty"},
		{"heatmap rows", func() (*plot.Plot, error) { return CosineHeatmap("t", []string{"a", "b"}, [][]float64{{1, 0}}) }, "1 rows for 2 labels"},
		{"heatmap ragged", func() (*plot.Plot, error) {
			return CosineHeatmap("t", []string{"a", "b"}, [][]float64{{1, 0}, {1}})
		}, "row 1 has 1 values"},
		{"heatmap range", func() (*plot.Plot, error) {
			return CosineHeatmap("t", []string{"a"}, [][]float64{{2}})
		}, "outside -1..1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.build()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got plot %v, error %v; want error containing %q", p != nil, err, tc.want)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	if _, err := Render(nil, SVG, 0, 0); err == nil {
		t.Error("nil plot: want error")
	}
	p := plot.New()
	p.Title.Text = "x"
	if _, err := Render(p, "gif", 0, 0); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("gif: got %v, want unknown format", err)
	}
}

func TestIntegerTicks(t *testing.T) {
	tests := []struct {
		min, max float64
		want     []string
	}{
		{0, 5, []string{"0", "1", "2", "3", "4", "5"}},
		{0.5, 3.2, []string{"1", "2", "3"}},
		{0, 40, []string{"0", "4", "8", "12", "16", "20", "24", "28", "32", "36", "40"}},
	}
	for _, tc := range tests {
		var got []string
		for _, tk := range (integerTicks{}).Ticks(tc.min, tc.max) {
			got = append(got, tk.Label)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("Ticks(%v, %v) = %v, want %v", tc.min, tc.max, got, tc.want)
		}
	}
}

func TestHTMLTable(t *testing.T) {
	got := HTMLTable([]string{"name", "value"}, [][]string{{"backend", "go"}, {"<b>", "a&b"}})
	for _, want := range []string{"<table>", "<th>name</th>", "<td>backend</td><td>go</td>", "<td>&lt;b&gt;</td><td>a&amp;b</td>", "</table>"} {
		if !strings.Contains(got, want) {
			t.Errorf("HTMLTable lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<b>") {
		t.Errorf("HTMLTable did not escape cell text:\n%s", got)
	}
}
