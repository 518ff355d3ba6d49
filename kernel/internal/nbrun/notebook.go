// Package nbrun executes Jupyter notebooks headless with nbconvert and the
// GoNB kernel, and decides whether they succeeded.
//
// nbconvert alone is not enough to tell: GoNB reports a panic or a failing
// shell command only as text on stderr ("exit status 2"), and with
// --allow-errors a failing cell is recorded as an "error" output while the
// conversion still succeeds. Problems inspects an executed notebook for both.
package nbrun

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"regexp"
	"sort"
	"strings"
)

// MultiLine is notebook text, stored in .ipynb files either as one string or
// as a list of lines.
type MultiLine string

// UnmarshalJSON accepts a string or a list of strings.
func (m *MultiLine) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*m = MultiLine(s)
		return nil
	}
	var parts []string
	if err := json.Unmarshal(data, &parts); err != nil {
		return fmt.Errorf("notebook text: want string or list of strings: %w", err)
	}
	*m = MultiLine(strings.Join(parts, ""))
	return nil
}

// Output is one output of a code cell.
type Output struct {
	// OutputType is "stream", "display_data", "execute_result" or "error".
	OutputType string `json:"output_type"`
	// Name is the stream name ("stdout", "stderr") of stream outputs.
	Name string `json:"name,omitempty"`
	// Text is a stream output's text.
	Text MultiLine `json:"text,omitempty"`
	// Data maps MIME types to the content of display_data and
	// execute_result outputs.
	Data map[string]MultiLine `json:"data,omitempty"`
	// Ename, Evalue and Traceback describe an error output.
	Ename     string      `json:"ename,omitempty"`
	Evalue    string      `json:"evalue,omitempty"`
	Traceback []MultiLine `json:"traceback,omitempty"`
}

// Cell is one notebook cell.
type Cell struct {
	CellType string    `json:"cell_type"`
	Source   MultiLine `json:"source"`
	Outputs  []Output  `json:"outputs,omitempty"`
}

// Notebook is the part of an .ipynb file that nbrun reads.
type Notebook struct {
	Cells    []Cell         `json:"cells"`
	Metadata map[string]any `json:"metadata"`
}

// Parse decodes an .ipynb document.
func Parse(data []byte) (*Notebook, error) {
	var nb Notebook
	if err := json.Unmarshal(data, &nb); err != nil {
		return nil, fmt.Errorf("parse notebook: %w", err)
	}
	return &nb, nil
}

// ReadFile reads and decodes an .ipynb file.
func ReadFile(path string) (*Notebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read notebook: %w", err)
	}
	nb, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return nb, nil
}

// Problem is a sign that a cell failed.
type Problem struct {
	// Cell is the 1-based index of the cell among all cells (as shown when
	// counting cells from the top in Jupyter).
	Cell int
	// Kind is "error output" or "exit status".
	Kind string
	// Detail is the error's name and value, or the stderr line.
	Detail string
	// Context is the text of the error GoNB displayed as HTML in the same
	// cell (e.g. the compiler's message), "" if none.
	Context string
}

// String formats the problem as "cell N: kind: detail".
func (p Problem) String() string {
	return fmt.Sprintf("cell %d: %s: %s", p.Cell, p.Kind, p.Detail)
}

// exitStatusRE matches what Go's os/exec (and so GoNB) writes when a cell's
// program or shell command exits non-zero.
var exitStatusRE = regexp.MustCompile(`\bexit status [0-9]+\b`)

// Problems lists the failures recorded in an executed notebook: every "error"
// output and every stderr stream output that contains "exit status N".
func (nb *Notebook) Problems() []Problem {
	var ps []Problem
	for i, c := range nb.Cells {
		for _, o := range c.Outputs {
			switch {
			case o.OutputType == "error":
				detail := strings.TrimSpace(o.Ename + ": " + o.Evalue)
				if o.Ename == "" {
					detail = strings.TrimSpace(o.Evalue)
				}
				ps = append(ps, Problem{Cell: i + 1, Kind: "error output", Detail: firstLine(detail), Context: gonbErrorText(c)})
			case o.OutputType == "stream" && o.Name == "stderr":
				for _, line := range strings.Split(string(o.Text), "\n") {
					if exitStatusRE.MatchString(line) {
						ps = append(ps, Problem{Cell: i + 1, Kind: "exit status", Detail: strings.TrimSpace(line)})
					}
				}
			}
		}
	}
	return ps
}

// MIMECounts counts the display_data and execute_result outputs of the
// notebook per MIME type.
func (nb *Notebook) MIMECounts() map[string]int {
	counts := map[string]int{}
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			for mime := range o.Data {
				counts[mime]++
			}
		}
	}
	return counts
}

// OutputsOf returns the contents of every display_data or execute_result
// output with the given MIME type, in notebook order.
func (nb *Notebook) OutputsOf(mime string) []string {
	var out []string
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			if v, ok := o.Data[mime]; ok {
				out = append(out, string(v))
			}
		}
	}
	return out
}

// Summary describes the notebook's outputs in one line, e.g.
// "5 code cells, 7 outputs (text/html: 2, text/plain: 3)".
func (nb *Notebook) Summary() string {
	code, outputs := 0, 0
	for _, c := range nb.Cells {
		if c.CellType == "code" {
			code++
		}
		outputs += len(c.Outputs)
	}
	counts := nb.MIMECounts()
	mimes := make([]string, 0, len(counts))
	for m := range counts {
		mimes = append(mimes, m)
	}
	sort.Strings(mimes)
	parts := make([]string, len(mimes))
	for i, m := range mimes {
		parts[i] = fmt.Sprintf("%s: %d", m, counts[m])
	}
	s := fmt.Sprintf("%d code cells, %d outputs", code, outputs)
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

var (
	styleRE = regexp.MustCompile(`(?s)<style>.*?</style>`)
	tagRE   = regexp.MustCompile(`(?s)<[^>]*>`)
)

// maxContextLines bounds Problem.Context.
const maxContextLines = 8

// gonbErrorText returns the text of the error reports GoNB displayed as HTML
// in cell c (they carry the "gonb-err" CSS classes), without styles, tags and
// the hover-only source context.
func gonbErrorText(c Cell) string {
	var lines []string
	for _, o := range c.Outputs {
		h := string(o.Data["text/html"])
		if !strings.Contains(h, "gonb-err") {
			continue
		}
		h = removeDivs(styleRE.ReplaceAllString(h, ""), `<div class="gonb-err-context">`)
		text := html.UnescapeString(tagRE.ReplaceAllString(h, ""))
		for _, l := range strings.Split(text, "\n") {
			l = strings.Join(strings.Fields(l), " ")
			if l == "" || strings.HasPrefix(l, "# gonb_") {
				continue
			}
			if len(lines) == maxContextLines {
				lines = append(lines, "…")
				return strings.Join(lines, "\n")
			}
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// removeDivs removes every div element that starts with open, nested divs
// included.
func removeDivs(h, open string) string {
	for {
		start := strings.Index(h, open)
		if start < 0 {
			return h
		}
		end := len(h) // an unclosed div: drop the rest
		depth := 0
		for i := start; i < len(h); {
			if strings.HasPrefix(h[i:], "<div") {
				depth++
				i += len("<div")
				continue
			}
			if strings.HasPrefix(h[i:], "</div>") {
				depth--
				i += len("</div>")
				if depth == 0 {
					end = i
					break
				}
				continue
			}
			i++
		}
		h = h[:start] + h[end:]
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
