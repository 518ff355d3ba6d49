package main

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/gosteer/gosteer/steerlib/ifeval"
)

func init() {
	register(command{
		name:    "ifeval",
		summary: "score responses with the IFEval instruction checkers (strict and loose)",
		run:     runIFEval,
	})
}

// runIFEval reads IFEval-style JSONL records (prompt, response,
// instruction_id_list, kwargs), writes each record back with strict, loose,
// follow_all_strict and follow_all_loose added, in input order, and prints a
// summary table on stderr. Records that cannot be fully checked are marked
// with ifeval_errors and counted as not followed.
func runIFEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ifeval", "--input IN.jsonl --out OUT.jsonl", stderr)
	in := fs.String("input", "", "input JSONL: prompt, response, instruction_id_list, kwargs per line")
	out := fs.String("out", "", "output JSONL (\"-\" for stdout)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "records scored in parallel")
	strictErrors := fs.Bool("fail-on-errors", false, "exit with an error when any record could not be fully checked")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *in == "" || *out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "steer ifeval: --input and --out are required (and no positional arguments)")
		fs.Usage()
		return errUsage
	}
	if err := atLeast("--workers", *workers, 1); err != nil {
		return err
	}
	if err := checkOutput("--out", *out, *in); err != nil {
		return err
	}
	items, err := ifeval.ReadJSONLFile(*in)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return fmt.Errorf("--input %s: no records", *in)
	}
	results := make([]ifeval.Result, len(items))
	scoreAll(items, results, min(*workers, len(items)))

	if err := writeScored(*out, stdout, items, results); err != nil {
		return err
	}
	ids := make([][]string, len(items))
	for i, it := range items {
		ids[i] = it.Record.InstructionIDs
	}
	sum := ifeval.Summarize(ids, results)
	if *strictErrors && sum.Failed > 0 {
		return firstFailure(*in, items, results, sum.Failed)
	}
	fmt.Fprintf(stderr, "steer ifeval: %d records from %s\n", len(items), *in)
	if err := sum.WriteTable(stderr); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	if *strictErrors && sum.Failed > 0 {
		return fmt.Errorf("%d record(s) could not be fully checked", sum.Failed)
	}
	return nil
}

// firstFailure is the --fail-on-errors error: how many records failed, and
// the file, line and errors of the first.
func firstFailure(path string, items []ifeval.Item, results []ifeval.Result, n int) error {
	for i, r := range results {
		if !r.Failed {
			continue
		}
		var msgs []string
		for _, e := range r.Errors {
			if e != "" {
				msgs = append(msgs, e)
			}
		}
		return fmt.Errorf("%d record(s) could not be fully checked (scores written, marked %s); first: %s:%d: %s",
			n, ifeval.FieldErrors, path, items[i].Line, strings.Join(msgs, "; "))
	}
	return fmt.Errorf("%d record(s) could not be fully checked", n)
}

func scoreAll(items []ifeval.Item, results []ifeval.Result, workers int) {
	if workers < 1 {
		workers = 1
	}
	jobs := make(chan int)
	done := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func() {
			for i := range jobs {
				results[i] = ifeval.ScoreItem(items[i])
			}
			done <- struct{}{}
		}()
	}
	for i := range items {
		jobs <- i
	}
	close(jobs)
	for w := 0; w < workers; w++ {
		<-done
	}
}

func writeScored(path string, stdout io.Writer, items []ifeval.Item, results []ifeval.Result) error {
	if path == "-" {
		return encodeScored(stdout, path, items, results)
	}
	return writeFileWith(path, func(w io.Writer) error { return encodeScored(w, path, items, results) })
}

// encodeScored writes the scored records to w as JSONL.
func encodeScored(w io.Writer, path string, items []ifeval.Item, results []ifeval.Result) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	for i, it := range items {
		b, err := ifeval.MarshalScored(it, results[i])
		if err != nil {
			return fmt.Errorf("record at line %d: %w", it.Line, err)
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
