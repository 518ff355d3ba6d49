package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Multiples is a grid of small charts that share their axes ("small
// multiples"), under one title; Render draws it like a single chart. Build one
// with SmallMultiples or ProjectionMultiples.
type Multiples struct {
	Title  string
	Panels []*plot.Plot // row by row
	Cols   int
}

// SmallMultiples arranges panels row by row in cols columns (0: up to three)
// under title. The panels are changed to share one X range and one Y range
// (the union of theirs), and only the left column keeps Y tick labels and
// the bottom panel of each column its X axis label, so that panels compare at
// a glance.
func SmallMultiples(title string, cols int, panels []*plot.Plot) (*Multiples, error) {
	if len(panels) == 0 {
		return nil, fmt.Errorf("small multiples %q: no panels", title)
	}
	if cols < 0 {
		return nil, fmt.Errorf("small multiples %q: %d columns", title, cols)
	}
	if cols == 0 {
		cols = min(3, len(panels))
	}
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i, p := range panels {
		if p == nil {
			return nil, fmt.Errorf("small multiples %q: panel %d is nil", title, i)
		}
		xmin, xmax = math.Min(xmin, p.X.Min), math.Max(xmax, p.X.Max)
		ymin, ymax = math.Min(ymin, p.Y.Min), math.Max(ymax, p.Y.Max)
	}
	for i, p := range panels {
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, xmax, ymin, ymax
		p.Title.TextStyle.Font = sans(labelSize, true)
		if i%cols != 0 {
			p.Y.Label.Text = ""
			p.Y.Tick.Marker = unlabelled{p.Y.Tick.Marker}
		}
		if i+cols < len(panels) { // a panel below in the same column
			p.X.Label.Text = ""
		}
	}
	return &Multiples{Title: title, Panels: panels, Cols: cols}, nil
}

// unlabelled keeps a ticker's tick positions and drops their labels.
type unlabelled struct{ plot.Ticker }

// Ticks implements plot.Ticker.
func (u unlabelled) Ticks(min, max float64) []plot.Tick {
	ts := u.Ticker.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = " " // still a major tick, with nothing to read
		}
	}
	return ts
}

// Rows is the number of rows of panels.
func (m *Multiples) Rows() int {
	return (len(m.Panels) + m.Cols - 1) / m.Cols
}

// Draw implements Chart: a white background, the title, then the panels
// aligned so that their data areas have equal sizes.
func (m *Multiples) Draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	if m.Title != "" {
		st := text.Style{Color: color.Black, Font: sans(titleSize, true), XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
		c.FillText(st, vg.Point{X: c.Center().X, Y: c.Max.Y - vg.Points(4)}, m.Title)
		c.Max.Y -= st.Height(m.Title) + vg.Points(10)
	}
	rows := m.Rows()
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, m.Cols)
		for k := range m.Cols {
			if i := r*m.Cols + k; i < len(m.Panels) {
				grid[r][k] = m.Panels[i]
			}
		}
	}
	tiles := draw.Tiles{Rows: rows, Cols: m.Cols, PadX: vg.Points(10), PadY: vg.Points(10),
		PadLeft: vg.Points(4), PadRight: vg.Points(8), PadBottom: vg.Points(4)}
	canvases := plot.Align(grid, tiles, c)
	for r := range grid {
		for k, p := range grid[r] {
			if p != nil {
				p.Draw(canvases[r][k])
			}
		}
	}
}

// Panel is one panel of ProjectionMultiples: a title (e.g. "layer 3") and the
// groups whose projections it shows.
type Panel struct {
	Title  string
	Groups []Group
}

// ProjectionMultiples shows one ProjectionStrip per panel (e.g. per layer) as
// small multiples sharing their axes, in cols columns (0: up to three).
func ProjectionMultiples(title string, cols int, panels []Panel) (*Multiples, error) {
	if len(panels) == 0 {
		return nil, fmt.Errorf("projection multiples %q: no panels", title)
	}
	ps := make([]*plot.Plot, len(panels))
	for i, pn := range panels {
		p, err := ProjectionStrip(pn.Title, pn.Groups)
		if err != nil {
			return nil, fmt.Errorf("projection multiples %q: %w", title, err)
		}
		p.X.Label.Text = "projection"
		ps[i] = p
	}
	return SmallMultiples(title, cols, ps)
}
