package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	hubToken = "hf_test_secret_token_0123456789"
	hubSHA   = "0123456789abcdef0123456789abcdef01234567"
)

// hubRequest is one request a fake server saw.
type hubRequest struct {
	server, method, path, auth, rng string
}

// fakeHub serves a small Hugging Face repository on 127.0.0.1 with the
// routes the loader uses: the revision API, HEAD/GET resolve for small files
// (ETag) and a 302 redirect for model.safetensors (X-Linked-Etag = SHA-256,
// X-Linked-Size) to a "CDN" on a different host name (localhost) that
// honours Range requests and can cut a download short. org/gated answers
// 401 without the token; anything else is 404.
type fakeHub struct {
	hub, cdn *httptest.Server
	files    map[string][]byte
	mu       sync.Mutex
	log      []hubRequest
	cutAfter int // >0: the next CDN GET stops after this many bytes
}

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	h := &fakeHub{files: map[string][]byte{}}
	for _, name := range []string{"config.json", "generation_config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join("testdata", "hf-tiny", "llama", name))
		if err != nil {
			t.Fatal(err)
		}
		h.files[name] = b
	}
	h.hub = httptest.NewServer(http.HandlerFunc(h.serveHub))
	t.Cleanup(h.hub.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.cdn = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(h.serveCDN)}}
	h.cdn.Start()
	t.Cleanup(h.cdn.Close)
	return h
}

func (h *fakeHub) record(server string, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, hubRequest{server, r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Range")})
}

// take returns and clears the request log.
func (h *fakeHub) take() []hubRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.log
	h.log = nil
	return l
}

func sha256Of(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (h *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	h.record("hub", r)
	repo, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/api/models/"), "/revision/")
	switch {
	case ok && repo == "org/gated" && r.Header.Get("Authorization") != "Bearer "+hubToken:
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"Access to model org/gated is restricted. You must have access to it and be authenticated to access it. Please log in."}`)
	case ok && (repo == "org/tiny" || repo == "org/gated") && rest == "main":
		fmt.Fprintf(w, `{"id":%q,"sha":%q,"siblings":[{"rfilename":"config.json"},{"rfilename":"generation_config.json"},{"rfilename":"model.safetensors"},{"rfilename":"README.md"}]}`, repo, hubSHA)
	case strings.HasPrefix(r.URL.Path, "/org/tiny/resolve/"+hubSHA+"/") || strings.HasPrefix(r.URL.Path, "/org/gated/resolve/"+hubSHA+"/"):
		name := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		b, ok := h.files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if name == "model.safetensors" {
			w.Header().Set("X-Linked-Etag", `"`+sha256Of(b)+`"`)
			w.Header().Set("X-Linked-Size", strconv.Itoa(len(b)))
			http.Redirect(w, r, "http://localhost:"+h.cdnPort()+"/blobs/"+sha256Of(b), http.StatusFound)
			return
		}
		w.Header().Set("ETag", fmt.Sprintf(`"%x"`, sha256.Sum224(b)))
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":"Repository not found"}`)
	}
}

func (h *fakeHub) cdnPort() string {
	_, port, _ := net.SplitHostPort(h.cdn.Listener.Addr().String())
	return port
}

func (h *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	h.record("cdn", r)
	b := h.files["model.safetensors"]
	if r.URL.Path != "/blobs/"+sha256Of(b) {
		http.NotFound(w, r)
		return
	}
	h.mu.Lock()
	cut := h.cutAfter
	h.cutAfter = 0
	h.mu.Unlock()
	if cut > 0 && r.Method == http.MethodGet {
		// Announce the whole file, send part of it, then drop the connection.
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b[:cut])
		w.(http.Flusher).Flush()
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	http.ServeContent(w, r, "model.safetensors", time.Time{}, bytes.NewReader(b))
}

// hubEnv points the loader at the fake Hub with an empty cache.
func hubEnv(t *testing.T, endpoint, token string) string {
	cache := t.TempDir()
	t.Setenv("HF_ENDPOINT", endpoint)
	t.Setenv("HF_HUB_CACHE", cache)
	t.Setenv("HF_TOKEN", token)
	return cache
}

func checkSnapshot(t *testing.T, h *fakeHub, dir string) {
	t.Helper()
	for name, want := range h.files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s in the snapshot: %d bytes, err %v; want the served %d bytes", name, len(got), err, len(want))
		}
	}
	if _, err := LoadConfig(dir); err != nil {
		t.Errorf("LoadConfig on the snapshot: %v", err)
	}
}

// TestHubDownloadCacheAndToken: a first load downloads the files (following
// the redirect to the CDN), sending HF_TOKEN to the Hub's host and never to
// the CDN; a second load makes no file request; offline mode then works
// without any request.
func TestHubDownloadCacheAndToken(t *testing.T) {
	h := newFakeHub(t)
	hubEnv(t, h.hub.URL, hubToken)
	dir, err := ResolveDir("hf://org/tiny", false)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, h, dir)
	var cdnGets int
	for _, r := range h.take() {
		if r.server == "hub" && r.auth != "Bearer "+hubToken {
			t.Errorf("%s %s on the Hub without the token", r.method, r.path)
		}
		if r.server == "cdn" {
			cdnGets++
			if r.auth != "" {
				t.Errorf("HF_TOKEN sent to the CDN host: %s %s", r.method, r.path)
			}
		}
		if strings.HasSuffix(r.path, "README.md") {
			t.Errorf("downloaded a file the loader does not need: %s", r.path)
		}
	}
	if cdnGets != 1 {
		t.Errorf("%d CDN requests for model.safetensors, want 1", cdnGets)
	}

	again, err := ResolveDir("org/tiny", false)
	if err != nil || again != dir {
		t.Fatalf("second load: %q, %v; want %q", again, err, dir)
	}
	for _, r := range h.take() {
		if strings.Contains(r.path, "/resolve/") || r.server == "cdn" {
			t.Errorf("second load requested a file: %s %s %s", r.server, r.method, r.path)
		}
	}

	off, err := ResolveDir("hf://org/tiny", true)
	if err != nil || off != dir {
		t.Fatalf("offline load: %q, %v; want %q", off, err, dir)
	}
	if l := h.take(); len(l) != 0 {
		t.Errorf("offline load made %d requests: %v", len(l), l)
	}
}

// TestHubResumesInterruptedDownload: a download cut short fails with an
// error saying to run again, keeps its partial file, and the next load asks
// the CDN only for the missing bytes.
func TestHubResumesInterruptedDownload(t *testing.T) {
	h := newFakeHub(t)
	cache := hubEnv(t, h.hub.URL, "")
	const cut = 300_000
	h.cutAfter = cut
	var progress bytes.Buffer
	HubProgress = &progress
	defer func() { HubProgress = nil }()
	_, err := ResolveDir("hf://org/tiny", false)
	if err == nil || !strings.Contains(err.Error(), "run again to resume") {
		t.Fatalf("interrupted download: got %v, want an error saying to run again", err)
	}
	parts, _ := filepath.Glob(filepath.Join(cache, "models--org--tiny", "blobs", "*.incomplete"))
	if len(parts) != 1 {
		t.Fatalf("partial files: %v, want one .incomplete blob", parts)
	}
	if st, err := os.Stat(parts[0]); err != nil || st.Size() != cut {
		t.Fatalf("partial file: %v, %v; want %d bytes", st, err, cut)
	}
	h.take()
	dir, err := ResolveDir("hf://org/tiny", false)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, h, dir)
	if want := "model.safetensors: 0.8 of 0.8 MB\n"; !strings.HasSuffix(progress.String(), want) {
		t.Errorf("progress output %q does not end with %q", progress.String(), want)
	}
	var ranges []string
	for _, r := range h.take() {
		if r.server == "cdn" && r.method == http.MethodGet {
			ranges = append(ranges, r.rng)
		}
	}
	if want := fmt.Sprintf("bytes=%d-", cut); len(ranges) != 1 || ranges[0] != want {
		t.Errorf("CDN GETs on resume had Range %q, want one with %q", ranges, want)
	}
}

// TestHubErrors: a gated repository without a token, a missing repository,
// an unreachable endpoint and an uncached repository offline each give one
// clear error, and the token never appears in any message.
func TestHubErrors(t *testing.T) {
	h := newFakeHub(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	for _, c := range []struct {
		name, endpoint, token, repo string
		offline                     bool
		want                        []string
	}{
		{"gated without token", h.hub.URL, "", "hf://org/gated", false, []string{"HTTP 401", "set HF_TOKEN", "restricted"}},
		{"gated with token", h.hub.URL, hubToken, "hf://org/gated", false, nil},
		{"gated with a wrong token", h.hub.URL, "hf_wrong", "hf://org/gated", false, []string{"HTTP 401", "has no access"}},
		{"missing repository", h.hub.URL, hubToken, "hf://org/missing", false, []string{"not found", "HTTP 404", "org/missing"}},
		{"unreachable", closedURL, hubToken, "hf://org/tiny", false, []string{"cannot reach " + closedURL, "offline"}},
		{"offline, not cached", h.hub.URL, hubToken, "hf://org/tiny", true, []string{"offline and not in the Hub cache"}},
		{"bad endpoint", "ftp://example", "", "hf://org/tiny", false, []string{"HF_ENDPOINT"}},
		{"bad id", h.hub.URL, "", "hf://org/../x", false, []string{"org/name"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			hubEnv(t, c.endpoint, c.token)
			dir, err := ResolveDir(c.repo, c.offline)
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				checkSnapshot(t, h, dir)
				return
			}
			if err == nil {
				t.Fatalf("got %q, want an error", dir)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), hubToken) || strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error is not one line without the token: %q", err)
			}
		})
	}
	h.take()
}

// TestHubRefusesBadShardNames: an index naming files outside the snapshot
// is refused.
func TestHubRefusesBadShardNames(t *testing.T) {
	for _, name := range []string{"../../etc/passwd.safetensors", "/abs.safetensors", "sub/x.safetensors", "model.bin"} {
		p := filepath.Join(t.TempDir(), "model.safetensors.index.json")
		if err := os.WriteFile(p, []byte(fmt.Sprintf(`{"weight_map":{"w":%q}}`, name)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := shardNames(p); err == nil || !strings.Contains(err.Error(), "not a .safetensors file name") {
			t.Errorf("shard %q: got %v, want a refusal", name, err)
		}
	}
}
