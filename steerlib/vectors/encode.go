package vectors

import (
	"fmt"
	"time"

	"github.com/gosteer/gosteer/steerlib/chat"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
)

// DefaultDate is the date chat templates see (strftime_now) when computing
// vectors, so that templates that print today's date (Llama 3.x) give the
// same prompts on every run. It is the fallback date of the Llama 3.1
// template.
var DefaultDate = time.Date(2024, 7, 26, 0, 0, 0, 0, time.UTC)

// ChatEncoder returns the Encoder of the paper's setup: the prompt becomes one
// user message rendered by f with the generation prompt
// (add_generation_prompt=true), then tokenized by tok. addSpecial adds the
// tokenizer's own special tokens (e.g. BOS): false for chat templates, which
// write them (as transformers' apply_chat_template does), true for
// chat.PlainFormat on base models. A zero date means DefaultDate.
func ChatEncoder(f chat.Formatter, tok *tokenizer.Tokenizer, addSpecial bool, date time.Time) Encoder {
	if date.IsZero() {
		date = DefaultDate
	}
	return func(prompt string) ([]int, error) {
		text, err := f.Render([]chat.Message{{Role: "user", Content: prompt}}, chat.Options{AddGenerationPrompt: true, Date: date})
		if err != nil {
			return nil, fmt.Errorf("chat template: %w", err)
		}
		ids, err := tok.Encode(text, addSpecial)
		if err != nil {
			return nil, fmt.Errorf("tokenize: %w", err)
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("prompt %q encodes to no tokens", prompt)
		}
		return ids, nil
	}
}

// LoadEncoder reads the tokenizer and chat template of a model folder and
// returns ChatEncoder for them; plain uses chat.DefaultPlainFormat ("Q: …\nA:")
// instead of the template, for base models.
func LoadEncoder(dir string, plain bool, date time.Time) (Encoder, error) {
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	if plain {
		return ChatEncoder(chat.DefaultPlainFormat, tok, true, date), nil
	}
	tpl, err := chat.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w (use the plain format for base models)", err)
	}
	return ChatEncoder(tpl, tok, false, date), nil
}
