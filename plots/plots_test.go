package plots

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
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
		build func() (Chart, error)
		want  []string // text that must appear in the SVG
	}{
		{"layer accuracy", func() (Chart, error) {
			return LayerAccuracy("Format accuracy by layer", []Series{
				{Name: "steered", X: layers, Y: []float64{.2, .4, .7, .8, .6, .5}},
				{Name: "baseline", X: layers, Y: []float64{.3, .3, .3, .3, .3, .3}},
			})
		}, []string{"Format accuracy by layer", "layer", "accuracy", "steered", "baseline"}},
		{"lines", func() (Chart, error) {
			return Lines("Loss", "step", "loss", []Series{{Name: "train", X: []float64{1, 2, 3}, Y: []float64{3, 2, 1.5}}})
		}, []string{"Loss", "step", "loss", "train"}},
		{"lines dense", func() (Chart, error) {
			xs, ys := make([]float64, 500), make([]float64, 500)
			for i := range xs {
				xs[i], ys[i] = float64(i), 1/float64(i+1)
			}
			return Lines("Loss", "step", "loss", []Series{{Name: "train", X: xs, Y: ys}})
		}, []string{"Loss", "train"}},
		{"histogram", func() (Chart, error) {
			return ProjectionHistogram("Projections at layer 12", []Group{{"with instruction", with}, {"without", without}}, 8)
		}, []string{"Projections at layer 12", "projection onto direction", "count", "with instruction (n=7)", "without (n=6)"}},
		{"histogram one value", func() (Chart, error) {
			return ProjectionHistogram("Constant", []Group{{"x", []float64{1, 1, 1}}}, 4)
		}, []string{"Constant", "x (n=3)"}},
		{"strip", func() (Chart, error) {
			return ProjectionStrip("Strip at layer 12", []Group{{"with", with}, {"without", without}})
		}, []string{"Strip at layer 12", "projection onto direction", "with", "without"}},
		{"heatmap", func() (Chart, error) {
			return CosineHeatmap("Cosine similarity", []string{"L10", "L12", "L14"}, [][]float64{
				{1, 0.8, -0.25}, {0.8, 1, 0.1}, {-0.25, 0.1, 1},
			})
		}, []string{"Cosine similarity", "L10", "L12", "L14", "0.80", "-0.25", "1.00"}},
		{"grouped bars", func() (Chart, error) {
			return GroupedBars("Accuracy", "accuracy", []string{"json", "case"}, []Group{{"with", []float64{0.9, 1}}, {"steered", []float64{0.65, 0.125}}})
		}, []string{"Accuracy", "accuracy", "json", "case", "with", "steered", "0.90", "1.00", "0.65", "0.12"}},
		{"grouped bars negative", func() (Chart, error) {
			return GroupedBars("Change", "delta", []string{"a"}, []Group{{"g", []float64{-2.5}}})
		}, []string{"Change", "-2.50"}},
		{"distributions", func() (Chart, error) {
			return Distributions("Lengths", "coefficient", "words", []Group{{"-25", []float64{80, 90, 100}}, {"0", []float64{60, 61, 70, 200}}})
		}, []string{"Lengths", "coefficient", "words", "-25", "0"}},
		{"scatter", func() (Chart, error) {
			return Scatter("PCA", "PC 1", "PC 2", []Points{{Name: "json", X: []float64{1, 2}, Y: []float64{0, 1}, Labels: []string{"owls", ""}}, {Name: "case", X: []float64{-1}, Y: []float64{-1}}})
		}, []string{"PCA", "PC 1", "PC 2", "json", "case", "owls"}},
		{"heatmap", func() (Chart, error) {
			return Heatmap("Projections", []string{"L0", "L1"}, []string{"a", "b", "c"}, [][]float64{{1, -3, 0}, {0.5, 2, -1}}, 0)
		}, []string{"Projections", "L0", "L1", "a", "c", "-3.00", "2.00", "colour: -3 blue"}},
		{"multiples", func() (Chart, error) {
			return ProjectionMultiples("By layer", 2, []Panel{
				{"layer 0", []Group{{"with", []float64{1, 2}}, {"without", []float64{0}}}},
				{"layer 1", []Group{{"with", []float64{3, 4}}, {"without", []float64{-1}}}},
				{"layer 2", []Group{{"with", []float64{5}}, {"without", []float64{0.5}}}},
			})
		}, []string{"By layer", "layer 0", "layer 1", "layer 2", "with", "without", "mean 1.5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.build()
			if err != nil {
				t.Fatal(err)
			}
			checkRender(t, p, tc.want...)
		})
	}
}

// checkRender renders c as SVG and PNG, checks both (the SVG's text holds
// every string of want, in the sans-serif house font with its widths) and
// returns them.
func checkRender(t *testing.T, c Chart, want ...string) (svg, pngData []byte) {
	t.Helper()
	svg, err := Render(c, SVG, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkSVG(t, svg, want...)
	if !bytes.Contains(svg, []byte(svgFontFallback)) || !bytes.Contains(svg, []byte("textLength=")) || bytes.Contains(svg, []byte("Liberation Serif")) {
		t.Error("SVG text is not in the sans-serif house font with fallbacks and widths")
	}
	if pngData, err = Render(c, PNG, 0, 0); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, pngData)
	return svg, pngData
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
		ticker   plot.Ticker
		min, max float64
		want     []string
	}{
		{integerTicks{}, 0, 5, []string{"0", "1", "2", "3", "4", "5"}},
		{integerTicks{}, 0.5, 3.2, []string{"1", "2", "3"}},
		{integerTicks{}, 0, 40, []string{"0", "4", "8", "12", "16", "20", "24", "28", "32", "36", "40"}},
		{integerTicks{}, -1, 3, []string{"-1", "0", "1", "2", "3"}},
		{layerTicks{}, -1, 3, []string{"none", "0", "1", "2", "3"}},
		{layerTicks{}, 0, 2, []string{"0", "1", "2"}},
	}
	for _, tc := range tests {
		var got []string
		for _, tk := range tc.ticker.Ticks(tc.min, tc.max) {
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

// TestPNGSize checks the PNG resolution: the default 16×10 cm at PNGDPI.
func TestPNGSize(t *testing.T) {
	p, err := Lines("t", "x", "y", []Series{{Name: "a", X: []float64{0, 1}, Y: []float64{0, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		w, h         vg.Length
		wantW, wantH int
	}{{0, 0, 907, 567}, {4 * vg.Inch, 2 * vg.Inch, 576, 288}} {
		data, err := Render(p, PNG, tc.w, tc.h)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != tc.wantW || b.Dy() != tc.wantH {
			t.Errorf("Render(%v, %v) is %dx%d, want %dx%d", tc.w, tc.h, b.Dx(), b.Dy(), tc.wantW, tc.wantH)
		}
	}
}

// TestNewChartErrors checks the input validation of the newer charts.
func TestNewChartErrors(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name  string
		build func() (Chart, error)
		want  string
	}{
		{"bars no categories", func() (Chart, error) { return GroupedBars("t", "y", nil, []Group{{"g", []float64{1}}}) }, "no categories"},
		{"bars no groups", func() (Chart, error) { return GroupedBars("t", "y", []string{"a"}, nil) }, "no groups"},
		{"bars length", func() (Chart, error) {
			return GroupedBars("t", "y", []string{"a", "b"}, []Group{{"g", []float64{1}}})
		}, "1 values for 2 categories"},
		{"bars nan", func() (Chart, error) { return GroupedBars("t", "y", []string{"a"}, []Group{{"g", []float64{nan}}}) }, "finite"},
		{"distributions empty", func() (Chart, error) { return Distributions("t", "x", "y", []Group{{"g", nil}}) }, "empty"},
		{"scatter none", func() (Chart, error) { return Scatter("t", "x", "y", nil) }, "no point sets"},
		{"scatter lengths", func() (Chart, error) {
			return Scatter("t", "x", "y", []Points{{Name: "s", X: []float64{1, 2}, Y: []float64{1}}})
		}, "2 x and 1 y"},
		{"scatter labels", func() (Chart, error) {
			return Scatter("t", "x", "y", []Points{{Name: "s", X: []float64{1}, Y: []float64{1}, Labels: []string{"a", "b"}}})
		}, "2 labels for 1 points"},
		{"scatter inf", func() (Chart, error) {
			return Scatter("t", "x", "y", []Points{{Name: "s", X: []float64{math.Inf(-1)}, Y: []float64{1}}})
		}, "finite"},
		{"heatmap no labels", func() (Chart, error) { return Heatmap("t", nil, []string{"a"}, nil, 0) }, "want some of each"},
		{"heatmap ragged", func() (Chart, error) { return Heatmap("t", []string{"r"}, []string{"a", "b"}, [][]float64{{1}}, 0) }, "row 0 has 1 values, want 2"},
		{"heatmap limit", func() (Chart, error) { return Heatmap("t", []string{"r"}, []string{"a"}, [][]float64{{1}}, -1) }, "limit"},
		{"heatmap nan", func() (Chart, error) { return Heatmap("t", []string{"r"}, []string{"a"}, [][]float64{{nan}}, 0) }, "finite"},
		{"multiples none", func() (Chart, error) { return SmallMultiples("t", 2, nil) }, "no panels"},
		{"multiples nil panel", func() (Chart, error) { return SmallMultiples("t", 2, []*plot.Plot{nil}) }, "panel 0 is nil"},
		{"multiples columns", func() (Chart, error) { return SmallMultiples("t", -1, []*plot.Plot{plot.New()}) }, "-1 columns"},
		{"projection multiples bad panel", func() (Chart, error) {
			return ProjectionMultiples("t", 0, []Panel{{"p", []Group{{"g", nil}}}})
		}, "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.build()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got chart %v, error %v; want error containing %q", c, err, tc.want)
			}
		})
	}
}

// TestSmallMultiplesShareAxes checks that panels get the union of their
// ranges and that only the left column keeps Y tick labels.
func TestSmallMultiplesShareAxes(t *testing.T) {
	var ps []*plot.Plot
	for i, xs := range [][]float64{{0, 1}, {-5, 2}, {3, 10}} {
		p, err := Lines(fmt.Sprint("panel ", i), "x", "y", []Series{{X: xs, Y: []float64{float64(i), float64(i) * 2}}})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	m, err := SmallMultiples("all", 2, ps)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Panels {
		if p.X.Min != m.Panels[0].X.Min || p.X.Max != m.Panels[0].X.Max || p.Y.Min != m.Panels[0].Y.Min || p.Y.Max != m.Panels[0].Y.Max {
			t.Errorf("panel %d range x %v..%v y %v..%v differs from panel 0", i, p.X.Min, p.X.Max, p.Y.Min, p.Y.Max)
		}
		if p.X.Min > -5 || p.X.Max < 10 {
			t.Errorf("panel %d x range %v..%v does not cover -5..10", i, p.X.Min, p.X.Max)
		}
		labelled := false
		for _, tk := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
			labelled = labelled || strings.TrimSpace(tk.Label) != ""
		}
		if want := i%2 == 0; labelled != want {
			t.Errorf("panel %d: Y tick labels shown %v, want %v", i, labelled, want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{-25, "-25"}, {0, "0"}, {math.Copysign(0, -1), "0"}, {2.5, "2.5"}, {0.30000000000000004, "0.3"},
		{12.5, "12.5"}, {1234.5678, "1235"}, {0.125, "0.125"}, {-0.00004, "-4e-05"}, {2e6, "2e+06"}, {-1e-9, "-1e-09"},
	}
	for _, tc := range tests {
		if got := FormatNumber(tc.v); got != tc.want {
			t.Errorf("FormatNumber(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// TestCleanTicks checks that no tick label of a range carries trailing
// zeros ("-25.00" was the default's).
func TestCleanTicks(t *testing.T) {
	for _, r := range [][2]float64{{-25, 25}, {0, 1}, {-0.35, 3.3}, {100, 1000}} {
		for _, tk := range (cleanTicks{}).Ticks(r[0], r[1]) {
			if strings.Contains(tk.Label, ".") && strings.HasSuffix(tk.Label, "0") {
				t.Errorf("range %v: tick label %q has a useless zero", r, tk.Label)
			}
		}
	}
}

func TestDiverging(t *testing.T) {
	tests := []struct {
		t    float64
		want color.NRGBA
	}{
		{-1, divergingStops[0]}, {-2, divergingStops[0]}, {0, divergingStops[2]}, {math.NaN(), divergingStops[2]},
		{1, divergingStops[4]}, {0.5, divergingStops[3]},
	}
	for _, tc := range tests {
		if got := Diverging(tc.t); got != tc.want {
			t.Errorf("Diverging(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
	for _, v := range []float64{-0.9, -0.3, -0.05} { // negative: bluer than red; positive: redder than blue
		if c := Diverging(v); c.B <= c.R {
			t.Errorf("Diverging(%v) = %v is not blue", v, c)
		}
		if c := Diverging(-v); c.R <= c.B {
			t.Errorf("Diverging(%v) = %v is not orange", -v, c)
		}
	}
}

func TestTokenHighlight(t *testing.T) {
	got, err := TokenHighlight("a <title>", []string{"<b>", " & ", "\n", "x"}, []float64{-2, 0, 1, 2}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"a &lt;title&gt;", ">&lt;b&gt;</span>", "> &amp; </span>", "↵<br></span>",
		`background:` + hexColor(Diverging(-1)), `background:` + hexColor(Diverging(0)), `background:` + hexColor(Diverging(0.5)),
		`title="#0 &#34;&lt;b&gt;&#34;: -2"`, "-2</span>", "+2</span>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("TokenHighlight lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<b>") || strings.Contains(got, "<title>") {
		t.Errorf("TokenHighlight did not escape token text:\n%s", got)
	}
	fixed, err := TokenHighlight("", []string{"x"}, []float64{1}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fixed, hexColor(Diverging(0.25))) || !strings.Contains(fixed, "+4</span>") {
		t.Errorf("limit 4 not applied:\n%s", fixed)
	}
	for _, tc := range []struct {
		tokens []string
		values []float64
		limit  float64
		want   string
	}{
		{nil, nil, 0, "no tokens"},
		{[]string{"a"}, []float64{1, 2}, 0, "2 values for 1 tokens"},
		{[]string{"a"}, []float64{math.NaN()}, 0, "finite"},
		{[]string{"a"}, []float64{1}, math.Inf(1), "limit"},
	} {
		if _, err := TokenHighlight("t", tc.tokens, tc.values, tc.limit); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("TokenHighlight(%q, %v, %v): error %v, want %q", tc.tokens, tc.values, tc.limit, err, tc.want)
		}
	}
}

func TestPortableSVG(t *testing.T) {
	face := font.DefaultCache.Lookup(sans(10, false), vg.Points(10))
	wide := fmt.Sprintf(`textLength="%.2f"`, face.Width("a&b").Points())
	tests := []struct {
		name, in string
		want     []string
		not      []string
	}{
		{"house font", `<text x="1" y="2" style="font-family:Liberation Sans;font-weight:normal;font-size:10px">a&amp;b</text>`,
			[]string{svgFontFallback, wide, `lengthAdjust="spacingAndGlyphs"`, ">a&amp;b</text>"}, nil},
		{"other font", `<text x="1" style="font-family:Liberation Mono;font-size:10px">x</text>`, nil, []string{"textLength"}},
		{"no size", `<text x="1" style="font-family:Liberation Sans;">x</text>`, []string{svgFontFallback}, []string{"textLength"}},
	}
	for _, tc := range tests {
		got := string(portableSVG([]byte(tc.in)))
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %s lacks %q", tc.name, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: %s has %q", tc.name, got, n)
			}
		}
	}
}

// TestHeatmapClamps checks that values a rounding error beyond the limit (a
// cosine of 1.0000001) still get the end colour of the palette.
func TestHeatmapClamps(t *testing.T) {
	m := matrix{z: [][]float64{{1.0000001, -1.0000001, 0.5}}, limit: 1}
	for c, want := range []float64{1, -1, 0.5} {
		if got := m.Z(c, 0); got != want {
			t.Errorf("Z(%d, 0) = %v, want %v", c, got, want)
		}
	}
	if _, err := CosineHeatmap("t", []string{"a"}, [][]float64{{1.0000001}}); err != nil {
		t.Errorf("cosine 1.0000001: %v", err)
	}
}

// TestMultiplesHeight checks the default height of small multiples: 5.5 cm
// per row plus 1.5 cm, at PNGDPI.
func TestMultiplesHeight(t *testing.T) {
	g := []Group{{"a", []float64{1}}}
	for _, tc := range []struct{ panels, cols, wantH int }{{3, 3, 397}, {6, 3, 709}, {7, 2, 1332}} {
		m, err := ProjectionMultiples("m", tc.cols, slices.Repeat([]Panel{{"p", g}}, tc.panels))
		if err != nil {
			t.Fatal(err)
		}
		data, err := Render(m, PNG, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Width != 907 || cfg.Height != tc.wantH {
			t.Errorf("%d panels in %d columns: %dx%d, want 907x%d", tc.panels, tc.cols, cfg.Width, cfg.Height, tc.wantH)
		}
	}
}
