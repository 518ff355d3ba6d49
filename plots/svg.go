package plots

import (
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"

	"gonum.org/v1/plot/font"
)

// svgFontFamily is how gonum/plot names the house font in SVG, and
// svgFontFallback the same with fallbacks of equal metrics for browsers that
// lack Liberation Sans.
const (
	svgFontFamily   = "font-family:Liberation Sans;"
	svgFontFallback = "font-family:Liberation Sans,Arimo,Arial,Helvetica,sans-serif;"
)

// svgText matches one text element of gonum/plot's SVG output: attributes,
// style, escaped content.
var svgText = regexp.MustCompile(`(?s)<text ([^>]*?)style="([^"]*)">([^<]*)</text>`)

// svgFontSize and svgBold read the size and weight from a text style.
var (
	svgFontSize = regexp.MustCompile(`font-size:([0-9.]+)px`)
	svgBold     = regexp.MustCompile(`font-weight:bold`)
)

// portableSVG makes gonum/plot's SVG read the same in every browser: the
// font family gets fallbacks, and each text element gets its width as laid
// out with Liberation Sans (textLength), so that a browser that draws it
// with another sans-serif font stretches or squeezes it to the same width
// instead of overflowing labels, legends and cells.
func portableSVG(svg []byte) []byte {
	s := strings.ReplaceAll(string(svg), svgFontFamily, svgFontFallback)
	s = svgText.ReplaceAllStringFunc(s, func(el string) string {
		m := svgText.FindStringSubmatch(el)
		attrs, style, content := m[1], m[2], m[3]
		size := svgFontSize.FindStringSubmatch(style)
		if size == nil || !strings.Contains(style, "Liberation Sans") {
			return el
		}
		pt, err := strconv.ParseFloat(size[1], 64)
		if err != nil || pt <= 0 {
			return el
		}
		face := font.DefaultCache.Lookup(sans(pt, svgBold.MatchString(style)), sans(pt, false).Size)
		w := face.Width(html.UnescapeString(content)).Points()
		if w <= 0 {
			return el
		}
		return fmt.Sprintf(`<text %stextLength="%.2f" lengthAdjust="spacingAndGlyphs" style="%s">%s</text>`, attrs, w, style, content)
	})
	return []byte(s)
}
