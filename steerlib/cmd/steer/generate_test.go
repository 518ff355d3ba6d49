package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gosteer/gosteer/steerlib/safetensors"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
)

// TestGenerateCLI: 10 greedy tokens equal gen_plain, and with --steer
// gen_steer_add (c=8) and gen_steer_clamp (z̄=3), on every fixture.
func TestGenerateCLI(t *testing.T) {
	for _, name := range runtimeFixtures {
		t.Run(name, func(t *testing.T) {
			ref := fixtureRef(t, name)
			dir := t.TempDir()
			prompt, shape := refInts(t, ref, "gen_prompt")
			in := filepath.Join(dir, "in.safetensors")
			if err := safetensors.Write(in, []safetensors.Tensor{safetensors.I32("input_ids", shape, prompt)}, nil); err != nil {
				t.Fatal(err)
			}
			vec, layer := steerVectorFile(t, ref)
			for _, c := range []struct {
				ref   string
				extra []string
			}{
				{"gen_plain", nil},
				{"gen_steer_add", []string{"--steer", fmt.Sprintf("%s@%d:add=8", vec, layer)}},
				{"gen_steer_clamp", []string{"--steer", fmt.Sprintf("%s@%d:clamp=3", vec, layer)}},
			} {
				out := filepath.Join(dir, c.ref+".json")
				args := append([]string{"generate", "--model", runtimeFixture(name), "--input", in, "--max-new-tokens", "10", "--greedy", "--out", out}, c.extra...)
				if code, _, stderr := runSteer(args...); code != 0 {
					t.Fatalf("%s: exit %d: %s", c.ref, code, stderr)
				}
				data, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				var got struct {
					IDs [][]int `json:"ids"`
				}
				if err := json.Unmarshal(data, &got); err != nil {
					t.Fatalf("%s: %v", c.ref, err)
				}
				want, _ := refInts(t, ref, c.ref)
				wantInts := make([]int, len(want))
				for i, v := range want {
					wantInts[i] = int(v)
				}
				if len(got.IDs) != 1 || !reflect.DeepEqual(got.IDs[0], wantInts) {
					t.Errorf("%s: got %v want %v", c.ref, got.IDs, wantInts)
				}
			}
		})
	}
}

// textModel copies the llama fixture and adds a character-level BPE
// tokenizer (printable ASCII and newline, no merges) and a chat template, so
// the text mode of steer generate can run end to end.
func textModel(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"config.json", "generation_config.json", "model.safetensors"} {
		data, err := os.ReadFile(filepath.Join(runtimeFixture("llama"), f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vocab := map[string]int{"<unk>": 0, "<s>": 1, "</s>": 2, "\n": 3}
	for c := 32; c < 127; c++ {
		vocab[string(rune(c))] = len(vocab)
	}
	for len(vocab) < 384 { // the model's vocabulary size
		vocab[fmt.Sprintf("<x%d>", len(vocab))] = len(vocab)
	}
	tok := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil,
		"added_tokens": []map[string]any{
			{"id": 0, "content": "<unk>", "special": true}, {"id": 1, "content": "<s>", "special": true},
			{"id": 2, "content": "</s>", "special": true}},
		"normalizer": nil, "pre_tokenizer": nil, "post_processor": nil, "decoder": nil,
		"model": map[string]any{"type": "BPE", "vocab": vocab, "merges": []string{}, "unk_token": "<unk>"},
	}
	cfg := map[string]any{"bos_token": "<s>", "eos_token": "</s>",
		"chat_template": "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"}
	for name, v := range map[string]any{"tokenizer.json": tok, "tokenizer_config.json": cfg} {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestGenerateTextCLI: --prompt renders the chat template, tokenizes it and
// generates the same ids as --input with those ids; the text is the decoded ids.
func TestGenerateTextCLI(t *testing.T) {
	dir := textModel(t)
	out := filepath.Join(t.TempDir(), "text.json")
	if code, _, stderr := runSteer("generate", "--model", dir, "--prompt", "Say hi", "--max-new-tokens", "6", "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got generateOutput
	data, _ := os.ReadFile(out)
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	// The rendered prompt "<|user|>Say hi\n<|assistant|>", one id per character.
	prompt := "<|user|>Say hi\n<|assistant|>"
	ids := make([]int32, len(prompt))
	for i, c := range prompt {
		switch {
		case c == '\n':
			ids[i] = 3
		default:
			ids[i] = int32(c) - 32 + 4
		}
	}
	in := filepath.Join(t.TempDir(), "in.safetensors")
	if err := safetensors.Write(in, []safetensors.Tensor{safetensors.I32("input_ids", []int{1, len(ids)}, ids)}, nil); err != nil {
		t.Fatal(err)
	}
	out2 := filepath.Join(t.TempDir(), "ids.json")
	if code, _, stderr := runSteer("generate", "--model", dir, "--input", in, "--max-new-tokens", "6", "--out", out2); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var want generateOutput
	data, _ = os.ReadFile(out2)
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if len(got.IDs) != 1 || len(got.IDs[0]) != 6 || !reflect.DeepEqual(got.IDs, want.IDs) {
		t.Fatalf("text mode ids %v, ids mode %v", got.IDs, want.IDs)
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	text, err := tok.Decode(want.IDs[0], true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Text) != 1 || got.Text[0] != text {
		t.Errorf("text %q, want %q", got.Text, text)
	}
}
