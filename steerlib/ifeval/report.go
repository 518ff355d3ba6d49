package ifeval

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Accuracy is a pair of strict and loose counts over N items.
type Accuracy struct {
	N      int `json:"n"`
	Strict int `json:"strict"`
	Loose  int `json:"loose"`
}

// StrictRate returns Strict/N (0 when N is 0).
func (a Accuracy) StrictRate() float64 { return rate(a.Strict, a.N) }

// LooseRate returns Loose/N (0 when N is 0).
func (a Accuracy) LooseRate() float64 { return rate(a.Loose, a.N) }

func rate(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

// Row is one line of a per-instruction (or per-category) table.
type Row struct {
	ID string `json:"id"`
	Accuracy
}

// Summary aggregates results like the reference's print_report:
// prompt-level accuracy (all instructions of a prompt followed),
// instruction-level accuracy, and tables per category (the part of the id
// before ':') and per instruction id. Records marked Failed count as not
// followed and are counted in Failed.
type Summary struct {
	Prompt         Accuracy `json:"prompt_level"`
	Instruction    Accuracy `json:"instruction_level"`
	ByCategory     []Row    `json:"by_category"`
	ByInstruction  []Row    `json:"by_instruction"`
	Failed         int      `json:"failed_records"`
	FailedExamples []string `json:"failed_examples,omitempty"`
}

// Summarize aggregates results; ids[i] are the instruction ids of results[i].
func Summarize(ids [][]string, results []Result) Summary {
	var s Summary
	cat := map[string]*Accuracy{}
	inst := map[string]*Accuracy{}
	bump := func(m map[string]*Accuracy, k string, st, lo bool) {
		a := m[k]
		if a == nil {
			a = &Accuracy{}
			m[k] = a
		}
		a.N++
		if st {
			a.Strict++
		}
		if lo {
			a.Loose++
		}
	}
	for i, res := range results {
		s.Prompt.N++
		if res.FollowAllStrict {
			s.Prompt.Strict++
		}
		if res.FollowAllLoose {
			s.Prompt.Loose++
		}
		if res.Failed {
			s.Failed++
			if len(s.FailedExamples) < 10 {
				var msgs []string
				for _, e := range res.Errors {
					if e != "" {
						msgs = append(msgs, e)
					}
				}
				s.FailedExamples = append(s.FailedExamples, fmt.Sprintf("record %d: %s", i+1, strings.Join(msgs, "; ")))
			}
		}
		var recIDs []string
		if i < len(ids) {
			recIDs = ids[i]
		}
		for j, id := range recIDs {
			if j >= len(res.Strict) {
				break
			}
			st, lo := res.Strict[j], res.Loose[j]
			s.Instruction.N++
			if st {
				s.Instruction.Strict++
			}
			if lo {
				s.Instruction.Loose++
			}
			c, _, _ := strings.Cut(id, ":")
			bump(cat, c, st, lo)
			bump(inst, id, st, lo)
		}
	}
	s.ByCategory = rows(cat)
	s.ByInstruction = rows(inst)
	return s
}

func rows(m map[string]*Accuracy) []Row {
	out := make([]Row, 0, len(m))
	for k, a := range m {
		out = append(out, Row{ID: k, Accuracy: *a})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// WriteTable prints the summary as aligned text tables.
func (s Summary) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-46s %6s %8s %8s\n", "", "n", "strict", "loose")
	line := func(name string, a Accuracy) {
		fmt.Fprintf(&b, "%-46s %6d %8.4f %8.4f\n", name, a.N, a.StrictRate(), a.LooseRate())
	}
	line("prompt-level", s.Prompt)
	line("instruction-level", s.Instruction)
	b.WriteString("\n")
	for _, r := range s.ByCategory {
		line(r.ID, r.Accuracy)
	}
	b.WriteString("\n")
	for _, r := range s.ByInstruction {
		line(r.ID, r.Accuracy)
	}
	if s.Failed > 0 {
		fmt.Fprintf(&b, "\n%d record(s) could not be fully checked (counted as not followed):\n", s.Failed)
		for _, e := range s.FailedExamples {
			fmt.Fprintf(&b, "  %s\n", e)
		}
		if s.Failed > len(s.FailedExamples) {
			fmt.Fprintf(&b, "  ... and %d more (see %s in the output)\n", s.Failed-len(s.FailedExamples), FieldErrors)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
