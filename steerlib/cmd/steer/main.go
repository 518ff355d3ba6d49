// Command steer is the gosteer command-line interface: a thin layer over the
// steerlib packages for computing activations, steering vectors, steered
// generations and IFEval scores from a terminal or a script.
//
// Each subcommand lives in its own file and registers itself in init with
// register (a group of subcommands, such as `steer vectors`, with group);
// `steer --help` lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand of steer (or of a group such as "steer vectors").
type command struct {
	name    string
	summary string
	// run executes the subcommand with its arguments (without the subcommand
	// name). It returns errUsage for bad flags (already reported by the flag set).
	run func(args []string, stdout, stderr io.Writer) error
}

// commandSet dispatches to commands by name: steer's own commands, and the
// subcommands of each group.
type commandSet struct {
	path   string // "steer" or "steer <group>"
	header string // first usage line, if any
	byName map[string]command
}

// commands are steer's subcommands; each file registers its own in init.
var commands = &commandSet{path: "steer", byName: map[string]command{},
	header: "steer: activation steering for transformer language models (gosteer " + Version + ")\n\n"}

// errUsage marks an error whose message has already been printed by a flag set.
var errUsage = errors.New("usage")

func register(c command) { commands.add(c) }

func (cs *commandSet) add(c command) {
	if _, dup := cs.byName[c.name]; dup {
		panic(cs.path + ": duplicate subcommand " + c.name)
	}
	cs.byName[c.name] = c
}

// group returns a command that dispatches to subs ("steer NAME SUB [flags]").
func group(name, summary string, subs ...command) command {
	cs := &commandSet{path: "steer " + name, byName: map[string]command{}}
	for _, c := range subs {
		cs.add(c)
	}
	return command{name: name, summary: summary, run: func(args []string, stdout, stderr io.Writer) error {
		_, err := cs.dispatch(args, stdout, stderr)
		return err
	}}
}

func (cs *commandSet) usage(w io.Writer) {
	fmt.Fprintf(w, "%sUsage: %s <command> [flags]\n\nCommands:\n", cs.header, cs.path)
	names := make([]string, 0, len(cs.byName))
	for n := range cs.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, cs.byName[n].summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", cs.path)
}

// dispatch runs the command args[0] names and returns its name and error.
// Help prints the usage on stdout; no command or an unknown one prints it on
// stderr and returns errUsage.
func (cs *commandSet) dispatch(args []string, stdout, stderr io.Writer) (string, error) {
	if len(args) == 0 {
		cs.usage(stderr)
		return "", errUsage
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		cs.usage(stdout)
		return "", nil
	}
	c, ok := cs.byName[args[0]]
	if ok {
		if cs == commands {
			current.Store(c.name)
		} else {
			current.Store(commandName() + " " + c.name)
		}
	}
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown subcommand %q\n\n", cs.path, args[0])
		cs.usage(stderr)
		return "", errUsage
	}
	return c.name, c.run(args[1:], stdout, stderr)
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
	current.Store("")
	name, err := commands.dispatch(args, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "steer %s: %s\n", commandName(), strings.TrimSpace(err.Error()))
		return interruptedStatus()
	default:
		if full := commandName(); full != "" {
			name = full
		}
		fmt.Fprintf(stderr, "steer %s: %s\n", name, strings.TrimSpace(err.Error()))
		return 1
	}
}

func main() {
	if err := reexecWithFastExp(); err != nil {
		fmt.Fprintf(os.Stderr, "steer: %v\n", err)
	}
	watchSignals(os.Stderr)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
