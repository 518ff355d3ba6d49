package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/chat"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/pairs"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// gpt2Bytes is the GPT-2 byte-to-unicode table of byte-level BPE.
func gpt2Bytes() []rune {
	out := make([]rune, 256)
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			out[b] = rune(b)
		} else {
			out[b] = rune(256 + n)
			n++
		}
	}
	return out
}

// tinyChatModel makes a model folder from the llama fixture plus a byte-level
// tokenizer (256 byte tokens, no merges) and a small chat template:
// "<|user|>" 256, "<|assistant|>" 257, "<|end|>" 258.
func tinyChatModel(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", "..", "model", "testdata", "hf-tiny", "llama"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(src, "model.safetensors")); err != nil {
		t.Skipf("llama fixture not available: %v", err)
	}
	dir := t.TempDir()
	for _, f := range []string{"config.json", "generation_config.json", "model.safetensors"} {
		if err := os.Symlink(filepath.Join(src, f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	vocab := map[string]int{}
	for b, r := range gpt2Bytes() {
		vocab[string(r)] = b
	}
	special := func(id int, s string) map[string]any {
		return map[string]any{"id": id, "content": s, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
	}
	tok := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil, "normalizer": nil,
		"added_tokens":   []any{special(256, "<|user|>"), special(257, "<|assistant|>"), special(258, "<|end|>")},
		"pre_tokenizer":  map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
		"post_processor": nil,
		"decoder":        map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
		"model":          map[string]any{"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil, "end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "vocab": vocab, "merges": []any{}},
	}
	cfg := map[string]any{
		"chat_template": "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}",
		"eos_token":     "<|end|>",
	}
	for name, v := range map[string]any{"tokenizer.json": tok, "tokenizer_config.json": cfg} {
		b, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func steerOut(t *testing.T, wantCode int, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != wantCode {
		t.Fatalf("steer %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

func TestVectorsCLI(t *testing.T) {
	dir := tinyChatModel(t)
	tmp := t.TempDir()

	// The encoder renders the chat template with the generation prompt.
	enc, err := chat.LoadEncoder(dir, chat.EncoderOptions{Date: chat.DefaultDate})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := enc.Encode("Hi!")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{256, 'H', 'i', '!', 258, 257}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("encoded prompt %v, want %v", ids, want)
	}

	queries := []string{"Describe a harbor.", "Tell me about owls.", "Explain tides.", "What is rain?", "Name a color.", "Why sleep?"}
	ps, err := pairs.Build(queries, pairs.BuildOptions{IDs: []string{"change_case:english_lowercase"}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	pfile := filepath.Join(tmp, "pairs.jsonl")
	if err := pairs.Save(pfile, ps[:4]); err != nil {
		t.Fatal(err)
	}
	vec := filepath.Join(tmp, "lower.safetensors")
	stdout, _ := steerOut(t, 0, "vectors", "compute", "--model", dir, "--pairs", pfile, "--out", vec, "--batch", "3", "--layer", "2", "--progress=false")
	if !strings.Contains(stdout, "from 4 pairs") {
		t.Errorf("compute output: %s", stdout)
	}
	set, err := vectors.Load(vec)
	if err != nil {
		t.Fatal(err)
	}
	if set.NPairs != 4 || set.ChosenLayer != 2 || set.ModelHint != "llama" || set.InstructionID != "change_case:english_lowercase" || len(set.Layers) != 4 || set.Hidden != 64 {
		t.Fatalf("computed set: %+v", set)
	}
	state := filepath.Join(tmp, "lower.state.safetensors")
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("state file: %v", err)
	}
	// The same computation through the library, pair by pair.
	m := mustLoadModel(t, dir)
	acc := vectors.NewAccumulator(4, 64, false)
	for _, p := range ps[:4] {
		w, _ := enc.Encode(p.With)
		o, _ := enc.Encode(p.Without)
		acts, err := vectors.ModelCapture(m)([][]int{w, o})
		if err != nil {
			t.Fatal(err)
		}
		with, without := make([][]float32, 4), make([][]float32, 4)
		for l := range acts {
			with[l], without[l] = acts[l][:64], acts[l][64:]
		}
		acc.Add(with, without)
	}
	ref, _ := acc.Vectors(vectors.MethodMeanDiff)
	for l := range ref.Layers {
		if c := vectors.Cosine(ref.Layers[l].U, set.Layers[l].U); math.Abs(c-1) > 1e-6 {
			t.Errorf("layer %d: CLI direction differs from pair-by-pair (cos %v)", l, c)
		}
		if d := math.Abs(ref.Layers[l].ZBar - set.Layers[l].ZBar); d > 1e-4*math.Max(1, math.Abs(ref.Layers[l].ZBar)) {
			t.Errorf("layer %d: z̄ %v vs %v", l, set.Layers[l].ZBar, ref.Layers[l].ZBar)
		}
	}

	// A second run must say what to do with the existing state.
	_, stderr := steerOut(t, 1, "vectors", "compute", "--model", dir, "--pairs", pfile, "--out", vec, "--progress=false")
	if !strings.Contains(stderr, "--resume") || !strings.Contains(stderr, "--update") {
		t.Errorf("existing state: %s", stderr)
	}
	// Resume over the full dataset adds only the new pairs.
	if err := pairs.Save(pfile, ps); err != nil {
		t.Fatal(err)
	}
	stdout, _ = steerOut(t, 0, "vectors", "compute", "--model", dir, "--pairs", pfile, "--out", vec, "--resume", "--progress=false")
	if !strings.Contains(stdout, "from 6 pairs (2 new") {
		t.Errorf("resume output: %s", stdout)
	}
	// Update adds a file of more pairs.
	more := filepath.Join(tmp, "more.jsonl")
	pairs.Save(more, ps[:2])
	stdout, _ = steerOut(t, 0, "vectors", "compute", "--model", dir, "--pairs", more, "--out", vec, "--update", "--progress=false")
	if !strings.Contains(stdout, "from 8 pairs (2 new") {
		t.Errorf("update output: %s", stdout)
	}
	// Resuming over another dataset is refused.
	other := filepath.Join(tmp, "other.jsonl")
	pairs.Save(other, ps[2:])
	_, stderr = steerOut(t, 1, "vectors", "compute", "--model", dir, "--pairs", other, "--out", vec, "--resume", "--progress=false")
	if !strings.Contains(stderr, "differ") && !strings.Contains(stderr, "only") {
		t.Errorf("resume on another dataset: %s", stderr)
	}

	// info, text and JSON.
	stdout, _ = steerOut(t, 0, "vectors", "info", "--cosines", vec)
	for _, want := range []string{"change_case:english_lowercase", "mean_diff", "pairs        8", "layer        2 (layer of choice)", "cosine similarity"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("info lacks %q:\n%s", want, stdout)
		}
	}
	stdout, _ = steerOut(t, 0, "vectors", "info", "--json", vec)
	var info struct {
		NPairs int `json:"n_pairs"`
		Layer  *int
		Layers []struct {
			Layer int      `json:"layer"`
			ZBar  *float64 `json:"zbar"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &info); err != nil || info.NPairs != 8 || info.Layer == nil || *info.Layer != 2 || len(info.Layers) != 4 || info.Layers[1].ZBar == nil {
		t.Fatalf("info --json: %v %s", err, stdout)
	}

	// GGUF export / import.
	gg := filepath.Join(tmp, "lower.gguf")
	stdout, _ = steerOut(t, 0, "vectors", "export-gguf", "--in", vec, "--out", gg, "--scale", "4")
	if !strings.Contains(stdout, "layers [2]") || !strings.Contains(stdout, "c = 4") {
		t.Errorf("export output: %s", stdout)
	}
	_, stderr = steerOut(t, 0, "vectors", "export-gguf", "--in", vec, "--out", gg, "--layers", "all")
	if !strings.Contains(stderr, "layer 0 skipped") {
		t.Errorf("export of all layers: stderr %q", stderr)
	}
	_, stderr = steerOut(t, 1, "vectors", "export-gguf", "--in", vec, "--out", gg, "--layers", "0,1")
	if !strings.Contains(stderr, "layer 0 cannot be expressed") {
		t.Errorf("export of layer 0: %q", stderr)
	}
	_, stderr = steerOut(t, 1, "vectors", "export-gguf", "--in", vec, "--out", gg, "--op", "clamp")
	if !strings.Contains(stderr, "clamp has no llama.cpp equivalent") {
		t.Errorf("clamp export: %q", stderr)
	}
	steerOut(t, 0, "vectors", "export-gguf", "--in", vec, "--out", gg, "--op", "clamp", "--clamp-approx", "--layers", "1,2")
	back := filepath.Join(tmp, "back.safetensors")
	steerOut(t, 0, "vectors", "import-gguf", "--in", gg, "--out", back)
	bs, err := vectors.Load(back)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := vectors.Load(vec)
	if fmt.Sprint(bs.LayerIDs()) != "[1 2]" || bs.NPairs != 8 || bs.ChosenLayer != 2 {
		t.Fatalf("imported: %+v", bs)
	}
	for _, l := range []int{1, 2} {
		a, _ := bs.Get(l)
		b, _ := s2.Get(l)
		if want := b.ZBar - b.MeanProjWithout; math.Abs(a.Coef-want) > 1e-6*math.Abs(want) || a.ZBar != b.ZBar {
			t.Errorf("layer %d: coef %v (want z̄−m⁻ = %v), z̄ %v vs %v", l, a.Coef, want, a.ZBar, b.ZBar)
		}
	}
	// info reads GGUF directly.
	stdout, _ = steerOut(t, 0, "vectors", "info", gg)
	if !strings.Contains(stdout, "change_case:english_lowercase") {
		t.Errorf("info of a GGUF file: %s", stdout)
	}

	// Usage errors.
	steerOut(t, 2, "vectors")
	steerOut(t, 2, "vectors", "frobnicate")
	steerOut(t, 2, "vectors", "compute", "--model", dir)
	steerOut(t, 2, "vectors", "info")
	_, stderr = steerOut(t, 1, "vectors", "compute", "--model", dir, "--pairs", pfile, "--out", filepath.Join(tmp, "x.safetensors"), "--method", "svd")
	if !strings.Contains(stderr, "--method") {
		t.Errorf("bad method: %q", stderr)
	}
	_, stderr = steerOut(t, 1, "vectors", "compute", "--model", dir, "--pairs", pfile, "--out", filepath.Join(tmp, "y.safetensors"), "--layer", "9", "--progress=false")
	if !strings.Contains(stderr, "out of range") {
		t.Errorf("bad layer: %q", stderr)
	}
}

func mustLoadModel(t *testing.T, dir string) *model.Model {
	t.Helper()
	m, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestVectorsPairsCLI(t *testing.T) {
	tmp := t.TempDir()
	qfile := filepath.Join(tmp, "queries.txt")
	os.WriteFile(qfile, []byte("Describe a harbor.\n\nTell me about owls.\nExplain tides.\n"), 0o644)
	out := filepath.Join(tmp, "p.jsonl")
	stdout, _ := steerOut(t, 0, "vectors", "pairs", "--out", out, "--queries", qfile, "--ids", "punctuation:no_comma,keywords:existence",
		"--per-query", "2", "--kwargs", `{"keywords":["owl"]}`)
	if !strings.Contains(stdout, "12 pairs") {
		t.Errorf("output: %s", stdout)
	}
	ps, err := pairs.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 12 || ps[0].InstructionID != "punctuation:no_comma" || ps[0].Without != "Describe a harbor." {
		t.Fatalf("pairs: %+v", ps[:1])
	}
	for _, p := range ps[6:] {
		if !strings.Contains(p.With, `"owl"`) {
			t.Errorf("fixed keyword not used: %q", p.With)
		}
	}
	steerOut(t, 1, "vectors", "pairs", "--out", out, "--queries", qfile, "--ids", "nope:nope")
	steerOut(t, 1, "vectors", "pairs", "--out", out, "--queries", qfile)
	steerOut(t, 2, "vectors", "pairs", "--out", out)

	paper := filepath.Join(tmp, "paper.jsonl")
	os.WriteFile(paper, []byte(
		`{"prompt":"Q. No commas.","prompt_without_instruction":"Q.","instruction_id_list":["punctuation:no_comma"],"kwargs":[{}]}`+"\n"+
			`{"prompt":"Same.","prompt_without_instruction":"Same.","instruction_id_list":["detectable_format:title"],"kwargs":[{}]}`+"\n"+
			`{"prompt":"R. lowercase.","prompt_without_instruction":"R.","instruction_id_list":["change_case:english_lowercase"],"kwargs":[{}]}`+"\n"), 0o644)
	stdout, _ = steerOut(t, 0, "vectors", "pairs", "--out", out, "--paper", paper)
	if !strings.Contains(stdout, "2 pairs") || !strings.Contains(stdout, "1 pairs with identical prompts dropped") {
		t.Errorf("paper output: %s", stdout)
	}
	stdout, _ = steerOut(t, 0, "vectors", "pairs", "--out", out, "--paper", paper, "--instruction", "change_case:english_lowercase")
	if !strings.Contains(stdout, "1 pairs of change_case:english_lowercase") {
		t.Errorf("filtered output: %s", stdout)
	}
}
