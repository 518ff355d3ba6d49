package plots

import (
	"fmt"
	"html"
	"image/color"
	"math"
	"strings"
)

// TokenHighlight renders tokens as an HTML fragment in which each token's
// background is coloured by its signed value on the diverging scale (blue
// negative, white zero, orange positive), e.g. the projection of each
// token's activation onto a steering direction. The scale runs from -limit to
// +limit (limit 0: the largest |value|); a legend under the text shows it,
// and hovering a token shows its position, text and value. Token text is
// escaped; spaces are kept, and a newline is shown as ↵ and breaks the line.
func TokenHighlight(title string, tokens []string, values []float64, limit float64) (string, error) {
	if len(tokens) == 0 {
		return "", fmt.Errorf("token highlight %q: no tokens", title)
	}
	if len(values) != len(tokens) {
		return "", fmt.Errorf("token highlight %q: %d values for %d tokens", title, len(values), len(tokens))
	}
	if err := checkFinite(fmt.Sprintf("token highlight %q: values", title), values); err != nil {
		return "", err
	}
	if limit < 0 || math.IsNaN(limit) || math.IsInf(limit, 0) {
		return "", fmt.Errorf("token highlight %q: limit %v, want a finite value >= 0", title, limit)
	}
	if limit == 0 {
		for _, v := range values {
			limit = math.Max(limit, math.Abs(v))
		}
		if limit == 0 {
			limit = 1
		}
	}
	var b strings.Builder
	b.WriteString(`<div class="gosteer-tokens" style="font-family:sans-serif;max-width:60em">` + "\n")
	if title != "" {
		fmt.Fprintf(&b, `<div style="font-weight:bold;margin-bottom:4px">%s</div>`+"\n", html.EscapeString(title))
	}
	b.WriteString(`<div style="font-family:monospace;line-height:1.9;white-space:pre-wrap;word-break:break-word">`)
	for i, tok := range tokens {
		bg := Diverging(values[i] / limit)
		fg := "#000"
		if textOn(bg) == color.White {
			fg = "#fff"
		}
		shown := strings.ReplaceAll(html.EscapeString(tok), "\n", "↵<br>")
		hover := html.EscapeString(fmt.Sprintf("#%d %q: %s", i, tok, FormatNumber(roundTo(values[i], 4))))
		fmt.Fprintf(&b, `<span title="%s" style="background:%s;color:%s;padding:1px 0;margin-right:1px;border-radius:2px">%s</span>`,
			hover, hexColor(bg), fg, shown)
	}
	b.WriteString("</div>\n")
	b.WriteString(tokenLegend(limit))
	b.WriteString("</div>\n")
	return b.String(), nil
}

// tokenLegend is the colour scale of TokenHighlight: a gradient bar from
// -limit to +limit with its ends and middle labelled.
func tokenLegend(limit float64) string {
	stops := make([]string, 0, 9)
	for i := range 9 {
		t := float64(i)/4 - 1
		stops = append(stops, fmt.Sprintf("%s %d%%", hexColor(Diverging(t)), i*100/8))
	}
	l := FormatNumber(roundTo(limit, 3))
	return fmt.Sprintf(`<div style="display:flex;align-items:center;gap:6px;margin-top:6px;font-size:85%%">`+
		`<span>-%s</span><span style="display:inline-block;width:180px;height:10px;border:1px solid #999;`+
		`background:linear-gradient(to right, %s)"></span><span>+%s</span>`+
		`<span style="color:#555">(0 is white; hover a token for its value)</span></div>`+"\n",
		l, strings.Join(stops, ", "), l)
}
