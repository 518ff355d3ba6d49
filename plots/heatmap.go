package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
)

// CosineHeatmap is a heatmap of a square matrix of cosine similarities
// (values in -1..1, e.g. between per-layer or per-instruction directions),
// with labels on both axes, the diverging palette fixed to -1..1 and each
// cell's value written in it.
func CosineHeatmap(title string, labels []string, sim [][]float64) (*plot.Plot, error) {
	n := len(labels)
	if n == 0 {
		return nil, fmt.Errorf("cosine heatmap %q: no labels", title)
	}
	if len(sim) != n {
		return nil, fmt.Errorf("cosine heatmap %q: %d rows for %d labels", title, len(sim), n)
	}
	for i, row := range sim {
		for j, v := range row {
			if v < -1-1e-6 || v > 1+1e-6 {
				return nil, fmt.Errorf("cosine heatmap %q: [%d][%d] = %v outside -1..1", title, i, j, v)
			}
		}
	}
	p, err := Heatmap(title, labels, labels, sim, 1)
	if err != nil {
		return nil, fmt.Errorf("cosine heatmap: %w", err)
	}
	return p, nil
}

// Heatmap draws the matrix z (rows labelled rowLabels from the top, columns
// colLabels) on the diverging blue–white–orange scale from -limit (blue)
// through 0 (white) to +limit (orange), limit 0 meaning the largest |z|, and
// writes each cell's value in it (black or white, whichever reads better on
// the cell; omitted when the grid is too dense to read). The X axis label
// states the scale.
func Heatmap(title string, rowLabels, colLabels []string, z [][]float64, limit float64) (*plot.Plot, error) {
	rows, cols := len(rowLabels), len(colLabels)
	if rows == 0 || cols == 0 {
		return nil, fmt.Errorf("heatmap %q: %d row and %d column labels, want some of each", title, rows, cols)
	}
	if len(z) != rows {
		return nil, fmt.Errorf("heatmap %q: %d rows for %d labels", title, len(z), rows)
	}
	if limit < 0 || math.IsNaN(limit) || math.IsInf(limit, 0) {
		return nil, fmt.Errorf("heatmap %q: limit %v, want a finite value >= 0", title, limit)
	}
	auto := limit == 0
	for i, row := range z {
		if len(row) != cols {
			return nil, fmt.Errorf("heatmap %q: row %d has %d values, want %d", title, i, len(row), cols)
		}
		if err := checkFinite(fmt.Sprintf("heatmap %q: row %d", title, i), row); err != nil {
			return nil, err
		}
		for _, v := range row {
			if auto {
				limit = math.Max(limit, math.Abs(v))
			}
		}
	}
	if limit == 0 {
		limit = 1
	}
	h := plotter.NewHeatMap(matrix{z: z, limit: limit}, divergingPalette(101))
	h.Min, h.Max = -limit, limit
	p := newPlot(title, fmt.Sprintf("colour: -%s blue · 0 white · +%s orange", FormatNumber(limit), FormatNumber(limit)), "")
	p.X.Label.TextStyle.Font = sans(noteSize, false)
	p.Add(h)
	if size := cellFontSize(rows, cols); size > 0 {
		var cells plotter.XYLabels
		for i := range rows {
			for j := range cols {
				cells.XYs = append(cells.XYs, plotter.XY{X: float64(j), Y: float64(i)})
				cells.Labels = append(cells.Labels, valueLabel(z[i][j]))
			}
		}
		lbl, err := plotter.NewLabels(cells)
		if err != nil {
			return nil, fmt.Errorf("heatmap %q: %w", title, err)
		}
		for k := range lbl.TextStyle {
			v := z[k/cols][k%cols]
			lbl.TextStyle[k] = noteStyle(textOn(Diverging(v/limit)), size)
		}
		p.Add(lbl)
	}
	p.NominalX(colLabels...)
	tiltLongLabels(&p.X, colLabels)
	// Row 0 at the top, as matrices are read.
	p.NominalY(rowLabels...)
	p.Y.Scale = plot.InvertedScale{Normalizer: p.Y.Scale}
	p.X.Tick.Label.Font = sans(tickSize, false)
	p.Y.Tick.Label.Font = sans(tickSize, false)
	return p, nil
}

// cellFontSize is the size in points of the values written in a heatmap's
// cells: large for a few cells, smaller for more, none beyond 16 per side.
func cellFontSize(rows, cols int) float64 {
	switch n := max(rows, cols); {
	case n <= 5:
		return 12
	case n <= 8:
		return 10
	case n <= 12:
		return 8
	case n <= 16:
		return 6.5
	default:
		return 0
	}
}

// tiltLongLabels turns the tick labels of a nominal X axis by 30° when they
// would not fit side by side.
func tiltLongLabels(a *plot.Axis, labels []string) {
	total := 0
	for _, l := range labels {
		total += len(l) + 2
	}
	if total > 60 {
		a.Tick.Label.Rotation = math.Pi / 6
		a.Tick.Label.XAlign = draw.XRight
		a.Tick.Label.YAlign = draw.YTop
	}
}

// matrix adapts a rectangular matrix to plotter.GridXYZ: column c, row r is
// z[r][c], clamped to ±limit (a cosine of 1.0000001 would otherwise fall
// outside the palette and be drawn in no colour).
type matrix struct {
	z     [][]float64
	limit float64
}

func (m matrix) Dims() (c, r int) { return len(m.z[0]), len(m.z) }
func (m matrix) Z(c, r int) float64 {
	return math.Max(-m.limit, math.Min(m.limit, m.z[r][c]))
}
func (m matrix) X(c int) float64 { return float64(c) }
func (m matrix) Y(r int) float64 { return float64(r) }
