package plots

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Points is one named set of 2-D points, e.g. the difference vectors of one
// instruction projected onto two principal components. Labels, when not
// nil, holds one text per point, drawn beside it ("" for none).
type Points struct {
	Name   string
	X, Y   []float64
	Labels []string
}

// Scatter is a 2-D scatter plot with one colour and marker shape per set of
// points, a legend, and the points' labels written beside them.
func Scatter(title, xLabel, yLabel string, sets []Points) (*plot.Plot, error) {
	if len(sets) == 0 {
		return nil, fmt.Errorf("scatter %q: no point sets", title)
	}
	p := newPlot(title, xLabel, yLabel)
	p.Add(lightGrid())
	var labels plotter.XYLabels
	for i, s := range sets {
		xys, err := pointsOf(fmt.Sprintf("scatter %q: set %q", title, s.Name), s.X, s.Y)
		if err != nil {
			return nil, err
		}
		if s.Labels != nil && len(s.Labels) != len(s.X) {
			return nil, fmt.Errorf("scatter %q: set %q has %d labels for %d points", title, s.Name, len(s.Labels), len(s.X))
		}
		for j := range xys {
			if s.Labels != nil && s.Labels[j] != "" {
				labels.XYs = append(labels.XYs, xys[j])
				labels.Labels = append(labels.Labels, s.Labels[j])
			}
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, fmt.Errorf("scatter %q: set %q: %w", title, s.Name, err)
		}
		sc.Color = SeriesColor(i)
		sc.Shape = plotutil.Shape(i)
		sc.Radius = vg.Points(3.5)
		p.Add(sc)
		if s.Name != "" {
			p.Legend.Add(s.Name, sc)
		}
	}
	if len(labels.XYs) > 0 {
		lbl, err := notes(labels, textColor(len(Palette)-1))
		if err != nil {
			return nil, fmt.Errorf("scatter %q: %w", title, err)
		}
		for i := range lbl.TextStyle {
			lbl.TextStyle[i].XAlign = draw.XLeft
			lbl.TextStyle[i].Font = sans(noteSize-1, false)
		}
		lbl.Offset = vg.Point{X: vg.Points(5)}
		p.Add(lbl)
	}
	padRange(&p.X, 0.08)
	padRange(&p.Y, 0.08)
	return p, nil
}
