// Command kernel sets up and runs gosteer's Go notebooks.
//
//	go run ./kernel install            # Jupyter and Chromium (Debian packages), GoNB, gopls, goimports, kernel spec
//	go run ./kernel notebook           # serve Jupyter on 127.0.0.1 for a person
//	go run ./kernel run NB.ipynb...    # execute notebooks headless; fail on any failed cell
//
// install is idempotent: when everything is present it only checks and
// returns within seconds. run writes the executed notebook and its HTML
// rendering to an output folder (default: "executed" beside each notebook)
// and fails when a cell has an error output or GoNB printed "exit status N"
// on its stderr (GoNB does not fail a cell on a panic by itself).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gosteer/gosteer/kernel/internal/nbrun"
	"github.com/gosteer/gosteer/kernel/internal/setup"
)

// errUsage marks an error already reported by a flag set or usage text.
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: go run ./kernel <command> [flags]

Commands:
  install    install Jupyter and Chromium (Debian packages), build the pinned GoNB, gopls and
             goimports, and write the GoNB kernel spec (idempotent)
  notebook   serve Jupyter on 127.0.0.1 for a person (Ctrl-C stops it)
  run        execute notebooks headless; writes executed .ipynb and .html and
             fails if any cell failed

Run 'go run ./kernel <command> -h' for a command's flags.
`)
}

// run dispatches a subcommand; it returns errUsage after printing usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return nil
	case "install":
		return cmdInstall(ctx, args[1:], stdout, stderr)
	case "notebook":
		return cmdNotebook(ctx, args[1:], stdout, stderr)
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "kernel: unknown command %q\n\n", args[0])
		usage(stderr)
		return errUsage
	}
}

func newFlagSet(name, argsHelp string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kernel "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./kernel %s %s\n\nFlags:\n", name, argsHelp)
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return errUsage
	}
	return nil
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func cmdInstall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("install", "[flags]", stderr)
	skipApt := fs.Bool("skip-apt", false, "do not install Debian's Jupyter and Chromium packages (they come from elsewhere)")
	binDir := fs.String("bin", "", "where to install gonb, gopls and goimports (default ~/.local/share/gosteer/bin)")
	backendCfg := fs.String("backend", "", "GOMLX_BACKEND for notebooks (default \"go\"; on a GPU machine xla:/abs/path/pjrt_plugin.so)")
	var envs multiFlag
	fs.Var(&envs, "env", "extra KEY=VALUE for the kernel's environment (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	env, err := setup.ParseEnv(envs)
	if err != nil {
		return err
	}
	if *backendCfg != "" {
		env["GOMLX_BACKEND"] = *backendCfg
	}
	start := time.Now()
	err = setup.Install(ctx, setup.Options{BinDir: *binDir, Env: env, SkipApt: *skipApt, Log: stdout})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "install: done in %s\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}

func cmdNotebook(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("notebook", "[flags]", stderr)
	port := fs.Int("port", 8888, "port on 127.0.0.1")
	dir := fs.String("dir", "", "folder to serve (default: the repository's notebooks/)")
	token := fs.String("token", "", "access token for the server (default: Jupyter makes a random one and prints it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if st := setup.Check(""); !st.Ready() {
		return fmt.Errorf("missing %s: run `go run ./kernel install` first", st.Missing())
	}
	if *dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("working directory: %w", err)
		}
		root, err := setup.RepoRoot(wd)
		if err != nil {
			return err
		}
		*dir = filepath.Join(root, "notebooks")
	}
	jargs := []string{"notebook", "--no-browser", "--ip=127.0.0.1", fmt.Sprintf("--port=%d", *port), "--NotebookApp.port_retries=0", "--notebook-dir=" + *dir}
	if *token != "" {
		jargs = append(jargs, "--NotebookApp.token="+*token)
	}
	if os.Geteuid() == 0 {
		jargs = append(jargs, "--allow-root") // Jupyter refuses root otherwise (containers, CI machines)
	}
	cmd := exec.CommandContext(ctx, "jupyter", jargs...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// On cancellation (Ctrl-C, SIGTERM) ask Jupyter to stop cleanly with SIGTERM
	// (a lone SIGINT only makes it ask for confirmation); kill it only if it
	// lingers.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	fmt.Fprintf(stdout, "serving %s on http://127.0.0.1:%d (open the URL with the token printed below; Ctrl-C stops)\n", *dir, *port)
	if err := cmd.Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("jupyter notebook: %w", err)
	}
	return nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "[flags] NOTEBOOK.ipynb...", stderr)
	out := fs.String("out", "", "folder for executed notebooks and HTML (default: executed/ beside each notebook)")
	timeout := fs.Duration("cell-timeout", 30*time.Minute, "limit for one cell")
	verbose := fs.Bool("v", false, "show nbconvert's messages")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	if st := setup.Check(""); !st.Ready() {
		return fmt.Errorf("missing %s: run `go run ./kernel install` first", st.Missing())
	}
	opts := nbrun.Options{OutDir: *out, CellTimeout: *timeout}
	if *verbose {
		opts.Log = stderr
	}
	failed := 0
	for _, nb := range fs.Args() {
		fmt.Fprintf(stdout, "run  %s ...\n", nb)
		res, err := nbrun.Run(ctx, nb, opts)
		status := "ok  "
		if err != nil {
			status = "FAIL"
			failed++
		}
		fmt.Fprintf(stdout, "%s %s (%s)", status, nb, res.Duration.Round(100*time.Millisecond))
		if res.Summary != "" {
			fmt.Fprintf(stdout, ": %s", res.Summary)
		}
		fmt.Fprintln(stdout)
		if res.Executed != "" {
			fmt.Fprintf(stdout, "     executed notebook: %s\n", res.Executed)
		}
		if res.HTML != "" {
			fmt.Fprintf(stdout, "     HTML:              %s\n", res.HTML)
		}
		if err != nil {
			fmt.Fprintf(stdout, "     %s\n", strings.ReplaceAll(err.Error(), "\n", "\n     "))
		}
		for _, p := range res.Problems {
			if p.Context != "" {
				fmt.Fprintf(stdout, "     cell %d says:\n       %s\n", p.Cell, strings.ReplaceAll(p.Context, "\n", "\n       "))
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d notebooks failed", failed, fs.NArg())
	}
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "kernel: %s\n", err)
		os.Exit(1)
	}
}
