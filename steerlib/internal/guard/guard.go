// Package guard keeps panics from crossing the library boundary: a function
// that calls into code which may panic (a template engine, a graph builder,
// a backend plugin) defers Recover, which turns the panic into its error.
package guard

import (
	"fmt"
	"os"
	"runtime/debug"
)

// Stacks adds the goroutine's stack to recovered panics (for debugging; on
// when $GOSTEER_PANIC_STACKS is set, and tests may set it).
var Stacks = os.Getenv("GOSTEER_PANIC_STACKS") != ""

// Recover, deferred, turns a panic of the deferring function into *err:
// "what: value" (wrapping the value when it is an error). Use it directly:
//
//	defer guard.Recover(&err, "parse chat template")
func Recover(err *error, what string) {
	r := recover()
	if r == nil {
		return
	}
	if e, ok := r.(error); ok {
		*err = fmt.Errorf("%s: %w", what, e)
	} else {
		*err = fmt.Errorf("%s: %v", what, r)
	}
	if Stacks {
		*err = fmt.Errorf("%w\n%s", *err, debug.Stack())
	}
}
