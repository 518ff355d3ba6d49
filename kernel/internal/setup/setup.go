// Package setup installs what gosteer's notebooks need: Debian's Jupyter
// packages, the pinned GoNB kernel with gopls and goimports (built from the
// tools module in kernel/tools), and the GoNB kernel spec carrying the
// environment the notebooks run with.
//
// Every step checks first and does nothing when its work is already done, so
// running it again is fast.
package setup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// ModulePath is the module path of the gosteer repository; RepoRoot looks for
// the go.mod that declares it.
const ModulePath = "github.com/gosteer/gosteer"

// AptPackages are the Debian packages that provide Jupyter and nbconvert, and
// Chromium, which the browser test (kernel/browser_test.go) drives headless
// through the notebook UI.
var AptPackages = []string{"jupyter-notebook", "jupyter-nbconvert", "python3-nbclient", "python3-ipykernel", "chromium"}

// Tools are the binaries built from kernel/tools/go.mod by `go install tool`.
var Tools = []string{"gonb", "gopls", "goimports"}

// KernelName is the Jupyter kernel name of GoNB; notebooks and nbconvert refer
// to the kernel by it.
const KernelName = "gonb"

// DefaultEnv is the environment the kernel spec gives to notebooks, before
// overrides: GoMLX's pure-Go backend with SIMD kernels, no attempt to
// download XLA plugins, and GODEBUG=cpu.fma=off: in GOEXPERIMENT=simd builds
// the AVX-512 matmul kernels leave the upper vector state dirty, and Go's
// FMA-based math.Exp (softmax, sigmoid on the pure-Go backend) then pays an
// SSE/AVX transition penalty on every call (measured in
// steerlib/tinyif/model/README.md).
var DefaultEnv = map[string]string{
	"GOMLX_BACKEND":         "go",
	"GOEXPERIMENT":          "simd",
	"GOMLX_NO_AUTO_INSTALL": "1",
	"GODEBUG":               "cpu.fma=off",
}

// RepoRoot walks up from dir to the directory whose go.mod declares
// ModulePath.
func RepoRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("repo root from %s: %w", dir, err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && modulePath(data) == ModulePath {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("repo root: no go.mod declaring %s in %s or above", ModulePath, abs)
		}
	}
}

// modulePath returns the module path declared in a go.mod file's contents.
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// DataDir returns the directory under which gosteer keeps its own installed
// files (the tool binaries): $XDG_DATA_HOME/gosteer or ~/.local/share/gosteer.
func DataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "gosteer"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("gosteer data dir: %w", err)
	}
	return filepath.Join(home, ".local", "share", "gosteer"), nil
}

// JupyterDataDir returns Jupyter's per-user data directory, where kernel specs
// live: $JUPYTER_DATA_DIR, else ~/.local/share/jupyter (Linux and BSDs) or
// ~/Library/Jupyter (macOS).
func JupyterDataDir() (string, error) {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("jupyter data dir: %w", err)
	}
	if runtime.GOOS == "darwin" {
		return filepath.Join(home, "Library", "Jupyter"), nil
	}
	return filepath.Join(home, ".local", "share", "jupyter"), nil
}

// KernelSpecPath returns the path of GoNB's kernel.json under a Jupyter data
// directory.
func KernelSpecPath(jupyterDataDir string) string {
	return filepath.Join(jupyterDataDir, "kernels", KernelName, "kernel.json")
}

// Options configures Install. Zero values pick the defaults noted per field.
type Options struct {
	// RepoRoot is the gosteer checkout (holding kernel/tools). Default: found
	// from the working directory with RepoRoot.
	RepoRoot string
	// BinDir receives gonb, gopls and goimports. Default: DataDir()/bin.
	BinDir string
	// JupyterDataDir receives kernels/gonb/kernel.json. Default: JupyterDataDir().
	JupyterDataDir string
	// Env overrides or extends DefaultEnv in the kernel spec (for example
	// GOMLX_BACKEND=xla:/abs/path/pjrt_plugin.so on a GPU machine).
	Env map[string]string
	// SkipApt skips the Debian package step (for machines that get Jupyter
	// another way).
	SkipApt bool
	// Log receives progress lines. Default: io.Discard.
	Log io.Writer
}

func (o *Options) fill() error {
	var err error
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.RepoRoot == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("working directory: %w", err)
		}
		if o.RepoRoot, err = RepoRoot(wd); err != nil {
			return err
		}
	}
	if o.BinDir == "" {
		d, err := DataDir()
		if err != nil {
			return err
		}
		o.BinDir = filepath.Join(d, "bin")
	}
	if o.BinDir, err = filepath.Abs(o.BinDir); err != nil {
		return fmt.Errorf("bin dir: %w", err)
	}
	if o.JupyterDataDir == "" {
		if o.JupyterDataDir, err = JupyterDataDir(); err != nil {
			return err
		}
	}
	return nil
}

// Install runs the three steps (Debian packages, tools, kernel spec) in order,
// skipping the work each finds already done.
func Install(ctx context.Context, opts Options) error {
	if err := opts.fill(); err != nil {
		return err
	}
	if !opts.SkipApt {
		if err := EnsureAptPackages(ctx, AptPackages, opts.Log); err != nil {
			return err
		}
	}
	if err := EnsureTools(ctx, filepath.Join(opts.RepoRoot, "kernel", "tools"), opts.BinDir, opts.Log); err != nil {
		return err
	}
	gonb := filepath.Join(opts.BinDir, "gonb")
	spec, err := KernelSpec(gonb, opts.BinDir, opts.Env)
	if err != nil {
		return err
	}
	changed, err := WriteKernelSpec(KernelSpecPath(opts.JupyterDataDir), spec)
	if err != nil {
		return err
	}
	if changed {
		fmt.Fprintf(opts.Log, "kernel spec: wrote %s\n", KernelSpecPath(opts.JupyterDataDir))
	} else {
		fmt.Fprintf(opts.Log, "kernel spec: %s is up to date\n", KernelSpecPath(opts.JupyterDataDir))
	}
	return nil
}

// MissingAptPackages returns the packages of pkgs that dpkg does not report as
// installed. It returns all of them when dpkg-query is absent.
func MissingAptPackages(ctx context.Context, pkgs []string) ([]string, error) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		return append([]string(nil), pkgs...), nil
	}
	var missing []string
	for _, p := range pkgs {
		out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Status}", p).Output()
		if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "ok installed") {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("dpkg-query %s: %w", p, ctx.Err())
			}
			missing = append(missing, p)
		}
	}
	return missing, nil
}

// EnsureAptPackages installs the packages of pkgs that are missing with
// `apt-get update` then `apt-get install -y`, through sudo when not root.
func EnsureAptPackages(ctx context.Context, pkgs []string, log io.Writer) error {
	missing, err := MissingAptPackages(ctx, pkgs)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		fmt.Fprintf(log, "apt: %s already installed\n", strings.Join(pkgs, ", "))
		return nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("apt: missing %s and no apt-get on this machine: install Jupyter (notebook, nbconvert, nbclient, ipykernel) and Chromium another way and rerun with -skip-apt", strings.Join(missing, ", "))
	}
	var prefix []string
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("sudo"); err != nil {
			return fmt.Errorf("apt: missing %s; installing needs root and sudo is absent", strings.Join(missing, ", "))
		}
		prefix = []string{"sudo", "--preserve-env=DEBIAN_FRONTEND"}
	}
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	fmt.Fprintf(log, "apt: installing %s\n", strings.Join(missing, ", "))
	steps := [][]string{
		{"apt-get", "update", "-q"},
		append([]string{"apt-get", "install", "-y", "-q", "--no-install-recommends"}, missing...),
	}
	for _, step := range steps {
		args := append(append([]string(nil), prefix...), step...)
		if err := runLogged(ctx, "", env, log, args...); err != nil {
			return fmt.Errorf("apt: %w", err)
		}
	}
	still, err := MissingAptPackages(ctx, missing)
	if err != nil {
		return err
	}
	if len(still) > 0 {
		return fmt.Errorf("apt: %s still not installed after apt-get install", strings.Join(still, ", "))
	}
	return nil
}

// ToolsStamp identifies one build of the tools: a hash of the tools module's
// go.mod and go.sum, the Go toolchain version and the target platform. A bin
// dir whose stamp file matches needs no rebuild.
func ToolsStamp(ctx context.Context, toolsDir string) (string, error) {
	h := sha256.New()
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(toolsDir, name))
		if err != nil {
			return "", fmt.Errorf("tools stamp: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", name, len(data))
		h.Write(data)
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION", "GOOS", "GOARCH").Output()
	if err != nil {
		return "", fmt.Errorf("tools stamp: go env: %w", err)
	}
	h.Write(out)
	return hex.EncodeToString(h.Sum(nil)), nil
}

const stampFile = ".gosteer-tools-stamp"

// EnsureTools builds the tools module's tools (gonb, gopls, goimports) into
// binDir with `go install tool`, unless binDir already holds all of them built
// from the same stamp (see ToolsStamp).
func EnsureTools(ctx context.Context, toolsDir, binDir string, log io.Writer) error {
	stamp, err := ToolsStamp(ctx, toolsDir)
	if err != nil {
		return err
	}
	if toolsUpToDate(binDir, stamp) {
		fmt.Fprintf(log, "tools: %s in %s are up to date\n", strings.Join(Tools, ", "), binDir)
		return nil
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return fmt.Errorf("tools: %w", err)
	}
	fmt.Fprintf(log, "tools: building %s into %s (from %s)\n", strings.Join(Tools, ", "), binDir, toolsDir)
	env := append(os.Environ(), "GOBIN="+binDir, "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if err := runLogged(ctx, toolsDir, env, log, "go", "install", "tool"); err != nil {
		return fmt.Errorf("tools: %w", err)
	}
	for _, t := range Tools {
		if _, err := os.Stat(filepath.Join(binDir, t)); err != nil {
			return fmt.Errorf("tools: go install tool did not produce %s: %w", t, err)
		}
	}
	if err := os.WriteFile(filepath.Join(binDir, stampFile), []byte(stamp+"\n"), 0o644); err != nil {
		return fmt.Errorf("tools: %w", err)
	}
	return nil
}

func toolsUpToDate(binDir, stamp string) bool {
	data, err := os.ReadFile(filepath.Join(binDir, stampFile))
	if err != nil || strings.TrimSpace(string(data)) != stamp {
		return false
	}
	for _, t := range Tools {
		if fi, err := os.Stat(filepath.Join(binDir, t)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// Spec is a Jupyter kernel spec (kernel.json).
type Spec struct {
	Argv          []string          `json:"argv"`
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode"`
	Env           map[string]string `json:"env"`
}

// KernelSpec returns the GoNB kernel spec running the gonb binary. Its env is
// DefaultEnv with env applied on top, plus PATH: binDir (for gopls and
// goimports), the directory of the go command, then the current PATH, so the
// kernel finds its tools however Jupyter was started.
func KernelSpec(gonb, binDir string, env map[string]string) (Spec, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return Spec{}, fmt.Errorf("kernel spec: the go command is not in PATH: %w", err)
	}
	goDir, err := filepath.Abs(filepath.Dir(goCmd))
	if err != nil {
		return Spec{}, fmt.Errorf("kernel spec: %w", err)
	}
	e := map[string]string{}
	for k, v := range DefaultEnv {
		e[k] = v
	}
	for k, v := range env {
		e[k] = v
	}
	if _, ok := env["PATH"]; !ok {
		e["PATH"] = joinPath(binDir, goDir, os.Getenv("PATH"))
	}
	return Spec{
		Argv:          []string{gonb, "--kernel", "{connection_file}"},
		DisplayName:   "Go (gonb)",
		Language:      "go",
		InterruptMode: "message",
		Env:           e,
	}, nil
}

// joinPath joins directories into a PATH value, dropping empty and repeated
// entries while keeping the first occurrence's position.
func joinPath(parts ...string) string {
	seen := map[string]bool{}
	var out []string
	for _, p := range parts {
		for _, d := range filepath.SplitList(p) {
			if d == "" || seen[d] {
				continue
			}
			seen[d] = true
			out = append(out, d)
		}
	}
	return strings.Join(out, string(filepath.ListSeparator))
}

// WriteKernelSpec writes spec to path (creating its directory) unless the file
// already holds the same spec. It reports whether it wrote.
func WriteKernelSpec(path string, spec Spec) (bool, error) {
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return false, fmt.Errorf("kernel spec: %w", err)
	}
	data = append(data, '\n')
	if old, err := ReadKernelSpec(path); err == nil && specEqual(old, spec) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, fmt.Errorf("kernel spec: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return false, fmt.Errorf("kernel spec: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, fmt.Errorf("kernel spec: %w", err)
	}
	return true, nil
}

// ReadKernelSpec reads a kernel.json file.
func ReadKernelSpec(path string) (Spec, error) {
	var s Spec
	data, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("read kernel spec: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("read kernel spec %s: %w", path, err)
	}
	return s, nil
}

func specEqual(a, b Spec) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// Status says what of the installation is present, for commands and tests
// that need Jupyter and GoNB.
type Status struct {
	Jupyter    string // path of the jupyter command, "" when absent
	Nbconvert  bool   // `jupyter nbconvert` is available
	KernelSpec string // path of GoNB's kernel.json, "" when absent
	Gonb       string // gonb binary named by the kernel spec, "" when absent
}

// Ready reports whether notebooks can be executed headless.
func (s Status) Ready() bool {
	return s.Jupyter != "" && s.Nbconvert && s.KernelSpec != "" && s.Gonb != ""
}

// Missing describes what Ready lacks, in words; "" when ready.
func (s Status) Missing() string {
	var m []string
	if s.Jupyter == "" {
		m = append(m, "jupyter command")
	}
	if s.Jupyter != "" && !s.Nbconvert {
		m = append(m, "jupyter nbconvert")
	}
	if s.KernelSpec == "" {
		m = append(m, "GoNB kernel spec")
	} else if s.Gonb == "" {
		m = append(m, "gonb binary named in "+s.KernelSpec)
	}
	return strings.Join(m, ", ")
}

// Check inspects the installation without changing anything.
func Check(jupyterDataDir string) Status {
	var s Status
	if j, err := exec.LookPath("jupyter"); err == nil {
		s.Jupyter = j
		if n, err := exec.LookPath("jupyter-nbconvert"); err == nil && n != "" {
			s.Nbconvert = true
		}
	}
	if jupyterDataDir == "" {
		d, err := JupyterDataDir()
		if err != nil {
			return s
		}
		jupyterDataDir = d
	}
	p := KernelSpecPath(jupyterDataDir)
	spec, err := ReadKernelSpec(p)
	if err != nil {
		return s
	}
	s.KernelSpec = p
	if len(spec.Argv) > 0 {
		if fi, err := os.Stat(spec.Argv[0]); err == nil && !fi.IsDir() {
			s.Gonb = spec.Argv[0]
		}
	}
	return s
}

// ParseEnv parses KEY=VALUE strings into a map.
func ParseEnv(kvs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("env %q: want KEY=VALUE", kv)
		}
		m[k] = v
	}
	return m, nil
}

// SortedKeys returns m's keys in order (for stable printing).
func SortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// runLogged runs a command with its output going to log, and wraps a failure
// with the command line.
func runLogged(ctx context.Context, dir string, env []string, log io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = log
	cmd.Stderr = log
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("%s: exit status %d", strings.Join(args, " "), ee.ExitCode())
		}
		return fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	return nil
}
