package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// GroupedBars is a bar chart of categories × groups: along X one cluster per
// category (e.g. an instruction), in each cluster one bar per group (e.g. a
// condition: with the instruction, without, steered), each bar labelled with
// its value. groups[g].Values[c] is group g's value for category c. The Y axis
// starts at 0 unless some value is negative.
func GroupedBars(title, yLabel string, categories []string, groups []Group) (*plot.Plot, error) {
	if len(categories) == 0 {
		return nil, fmt.Errorf("grouped bars %q: no categories", title)
	}
	if err := checkGroups("grouped bars", title, groups); err != nil {
		return nil, err
	}
	lo, hi := 0.0, 0.0
	for _, g := range groups {
		if len(g.Values) != len(categories) {
			return nil, fmt.Errorf("grouped bars %q: group %q has %d values for %d categories", title, g.Name, len(g.Values), len(categories))
		}
		for _, v := range g.Values {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	p := newPlot(title, "", yLabel)
	grid := lightGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	// The bars of a cluster share 80% of the distance between categories.
	w := 0.8 / float64(len(groups))
	var labels plotter.XYLabels
	var styles []draw.TextStyle
	size := float64(noteSize)
	if len(groups)*len(categories) > 16 {
		size = noteSize - 1.5
	}
	for gi, g := range groups {
		b := &bars{width: w, fill: SeriesColor(gi)}
		for c, v := range g.Values {
			x := float64(c) + w*(float64(gi)-float64(len(groups)-1)/2)
			b.xs, b.ys = append(b.xs, x), append(b.ys, v)
			labels.XYs = append(labels.XYs, plotter.XY{X: x, Y: v})
			labels.Labels = append(labels.Labels, valueLabel(v))
			st := noteStyle(textColor(gi), size)
			st.YAlign = draw.YBottom
			if v < 0 {
				st.YAlign = draw.YTop
			}
			styles = append(styles, st)
		}
		p.Add(b)
		p.Legend.Add(g.Name, b)
	}
	lbl, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, fmt.Errorf("grouped bars %q: %w", title, err)
	}
	lbl.TextStyle = styles
	p.Add(lbl)
	p.NominalX(categories...)
	tiltLongLabels(&p.X, categories)
	p.X.Tick.Label.Font = sans(tickSize, false)
	p.X.Min, p.X.Max = -0.5, float64(len(categories))-0.5
	span := math.Max(hi-lo, 1e-9)
	p.Y.Min = lo - 0.1*span*b2f(lo < 0)
	p.Y.Max = hi + span*(0.1+0.09*float64(len(groups))) // room for value labels and the legend
	return p, nil
}

// b2f is 1 for true and 0 for false.
func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// textColor is the colour of value labels of the i-th series: the series'
// colour darkened enough to read as text on white.
func textColor(i int) color.NRGBA {
	c := SeriesColor(i)
	f := func(v uint8) uint8 { return uint8(float64(v) * 0.7) }
	return color.NRGBA{f(c.R), f(c.G), f(c.B), 0xFF}
}

// bars is a plotter of vertical bars from 0 to ys[i], centred on xs[i], of a
// width in data units (gonum's BarChart takes its width in points, which
// cannot line bars up with labels placed in data units).
type bars struct {
	xs, ys []float64
	width  float64
	fill   color.Color
}

// Plot implements plot.Plotter.
func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	c.SetColor(b.fill)
	for i, x := range b.xs {
		x0, x1 := trX(x-b.width/2), trX(x+b.width/2)
		y0, y1 := trY(0), trY(b.ys[i])
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		c.FillPolygon(b.fill, c.ClipPolygonXY(pts))
	}
}

// DataRange implements plot.DataRanger.
func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for i, x := range b.xs {
		xmin, xmax = math.Min(xmin, x-b.width/2), math.Max(xmax, x+b.width/2)
		ymin, ymax = math.Min(ymin, b.ys[i]), math.Max(ymax, b.ys[i])
	}
	return xmin, xmax, ymin, ymax
}

// Thumbnail implements plot.Thumbnailer (the legend's swatch).
func (b *bars) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(b.fill, c.ClipPolygonY(pts))
}
