package paper

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/gosteer/gosteer/plots"
	"github.com/gosteer/gosteer/steerlib/internal/atomicfile"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// Table is a result table: its Markdown is table.md, its CSV table.csv.
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
}

// Markdown renders the table with a heading.
func (t Table) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n| %s |\n|", t.Title, strings.Join(t.Header, " | "))
	for range t.Header {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(r, " | "))
	}
	return b.String()
}

// Figure is one chart of a report, written as NAME.svg and NAME.png.
type Figure struct {
	Name, Caption string
	Plot          *plot.Plot
	// Width is the rendered width (0: plots.DefaultWidth).
	Width vg.Length
}

// Report is what an experiment writes into its folder.
type Report struct {
	Experiment string
	// Title and Intro head report.html.
	Title, Intro string
	// Tables: the first is the paper's table (table.md, table.csv); all go
	// into table.md and report.html.
	Tables  []Table
	Figures []Figure
	// Plan is the chosen steering (plan.json).
	Plan any
	// Examples are a few responses shown in report.html.
	Examples []Row
	// Run describes the run (models, options, fingerprint) in report.html
	// and table.md.
	Run string
}

// f3 formats an accuracy.
func f3(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) }

// Write writes table.md, table.csv, plan.json, the figures and report.html
// into dir, each through a temporary file and a rename.
func (r *Report) Write(dir string) error {
	var md strings.Builder
	fmt.Fprintf(&md, "## %s\n\n%s\n\n%s\n\n", r.Title, r.Intro, r.Run)
	for _, t := range r.Tables {
		md.WriteString(t.Markdown() + "\n")
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "table.md"), []byte(md.String()), nil); err != nil {
		return err
	}
	var cb bytes.Buffer
	w := csv.NewWriter(&cb)
	if len(r.Tables) > 0 {
		_ = w.Write(r.Tables[0].Header)
		_ = w.WriteAll(r.Tables[0].Rows)
	}
	w.Flush()
	if err := atomicfile.WriteBytes(filepath.Join(dir, "table.csv"), cb.Bytes(), nil); err != nil {
		return err
	}
	if r.Plan != nil {
		b, err := json.MarshalIndent(r.Plan, "", " ")
		if err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		if err := atomicfile.WriteBytes(filepath.Join(dir, "plan.json"), append(b, '\n'), nil); err != nil {
			return err
		}
	}
	pngs := map[string][]byte{}
	for _, f := range r.Figures {
		for _, ft := range []plots.Format{plots.SVG, plots.PNG} {
			data, err := plots.Render(f.Plot, ft, f.Width, 0)
			if err != nil {
				return fmt.Errorf("figure %s: %w", f.Name, err)
			}
			if err := atomicfile.WriteBytes(filepath.Join(dir, f.Name+"."+string(ft)), data, nil); err != nil {
				return err
			}
			if ft == plots.PNG {
				pngs[f.Name] = data
			}
		}
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "report.html"), []byte(r.html(pngs)), nil)
}

// html renders the self-contained results page (figures inline as PNG data).
func (r *Report) html(pngs map[string][]byte) string {
	var b strings.Builder
	e := html.EscapeString
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>\n", e(r.Title))
	b.WriteString("<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}" +
		"table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}" +
		"td:first-child,th:first-child{text-align:left}img{max-width:100%}pre{white-space:pre-wrap;background:#f4f4f4;padding:6px}</style>\n")
	fmt.Fprintf(&b, "</head><body>\n<h1>%s</h1>\n<p>%s</p>\n<p><small>%s; written %s</small></p>\n", e(r.Title), e(r.Intro), e(r.Run),
		time.Now().UTC().Format(time.RFC3339))
	for _, t := range r.Tables {
		fmt.Fprintf(&b, "<h2>%s</h2>\n%s", e(t.Title), plots.HTMLTable(t.Header, t.Rows))
	}
	for _, f := range r.Figures {
		fmt.Fprintf(&b, "<h2>%s</h2>\n<p>%s (%s.svg, %s.png)</p>\n<img alt=\"%s\" src=\"data:image/png;base64,%s\">\n", e(f.Plot.Title.Text), e(f.Caption),
			e(f.Name), e(f.Name), e(f.Name),
			base64.StdEncoding.EncodeToString(pngs[f.Name]))
	}
	if len(r.Examples) > 0 {
		b.WriteString("<h2>Examples</h2>\n")
		for _, x := range r.Examples {
			fmt.Fprintf(&b, "<p><b>%s</b> — %s, steering %s</p>\n<pre>%s</pre>\n<pre>%s</pre>\n", e(x.Instruction), e(x.Condition),
				e(describe(x.Steer)), e(x.Prompt), e(x.Response))
		}
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

// describe writes steerings as "vector@layer:op=coef" (or "none").
func describe(st []Steering) string {
	var parts []string
	for _, s := range st {
		if s.Layer != vectors.NoLayer {
			parts = append(parts, fmt.Sprintf("%s@%d:%s=%.3g", s.Vector, s.Layer, s.Op, s.Coef))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " + ")
}

// shareAxis fixes the Y axis of a chart of shares to 0..1 (with a margin),
// so that flat lines are not stretched over an arbitrary range.
func shareAxis(p *plot.Plot) *plot.Plot {
	p.Y.Min, p.Y.Max = -0.02, 1.05
	return p
}

// bars draws values[s][g] (series s in group g) with plots.GroupedBars.
func bars(title, yLabel string, groups, series []string, values [][]float64) (*plot.Plot, error) {
	gs := make([]plots.Group, len(series))
	for i, name := range series {
		gs[i] = plots.Group{Name: name, Values: values[i]}
	}
	return plots.GroupedBars(title, yLabel, groups, gs)
}

// distributions draws one box per labelled group of values.
func distributions(title, xLabel, yLabel string, labels []string, values [][]float64) (*plot.Plot, error) {
	gs := make([]plots.Group, len(labels))
	for i, name := range labels {
		gs[i] = plots.Group{Name: name, Values: values[i]}
	}
	return plots.Distributions(title, xLabel, yLabel, gs)
}
