package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/go-huggingface/hub"
)

// HubPrefix marks a Hugging Face Hub model id, e.g. "hf://HuggingFaceTB/SmolLM2-135M-Instruct".
const HubPrefix = "hf://"

// hubFiles are the small files fetched with a checkpoint (tokenizer and
// template files are used by steerlib/tokenizer and steerlib/chat).
var hubFiles = []string{"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
	"special_tokens_map.json", "chat_template.jinja"}

// ResolveDir returns the local folder holding a model: pathOrRepo itself if
// it is a directory (no network access, ever), or the go-huggingface cache
// snapshot of a Hub id ("hf://org/name" or "org/name"), downloading the
// config, tokenizer and safetensors files first unless offline is set.
// $HF_TOKEN authenticates gated repositories.
func ResolveDir(pathOrRepo string, offline bool) (string, error) {
	return resolveModelDir(pathOrRepo, options{offline: offline})
}

func resolveModelDir(pathOrRepo string, o options) (string, error) {
	id, isHub := strings.CutPrefix(pathOrRepo, HubPrefix)
	if !isHub {
		st, err := os.Stat(pathOrRepo)
		if err == nil {
			if !st.IsDir() {
				return "", fmt.Errorf("model %s: not a folder (give the folder holding config.json)", pathOrRepo)
			}
			return pathOrRepo, nil
		}
		if !looksLikeRepoID(pathOrRepo) {
			return "", fmt.Errorf("model %s: %w", pathOrRepo, err)
		}
		id = pathOrRepo
	}
	if !looksLikeRepoID(id) {
		return "", fmt.Errorf("model %s: hub id must look like org/name", pathOrRepo)
	}
	repo := hub.New(id).WithAuth(os.Getenv("HF_TOKEN")).WithProgressBar(false)
	if o.revision != "" {
		repo = repo.WithRevision(o.revision)
	}
	if o.offline {
		return cachedSnapshot(repo, id, o.revision)
	}
	dir, err := downloadRepo(repo)
	if err != nil {
		return "", fmt.Errorf("model %s: download from the Hub: %w", pathOrRepo, err)
	}
	return dir, nil
}

func looksLikeRepoID(s string) bool {
	parts := strings.Split(s, "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" || parts[0] == "." || parts[0] == ".." {
		return false
	}
	return !strings.ContainsAny(s, `\:`)
}

// downloadRepo fetches what Load needs and returns the snapshot folder.
func downloadRepo(repo *hub.Repo) (dir string, err error) {
	defer recoverTo(&err, "hub")
	var want []string
	has := map[string]bool{}
	for name, err := range repo.IterFileNames() {
		if err != nil {
			return "", err
		}
		has[name] = true
	}
	for _, f := range hubFiles {
		if has[f] {
			want = append(want, f)
		}
	}
	if !has["config.json"] {
		return "", errors.New("repository has no config.json")
	}
	switch {
	case has["model.safetensors"]:
		want = append(want, "model.safetensors")
	case has["model.safetensors.index.json"]:
		idxPath, err := repo.DownloadFile("model.safetensors.index.json")
		if err != nil {
			return "", err
		}
		shards, err := shardNames(idxPath)
		if err != nil {
			return "", err
		}
		want = append(want, shards...)
	default:
		return "", errors.New("repository has no model.safetensors or model.safetensors.index.json")
	}
	paths, err := repo.DownloadFiles(want...)
	if err != nil {
		return "", err
	}
	return filepath.Dir(paths[0]), nil
}

func shardNames(indexPath string) ([]string, error) {
	data, err := os.ReadFile(indexPath)
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", indexPath, err)
	}
	seen := map[string]bool{}
	out := []string{"model.safetensors.index.json"}
	for _, f := range idx.WeightMap {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// cachedSnapshot finds an already downloaded snapshot without the network.
func cachedSnapshot(repo *hub.Repo, id, revision string) (string, error) {
	cache, err := repo.CacheDir()
	if err != nil {
		return "", fmt.Errorf("model %s: offline: %w", id, err)
	}
	ref := "main"
	if revision != "" {
		ref = revision
	}
	refData, err := os.ReadFile(filepath.Join(cache, "refs", ref))
	if errors.Is(err, os.ErrNotExist) && len(ref) == 40 {
		refData, err = []byte(ref), nil // a commit hash names its snapshot directly
	}
	if err != nil {
		return "", fmt.Errorf("model %s: offline and not in the Hub cache %s: %w", id, cache, err)
	}
	dir := filepath.Join(cache, "snapshots", strings.TrimSpace(string(refData)))
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		return "", fmt.Errorf("model %s: offline and the cached snapshot lacks config.json: %w", id, err)
	}
	return dir, nil
}
