// Command steer is the gosteer command-line interface: a thin layer over the
// steerlib packages for computing activations, steering vectors, steered
// generations and IFEval scores from a terminal or a script.
//
// Each subcommand lives in its own file and registers itself in init with
// register; `steer --help` lists them.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand of steer.
type command struct {
	name    string
	summary string
	// run executes the subcommand with its arguments (without the subcommand
	// name). It returns errUsage for bad flags (already reported by the flag set).
	run func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

// errUsage marks an error whose message has already been printed by a flag set.
var errUsage = errors.New("usage")

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("steer: duplicate subcommand " + c.name)
	}
	commands[c.name] = c
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "steer: activation steering for transformer language models (gosteer %s)\n\n", Version)
	fmt.Fprintf(w, "Usage:\n  steer <command> [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'steer <command> --help' for a command's flags.\n")
}

// newFlagSet returns a flag set that reports errors instead of exiting, with a
// usage line naming the subcommand.
func newFlagSet(name, args string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("steer "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: steer %s %s\n\nFlags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs and maps -help and flag errors to errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return errUsage
	}
	return nil
}

// run dispatches args to a subcommand and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "steer: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	err := c.run(args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "steer %s: %s\n", c.name, strings.TrimSpace(err.Error()))
		return 1
	}
}

func main() {
	if err := reexecWithFastExp(); err != nil {
		fmt.Fprintf(os.Stderr, "steer: %v\n", err)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
