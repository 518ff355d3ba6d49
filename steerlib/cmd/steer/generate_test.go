package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gosteer/gosteer/steerlib"
	"github.com/gosteer/gosteer/steerlib/chat"
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

// TestGenerateDateDrift: `steer generate --prompt` encodes through the same
// encoder as the library (steerlib.Open, chat.LoadEncoder), with the same
// fixed date, for a template that prints the date: the generation equals the
// one of --input with the library's ids, and differs from the one of the
// ids rendered with another date.
func TestGenerateDateDrift(t *testing.T) {
	dir := textModel(t)
	tpl, err := os.ReadFile(filepath.Join("testdata", "date_template.jinja"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{"bos_token": "<s>", "eos_token": "</s>", "chat_template": string(tpl)})
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	const prompt = "Say hi"
	m, err := steerlib.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := m.Encode(prompt)
	m.Close()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := chat.LoadEncoder(dir, chat.EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := enc.Encode(prompt); err != nil || !reflect.DeepEqual(ids, rows[0]) {
		t.Fatalf("chat encoder ids %v (%v), facade ids %v", ids, err, rows[0])
	}
	enc.Date = time.Date(2031, 2, 3, 0, 0, 0, 0, time.UTC)
	other, err := enc.Encode(prompt)
	if err != nil || reflect.DeepEqual(other, rows[0]) {
		t.Fatalf("the template does not print the date: %v (%v)", other, err)
	}
	gen := func(args ...string) generateOutput {
		t.Helper()
		out := filepath.Join(t.TempDir(), "out.json")
		args = append([]string{"generate", "--model", dir, "--max-new-tokens", "8", "--out", out}, args...)
		if code, _, stderr := runSteer(args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var o generateOutput
		data, _ := os.ReadFile(out)
		if err := json.Unmarshal(data, &o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	input := func(ids []int) string {
		in := filepath.Join(t.TempDir(), "in.safetensors")
		v := make([]int32, len(ids))
		for i, id := range ids {
			v[i] = int32(id)
		}
		if err := safetensors.Write(in, []safetensors.Tensor{safetensors.I32("input_ids", []int{1, len(v)}, v)}, nil); err != nil {
			t.Fatal(err)
		}
		return in
	}
	got := gen("--prompt", prompt)
	want := gen("--input", input(rows[0]))
	drifted := gen("--input", input(other))
	if !reflect.DeepEqual(got.IDs, want.IDs) {
		t.Errorf("--prompt generated %v, the library's ids generate %v", got.IDs, want.IDs)
	}
	if reflect.DeepEqual(want.IDs, drifted.IDs) {
		t.Fatalf("the fixture generates %v for both dates: the test cannot see a date drift", want.IDs)
	}
	if dated := gen("--prompt", prompt, "--date", "2031-02-03"); !reflect.DeepEqual(dated.IDs, drifted.IDs) {
		t.Errorf("--date 2031-02-03 generated %v, want %v", dated.IDs, drifted.IDs)
	}
}
