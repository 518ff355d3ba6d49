// Package gonbplot shows plots charts, HTML tables and token highlights in a
// GoNB notebook through gonbui. Outside a notebook (gonbui.IsNotebook false)
// the functions render but display nothing, so code using them also runs in
// tests and programs.
//
// GoNB may drop the last display of a cell if the cell's program exits
// before it is sent; end such cells with gonbui.Sync() (or call Sync here).
package gonbplot

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
	"gonum.org/v1/plot/vg"

	"github.com/gosteer/gosteer/plots"
)

// SVG renders p (a *plot.Plot or any plots.Chart, e.g. plots.Multiples) as
// SVG at the given size (zero: plots' default size) and displays it in the
// notebook (GoNB embeds it as HTML, which also survives nbconvert's HTML
// export).
func SVG(p plots.Chart, w, h vg.Length) error {
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

// PNG renders p (a *plot.Plot or any plots.Chart) as PNG at the given size
// (zero: plots' default size; plots.PNGDPI dots per inch) and displays it in
// the notebook at that size in CSS pixels (width and height metadata), the
// same size as the SVG of the chart, sharp on high-density screens.
func PNG(p plots.Chart, w, h vg.Length) error {
	data, err := plots.Render(p, plots.PNG, w, h)
	if err != nil {
		return fmt.Errorf("display: %w", err)
	}
	if gonbui.IsNotebook {
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("display: %w", err)
		}
		px := func(n int) vg.Length { return vg.Length(n) * vg.Inch / plots.PNGDPI }
		gonbui.SendData(pngDisplay(data, px(cfg.Width), px(cfg.Height)))
	}
	return nil
}

// pngDisplay is the display message of a PNG of w×h: the image and its size
// in CSS pixels (96 per inch) as Jupyter's image metadata. The size sits at
// the top level of the metadata, where Jupyter also looks: GoNB sends
// metadata with encoding/gob, which takes basic values only.
func pngDisplay(data []byte, w, h vg.Length) *protocol.DisplayData {
	css := func(l vg.Length) int { return int(math.Round(l.Points() * 96 / 72)) }
	return &protocol.DisplayData{
		Data:     map[protocol.MIMEType]any{protocol.MIMEImagePNG: data},
		Metadata: map[string]any{"width": css(w), "height": css(h)},
	}
}

// Table displays an HTML table (cells are escaped; see plots.HTMLTable).
func Table(header []string, rows [][]string) {
	gonbui.DisplayHtml(plots.HTMLTable(header, rows))
}

// HTML displays an HTML fragment as it is (the caller escapes its text).
func HTML(fragment string) {
	gonbui.DisplayHtml(fragment)
}

// Tokens displays tokens with backgrounds coloured by their signed values
// (see plots.TokenHighlight; limit 0: the largest |value|).
func Tokens(title string, tokens []string, values []float64, limit float64) error {
	h, err := plots.TokenHighlight(title, tokens, values, limit)
	if err != nil {
		return fmt.Errorf("display: %w", err)
	}
	gonbui.DisplayHtml(h)
	return nil
}

// Sync waits until everything displayed so far has reached the notebook.
func Sync() { gonbui.Sync() }
