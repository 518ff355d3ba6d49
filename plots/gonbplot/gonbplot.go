// Package gonbplot shows plots charts and HTML tables in a GoNB notebook
// through gonbui. Outside a notebook (gonbui.IsNotebook false) the Display
// functions render but display nothing, so code using them also runs in
// tests and programs.
//
// GoNB may drop the last display of a cell if the cell's program exits
// before it is sent; end such cells with gonbui.Sync() (or call Sync here).
package gonbplot

import (
	"fmt"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/gosteer/gosteer/plots"
)

// SVG renders p as SVG at the given size (zero: plots' default size) and
// displays it in the notebook (GoNB embeds it as HTML, which also survives
// nbconvert's HTML export).
func SVG(p *plot.Plot, w, h vg.Length) error {
	data, err := plots.Render(p, plots.SVG, w, h)
	if err != nil {
		return fmt.Errorf("display: %w", err)
	}
	gonbui.DisplaySvg(svgElement(data))
	return nil
}

// svgElement drops what precedes the <svg> element (the XML declaration and
// a generator comment), which has no place inside HTML.
func svgElement(data []byte) string {
	s := string(data)
	if i := strings.Index(s, "<svg"); i > 0 {
		return s[i:]
	}
	return s
}

// PNG renders p as PNG at the given size (zero: plots' default size) and
// displays it in the notebook.
func PNG(p *plot.Plot, w, h vg.Length) error {
	data, err := plots.Render(p, plots.PNG, w, h)
	if err != nil {
		return fmt.Errorf("display: %w", err)
	}
	gonbui.DisplayPng(data)
	return nil
}

// Table displays an HTML table (cells are escaped; see plots.HTMLTable).
func Table(header []string, rows [][]string) {
	gonbui.DisplayHtml(plots.HTMLTable(header, rows))
}

// Sync waits until everything displayed so far has reached the notebook.
func Sync() { gonbui.Sync() }
