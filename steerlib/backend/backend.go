// Package backend is the one place in gosteer that chooses the GoMLX compute
// backend: the pure-Go CPU backend ("go") or XLA through a PJRT plugin
// ("xla:/abs/path/pjrt_plugin.so", used for GPUs).
//
// The choice comes from, in order: an explicit name given by the caller (for
// example a --backend flag), the GOMLX_BACKEND environment variable, and
// finally "go". There is no silent fallback: if the requested backend cannot
// be created, New returns an error naming what was asked for and why it
// failed.
package backend

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	_ "github.com/gomlx/gomlx/backends/default" // registers "go" and "xla"
	"github.com/gosteer/gosteer/steerlib/internal/guard"
)

// EnvVar is the environment variable read when no backend is named explicitly.
const EnvVar = "GOMLX_BACKEND"

// Default is the backend used when neither a name nor GOMLX_BACKEND is given.
const Default = "go"

// Resolve returns the backend configuration string that New would use for
// name: name itself if non-empty, else $GOMLX_BACKEND, else Default.
func Resolve(name string) string {
	if name != "" {
		return name
	}
	if env := strings.TrimSpace(os.Getenv(EnvVar)); env != "" {
		return env
	}
	return Default
}

// New creates the backend named by config (see Resolve for how an empty
// config is resolved). It never falls back to another backend.
func New(config string) (b compute.Backend, err error) {
	config = Resolve(config)
	kind, arg, _ := strings.Cut(config, ":")
	switch kind {
	case "go":
	case "xla":
		// Plugin auto-install downloads from the internet; never do that.
		if os.Getenv("GOMLX_NO_AUTO_INSTALL") == "" {
			os.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
		}
		if strings.HasPrefix(arg, "/") {
			if _, statErr := os.Stat(arg); statErr != nil {
				return nil, fmt.Errorf("backend %q: PJRT plugin: %w", config, statErr)
			}
		}
	default:
		return nil, fmt.Errorf("backend %q: unknown backend %q (known: \"go\" for CPU, \"xla:/abs/path/pjrt_plugin.so\" for a GPU)", config, kind)
	}
	defer guard.Recover(&err, fmt.Sprintf("backend %q", config))
	b, err = compute.NewWithConfig(config)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w", config, err)
	}
	return b, nil
}

var (
	sharedMu sync.Mutex
	shared   = map[string]compute.Backend{}
)

// Shared returns a process-wide backend for config, creating it on first use.
// Models and notebooks share one backend so device memory and compiled
// programs are not duplicated.
func Shared(config string) (compute.Backend, error) {
	config = Resolve(config)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if b, ok := shared[config]; ok {
		return b, nil
	}
	b, err := New(config)
	if err != nil {
		return nil, err
	}
	shared[config] = b
	return b, nil
}

// Describe returns a one-line human description of a backend, e.g. for logs:
// "go (Go Backend)" or "xla:/path (cuda)".
func Describe(config string, b compute.Backend) string {
	return fmt.Sprintf("%s (%s)", Resolve(config), b.Name())
}

// IsGo reports whether b is GoMLX's pure-Go CPU backend (its String method
// returns the backend's registered name, "go"). Graph code uses it to pick
// formulations that run faster there.
func IsGo(b compute.Backend) bool {
	s, ok := b.(fmt.Stringer)
	return ok && s.String() == gobackend.BackendName
}
