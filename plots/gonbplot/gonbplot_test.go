package gonbplot

import (
	"bytes"
	"encoding/gob"
	"strings"
	"testing"

	"github.com/janpfeifer/gonb/gonbui/protocol"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/gosteer/gosteer/plots"
)

// Outside a notebook the functions must render (and so report bad plots)
// without displaying or blocking.
func TestOutsideNotebook(t *testing.T) {
	p, err := plots.Lines("t", "x", "y", []plots.Series{{Name: "a", X: []float64{0, 1}, Y: []float64{1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	for name, show := range map[string]func(*plot.Plot) error{
		"svg": func(p *plot.Plot) error { return SVG(p, 0, 0) },
		"png": func(p *plot.Plot) error { return PNG(p, 0, 0) },
	} {
		if err := show(p); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := show(nil); err == nil || !strings.Contains(err.Error(), "nil plot") {
			t.Errorf("%s(nil): got %v, want nil plot error", name, err)
		}
	}
	Table([]string{"a"}, [][]string{{"1"}})
	Sync()
}

func TestSVGElement(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<?xml version=\"1.0\"?>\n<!-- Generated -->\n<svg width=\"1\"></svg>\n", "<svg width=\"1\"></svg>\n"},
		{"<svg></svg>", "<svg></svg>"},
		{"no svg", "no svg"},
	}
	for _, tc := range tests {
		if got := svgElement([]byte(tc.in)); got != tc.want {
			t.Errorf("svgElement(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestPNGDisplay checks that a PNG is shown at its size in CSS pixels, not
// at its pixel size (which is 1.5× larger at 144 dpi).
func TestPNGDisplay(t *testing.T) {
	tests := []struct {
		w, h         vg.Length
		wantW, wantH int
	}{
		{plots.DefaultWidth, plots.DefaultHeight, 605, 378},
		{3 * vg.Inch, 2 * vg.Inch, 288, 192},
	}
	for _, tc := range tests {
		d := pngDisplay([]byte{1}, tc.w, tc.h)
		var buf bytes.Buffer // GoNB sends it with encoding/gob
		if err := gob.NewEncoder(&buf).Encode(d); err != nil {
			t.Errorf("gob cannot send the display message: %v", err)
		}
		if md := d.Metadata; md["width"] != tc.wantW || md["height"] != tc.wantH {
			t.Errorf("pngDisplay(%v, %v) metadata %v, want width %d height %d", tc.w, tc.h, d.Metadata, tc.wantW, tc.wantH)
		}
		if b, ok := d.Data[protocol.MIMEImagePNG].([]byte); !ok || len(b) != 1 {
			t.Errorf("pngDisplay data %v, want the PNG bytes", d.Data)
		}
	}
}
