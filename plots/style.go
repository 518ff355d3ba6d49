package plots

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The house style, shared by every chart of the package.
//
// Colours: categorical series take the Okabe–Ito palette (Okabe & Ito, 2008),
// which stays distinguishable under the common forms of colour blindness;
// signed values (cosines, projections) take a diverging blue–white–orange
// scale, whose two ends differ in lightness as well as hue.
//
// Text: Liberation Sans (shipped with gonum/plot as Go code, so no system font
// is read), at sizes chosen for a chart shown about 600 CSS pixels wide in a
// notebook. In SVG output the font names fall back to Arial, Helvetica and
// sans-serif, which share its metrics, for browsers without Liberation Sans.
//
// Numbers: tick labels carry no useless decimals ("-25", "0.5", never
// "-25.00"), and data never touches the frame: every axis range is widened
// by a margin beyond its extreme values.

// Palette is the Okabe–Ito colour-blind-safe palette in the order series use
// it: blue, orange, bluish green, vermillion, reddish purple, sky blue,
// yellow, black.
var Palette = []color.NRGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0xF0, 0xE4, 0x42, 0xFF}, // yellow
	{0x00, 0x00, 0x00, 0xFF}, // black
}

// SeriesColor returns the colour of the i-th series (Palette, cycling).
func SeriesColor(i int) color.NRGBA {
	return Palette[((i%len(Palette))+len(Palette))%len(Palette)]
}

// withAlpha returns c with alpha a (0..255), for translucent fills.
func withAlpha(c color.NRGBA, a uint8) color.NRGBA {
	c.A = a
	return c
}

// divergingStops are the colours of Diverging at t = -1, -0.5, 0, 0.5, 1: a
// dark blue through white to a dark orange.
var divergingStops = [5]color.NRGBA{
	{0x21, 0x66, 0xAC, 0xFF},
	{0x92, 0xC5, 0xDE, 0xFF},
	{0xF7, 0xF7, 0xF7, 0xFF},
	{0xFD, 0xB8, 0x63, 0xFF},
	{0xB3, 0x58, 0x06, 0xFF},
}

// Diverging maps t in -1..1 (clamped; NaN counts as 0) to the diverging
// blue–white–orange scale: negative values blue, zero white, positive values
// orange, by piecewise-linear interpolation of five sRGB stops.
func Diverging(t float64) color.NRGBA {
	if math.IsNaN(t) {
		t = 0
	}
	t = math.Max(-1, math.Min(1, t))
	x := (t + 1) * 2 // 0..4
	i := int(math.Min(3, math.Floor(x)))
	f := x - float64(i)
	a, b := divergingStops[i], divergingStops[i+1]
	mix := func(p, q uint8) uint8 { return uint8(math.Round(float64(p) + f*(float64(q)-float64(p)))) }
	return color.NRGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xFF}
}

// divergingPalette implements palette.Palette with n steps of Diverging.
type divergingPalette int

// Colors implements palette.Palette.
func (n divergingPalette) Colors() []color.Color {
	cs := make([]color.Color, int(n))
	for i := range cs {
		cs[i] = Diverging(2*float64(i)/float64(int(n)-1) - 1)
	}
	return cs
}

// textOn returns black or white, whichever reads better on background c
// (by its relative luminance).
func textOn(c color.NRGBA) color.Color {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	if 0.2126*lin(c.R)+0.7152*lin(c.G)+0.0722*lin(c.B) < 0.25 {
		return color.White
	}
	return color.Black
}

// hexColor writes c as a CSS colour (#rrggbb).
func hexColor(c color.NRGBA) string {
	return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B)
}

// Font sizes of the house style.
const (
	titleSize = 13
	labelSize = 11
	tickSize  = 10
	noteSize  = 9 // value labels, legends
)

// sans returns Liberation Sans at size points (bold when bold is set).
func sans(size float64, bold bool) font.Font {
	f := font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(size)}
	if bold {
		f.Weight = xfont.WeightBold
	}
	return f
}

// gridColor is the colour of grid lines and other light rules.
var gridColor = color.NRGBA{0xDD, 0xDD, 0xDD, 0xFF}

// newPlot returns a plot in the house style: title, axis labels, sans-serif
// text, clean tick labels and a legend at the top right.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(titleSize, true)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(labelSize, false)
		a.Tick.Label.Font = sans(tickSize, false)
		a.Tick.Marker = cleanTicks{}
		a.LineStyle.Color = color.NRGBA{0x55, 0x55, 0x55, 0xFF}
		a.Tick.LineStyle.Color = a.LineStyle.Color
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.TextStyle.Font = sans(noteSize+1, false)
	p.Legend.Top = true
	return p
}

// padRange widens the axis range by frac of its span on each side (or by 0.5
// when the span is zero), so that no data point sits on the frame.
func padRange(a *plot.Axis, frac float64) {
	span := a.Max - a.Min
	if span <= 0 || math.IsInf(span, 0) || math.IsNaN(span) {
		a.Min, a.Max = a.Min-0.5, a.Max+0.5
		return
	}
	a.Min -= frac * span
	a.Max += frac * span
}

// cleanTicks is gonum/plot's default tick placement with labels written
// without useless decimals.
type cleanTicks struct{}

// Ticks implements plot.Ticker.
func (cleanTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = FormatNumber(ts[i].Value)
		}
	}
	return ts
}

// FormatNumber writes v for a tick or a value label: at most four
// significant decimals, no trailing zeros, no "-0", and exponent notation
// only for very large or very small magnitudes (1e+06, 2.5e-05).
func FormatNumber(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1e6 || a < 1e-4:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	decimals := max(0, 3-int(math.Floor(math.Log10(a))))
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if decimals > 0 {
		for s[len(s)-1] == '0' {
			s = s[:len(s)-1]
		}
		if s[len(s)-1] == '.' {
			s = s[:len(s)-1]
		}
	}
	if s == "-0" {
		return "0"
	}
	return s
}

// valueLabel formats a value drawn next to a bar or in a cell: two decimals
// for magnitudes below 10 (accuracies, cosines), fewer above.
func valueLabel(v float64) string {
	switch a := math.Abs(v); {
	case a < 10:
		return fmt.Sprintf("%.2f", v)
	case a < 100:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// noteStyle returns a text style for annotations (value labels) of the given
// colour, centred horizontally on its point.
func noteStyle(c color.Color, size float64) (s draw.TextStyle) {
	s.Color = c
	s.Font = sans(size, false)
	s.XAlign = draw.XCenter
	s.YAlign = draw.YCenter
	s.Handler = plot.DefaultTextHandler
	return s
}
