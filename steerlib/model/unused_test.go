package model

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/safetensors"
)

// TestUnusedTensorsWarning checks that Load names the checkpoint tensors the
// config does not read (and only those: every fixture loads without a
// warning, derived buffers are not reported).
func TestUnusedTensorsWarning(t *testing.T) {
	extra := func(name string) safetensors.Tensor {
		return safetensors.Tensor{Name: name, DType: safetensors.Float32, Shape: []int{2}, Data: make([]byte, 8)}
	}
	fixtures, err := os.ReadDir("testdata/hf-tiny")
	if err != nil {
		t.Fatal(err)
	}
	type tcase struct {
		name, fixture string
		add           []string
		want          string // "": no warning
	}
	var cases []tcase
	for _, f := range fixtures {
		if f.IsDir() {
			cases = append(cases, tcase{name: f.Name() + "-as-is", fixture: f.Name()})
		}
	}
	cases = append(cases,
		tcase{"llama-extra", "llama", []string{"model.layers.7.mlp.up_proj.weight", "vision_tower.proj", "model.layers.0.self_attn.rotary_emb.inv_freq"},
			"2 checkpoint tensor(s) not used by config.json (ignored): model.layers.7.mlp.up_proj.weight, vision_tower.proj\n"},
		tcase{"tied-with-lm-head", "llama_tied", []string{"lm_head.weight"},
			"1 checkpoint tensor(s) not used by config.json (ignored): lm_head.weight\n"},
		tcase{"gpt2-mask-buffers", "gpt2", []string{"h.0.attn.bias", "h.0.attn.masked_bias"}, ""},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := fixtureDir(c.fixture)
			if len(c.add) > 0 {
				dir = copyFixture(t, c.fixture, nil)
				rewriteWeights(t, dir, func(ts []safetensors.Tensor) []safetensors.Tensor {
					for _, n := range c.add {
						ts = append(ts, extra(n))
					}
					return ts
				})
			}
			var warn bytes.Buffer
			m, err := Load(dir, WithWarnings(&warn))
			if err != nil {
				t.Fatal(err)
			}
			m.Close()
			got := warn.String()
			switch {
			case c.want == "" && got != "":
				t.Errorf("unexpected warning %q", got)
			case c.want != "" && !(strings.HasPrefix(got, "warning: load "+dir+": ") && strings.HasSuffix(got, c.want)):
				t.Errorf("warning %q, want %q", got, "warning: load "+dir+": "+c.want)
			}
		})
	}
}

// TestCapList checks the cut of long name lists.
func TestCapList(t *testing.T) {
	for _, c := range []struct {
		in   []string
		n    int
		want string
	}{
		{nil, 2, ""},
		{[]string{"a", "b"}, 2, "a b"},
		{[]string{"a", "b", "c"}, 2, "a b ... (3 in all)"},
	} {
		if got := strings.Join(capList(c.in, c.n), " "); got != c.want {
			t.Errorf("capList(%v, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
