package tinyif

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// embedded holds the trained tinyif instruct model in the Hugging Face layout
// (config.json, generation_config.json, model.safetensors, tokenizer.json,
// tokenizer_config.json) plus its training record (training.json, loss.csv),
// and in model/base the base model it was fine-tuned from (same files, same
// tokenizer, no chat template: use the plain "Q: …\nA:" format).
//
//go:embed model/*.json model/model.safetensors model/loss.csv
//go:embed model/base/*.json model/base/model.safetensors model/base/loss.csv
var embedded embed.FS

// Embedded model folders.
const (
	embeddedInstruct = "model"
	embeddedBase     = "model/base"
)

// EmbeddedFiles lists the files of the embedded (instruct) model folder.
func EmbeddedFiles() ([]string, error) { return embeddedFiles(embeddedInstruct) }

func embeddedFiles(sub string) ([]string, error) {
	entries, err := fs.ReadDir(embedded, sub)
	if err != nil {
		return nil, fmt.Errorf("tinyif: embedded model: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// ExtractModel writes the embedded (instruct) model folder into dir (created
// if needed).
func ExtractModel(dir string) error { return extractModel(embeddedInstruct, dir) }

// ExtractBaseModel writes the embedded base model folder into dir.
func ExtractBaseModel(dir string) error { return extractModel(embeddedBase, dir) }

func extractModel(sub, dir string) error {
	names, err := embeddedFiles(sub)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tinyif: extract: %w", err)
	}
	for _, n := range names {
		data, err := embedded.ReadFile(path.Join(sub, n))
		if err != nil {
			return fmt.Errorf("tinyif: extract %s: %w", n, err)
		}
		tmp := filepath.Join(dir, "."+n+".tmp")
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return fmt.Errorf("tinyif: extract %s: %w", n, err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, n)); err != nil {
			return fmt.Errorf("tinyif: extract %s: %w", n, err)
		}
	}
	return nil
}

// EmbeddedModelDir returns a folder holding the embedded instruct model,
// extracting it on first use into the user cache directory (or the temp
// directory), under a name derived from the weights' hash so different
// builds never mix.
func EmbeddedModelDir() (string, error) { return embeddedModelDir(embeddedInstruct, "tinyif-") }

// EmbeddedBaseModelDir returns a folder holding the embedded base model (see
// EmbeddedModelDir), for the transfer experiment: vectors computed on the
// instruct model applied to the base model it was fine-tuned from.
func EmbeddedBaseModelDir() (string, error) { return embeddedModelDir(embeddedBase, "tinyif-base-") }

func embeddedModelDir(sub, prefix string) (string, error) {
	weights, err := embedded.ReadFile(path.Join(sub, "model.safetensors"))
	if err != nil {
		return "", fmt.Errorf("tinyif: embedded model: %w", err)
	}
	sum := sha256.Sum256(weights)
	base, err := os.UserCacheDir()
	if err != nil || base == "" {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "gosteer", prefix+hex.EncodeToString(sum[:6]))
	if st, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil && st.Size() == int64(len(weights)) {
		return dir, nil
	}
	if err := extractModel(sub, dir); err != nil {
		return "", err
	}
	return dir, nil
}
