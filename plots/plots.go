// Package plots draws gosteer's charts of activations and results with
// gonum/plot: per-layer accuracy lines, histograms and strip plots of
// activations projected onto a steering direction, and cosine-similarity
// heatmaps between directions. Charts are *plot.Plot values; Render turns one
// into SVG or PNG bytes. Package plots/gonbplot shows them in a GoNB notebook.
//
// Every constructor validates its input (no empty series, no NaN or Inf,
// matching lengths) and returns an error instead of panicking.
package plots

import (
	"bytes"
	"fmt"
	"html"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Format is an output image format of Render.
type Format string

// Image formats Render supports.
const (
	SVG Format = "svg"
	PNG Format = "png"
)

// DefaultWidth and DefaultHeight are the sizes Render uses when given zero.
const (
	DefaultWidth  = 16 * vg.Centimeter
	DefaultHeight = 10 * vg.Centimeter
)

// Render draws p as an image of the given size (zero: the default size) and
// format. PNG is rendered at 144 dots per inch.
func Render(p *plot.Plot, f Format, w, h vg.Length) (data []byte, err error) {
	if p == nil {
		return nil, fmt.Errorf("render: nil plot")
	}
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	if f != SVG && f != PNG {
		return nil, fmt.Errorf("render %q: unknown format %q (want svg or png)", p.Title.Text, f)
	}
	defer func() { // gonum/plot panics on some invalid plots
		if r := recover(); r != nil {
			data, err = nil, fmt.Errorf("render %q as %s: %v", p.Title.Text, f, r)
		}
	}()
	wt, err := p.WriterTo(w, h, string(f))
	if err != nil {
		return nil, fmt.Errorf("render %q as %s: %w", p.Title.Text, f, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render %q as %s: %w", p.Title.Text, f, err)
	}
	return buf.Bytes(), nil
}

// Series is one named line: Y[i] measured at X[i].
type Series struct {
	Name string
	X, Y []float64
}

// Group is one named set of values, e.g. the projections of the activations
// of prompts with (or without) an instruction onto a direction.
type Group struct {
	Name   string
	Values []float64
}

// checkFinite returns an error naming the first NaN or Inf of vs.
func checkFinite(what string, vs []float64) error {
	for i, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s[%d] = %v: values must be finite", what, i, v)
		}
	}
	return nil
}

// Lines is a line chart with one line (with point markers) per series.
func Lines(title, xLabel, yLabel string, series []Series) (*plot.Plot, error) {
	if len(series) == 0 {
		return nil, fmt.Errorf("lines %q: no series", title)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	for i, s := range series {
		if len(s.X) == 0 || len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("lines %q: series %q has %d x and %d y values (want equal, non-zero)", title, s.Name, len(s.X), len(s.Y))
		}
		if err := checkFinite(fmt.Sprintf("lines %q: series %q x", title, s.Name), s.X); err != nil {
			return nil, err
		}
		if err := checkFinite(fmt.Sprintf("lines %q: series %q y", title, s.Name), s.Y); err != nil {
			return nil, err
		}
		xys := make(plotter.XYs, len(s.X))
		for j := range s.X {
			xys[j].X, xys[j].Y = s.X[j], s.Y[j]
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("lines %q: series %q: %w", title, s.Name, err)
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		pts.Color = plotutil.Color(i)
		pts.Shape = plotutil.Shape(i)
		p.Add(l, pts)
		if s.Name != "" {
			p.Legend.Add(s.Name, l, pts)
		}
	}
	return p, nil
}

// LayerAccuracy is a line chart of an accuracy (0..1) per layer, one line per
// series (e.g. "steered" and "unsteered", or one per instruction type). The
// Y axis spans 0..1 and the X axis ticks fall on whole layers.
func LayerAccuracy(title string, series []Series) (*plot.Plot, error) {
	p, err := Lines(title, "layer", "accuracy", series)
	if err != nil {
		return nil, fmt.Errorf("layer accuracy: %w", err)
	}
	for _, s := range series {
		for i, y := range s.Y {
			if y < 0 || y > 1 {
				return nil, fmt.Errorf("layer accuracy %q: series %q y[%d] = %v outside 0..1", title, s.Name, i, y)
			}
		}
	}
	p.Y.Min, p.Y.Max = 0, 1
	p.X.Tick.Marker = integerTicks{}
	return p, nil
}

// integerTicks places major ticks on whole numbers (at most about ten).
type integerTicks struct{}

// Ticks implements plot.Ticker.
func (integerTicks) Ticks(min, max float64) []plot.Tick {
	lo, hi := math.Ceil(min), math.Floor(max)
	if hi < lo {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	step := math.Max(1, math.Ceil((hi-lo)/10))
	var ts []plot.Tick
	for v := lo; v <= hi; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f", v)})
	}
	return ts
}

// ProjectionHistogram overlays one histogram per group (translucent bars,
// bins shared by all groups) of values projected onto a direction.
func ProjectionHistogram(title string, groups []Group, bins int) (*plot.Plot, error) {
	if len(groups) == 0 {
		return nil, fmt.Errorf("projection histogram %q: no groups", title)
	}
	if bins <= 0 {
		return nil, fmt.Errorf("projection histogram %q: bins = %d, want > 0", title, bins)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, g := range groups {
		if len(g.Values) == 0 {
			return nil, fmt.Errorf("projection histogram %q: group %q is empty", title, g.Name)
		}
		if err := checkFinite(fmt.Sprintf("projection histogram %q: group %q", title, g.Name), g.Values); err != nil {
			return nil, err
		}
		for _, v := range g.Values {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi == lo { // one distinct value: give the single bin some width
		lo, hi = lo-0.5, hi+0.5
	}
	width := (hi - lo) / float64(bins)
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "projection onto direction"
	p.Y.Label.Text = "count"
	p.Legend.Top = true
	maxCount := 0.0
	for gi, g := range groups {
		h := &plotter.Histogram{Width: width, Bins: make([]plotter.HistogramBin, bins)}
		for b := range h.Bins {
			h.Bins[b].Min = lo + float64(b)*width
			h.Bins[b].Max = lo + float64(b+1)*width
		}
		for _, v := range g.Values {
			b := int((v - lo) / width)
			if b >= bins {
				b = bins - 1
			}
			h.Bins[b].Weight++
			maxCount = math.Max(maxCount, h.Bins[b].Weight)
		}
		c := color.NRGBAModel.Convert(plotutil.Color(gi)).(color.NRGBA)
		c.A = 140
		h.FillColor = c
		h.LineStyle = draw.LineStyle{Color: plotutil.Color(gi), Width: vg.Points(0.5)}
		p.Add(h)
		p.Legend.Add(fmt.Sprintf("%s (n=%d)", g.Name, len(g.Values)), h)
	}
	p.Y.Min = 0
	p.Y.Max = maxCount * (1.15 + 0.1*float64(len(groups))) // headroom for the legend
	return p, nil
}

// ProjectionStrip is a strip plot: one row per group, one dot per value
// (spread vertically by a fixed pseudo-random jitter so dense values stay
// visible), and a vertical tick at each group's mean.
func ProjectionStrip(title string, groups []Group) (*plot.Plot, error) {
	if len(groups) == 0 {
		return nil, fmt.Errorf("projection strip %q: no groups", title)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "projection onto direction"
	p.Add(plotter.NewGrid())
	names := make([]string, len(groups))
	for gi, g := range groups {
		if len(g.Values) == 0 {
			return nil, fmt.Errorf("projection strip %q: group %q is empty", title, g.Name)
		}
		if err := checkFinite(fmt.Sprintf("projection strip %q: group %q", title, g.Name), g.Values); err != nil {
			return nil, err
		}
		names[gi] = g.Name
		xys := make(plotter.XYs, len(g.Values))
		mean := 0.0
		for i, v := range g.Values {
			xys[i].X = v
			xys[i].Y = float64(gi) + 0.35*(jitter(uint64(i))-0.5)
			mean += v
		}
		mean /= float64(len(g.Values))
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, fmt.Errorf("projection strip %q: group %q: %w", title, g.Name, err)
		}
		s.Color = plotutil.Color(gi)
		s.Shape = draw.CircleGlyph{}
		s.Radius = vg.Points(2)
		m, err := plotter.NewLine(plotter.XYs{{X: mean, Y: float64(gi) - 0.3}, {X: mean, Y: float64(gi) + 0.3}})
		if err != nil {
			return nil, fmt.Errorf("projection strip %q: group %q mean: %w", title, g.Name, err)
		}
		m.Color = color.Black
		m.Width = vg.Points(2)
		p.Add(s, m)
	}
	p.NominalY(names...)
	return p, nil
}

// jitter maps i to a fixed pseudo-random number in [0, 1) (splitmix64), so
// strip plots are reproducible.
func jitter(i uint64) float64 {
	z := i + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / float64(1<<53)
}

// CosineHeatmap is a heatmap of a square matrix of cosine similarities
// (values in -1..1, e.g. between per-layer or per-instruction directions),
// with labels on both axes, a blue–red diverging palette fixed to -1..1 and
// each cell's value written in it.
func CosineHeatmap(title string, labels []string, sim [][]float64) (*plot.Plot, error) {
	n := len(labels)
	if n == 0 {
		return nil, fmt.Errorf("cosine heatmap %q: no labels", title)
	}
	if len(sim) != n {
		return nil, fmt.Errorf("cosine heatmap %q: %d rows for %d labels", title, len(sim), n)
	}
	for i, row := range sim {
		if len(row) != n {
			return nil, fmt.Errorf("cosine heatmap %q: row %d has %d values, want %d", title, i, len(row), n)
		}
		if err := checkFinite(fmt.Sprintf("cosine heatmap %q: row %d", title, i), row); err != nil {
			return nil, err
		}
		for j, v := range row {
			if v < -1-1e-6 || v > 1+1e-6 {
				return nil, fmt.Errorf("cosine heatmap %q: [%d][%d] = %v outside -1..1", title, i, j, v)
			}
		}
	}
	cmap := moreland.SmoothBlueRed()
	cmap.SetMin(-1)
	cmap.SetMax(1)
	g := grid{sim: sim}
	h := plotter.NewHeatMap(g, cmap.Palette(101))
	h.Min, h.Max = -1, 1
	p := plot.New()
	p.Title.Text = title
	p.Add(h)
	var cells plotter.XYLabels
	for i := range n {
		for j := range n {
			cells.XYs = append(cells.XYs, plotter.XY{X: float64(j), Y: float64(i)})
			cells.Labels = append(cells.Labels, fmt.Sprintf("%.2f", sim[i][j]))
		}
	}
	lbl, err := plotter.NewLabels(cells)
	if err != nil {
		return nil, fmt.Errorf("cosine heatmap %q: %w", title, err)
	}
	for i := range lbl.TextStyle {
		if v := sim[i/n][i%n]; math.Abs(v) > 0.6 { // light text on saturated cells
			lbl.TextStyle[i].Color = color.White
		}
		lbl.TextStyle[i].XAlign = draw.XCenter
		lbl.TextStyle[i].YAlign = draw.YCenter
		lbl.TextStyle[i].Font.Size = vg.Points(7)
	}
	p.Add(lbl)
	p.NominalX(labels...)
	// Row 0 at the top, as matrices are read.
	p.NominalY(labels...)
	p.Y.Scale = plot.InvertedScale{Normalizer: p.Y.Scale}
	return p, nil
}

// grid adapts a square matrix to plotter.GridXYZ: column c, row r is sim[r][c].
type grid struct{ sim [][]float64 }

func (g grid) Dims() (c, r int)   { return len(g.sim), len(g.sim) }
func (g grid) Z(c, r int) float64 { return g.sim[r][c] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }
func (g grid) Min() float64       { return -1 }
func (g grid) Max() float64       { return 1 }

// HTMLTable renders a table (header row, then rows) as an HTML fragment with
// every cell escaped, for notebooks to display results.
func HTMLTable(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("<table>\n")
	if len(header) > 0 {
		b.WriteString("<thead><tr>")
		for _, h := range header {
			b.WriteString("<th>" + html.EscapeString(h) + "</th>")
		}
		b.WriteString("</tr></thead>\n")
	}
	b.WriteString("<tbody>\n")
	for _, r := range rows {
		b.WriteString("<tr>")
		for _, c := range r {
			b.WriteString("<td>" + html.EscapeString(c) + "</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
	return b.String()
}
