package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosteer/gosteer/steerlib/internal/atomicfile"
	"github.com/gosteer/gosteer/steerlib/pairs"
	"github.com/gosteer/gosteer/steerlib/safetensors"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// asMainEnv makes the test binary run as the steer command (TestMain in
// eval_test.go), so that TestKill can send real signals to a real steer
// process.
const asMainEnv = "STEER_TEST_MAIN"

// steerProcess starts the test binary as `steer args...`.
func steerProcess(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// exitCode is the process's exit status, or -signal when a signal killed it.
func exitCode(err error) int {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 0
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return ee.ExitCode()
}

// interruptAt runs steer args, sends sig after d (unless it has finished)
// and returns the exit code and stderr.
func interruptAt(t *testing.T, d time.Duration, sig syscall.Signal, args ...string) (int, string) {
	t.Helper()
	cmd, stderr := steerProcess(t, args...)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitCode(err), stderr.String()
	case <-time.After(d):
	}
	cmd.Process.Signal(sig)
	return exitCode(<-done), stderr.String()
}

// timed runs steer args to the end and returns how long it took.
func timed(t *testing.T, args ...string) time.Duration {
	t.Helper()
	start := time.Now()
	cmd, stderr := steerProcess(t, args...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("steer %v: %v\n%s", args, err, stderr)
	}
	return time.Since(start)
}

// onlyTemps checks that the files in dir are the named finals or temporary
// files of atomicfile (allowTemps: a SIGKILL leaves those behind).
func onlyTemps(t *testing.T, dir string, finals map[string]bool, allowTemps bool) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		switch {
		case finals[e.Name()]:
		case atomicfile.IsTemp(e.Name()) && allowTemps:
			os.Remove(filepath.Join(dir, e.Name()))
		default:
			t.Errorf("unexpected file %s in the output folder", e.Name())
		}
	}
}

// TestKill interrupts `steer vectors compute` and `steer activations` at
// random points with SIGINT, SIGTERM and SIGKILL: no file under a final name
// is ever partial (the vector file loads and equals the uninterrupted
// result; activations load), SIGINT/SIGTERM leave no temporary files and
// say how to resume, and an interrupted compute resumes to the same vectors.
func TestKill(t *testing.T) {
	dir := tinyChatModel(t)
	tmp := t.TempDir()
	queries := []string{"Describe a harbor.", "Tell me about owls.", "Explain tides.", "What is rain?", "Name a color.", "Why sleep?", "Describe bread.", "Tell me about foxes."}
	ps, err := pairs.Build(queries, pairs.BuildOptions{IDs: []string{"change_case:english_lowercase"}, PerQuery: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	pfile := filepath.Join(tmp, "pairs.jsonl")
	if err := pairs.Save(pfile, ps); err != nil {
		t.Fatal(err)
	}
	refOut := filepath.Join(tmp, "ref.safetensors")
	compute := func(out string, extra ...string) []string {
		return append([]string{"vectors", "compute", "--model", dir, "--pairs", pfile, "--out", out, "--batch", "2", "--checkpoint-every", "1", "--progress=false"}, extra...)
	}
	full := timed(t, compute(refOut)...)
	ref, err := vectors.Load(refOut)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("uninterrupted compute of %d pairs: %v", len(ps), full)

	r := rand.New(rand.NewPCG(15, 7))
	sigs := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL}
	for trial := range 6 {
		sig := sigs[trial%len(sigs)]
		d := time.Duration(0.9 * r.Float64() * float64(full))
		outDir := t.TempDir()
		out := filepath.Join(outDir, "v.safetensors")
		state := defaultStatePath(out)
		code, stderr := interruptAt(t, d, sig, compute(out)...)
		t.Logf("trial %d: %v after %v: exit %d", trial, sig, d.Round(time.Millisecond), code)
		onlyTemps(t, outDir, map[string]bool{"v.safetensors": true, "v.state.safetensors": true}, sig == syscall.SIGKILL)
		if strings.Contains(stderr, "goroutine ") {
			t.Errorf("trial %d: stack trace:\n%s", trial, stderr)
		}
		// (A negative code: the signal came before the handler was installed.)
		if code > 0 && sig != syscall.SIGKILL {
			if want := 128 + int(sig); code != want {
				t.Errorf("trial %d: exit %d, want %d\n%s", trial, code, want, stderr)
			}
			if _, err := os.Stat(state); err == nil && !strings.Contains(stderr, "--resume") {
				t.Errorf("trial %d: state kept but the message does not say how to resume:\n%s", trial, stderr)
			}
		}
		// Whatever is under the final names is complete.
		if _, err := os.Stat(out); err == nil {
			got, err := vectors.Load(out)
			if err != nil {
				t.Fatalf("trial %d: %s is partial: %v", trial, out, err)
			}
			sameVectors(t, got, ref)
		}
		// Resume (or start again when nothing was kept) and get the same vectors.
		args := compute(out)
		kept := 0
		if acc, err := vectors.LoadAccumulator(state); err == nil {
			args, kept = append(args, "--resume"), acc.N
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("trial %d: state %s is unreadable: %v", trial, state, err)
		}
		stdout, _ := steerOut(t, 0, args...)
		if want := fmt.Sprintf("from %d pairs (%d new", len(ps), len(ps)-kept); !strings.Contains(stdout, want) {
			t.Errorf("trial %d: resumed from %d pairs: %q lacks %q", trial, kept, stdout, want)
		}
		got, err := vectors.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		sameVectors(t, got, ref)
	}

	// A command that cannot resume: its output is absent or complete.
	in := filepath.Join(tmp, "in.safetensors")
	sfWriteIDs(t, in, []int32{1, 72, 105, 33, 1, 72, 105, 33}, []int{2, 4})
	act := func(out string) []string { return []string{"activations", "--model", dir, "--input", in, "--out", out} }
	fullAct := timed(t, act(filepath.Join(tmp, "a.safetensors"))...)
	for trial := range 3 {
		sig := sigs[trial%len(sigs)]
		d := time.Duration(0.9 * r.Float64() * float64(fullAct))
		outDir := t.TempDir()
		out := filepath.Join(outDir, "a.safetensors")
		code, stderr := interruptAt(t, d, sig, act(out)...)
		t.Logf("activations trial %d: %v after %v: exit %d", trial, sig, d.Round(time.Millisecond), code)
		onlyTemps(t, outDir, map[string]bool{"a.safetensors": true}, sig == syscall.SIGKILL)
		if code > 128 && !strings.Contains(stderr, "no file is partial") {
			t.Errorf("activations trial %d: message does not say what was kept:\n%s", trial, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			f, err := safetensors.Open(out)
			if err != nil {
				t.Fatalf("activations trial %d: %s is partial: %v", trial, out, err)
			}
			if _, ok := f.Tensor("logits"); !ok {
				t.Errorf("activations trial %d: output lacks logits", trial)
			}
			f.Close()
		}
	}
}

// sameVectors checks that got has ref's directions (to float32 rounding).
func sameVectors(t *testing.T, got, ref *vectors.Set) {
	t.Helper()
	if got.NPairs != ref.NPairs || len(got.Layers) != len(ref.Layers) {
		t.Fatalf("vectors from %d pairs, %d layers; want %d, %d", got.NPairs, len(got.Layers), ref.NPairs, len(ref.Layers))
	}
	for i := range ref.Layers {
		for j, u := range ref.Layers[i].U {
			if d := math.Abs(float64(got.Layers[i].U[j] - u)); d > 1e-6 {
				t.Fatalf("layer %d U[%d] = %v, uninterrupted run has %v", ref.Layers[i].Layer, j, got.Layers[i].U[j], u)
			}
		}
	}
}
