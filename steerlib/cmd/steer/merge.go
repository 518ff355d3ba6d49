package main

import (
	"fmt"
	"io"

	"github.com/gosteer/gosteer/steerlib/experiment"
)

func init() {
	register(command{
		name:    "merge",
		summary: "combine the results files of a run's shards (refuses files of different runs)",
		run:     runMerge,
	})
}

func runMerge(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("merge", "--out MERGED.jsonl SHARD.jsonl...", stderr)
	out := fs.String("out", "", "merged results JSONL (one line per unit, sorted by key); eval tables go beside it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	rs, err := experiment.Merge(*out, fs.Args())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "merged %d files: %d units of run %s into %s\n", fs.NArg(), len(rs), rs[0].Run, *out)
	t := experiment.Summarize(rs)
	if len(t.Rows) == 0 {
		return nil // layer-search results: rerun steer sweep on the merged file
	}
	if err := experiment.WriteTables(*out, t); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	t.WriteText(stdout)
	md, csv := experiment.TablePaths(*out)
	fmt.Fprintf(stdout, "\ntables: %s, %s\n", md, csv)
	return nil
}
