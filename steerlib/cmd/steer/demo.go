package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/gosteer/gosteer/steerlib/tinyif"
)

func init() {
	register(command{
		name:    "demo",
		summary: "the whole method on the embedded tiny model, offline: vectors, layer choice, steered IFEval",
		run:     runDemo,
	})
}

// fastExpGODEBUG is the GODEBUG setting that keeps math.Exp fast in binaries
// built with GOEXPERIMENT=simd: without it, Go's FMA path of math.Exp runs
// about 100x slower on AVX-512 machines (dirty upper AVX state), and every
// softmax and SiLU of the pure-Go backend calls math.Exp.
const fastExpGODEBUG = "cpu.fma=off"

// reexecWithFastExp replaces the process with itself plus
// GODEBUG=cpu.fma=off when this is the steer binary running `steer demo`, it
// was built with GOEXPERIMENT=simd and GODEBUG does not already say
// cpu.fma. It returns (without error) when it does not apply.
func reexecWithFastExp() error {
	if len(os.Args) < 2 || os.Args[1] != "demo" || strings.Contains(os.Getenv("GODEBUG"), "cpu.fma") {
		return nil
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	simd := false
	for _, s := range info.Settings {
		if s.Key == "GOEXPERIMENT" && strings.Contains(s.Value, "simd") {
			simd = true
		}
	}
	if !simd {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	godebug := fastExpGODEBUG
	if old := os.Getenv("GODEBUG"); old != "" {
		godebug = old + "," + fastExpGODEBUG
	}
	env := append(os.Environ(), "GODEBUG="+godebug)
	if err := syscall.Exec(exe, os.Args, env); err != nil {
		return fmt.Errorf("re-exec with GODEBUG=%s: %w", godebug, err)
	}
	return nil
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	if err := reexecWithFastExp(); err != nil {
		return err
	}
	fs := newFlagSet("demo", "[flags]", stderr)
	modelDir := fs.String("model", "", "model folder (default: the embedded tinyif model)")
	be := fs.String("backend", "", "GoMLX backend (default $GOMLX_BACKEND or go)")
	ids := fs.String("instructions", "", "comma-separated IFEval ids to run (default: all ten)")
	perTopic := fs.Int("per-topic", 2, "held-out prompts per test topic")
	jsonOut := fs.String("json", "", "also write the full result (validation curves, projections) to this JSON file")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts := tinyif.DemoOptions{ModelDir: *modelDir, Backend: *be, TestPerTopic: *perTopic, Progress: stderr}
	if *quiet {
		opts.Progress = nil
	}
	if *ids != "" {
		for _, id := range strings.Split(*ids, ",") {
			opts.IDs = append(opts.IDs, strings.TrimSpace(id))
		}
	}
	res, err := tinyif.RunDemo(context.Background(), opts)
	if err != nil {
		return err
	}
	res.WriteExamples(stdout)
	res.WriteTable(stdout)
	followed, lifted := res.Bar()
	fmt.Fprintf(stdout, "%d instruction types reach >= 0.90 with the instruction and <= 0.15 without; steering lifts %d types by >= 0.30 (%.0fs)\n",
		followed, lifted, res.Seconds)
	if *jsonOut != "" {
		data, err := json.MarshalIndent(res, "", " ")
		if err != nil {
			return fmt.Errorf("encode result: %w", err)
		}
		if err := os.WriteFile(*jsonOut, append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *jsonOut, err)
		}
	}
	line, err := res.SummaryJSON()
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	fmt.Fprintf(stdout, "%s\n", line)
	return nil
}
