package model

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// HubPrefix marks a Hugging Face Hub model id, e.g. "hf://HuggingFaceTB/SmolLM2-135M-Instruct".
const HubPrefix = "hf://"

// hubFiles are the small files fetched with a checkpoint (tokenizer and
// template files are used by steerlib/tokenizer and steerlib/chat).
var hubFiles = []string{"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
	"special_tokens_map.json", "chat_template.jinja"}

// ResolveDir returns the local folder holding a model: pathOrRepo itself if
// it is a directory (no network access, ever), or the Hub cache snapshot of
// a Hub id ("hf://org/name" or "org/name"), downloading the config,
// tokenizer and safetensors files first unless offline is set.
//
// The Hub is $HF_ENDPOINT (default https://huggingface.co); $HF_TOKEN
// authenticates gated repositories and is sent to that host only (dropped on
// redirects elsewhere, e.g. to a CDN) and never printed. The cache is the
// Hugging Face layout (blobs/, snapshots/<commit>/, refs/<revision>) under
// $HF_HUB_CACHE, $HF_HOME/hub or $XDG_CACHE_HOME/huggingface/hub (default
// ~/.cache/huggingface/hub), shared with Python's huggingface_hub. Files
// already in the snapshot are not requested again; an interrupted download
// resumes from its .incomplete file with an HTTP Range request; files whose
// ETag is a SHA-256 (LFS files such as safetensors) are verified.
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
	rev := o.revision
	if rev == "" {
		rev = "main"
	}
	c, err := newHubClient(id, rev)
	if err != nil {
		return "", fmt.Errorf("model %s: %w", pathOrRepo, err)
	}
	if o.offline {
		return c.cachedSnapshot()
	}
	dir, err := c.downloadRepo(context.Background())
	if err != nil {
		return "", fmt.Errorf("model %s: download from the Hub %s: %w", pathOrRepo, c.endpoint, err)
	}
	return dir, nil
}

var (
	repoPart   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	commitHash = regexp.MustCompile(`^[0-9a-f]{40}$`)
	etagChars  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	sha256Hex  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func looksLikeRepoID(s string) bool {
	parts := strings.Split(s, "/")
	return len(parts) == 2 && repoPart.MatchString(parts[0]) && repoPart.MatchString(parts[1]) &&
		parts[0] != ".." && parts[1] != ".."
}

// hubClient downloads one repository revision into the Hub cache.
type hubClient struct {
	endpoint, host, token string
	id, rev               string
	repoDir               string // <cache>/models--org--name
	http                  *http.Client
}

func newHubClient(id, rev string) (*hubClient, error) {
	endpoint := strings.TrimSuffix(os.Getenv("HF_ENDPOINT"), "/")
	if endpoint == "" {
		endpoint = "https://huggingface.co"
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("HF_ENDPOINT %q is not an http(s) URL", endpoint)
	}
	if strings.ContainsAny(rev, `/\`) || strings.Contains(rev, "..") {
		return nil, fmt.Errorf("revision %q may not contain slashes or ..", rev)
	}
	c := &hubClient{endpoint: endpoint, host: u.Host, token: os.Getenv("HF_TOKEN"), id: id, rev: rev,
		repoDir: filepath.Join(hubCacheDir(), "models--"+strings.ReplaceAll(id, "/", "--"))}
	c.http = &http.Client{CheckRedirect: c.checkRedirect}
	return c, nil
}

// hubCacheDir is the Hugging Face cache root, as huggingface_hub finds it.
func hubCacheDir() string {
	if d := os.Getenv("HF_HUB_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("HF_HOME"); d != "" {
		return filepath.Join(d, "hub")
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "huggingface", "hub")
}

// checkRedirect follows at most 10 redirects and drops the token when one
// leaves the Hub's host.
func (c *hubClient) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("more than 10 redirects")
	}
	if req.URL.Host != c.host {
		req.Header.Del("Authorization")
	}
	return nil
}

// request sends method u through client with the token (for the Hub's
// host only).
func (c *hubClient) request(ctx context.Context, client *http.Client, method, u string, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	if c.token != "" && req.URL.Host == c.host {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the caller names the file; keep the cause
		}
		return nil, fmt.Errorf("cannot reach %s (offline? use the cached copy with offline mode): %w", c.endpoint, err)
	}
	return resp, nil
}

// statusError explains a failed Hub response without echoing credentials.
func (c *hubClient) statusError(resp *http.Response, what string) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	msg := strings.TrimSpace(string(body))
	var j struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &j) == nil && j.Error != "" {
		msg = j.Error
	}
	if c.token != "" {
		msg = strings.ReplaceAll(msg, c.token, "<HF_TOKEN>")
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		hint := "set HF_TOKEN to a token with access to this gated or private repository"
		if c.token != "" {
			hint = "the HF_TOKEN given has no access; accept the model's terms on the Hub or use another token"
		}
		return fmt.Errorf("%s: %s (HTTP %d): %s", what, hint, resp.StatusCode, msg)
	case http.StatusNotFound:
		return fmt.Errorf("%s: not found on %s (HTTP 404; check the repository id and revision %q)", what, c.endpoint, c.rev)
	}
	return fmt.Errorf("%s: HTTP %d: %s", what, resp.StatusCode, msg)
}

// info fetches the revision's commit hash and file list.
func (c *hubClient) info(ctx context.Context) (sha string, files map[string]bool, err error) {
	resp, err := c.request(ctx, c.http, http.MethodGet, fmt.Sprintf("%s/api/models/%s/revision/%s", c.endpoint, c.id, url.PathEscape(c.rev)), nil)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", nil, c.statusError(resp, "repository "+c.id)
	}
	var info struct {
		SHA      string `json:"sha"`
		Siblings []struct {
			Name string `json:"rfilename"`
		} `json:"siblings"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&info); err != nil {
		return "", nil, fmt.Errorf("repository %s: malformed API answer: %w", c.id, err)
	}
	if !commitHash.MatchString(info.SHA) {
		return "", nil, fmt.Errorf("repository %s: API answer has no valid commit sha (%q)", c.id, info.SHA)
	}
	files = map[string]bool{}
	for _, s := range info.Siblings {
		files[s.Name] = true
	}
	return info.SHA, files, nil
}

// downloadRepo fetches what Load needs and returns the snapshot folder.
func (c *hubClient) downloadRepo(ctx context.Context) (string, error) {
	sha, has, err := c.info(ctx)
	if err != nil {
		return "", err
	}
	if !has["config.json"] {
		return "", errors.New("repository has no config.json")
	}
	var want []string
	for _, f := range hubFiles {
		if has[f] {
			want = append(want, f)
		}
	}
	switch {
	case has["model.safetensors"]:
		want = append(want, "model.safetensors")
	case has["model.safetensors.index.json"]:
		idx, err := c.file(ctx, sha, "model.safetensors.index.json")
		if err != nil {
			return "", err
		}
		shards, err := shardNames(idx)
		if err != nil {
			return "", err
		}
		want = append(want, shards...)
	default:
		return "", errors.New("repository has no model.safetensors or model.safetensors.index.json")
	}
	for _, f := range want {
		if _, err := c.file(ctx, sha, f); err != nil {
			return "", err
		}
	}
	if err := c.writeRef(sha); err != nil {
		return "", err
	}
	return filepath.Join(c.repoDir, "snapshots", sha), nil
}

// writeRef records the revision's commit (refs/<rev>) for offline use.
func (c *hubClient) writeRef(sha string) error {
	if c.rev == sha {
		return nil
	}
	ref := filepath.Join(c.repoDir, "refs", c.rev)
	if err := os.MkdirAll(filepath.Dir(ref), 0o755); err != nil {
		return err
	}
	tmp := ref + ".tmp"
	if err := os.WriteFile(tmp, []byte(sha), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, ref)
}

// file returns the snapshot path of one repository file, downloading it
// unless the snapshot already holds it (then no request is made).
func (c *hubClient) file(ctx context.Context, sha, name string) (string, error) {
	if name == "" || path.IsAbs(name) || strings.Contains(name, "..") || strings.Contains(name, `\`) {
		return "", fmt.Errorf("refusing repository file name %q", name)
	}
	snap := filepath.Join(c.repoDir, "snapshots", sha, filepath.FromSlash(name))
	if st, err := os.Stat(snap); err == nil && st.Mode().IsRegular() {
		return snap, nil
	}
	fileURL := fmt.Sprintf("%s/%s/resolve/%s/%s", c.endpoint, c.id, sha, name)
	etag, size, err := c.head(ctx, fileURL, name)
	if err != nil {
		return "", err
	}
	blob := filepath.Join(c.repoDir, "blobs", etag)
	if _, err := os.Stat(blob); err != nil {
		if err := c.fetchBlob(ctx, fileURL, name, blob, etag, size); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(filepath.Dir(snap), 0o755); err != nil {
		return "", err
	}
	rel, err := filepath.Rel(filepath.Dir(snap), blob)
	if err != nil {
		return "", err
	}
	_ = os.Remove(snap) // a dangling link from an earlier, failed run
	if err := os.Symlink(rel, snap); err != nil {
		return "", fmt.Errorf("%s: link into the snapshot: %w", name, err)
	}
	return snap, nil
}

// head reads a file's ETag and size without following redirects (the Hub
// puts X-Linked-Etag and X-Linked-Size on its redirects to the CDN).
func (c *hubClient) head(ctx context.Context, fileURL, name string) (etag string, size int64, err error) {
	noFollow := *c.http
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.request(ctx, &noFollow, http.MethodHead, fileURL, map[string]string{"Accept-Encoding": "identity"})
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return "", 0, c.statusError(resp, name)
	}
	etag = resp.Header.Get("X-Linked-Etag")
	if etag == "" {
		etag = resp.Header.Get("ETag")
	}
	etag = strings.TrimPrefix(strings.Trim(etag, `"`), "W/")
	etag = strings.Trim(etag, `"`)
	if !etagChars.MatchString(etag) {
		return "", 0, fmt.Errorf("%s: the Hub gave no usable ETag (%q), so the download cannot be cached safely", name, etag)
	}
	size = resp.ContentLength
	if resp.StatusCode >= 300 {
		size = -1 // the length of the redirect's own body; unknown unless X-Linked-Size says
	}
	if s := resp.Header.Get("X-Linked-Size"); s != "" {
		if _, err := fmt.Sscan(s, &size); err != nil {
			return "", 0, fmt.Errorf("%s: bad X-Linked-Size %q", name, s)
		}
	}
	return etag, size, nil
}

// fetchBlob downloads fileURL into blob through blob+".incomplete",
// resuming a previous partial download with a Range request, then checks
// the size and, for SHA-256 ETags, the content.
func (c *hubClient) fetchBlob(ctx context.Context, fileURL, name, blob, etag string, size int64) error {
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return err
	}
	part := blob + ".incomplete"
	f, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if size >= 0 && have > size {
		have = 0
	}
	hdr := map[string]string{"Accept-Encoding": "identity"}
	if have > 0 {
		hdr["Range"] = fmt.Sprintf("bytes=%d-", have)
	}
	resp, err := c.request(ctx, c.http, http.MethodGet, fileURL, hdr)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
	case resp.StatusCode == http.StatusOK:
		have = 0
	default:
		return c.statusError(resp, name)
	}
	if err := f.Truncate(have); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var dst io.Writer = f
	if HubProgress != nil {
		dst = &progressWriter{w: f, name: name, done: have, total: size, out: HubProgress}
	}
	n, err := io.Copy(dst, resp.Body)
	if p, ok := dst.(*progressWriter); ok {
		p.report(true)
	}
	if err != nil {
		return fmt.Errorf("%s: download interrupted after %d bytes (run again to resume): %w", name, have+n, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return finishBlob(part, blob, name, etag, size, have+n)
}

// HubProgress, when set (e.g. to os.Stderr by a command), receives one
// progress line per file download, updated every two seconds:
// "model.safetensors: 1.2 of 4.9 GB".
var HubProgress io.Writer

// progressWriter counts the bytes written through it and reports them.
type progressWriter struct {
	w           io.Writer
	out         io.Writer
	name        string
	done, total int64
	last        time.Time
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	if time.Since(p.last) >= 2*time.Second {
		p.report(false)
	}
	return n, err
}

// report prints the progress line (final ends it with a newline).
func (p *progressWriter) report(final bool) {
	p.last = time.Now()
	end := "\r"
	if final {
		end = "\n"
	}
	if p.total > 0 {
		fmt.Fprintf(p.out, "%s: %.1f of %.1f MB%s", p.name, float64(p.done)/1e6, float64(p.total)/1e6, end)
	} else {
		fmt.Fprintf(p.out, "%s: %.1f MB%s", p.name, float64(p.done)/1e6, end)
	}
}

// finishBlob checks a complete download and moves it to its blob name.
func finishBlob(part, blob, name, etag string, size, got int64) error {
	if size >= 0 && got != size {
		return fmt.Errorf("%s: downloaded %d bytes, the Hub announced %d (run again to resume)", name, got, size)
	}
	if sha256Hex.MatchString(etag) {
		sum, err := fileSHA256(part)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if sum != etag {
			_ = os.Remove(part)
			return fmt.Errorf("%s: SHA-256 %s does not match the Hub's %s; the partial file was removed, run again", name, sum, etag)
		}
	}
	if err := os.Rename(part, blob); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// shardNames lists model.safetensors.index.json and the shard files it
// names (each a plain file name ending in .safetensors).
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
	for tensor, f := range idx.WeightMap {
		if f != path.Base(f) || !strings.HasSuffix(f, ".safetensors") || strings.Contains(f, `\`) || f == ".." {
			return nil, fmt.Errorf("%s: weight_map[%q] = %q is not a .safetensors file name", indexPath, tensor, f)
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// cachedSnapshot finds an already downloaded snapshot without the network.
func (c *hubClient) cachedSnapshot() (string, error) {
	refData, err := os.ReadFile(filepath.Join(c.repoDir, "refs", c.rev))
	if errors.Is(err, os.ErrNotExist) && commitHash.MatchString(c.rev) {
		refData, err = []byte(c.rev), nil // a commit hash names its snapshot directly
	}
	if err != nil {
		return "", fmt.Errorf("model %s: offline and not in the Hub cache %s: %w", c.id, c.repoDir, err)
	}
	sha := strings.TrimSpace(string(refData))
	if !commitHash.MatchString(sha) {
		return "", fmt.Errorf("model %s: offline: cache ref %s holds %q, not a commit hash", c.id, c.rev, sha)
	}
	dir := filepath.Join(c.repoDir, "snapshots", sha)
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		return "", fmt.Errorf("model %s: offline and the cached snapshot lacks config.json: %w", c.id, err)
	}
	return dir, nil
}
