package paper

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// groupedBars draws one bar per series within each group: values[s][g] is
// series s in group g (e.g. the four conditions per instruction).
func groupedBars(title, yLabel string, groups, series []string, values [][]float64) (*plot.Plot, error) {
	if len(groups) == 0 || len(series) != len(values) {
		return nil, fmt.Errorf("bars %q: %d groups, %d series names for %d series", title, len(groups), len(series), len(values))
	}
	p := plot.New()
	p.Title.Text, p.Y.Label.Text = title, yLabel
	w := vg.Points(min(14, 220/float64(len(groups)*len(series))))
	for s, vs := range values {
		if len(vs) != len(groups) {
			return nil, fmt.Errorf("bars %q: series %s has %d values for %d groups", title, series[s], len(vs), len(groups))
		}
		bc, err := plotter.NewBarChart(plotter.Values(vs), w)
		if err != nil {
			return nil, fmt.Errorf("bars %q: %w", title, err)
		}
		bc.Color = plotutil.Color(s)
		bc.LineStyle.Width = 0
		bc.Offset = w * vg.Length(float64(s)-float64(len(values)-1)/2)
		p.Add(bc)
		p.Legend.Add(series[s], bc)
	}
	// Headroom above the bars for the legend (values are shares in 0..1).
	p.Y.Min, p.Y.Max = 0, 1.3
	p.Legend.Top, p.Legend.Left = true, true
	p.NominalX(groups...)
	p.X.Tick.Label.Rotation = math.Pi / 8
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YTop
	return p, nil
}

// boxes draws one box plot per labelled group of values (median, quartiles,
// whiskers to 1.5 IQR, outliers).
func boxes(title, xLabel, yLabel string, labels []string, values [][]float64) (*plot.Plot, error) {
	if len(labels) == 0 || len(labels) != len(values) {
		return nil, fmt.Errorf("boxes %q: %d labels for %d groups", title, len(labels), len(values))
	}
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xLabel, yLabel
	for i, vs := range values {
		if len(vs) == 0 {
			return nil, fmt.Errorf("boxes %q: group %s is empty", title, labels[i])
		}
		b, err := plotter.NewBoxPlot(vg.Points(18), float64(i), plotter.Values(vs))
		if err != nil {
			return nil, fmt.Errorf("boxes %q: %w", title, err)
		}
		p.Add(b)
	}
	p.NominalX(labels...)
	pad := 0.05 * max(p.Y.Max-p.Y.Min, 1)
	p.Y.Min, p.Y.Max = p.Y.Min-pad, p.Y.Max+pad
	return p, nil
}

// shareAxis fixes the Y axis of a chart of shares to 0..1 (with a margin),
// so that flat lines are not stretched over an arbitrary range.
func shareAxis(p *plot.Plot) *plot.Plot {
	p.Y.Min, p.Y.Max = -0.02, 1.05
	return p
}
