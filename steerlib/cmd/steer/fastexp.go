package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"syscall"
)

// fastExpGODEBUG is the GODEBUG setting that keeps math.Exp fast in binaries
// built with GOEXPERIMENT=simd: without it, Go's FMA path of math.Exp runs
// about 100x slower on AVX-512 machines (dirty upper AVX state), and every
// softmax and SiLU of the pure-Go backend calls math.Exp.
const fastExpGODEBUG = "cpu.fma=off"

// reexecWithFastExp replaces the process with itself plus
// GODEBUG=cpu.fma=off when the binary was built with GOEXPERIMENT=simd and
// GODEBUG does not already say cpu.fma (the setting is read at process start,
// so it cannot be changed later). It returns (without error) when it does not
// apply; every steer command benefits (generation, vectors, demo, training).
func reexecWithFastExp() error {
	if strings.Contains(os.Getenv("GODEBUG"), "cpu.fma") {
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
	if err := syscall.Exec(exe, os.Args, withGODEBUG(os.Environ(), godebug)); err != nil {
		return fmt.Errorf("re-exec with GODEBUG=%s: %w", godebug, err)
	}
	return nil
}

// withGODEBUG returns env with every GODEBUG entry replaced by one holding
// value. Go reads the first of duplicate entries, so appending alone would
// leave an older GODEBUG in force (and re-exec forever).
func withGODEBUG(env []string, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GODEBUG=") {
			out = append(out, kv)
		}
	}
	return append(out, "GODEBUG="+value)
}
