package plots

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Distributions compares the distributions of groups side by side (e.g. the
// lengths of the responses at each steering coefficient): per group a box
// plot — the box spans the quartiles, the bar inside is the median, the
// whiskers reach the farthest values within 1.5 interquartile ranges, values
// beyond are drawn as circles — over the individual values as jittered dots.
func Distributions(title, xLabel, yLabel string, groups []Group) (*plot.Plot, error) {
	if err := checkGroups("distributions", title, groups); err != nil {
		return nil, err
	}
	p := newPlot(title, xLabel, yLabel)
	grid := lightGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	names := make([]string, len(groups))
	for gi, g := range groups {
		names[gi] = g.Name
		box, err := plotter.NewBoxPlot(vg.Points(28), float64(gi), plotter.Values(g.Values))
		if err != nil {
			return nil, fmt.Errorf("distributions %q: group %q: %w", title, g.Name, err)
		}
		c := SeriesColor(gi)
		box.FillColor = withAlpha(c, 60)
		line := draw.LineStyle{Color: textColor(gi), Width: vg.Points(1.2)}
		box.BoxStyle, box.WhiskerStyle = line, line
		box.MedianStyle = draw.LineStyle{Color: textColor(gi), Width: vg.Points(2.5)}
		box.GlyphStyle = draw.GlyphStyle{Color: textColor(gi), Radius: vg.Points(2.5), Shape: draw.RingGlyph{}}
		dots, _, err := strip(g.Values, 0, 0.45, c)
		if err != nil {
			return nil, fmt.Errorf("distributions %q: group %q: %w", title, g.Name, err)
		}
		for i := range dots.XYs { // vertical strip: values on Y, jitter on X
			dots.XYs[i].X, dots.XYs[i].Y = float64(gi)+dots.XYs[i].Y, dots.XYs[i].X
		}
		dots.Color = withAlpha(c, 110)
		dots.Radius = vg.Points(2)
		p.Add(dots, box)
	}
	p.NominalX(names...)
	tiltLongLabels(&p.X, names)
	p.X.Tick.Label.Font = sans(tickSize, false)
	p.X.Min, p.X.Max = -0.6, float64(len(groups))-0.4
	padRange(&p.Y, 0.06)
	return p, nil
}
