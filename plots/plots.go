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
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
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

// PNGDPI is the resolution of PNG output: a DefaultWidth chart is 907 pixels
// wide.
const PNGDPI = 144

// Chart is anything Render can draw: a *plot.Plot from this package's
// constructors, or a *Multiples grid of them.
type Chart interface {
	Draw(c draw.Canvas)
}

// chartTitle returns the title of c for error messages, and whether c is a
// nil pointer.
func chartTitle(c Chart) (title string, isNil bool) {
	switch v := c.(type) {
	case nil:
		return "", true
	case *plot.Plot:
		if v == nil {
			return "", true
		}
		return v.Title.Text, false
	case *Multiples:
		if v == nil {
			return "", true
		}
		return v.Title, false
	}
	return fmt.Sprintf("%T", c), false
}

// Render draws c as an image of the given size and format. A zero width is
// DefaultWidth; a zero height is DefaultHeight, or for Multiples 5.5 cm per
// row of panels plus 1.5 cm for the title. PNG is rendered at PNGDPI dots per
// inch.
func Render(c Chart, f Format, w, h vg.Length) (data []byte, err error) {
	title, isNil := chartTitle(c)
	if isNil {
		return nil, fmt.Errorf("render: nil plot")
	}
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
		if m, ok := c.(*Multiples); ok {
			h = vg.Length(m.Rows())*5.5*vg.Centimeter + 1.5*vg.Centimeter
		}
	}
	var cv vg.CanvasWriterTo
	switch f {
	case SVG:
		cv = vgsvg.New(w, h)
	case PNG:
		cv = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(PNGDPI))}
	default:
		return nil, fmt.Errorf("render %q: unknown format %q (want svg or png)", title, f)
	}
	defer func() { // gonum/plot panics on some invalid plots
		if r := recover(); r != nil {
			data, err = nil, fmt.Errorf("render %q as %s: %v", title, f, r)
		}
	}()
	c.Draw(draw.New(cv))
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render %q as %s: %w", title, f, err)
	}
	if f == SVG {
		return portableSVG(buf.Bytes()), nil
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

// pointsOf pairs xs and ys into points, requiring equal, non-zero lengths
// and finite values; what names them in errors.
func pointsOf(what string, xs, ys []float64) (plotter.XYs, error) {
	if len(xs) == 0 || len(xs) != len(ys) {
		return nil, fmt.Errorf("%s has %d x and %d y values (want equal, non-zero)", what, len(xs), len(ys))
	}
	if err := checkFinite(what+" x", xs); err != nil {
		return nil, err
	}
	if err := checkFinite(what+" y", ys); err != nil {
		return nil, err
	}
	xys := make(plotter.XYs, len(xs))
	for j := range xs {
		xys[j] = plotter.XY{X: xs[j], Y: ys[j]}
	}
	return xys, nil
}

// checkGroups requires at least one group, each non-empty and finite.
func checkGroups(kind, title string, groups []Group) error {
	if len(groups) == 0 {
		return fmt.Errorf("%s %q: no groups", kind, title)
	}
	for _, g := range groups {
		if len(g.Values) == 0 {
			return fmt.Errorf("%s %q: group %q is empty", kind, title, g.Name)
		}
		if err := checkFinite(fmt.Sprintf("%s %q: group %q", kind, title, g.Name), g.Values); err != nil {
			return err
		}
	}
	return nil
}

// Lines is a line chart with one line per series, in the palette's colours,
// with a marker at each point unless the series has more than 40 points.
func Lines(title, xLabel, yLabel string, series []Series) (*plot.Plot, error) {
	if len(series) == 0 {
		return nil, fmt.Errorf("lines %q: no series", title)
	}
	p := newPlot(title, xLabel, yLabel)
	p.Add(lightGrid())
	for i, s := range series {
		xys, err := pointsOf(fmt.Sprintf("lines %q: series %q", title, s.Name), s.X, s.Y)
		if err != nil {
			return nil, err
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("lines %q: series %q: %w", title, s.Name, err)
		}
		l.Color = SeriesColor(i)
		l.Width = vg.Points(1.8)
		thumbs := []plot.Thumbnailer{l}
		if len(xys) > maxMarkers { // a dense series is a curve; markers would only blur it
			l.Width = vg.Points(1.2)
			p.Add(l)
		} else {
			pts.Color = SeriesColor(i)
			pts.Shape = plotutil.Shape(i)
			pts.Radius = vg.Points(2.5)
			p.Add(l, pts)
			thumbs = append(thumbs, pts)
		}
		if s.Name != "" {
			p.Legend.Add(s.Name, thumbs...)
		}
	}
	padRange(&p.X, 0.03)
	padRange(&p.Y, 0.05)
	p.Y.Max += legendRoom(p.Y.Max-p.Y.Min, named(series))
	return p, nil
}

// named counts the series with a name (a legend entry).
func named(series []Series) int {
	n := 0
	for _, s := range series {
		if s.Name != "" {
			n++
		}
	}
	return n
}

// legendRoom is the headroom above the data, in data units of an axis of the
// given span, that keeps a legend of n entries clear of the data.
func legendRoom(span float64, n int) float64 {
	return span * 0.075 * float64(n)
}

// maxMarkers is the most points a line of Lines gets markers for.
const maxMarkers = 40

// lightGrid returns grid lines in the house's light grey.
func lightGrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = gridColor
	g.Horizontal.Color = gridColor
	return g
}

// LayerAccuracy is a line chart of an accuracy (0..1) per layer, one line per
// series (e.g. "steered" and "unsteered", or one per instruction type). The
// Y axis spans 0..1 (with a margin) and the X axis ticks fall on whole layers;
// x = -1 is the "no steering" candidate of a layer search and is labelled
// "none".
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
	p.Y.Min, p.Y.Max = -0.04, 1.04+legendRoom(1.08, named(series))
	p.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: "0"}, {Value: 0.25, Label: "0.25"},
		{Value: 0.5, Label: "0.5"}, {Value: 0.75, Label: "0.75"}, {Value: 1, Label: "1"}})
	p.X.Tick.Marker = layerTicks{}
	return p, nil
}

// layerTicks are integerTicks on a layer axis, where -1 (no steering) reads
// "none".
type layerTicks struct{}

// Ticks implements plot.Ticker.
func (layerTicks) Ticks(min, max float64) []plot.Tick {
	ts := integerTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Value == -1 {
			ts[i].Label = "none"
		}
	}
	return ts
}

// integerTicks places major ticks on whole numbers (at most about ten).
type integerTicks struct{}

// Ticks implements plot.Ticker.
func (integerTicks) Ticks(min, max float64) []plot.Tick {
	lo, hi := math.Ceil(min), math.Floor(max)
	if hi < lo {
		return cleanTicks{}.Ticks(min, max)
	}
	step := math.Max(1, math.Ceil((hi-lo)/10))
	var ts []plot.Tick
	for v := lo; v <= hi; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: FormatNumber(v)})
	}
	return ts
}

// ProjectionHistogram overlays one histogram per group (translucent bars,
// bins shared by all groups) of values projected onto a direction.
func ProjectionHistogram(title string, groups []Group, bins int) (*plot.Plot, error) {
	if err := checkGroups("projection histogram", title, groups); err != nil {
		return nil, err
	}
	if bins <= 0 {
		return nil, fmt.Errorf("projection histogram %q: bins = %d, want > 0", title, bins)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, g := range groups {
		for _, v := range g.Values {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi == lo { // one distinct value: give the single bin some width
		lo, hi = lo-0.5, hi+0.5
	}
	width := (hi - lo) / float64(bins)
	p := newPlot(title, "projection onto direction", "count")
	maxCount := 0.0
	for gi, g := range groups {
		h := &plotter.Histogram{Width: width, Bins: make([]plotter.HistogramBin, bins)}
		for b := range h.Bins {
			h.Bins[b].Min = lo + float64(b)*width
			h.Bins[b].Max = lo + float64(b+1)*width
		}
		for _, v := range g.Values {
			b := min(int((v-lo)/width), bins-1)
			h.Bins[b].Weight++
			maxCount = math.Max(maxCount, h.Bins[b].Weight)
		}
		h.FillColor = withAlpha(SeriesColor(gi), 150)
		h.LineStyle = draw.LineStyle{Color: SeriesColor(gi), Width: vg.Points(0.8)}
		p.Add(h)
		p.Legend.Add(fmt.Sprintf("%s (n=%d)", g.Name, len(g.Values)), h)
	}
	padRange(&p.X, 0.03)
	p.Y.Min = 0
	p.Y.Max = maxCount * (1.15 + 0.1*float64(len(groups))) // headroom for the legend
	return p, nil
}

// ProjectionStrip is a strip plot: one row per group, one dot per value
// (spread vertically by a fixed pseudo-random jitter so dense values stay
// visible), and a vertical bar at each group's mean labelled with it.
func ProjectionStrip(title string, groups []Group) (*plot.Plot, error) {
	if err := checkGroups("projection strip", title, groups); err != nil {
		return nil, err
	}
	p := newPlot(title, "projection onto direction", "")
	p.Add(lightGrid())
	names := make([]string, len(groups))
	var means plotter.XYLabels
	scale := 0.0 // the largest |value|: means below 1e-9 of it are summation noise, shown as 0
	for _, g := range groups {
		for _, v := range g.Values {
			scale = math.Max(scale, math.Abs(v))
		}
	}
	for gi, g := range groups {
		names[gi] = g.Name
		s, mean, err := strip(g.Values, float64(gi), 0.5, SeriesColor(gi))
		if err != nil {
			return nil, fmt.Errorf("projection strip %q: group %q: %w", title, g.Name, err)
		}
		if math.Abs(mean) <= 1e-9*scale {
			mean = 0
		}
		m, err := plotter.NewLine(plotter.XYs{{X: mean, Y: float64(gi) - 0.32}, {X: mean, Y: float64(gi) + 0.32}})
		if err != nil {
			return nil, fmt.Errorf("projection strip %q: group %q mean: %w", title, g.Name, err)
		}
		m.Color = color.Black
		m.Width = vg.Points(2)
		p.Add(s, m)
		means.XYs = append(means.XYs, plotter.XY{X: mean, Y: float64(gi) + 0.42})
		means.Labels = append(means.Labels, "mean "+FormatNumber(roundTo(mean, 3)))
	}
	lbl, err := notes(means, color.Black)
	if err != nil {
		return nil, fmt.Errorf("projection strip %q: %w", title, err)
	}
	p.Add(lbl)
	p.NominalY(names...)
	padRange(&p.X, 0.05)
	p.Y.Min, p.Y.Max = -0.6, float64(len(groups))-0.4
	return p, nil
}

// strip returns a scatter of values at x = value, y = row ± a jitter of the
// given total spread, and the values' mean.
func strip(values []float64, row, spread float64, c color.NRGBA) (*plotter.Scatter, float64, error) {
	xys := make(plotter.XYs, len(values))
	mean := 0.0
	for i, v := range values {
		xys[i].X = v
		xys[i].Y = row + spread*(jitter(uint64(i))-0.5)
		mean += v
	}
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, 0, err
	}
	s.Color = withAlpha(c, 200)
	s.Shape = draw.CircleGlyph{}
	s.Radius = vg.Points(2.5)
	return s, mean / float64(len(values)), nil
}

// roundTo rounds v to n significant digits.
func roundTo(v float64, n int) float64 {
	if v == 0 {
		return 0
	}
	e := math.Pow(10, float64(n-1)-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*e) / e
}

// notes returns text labels at points in the house's note style.
func notes(xyl plotter.XYLabels, c color.Color) (*plotter.Labels, error) {
	lbl, err := plotter.NewLabels(xyl)
	if err != nil {
		return nil, err
	}
	for i := range lbl.TextStyle {
		lbl.TextStyle[i] = noteStyle(c, noteSize)
	}
	return lbl, nil
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
