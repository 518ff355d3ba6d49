// Package ifeval scores model responses with the 25 instruction checkers of
// IFEval (Zhou et al. 2023), following the semantics of Google's reference
// Python implementation (google-research/instruction_following_eval), so that
// accuracies computed here can be compared with published numbers.
//
// Two entry points cover most uses:
//
//	ok, err := ifeval.Check("punctuation:no_comma", nil, prompt, response)
//	res := ifeval.Evaluate(ifeval.Record{Prompt: p, Response: r,
//		InstructionIDs: ids, Kwargs: kwargs})
//	// res.Strict[i], res.Loose[i], res.FollowAllStrict, res.FollowAllLoose
//
// Strict scoring requires a non-blank response on which the checker holds.
// Loose scoring accepts an instruction if the checker holds on any of eight
// variants of the response: as is, without its first line, without its last
// line, without both, and each of these with every '*' removed.
//
// Summarize aggregates results into prompt-level and instruction-level
// accuracy and per-instruction tables. ReadJSONL reads IFEval-style JSONL
// (also the paper's llm-steer-instruct files). The paper's length task ("at
// most / at least / exactly n sentences") is the extra instruction id
// LengthSentencesID, see CheckSentenceCount.
//
// Helpers that the reference takes from other Python libraries are
// reimplemented and tested against them: sentence splitting is a port of
// NLTK's Punkt tokenizer (with the English parameters shipped by
// github.com/neurosnap/sentences), word tokenization follows NLTK's
// word_tokenize, and language identification uses the langdetect
// subpackage, a Go implementation of Python's langdetect with its profiles
// (replaceable with SetLanguageDetector). All functions are safe for
// concurrent use. README.md records the measured agreement with the
// reference and the benchmarks.
package ifeval

import (
	"fmt"
	"strings"

	"github.com/gosteer/gosteer/steerlib/ifeval/internal/pystr"
	"github.com/gosteer/gosteer/steerlib/internal/guard"
)

// Record is one response to score against the instructions of its prompt.
// Kwargs[i] holds the IFEval keyword arguments of InstructionIDs[i] (nil or
// empty when the instruction takes none).
type Record struct {
	Key            any              `json:"key,omitempty"`
	Prompt         string           `json:"prompt"`
	Response       string           `json:"response"`
	InstructionIDs []string         `json:"instruction_id_list"`
	Kwargs         []map[string]any `json:"kwargs"`
}

// Result holds the verdicts for one Record, one entry per instruction.
// Errors[i] is non-empty when instruction i could not be checked (unknown id,
// malformed kwargs); that instruction then counts as not followed, in strict
// and loose scoring alike, and Failed is true.
type Result struct {
	Strict          []bool   `json:"strict"`
	Loose           []bool   `json:"loose"`
	FollowAllStrict bool     `json:"follow_all_strict"`
	FollowAllLoose  bool     `json:"follow_all_loose"`
	Errors          []string `json:"errors,omitempty"`
	Failed          bool     `json:"failed,omitempty"`
}

// Check returns the strict verdict of one instruction on a response: false
// for a blank response, otherwise whether the checker holds. kwargs are the
// instruction's IFEval keyword arguments (nil when it takes none). The
// prompt is only used by instructions that need it. An unknown id or
// malformed kwargs give an error.
func Check(id string, kwargs map[string]any, prompt, response string) (ok bool, err error) {
	defer guard.Recover(&err, id+": internal error") // no panic crosses the package boundary
	c, err := newChecker(id, kwargs, prompt)
	if err != nil {
		return false, err
	}
	return strictVerdict(c, response)
}

// CheckLoose returns the loose verdict of one instruction on a response (see
// the package documentation).
func CheckLoose(id string, kwargs map[string]any, prompt, response string) (ok bool, err error) {
	defer guard.Recover(&err, id+": internal error") // no panic crosses the package boundary
	c, err := newChecker(id, kwargs, prompt)
	if err != nil {
		return false, err
	}
	return looseVerdict(c, LooseVariants(response))
}

func strictVerdict(c checker, response string) (bool, error) {
	if pystr.IsBlank(response) {
		return false, nil
	}
	return c(response)
}

func looseVerdict(c checker, variants []string) (bool, error) {
	for _, v := range variants {
		if pystr.IsBlank(v) {
			continue
		}
		ok, err := c(v)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// LooseVariants returns the eight response variants of loose scoring, in the
// reference's order: response, response without '*', without first line,
// without last line, without both, and the last three without '*'.
func LooseVariants(response string) []string {
	lines := strings.Split(response, "\n")
	join := func(ls []string) string { return pystr.Strip(strings.Join(ls, "\n")) }
	removeFirst := join(lines[1:])
	removeLast := join(lines[:len(lines)-1])
	removeBoth := ""
	if len(lines) > 2 {
		removeBoth = join(lines[1 : len(lines)-1])
	}
	noStar := func(s string) string { return strings.ReplaceAll(s, "*", "") }
	return []string{
		response,
		noStar(response),
		removeFirst,
		removeLast,
		removeBoth,
		noStar(removeFirst),
		noStar(removeLast),
		noStar(removeBoth),
	}
}

// Evaluate scores one record in strict and loose mode. It never panics and
// never drops an instruction: problems are reported in Result.Errors.
func Evaluate(rec Record) Result {
	n := len(rec.InstructionIDs)
	res := Result{Strict: make([]bool, n), Loose: make([]bool, n)}
	var variants []string
	for i, id := range rec.InstructionIDs {
		var kw map[string]any
		if i < len(rec.Kwargs) {
			kw = rec.Kwargs[i]
		}
		s, l, err := evaluateOne(id, kw, rec.Prompt, rec.Response, &variants)
		if err != nil {
			if res.Errors == nil {
				res.Errors = make([]string, n)
			}
			res.Errors[i] = err.Error()
			res.Failed = true
			continue
		}
		res.Strict[i], res.Loose[i] = s, l
	}
	if len(rec.Kwargs) > n && n > 0 {
		// Extra kwargs entries mean the record is malformed; say so on the
		// last instruction rather than silently ignoring them.
		if res.Errors == nil {
			res.Errors = make([]string, n)
		}
		msg := fmt.Sprintf("record has %d kwargs entries for %d instructions", len(rec.Kwargs), n)
		if res.Errors[n-1] != "" {
			msg = res.Errors[n-1] + "; " + msg
		}
		res.Errors[n-1] = msg
		res.Failed = true
	}
	res.FollowAllStrict, res.FollowAllLoose = true, true
	for i := range res.Strict {
		res.FollowAllStrict = res.FollowAllStrict && res.Strict[i]
		res.FollowAllLoose = res.FollowAllLoose && res.Loose[i]
	}
	return res
}

func evaluateOne(id string, kw map[string]any, prompt, response string, variants *[]string) (strict, loose bool, err error) {
	defer guard.Recover(&err, id+": internal error") // no panic crosses the package boundary
	c, err := newChecker(id, kw, prompt)
	if err != nil {
		return false, false, err
	}
	strict, err = strictVerdict(c, response)
	if err != nil {
		return false, false, fmt.Errorf("%s: %w", id, err)
	}
	if strict {
		// The unmodified response is the first loose variant.
		return true, true, nil
	}
	if *variants == nil {
		*variants = LooseVariants(response)
	}
	loose, err = looseVerdict(c, (*variants)[1:])
	if err != nil {
		return false, false, fmt.Errorf("%s: %w", id, err)
	}
	return strict, loose, nil
}

// EvaluateAll scores records concurrently on up to workers goroutines
// (workers <= 0 means 1) and returns results in input order.
func EvaluateAll(recs []Record, workers int) []Result {
	out := make([]Result, len(recs))
	if workers <= 1 {
		for i, r := range recs {
			out[i] = Evaluate(r)
		}
		return out
	}
	jobs := make(chan int)
	done := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func() {
			for i := range jobs {
				out[i] = Evaluate(recs[i])
			}
			done <- struct{}{}
		}()
	}
	for i := range recs {
		jobs <- i
	}
	close(jobs)
	for w := 0; w < workers; w++ {
		<-done
	}
	return out
}
