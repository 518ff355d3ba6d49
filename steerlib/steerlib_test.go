package steerlib_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib"
	"github.com/gosteer/gosteer/steerlib/chat"
	"github.com/gosteer/gosteer/steerlib/model"
)

// TestOpenEmbedded checks the facade's steps on the embedded model: the
// prompt ids are the chat encoder's, greedy generation is repeatable and
// stops at EOS unless asked not to, and plain prompts use "Q: …\nA:".
func TestOpenEmbedded(t *testing.T) {
	m, err := steerlib.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rows, err := m.Encode("Tell me about owls.", "Describe a harbor.")
	if err != nil || len(rows) != 2 {
		t.Fatalf("Encode: %v, %d rows", err, len(rows))
	}
	enc, err := chat.LoadEncoder(m.Net.Dir, chat.EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := enc.Encode("Tell me about owls."); !slices.Equal(ids, rows[0]) {
		t.Fatalf("facade ids %v, chat encoder ids %v", rows[0], ids)
	}
	cases := []struct {
		name    string
		opts    steerlib.GenerateOptions
		exactly int // 0: at most MaxNewTokens, ending at EOS or length
	}{
		{"greedy", steerlib.GenerateOptions{MaxNewTokens: 12}, 0},
		{"past eos", steerlib.GenerateOptions{MaxNewTokens: 40, PastEOS: true}, 40},
		{"one row per batch", steerlib.GenerateOptions{MaxNewTokens: 12, BatchSize: 1}, 0},
	}
	var greedy []steerlib.Generation
	for _, c := range cases {
		a, err := m.GenerateIDs(rows, c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b, err := m.Generate([]string{"Tell me about owls.", "Describe a harbor."}, c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		switch c.name {
		case "greedy":
			greedy = a
		case "one row per batch":
			for i := range a {
				if !slices.Equal(a[i].IDs, greedy[i].IDs) {
					t.Errorf("row %d alone: %q, in a batch of two: %q", i, a[i].Text, greedy[i].Text)
				}
			}
		}
		for i := range a {
			if !slices.Equal(a[i].IDs, b[i].IDs) || a[i].Text != b[i].Text || a[i].Text == "" {
				t.Errorf("%s row %d: %q vs %q", c.name, i, a[i].Text, b[i].Text)
			}
			if n := len(a[i].IDs); (c.exactly > 0 && n != c.exactly) || n > c.opts.MaxNewTokens {
				t.Errorf("%s row %d: %d tokens (%s)", c.name, i, n, a[i].Reason)
			}
			if c.exactly > 0 && a[i].Reason != model.StopLength {
				t.Errorf("%s row %d: stopped by %s", c.name, i, a[i].Reason)
			}
		}
	}
	pm, err := steerlib.Open(m.Net.Dir, steerlib.WithPlain())
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()
	if got := pm.Encoder.Format.(chat.PlainFormat); got != chat.DefaultPlainFormat || !pm.Encoder.AddSpecial {
		t.Errorf("plain encoder %+v", pm.Encoder)
	}
}

// TestOpenWithoutTokenizer: a folder with weights only opens, generates from
// ids, and reports clearly what needs a tokenizer.
func TestOpenWithoutTokenizer(t *testing.T) {
	dir := filepath.Join("model", "testdata", "hf-tiny", "llama")
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Skipf("llama fixture not available: %v", err)
	}
	m, err := steerlib.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	gens, err := m.GenerateIDs([][]int{{1, 5, 9}}, steerlib.GenerateOptions{MaxNewTokens: 3, PastEOS: true})
	if err != nil || len(gens) != 1 || len(gens[0].IDs) != 3 || gens[0].Text != "" {
		t.Fatalf("GenerateIDs: %+v, %v", gens, err)
	}
	_, errEncode := m.Encode("hi")
	_, errStop := m.GenerateIDs([][]int{{1}}, steerlib.GenerateOptions{MaxNewTokens: 2, Stop: []string{"x"}})
	_, errDirs := m.Directions(context.Background(), nil)
	for name, err := range map[string]error{"Encode": errEncode, "Stop": errStop, "Directions": errDirs} {
		if err == nil || !strings.Contains(err.Error(), "tokenizer") {
			t.Errorf("%s without a tokenizer: %v", name, err)
		}
	}
}

func TestModelHint(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if content != "" {
			if err := os.WriteFile(filepath.Join(d, "config.json"), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	cases := []struct {
		dir, want string
	}{
		{write("llama", `{"model_type": "llama", "hidden_size": 8}`), "llama"},
		{write("none", `{"hidden_size": 8}`), "fallback"},
		{write("broken", `{"model_type": `), "fallback"},
		{write("missing", ""), "fallback"},
	}
	for _, c := range cases {
		if got := steerlib.ModelHint(c.dir, "fallback"); got != c.want {
			t.Errorf("ModelHint(%s) = %q, want %q", filepath.Base(c.dir), got, c.want)
		}
	}
}
