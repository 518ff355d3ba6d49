package chat

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosteer/gosteer/steerlib/tokenizer"
	"github.com/gosteer/gosteer/steerlib/tokenizer/tokenizertest"
)

// chatVectors is testdata/chat_vectors.json, written by
// scripts/oracle/gen_chat.mjs with transformers.js.
type chatVectors struct {
	Date          string               `json:"date"`
	Conversations map[string][]Message `json:"conversations"`
	Cases         []struct {
		Template            string         `json:"template"`
		Conversation        string         `json:"conversation"`
		AddGenerationPrompt bool           `json:"add_generation_prompt"`
		Extra               map[string]any `json:"extra"`
		Text                *string        `json:"text"`
		Error               *string        `json:"error"`
		IDs                 []int          `json:"ids"`
	} `json:"cases"`
}

// knownDivergences lists cases where this package deliberately follows
// Python Jinja rather than transformers.js: Mistral-Nemo's template checks
// role alternation over `selectattr("tool_calls", "undefined")`, which
// @huggingface/jinja evaluates to an empty list, so it never raises.
var knownDivergences = map[string]string{
	"mistral_nemo/bad_roles": "Python Jinja raises: roles must alternate",
}

func readChatVectors(t *testing.T) *chatVectors {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "chat_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v chatVectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// TestOracleTemplateIDs checks the whole prompt path the steering code uses:
// Render, then tokenizer.Encode without added special tokens, against the ids
// of transformers.js's apply_chat_template(tokenize: true).
func TestOracleTemplateIDs(t *testing.T) {
	v := readChatVectors(t)
	date, err := time.Parse(time.RFC3339, v.Date)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range v.Cases {
		if _, diverges := knownDivergences[c.Template+"/"+c.Conversation]; diverges || c.Text == nil || c.IDs == nil {
			continue
		}
		dir := tokenizertest.ForTest(t, c.Template)
		tpl, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		tk, ok := tokenizers[c.Template]
		if !ok {
			if tk, err = tokenizer.Load(dir); err != nil {
				t.Fatal(err)
			}
			tokenizers[c.Template] = tk
		}
		text, err := tpl.Render(v.Conversations[c.Conversation], Options{AddGenerationPrompt: c.AddGenerationPrompt, Date: date, Extra: c.Extra})
		if err != nil {
			t.Errorf("%s/%s: %v", c.Template, c.Conversation, err)
			continue
		}
		ids, err := tk.Encode(text, false)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids, c.IDs) {
			t.Errorf("%s/%s gen=%v extra=%v:\n got  %v\n want %v", c.Template, c.Conversation, c.AddGenerationPrompt, c.Extra, ids, c.IDs)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no cases with ids")
	}
	t.Logf("%d templated conversations tokenize as in transformers.js", n)
}

var tokenizers = map[string]*tokenizer.Tokenizer{}

func TestOracleTemplates(t *testing.T) {
	v := *readChatVectors(t)
	date, err := time.Parse(time.RFC3339, v.Date)
	if err != nil {
		t.Fatal(err)
	}
	templates := map[string]*Template{}
	exact, total, diverge := map[string]int{}, map[string]int{}, map[string]int{}
	for _, c := range v.Cases {
		tpl, ok := templates[c.Template]
		if !ok {
			dir := tokenizertest.ForTest(t, c.Template)
			if tpl, err = Load(dir); err != nil {
				t.Fatalf("Load(%s): %v", dir, err)
			}
			templates[c.Template] = tpl
		}
		name := c.Template + "/" + c.Conversation
		got, err := tpl.Render(v.Conversations[c.Conversation], Options{AddGenerationPrompt: c.AddGenerationPrompt, Date: date, Extra: c.Extra})
		if why, ok := knownDivergences[name]; ok {
			diverge[c.Template]++
			var re *RaiseError
			if !errors.As(err, &re) {
				t.Errorf("%s: want a raised error (%s), got %q, %v", name, why, got, err)
			}
			continue
		}
		total[c.Template]++
		switch {
		case c.Error != nil:
			if err == nil {
				t.Errorf("%s gen=%v: want error %q, got %q", name, c.AddGenerationPrompt, *c.Error, got)
			} else {
				exact[c.Template]++
			}
		case err != nil:
			t.Errorf("%s gen=%v extra=%v: %v", name, c.AddGenerationPrompt, c.Extra, err)
		case got != *c.Text:
			t.Errorf("%s gen=%v extra=%v:\n got  %q\n want %q", name, c.AddGenerationPrompt, c.Extra, got, *c.Text)
		default:
			exact[c.Template]++
		}
	}
	for name, n := range total {
		t.Logf("%s: %d/%d cases identical to transformers.js (+%d deliberate divergences)", name, exact[name], n, diverge[name])
	}
}

func TestPlainFormat(t *testing.T) {
	tests := []struct {
		name string
		f    PlainFormat
		msgs []Message
		gen  bool
		want string
		err  string
	}{
		{"question", DefaultPlainFormat, []Message{{"user", "What is 2+2?"}}, true, "Q: What is 2+2?\nA:", ""},
		{"no prompt", DefaultPlainFormat, []Message{{"user", "Hi"}}, false, "Q: Hi", ""},
		{"multi", DefaultPlainFormat, []Message{{"user", "a"}, {"assistant", "b"}, {"user", "c"}}, true, "Q: a\nA: b\nQ: c\nA:", ""},
		{"system", DefaultPlainFormat, []Message{{"system", "Be brief."}, {"user", "x"}}, true, "Be brief.\nQ: x\nA:", ""},
		{"custom", PlainFormat{User: "User: ", Assistant: "Bot: ", Separator: "\n\n", GenerationPrompt: "Bot:"}, []Message{{"user", "x"}}, true, "User: x\n\nBot:", ""},
		{"empty", DefaultPlainFormat, nil, true, "A:", ""},
		{"bad role", DefaultPlainFormat, []Message{{"tool", "x"}}, false, "", "unsupported role"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f.Render(tc.msgs, Options{AddGenerationPrompt: tc.gen})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
