package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/gosteer/gosteer/steerlib/internal/atomicfile"
)

// Interrupts. main installs a handler for SIGINT and SIGTERM. A command
// that can stop cleanly by itself (vectors compute: it saves its state and
// says how to resume) calls stopsOnInterrupt and watches interruptContext;
// it is then given until a second signal. Any other command is stopped at
// once: temporary files of writes in flight are removed (outputs are only
// ever renamed into place when complete, so no partial file exists under a
// final name) and the message says so. The exit status is 128 + the signal
// number (130 for SIGINT, 143 for SIGTERM).

var (
	// interrupts is cancelled by the first SIGINT/SIGTERM (never in tests
	// that call run directly).
	interrupts context.Context = context.Background()
	// graceful is set by a command that stops by itself on interrupts.
	graceful atomic.Bool
	// current is the running command's name, for messages.
	current atomic.Value
	// caught is the signal that cancelled interrupts (0: none).
	caught atomic.Int32
)

// interruptedStatus is the exit status of a command that stopped by itself
// on an interrupt: 128 + the signal number (130 when unknown).
func interruptedStatus() int {
	if s := caught.Load(); s != 0 {
		return 128 + int(s)
	}
	return 130
}

// interruptedError is a command's own message on stopping at an interrupt;
// it matches context.Canceled (exit status 130).
type interruptedError string

func (e interruptedError) Error() string { return string(e) }

// Is makes errors.Is(err, context.Canceled) true.
func (e interruptedError) Is(target error) bool { return target == context.Canceled }

// interrupted returns the error a command stopped by an interrupt returns.
func interrupted(msg string) error { return interruptedError(msg) }

// interruptContext is the context a command watches for interrupts.
func interruptContext() context.Context { return interrupts }

// stopsOnInterrupt declares that the running command watches
// interruptContext and stops cleanly by itself.
func stopsOnInterrupt() { graceful.Store(true) }

// watchSignals installs the handler; main calls it once.
func watchSignals(stderr io.Writer) {
	ctx, cancel := context.WithCancel(context.Background())
	interrupts = ctx
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-ch
		if s, ok := sig.(syscall.Signal); ok {
			caught.Store(int32(s))
		}
		cancel()
		if graceful.Load() {
			fmt.Fprintf(stderr, "steer %s: %s: stopping after the current batch (send it again to stop at once)\n", commandName(), sigName(sig))
			sig = <-ch
		}
		exitInterrupted(sig, stderr)
	}()
}

// sigName is "SIGINT" or "SIGTERM" (the name users know from kill -l).
func sigName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// commandName is the running command's full name ("vectors compute").
func commandName() string {
	if s, ok := current.Load().(string); ok {
		return s
	}
	return ""
}

// exitInterrupted removes the temporary files in flight, says what is left
// and exits with 128 + the signal number.
func exitInterrupted(sig os.Signal, stderr io.Writer) {
	removed := atomicfile.RemoveTemps()
	fmt.Fprintf(stderr, "steer %s: stopped by %s; outputs are renamed into place only when complete, so no file is partial (%d temporary file(s) removed); rerun the command to redo the work",
		commandName(), sigName(sig), len(removed))
	if graceful.Load() {
		fmt.Fprint(stderr, ", with --resume to continue from the last saved state")
	}
	fmt.Fprintln(stderr)
	code := 1
	if s, ok := sig.(syscall.Signal); ok {
		code = 128 + int(s)
	}
	os.Exit(code)
}
