package chat

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestOracleFeatures renders small templates exercising Jinja features HF
// chat templates use and compares them with transformers.js
// (testdata/chat_vectors.json "features", from scripts/oracle/gen_chat.mjs).
func TestOracleFeatures(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "chat_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Date          string               `json:"date"`
		Conversations map[string][]Message `json:"conversations"`
		Features      []struct {
			Name                string  `json:"name"`
			Template            string  `json:"template"`
			Conversation        string  `json:"conversation"`
			AddGenerationPrompt bool    `json:"add_generation_prompt"`
			Text                *string `json:"text"`
			Error               *string `json:"error"`
		} `json:"features"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	date, err := time.Parse(time.RFC3339, v.Date)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Features) == 0 {
		t.Fatal("no feature cases")
	}
	for _, c := range v.Features {
		tpl, err := New(c.Template)
		if err != nil {
			t.Errorf("%s: parse: %v", c.Name, err)
			continue
		}
		got, err := tpl.Render(v.Conversations[c.Conversation], Options{AddGenerationPrompt: c.AddGenerationPrompt, Date: date})
		switch {
		case c.Error != nil:
			var re *RaiseError
			if !errors.As(err, &re) || re.Message != *c.Error {
				t.Errorf("%s gen=%v: want raised %q, got %q, %v", c.Name, c.AddGenerationPrompt, *c.Error, got, err)
			}
		case err != nil:
			t.Errorf("%s gen=%v: %v", c.Name, c.AddGenerationPrompt, err)
		case got != *c.Text:
			t.Errorf("%s gen=%v:\n got  %q\n want %q", c.Name, c.AddGenerationPrompt, got, *c.Text)
		}
	}
}
