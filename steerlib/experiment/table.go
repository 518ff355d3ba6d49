package experiment

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/gosteer/gosteer/steerlib/ifeval"
)

// Table is the summary of an evaluation: strict and loose accuracy per
// instruction and overall, per condition (the paper's layout: w/o →
// w/o+steer, w/ → w/+steer).
type Table struct {
	// Run describes the run (its fingerprint), when known.
	Run        string
	Conditions []string
	Rows       []TableRow // sorted by instruction id
	Overall    TableRow
}

// TableRow holds one instruction's counts per condition.
type TableRow struct {
	ID    string
	Cells map[string]ifeval.Accuracy
}

// Summarize builds the table of evaluation results (lines with a candidate,
// i.e. layer-search lines, are ignored). Rows are keyed by the records'
// eval ids joined with "+".
func Summarize(results []Result) *Table {
	rows := map[string]*TableRow{}
	t := &Table{Overall: TableRow{ID: "overall", Cells: map[string]ifeval.Accuracy{}}}
	present := map[string]bool{}
	for _, r := range results {
		if r.Candidate != "" {
			continue
		}
		id := strings.Join(r.Instructions, "+")
		row := rows[id]
		if row == nil {
			row = &TableRow{ID: id, Cells: map[string]ifeval.Accuracy{}}
			rows[id] = row
		}
		present[r.Condition] = true
		for _, cells := range []map[string]ifeval.Accuracy{row.Cells, t.Overall.Cells} {
			a := cells[r.Condition]
			a.N++
			a.Strict += b2i(r.Strict)
			a.Loose += b2i(r.Loose)
			cells[r.Condition] = a
		}
	}
	for _, c := range AllConditions {
		if present[c] {
			t.Conditions = append(t.Conditions, c)
		}
	}
	for _, row := range rows {
		t.Rows = append(t.Rows, *row)
	}
	sort.Slice(t.Rows, func(i, j int) bool { return t.Rows[i].ID < t.Rows[j].ID })
	return t
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// conditionHeader names conditions as the paper's tables do.
var conditionHeader = map[string]string{CondWithout: "w/o", CondWithoutSteer: "w/o+steer", CondWith: "w/", CondWithSteer: "w/+steer"}

// n is the number of records of a row (the largest count over conditions).
func (r TableRow) n() int {
	n := 0
	for _, a := range r.Cells {
		n = max(n, a.N)
	}
	return n
}

func (r TableRow) rate(cond string, loose bool) string {
	a, ok := r.Cells[cond]
	if !ok || a.N == 0 {
		return "–"
	}
	if loose {
		return strconv.FormatFloat(a.LooseRate(), 'f', 3, 64)
	}
	return strconv.FormatFloat(a.StrictRate(), 'f', 3, 64)
}

// Markdown renders the table as two Markdown tables, loose then strict.
func (t *Table) Markdown() string {
	var b strings.Builder
	if t.Run != "" {
		fmt.Fprintf(&b, "Run %s\n\n", t.Run)
	}
	for _, loose := range []bool{true, false} {
		mode := "strict"
		if loose {
			mode = "loose"
		}
		fmt.Fprintf(&b, "IFEval %s accuracy\n\n| instruction | n |", mode)
		for _, c := range t.Conditions {
			fmt.Fprintf(&b, " %s |", conditionHeader[c])
		}
		b.WriteString("\n|---|---:|" + strings.Repeat("---:|", len(t.Conditions)) + "\n")
		for _, row := range append(append([]TableRow(nil), t.Rows...), t.Overall) {
			name := "`" + row.ID + "`"
			if row.ID == t.Overall.ID {
				name = "**overall**"
			}
			fmt.Fprintf(&b, "| %s | %d |", name, row.n())
			for _, c := range t.Conditions {
				fmt.Fprintf(&b, " %s |", row.rate(c, loose))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// CSV renders the table in long form: instruction, condition, n, strict,
// loose (accuracies), strict_count, loose_count.
func (t *Table) CSV() string {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"instruction", "condition", "n", "strict", "loose", "strict_count", "loose_count"})
	for _, row := range append(append([]TableRow(nil), t.Rows...), t.Overall) {
		for _, c := range t.Conditions {
			a, ok := row.Cells[c]
			if !ok {
				continue
			}
			w.Write([]string{row.ID, c, strconv.Itoa(a.N), row.rate(c, false), row.rate(c, true), strconv.Itoa(a.Strict), strconv.Itoa(a.Loose)})
		}
	}
	w.Flush()
	return buf.String()
}

// WriteText prints the loose table with the strict overall line, for a terminal.
func (t *Table) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%-50s %4s", "instruction (IFEval loose)", "n")
	for _, c := range t.Conditions {
		fmt.Fprintf(w, " %9s", conditionHeader[c])
	}
	fmt.Fprintln(w)
	for _, row := range append(append([]TableRow(nil), t.Rows...), t.Overall) {
		fmt.Fprintf(w, "%-50s %4d", row.ID, row.n())
		for _, c := range t.Conditions {
			fmt.Fprintf(w, " %9s", row.rate(c, true))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%-50s %4d", "overall (strict)", t.Overall.n())
	for _, c := range t.Conditions {
		fmt.Fprintf(w, " %9s", t.Overall.rate(c, false))
	}
	fmt.Fprintln(w)
}

// TablePaths returns where the tables of a results file go: the results
// path without ".jsonl", plus ".md" and ".csv".
func TablePaths(results string) (md, csvPath string) {
	base := strings.TrimSuffix(results, ".jsonl")
	return base + ".md", base + ".csv"
}

// WriteTables writes the Markdown and CSV tables beside a results file.
func WriteTables(results string, t *Table) error {
	md, cp := TablePaths(results)
	if err := writeFileAtomic(md, []byte(t.Markdown())); err != nil {
		return err
	}
	return writeFileAtomic(cp, []byte(t.CSV()))
}
