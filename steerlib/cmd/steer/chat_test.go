package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/tokenizer/tokenizertest"
)

func TestChatCommand(t *testing.T) {
	tplDir := t.TempDir()
	cfg := map[string]any{
		"bos_token":     "<s>",
		"eos_token":     "</s>",
		"chat_template": "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}{{ strftime_now('%d %b %Y') }}",
	}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(tplDir, "tokenizer_config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	noTpl := t.TempDir()
	msgs := `[{"role":"user","content":"Hi <b>"}]`
	tests := []struct {
		name    string
		args    []string
		stdin   string
		want    string
		wantErr string
	}{
		{"template", []string{"--tokenizer", tplDir, "--date", "2025-01-15"}, msgs, `"<s>[user] Hi <b>\n15 Jan 2025"` + "\n", ""},
		{"generation prompt", []string{"--tokenizer", tplDir, "--add-generation-prompt", "--date", "2024-07-26"}, msgs, `"<s>[user] Hi <b>\n[assistant] 26 Jul 2024"` + "\n", ""},
		{"plain", []string{"--plain", "--add-generation-prompt"}, `[{"role":"user","content":"What is 2+2?"}]`, `"Q: What is 2+2?\nA:"` + "\n", ""},
		{"no template", []string{"--tokenizer", noTpl}, msgs, "", "--plain"},
		{"bad date", []string{"--tokenizer", tplDir, "--date", "15/01/2025"}, msgs, "", "YYYY-MM-DD"},
		{"bad json", []string{"--tokenizer", tplDir}, `["x"]`, "", "{role, content}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			var err error
			withStdin(t, tc.stdin, func() { err = runChat(tc.args, &out, &errb) })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v (stderr %s)", err, errb.String())
			}
			if out.String() != tc.want {
				t.Fatalf("stdout = %q, want %q", out.String(), tc.want)
			}
		})
	}
}

// TestChatCommandOracle renders a Qwen2.5 conversation and compares it with
// the transformers.js string committed for the chat package.
func TestChatCommandOracle(t *testing.T) {
	dir := tokenizertest.ForTest(t, "qwen2_5")
	data, err := os.ReadFile(filepath.Join("..", "..", "chat", "testdata", "chat_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Conversations map[string]json.RawMessage `json:"conversations"`
		Cases         []struct {
			Template            string         `json:"template"`
			Conversation        string         `json:"conversation"`
			AddGenerationPrompt bool           `json:"add_generation_prompt"`
			Extra               map[string]any `json:"extra"`
			Text                *string        `json:"text"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range v.Cases {
		if c.Template != "qwen2_5" || c.Text == nil || len(c.Extra) > 0 {
			continue
		}
		args := []string{"--tokenizer", dir, "--date", "2025-01-15"}
		if c.AddGenerationPrompt {
			args = append(args, "--add-generation-prompt")
		}
		var out, errb bytes.Buffer
		withStdin(t, string(v.Conversations[c.Conversation]), func() { err = runChat(args, &out, &errb) })
		if err != nil {
			t.Fatalf("%s: %v", c.Conversation, err)
		}
		var got string
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got != *c.Text {
			t.Errorf("%s gen=%v: got %q, want %q", c.Conversation, c.AddGenerationPrompt, got, *c.Text)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no qwen2_5 cases in chat_vectors.json")
	}
}
