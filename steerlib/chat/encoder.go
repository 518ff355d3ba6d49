package chat

import (
	"fmt"
	"time"

	"github.com/gosteer/gosteer/steerlib/tokenizer"
)

// DefaultDate is the date chat templates see (strftime_now) when prompts are
// encoded, so that templates that print today's date (Llama 3.x) give the
// same token ids on every run and in every tool. It is the fallback date of
// the Llama 3.1 template.
var DefaultDate = time.Date(2024, 7, 26, 0, 0, 0, 0, time.UTC)

// Encoder turns a prompt into the token ids a model reads, as in the
// steering paper: the prompt becomes one user message rendered by Format
// with the generation prompt (add_generation_prompt=true), then tokenized.
// Every gosteer tool encodes prompts through it, so vectors are computed on
// exactly the ids that generation sees.
type Encoder struct {
	// Format renders the conversation: a model's Template, or a PlainFormat
	// for base models.
	Format Formatter
	// Tokenizer turns the rendered text into ids and back.
	Tokenizer *tokenizer.Tokenizer
	// AddSpecial adds the tokenizer's own special tokens (e.g. BOS): false
	// for chat templates, which write them (as transformers'
	// apply_chat_template does), true for the plain format.
	AddSpecial bool
	// Date is what strftime_now reports (zero: DefaultDate).
	Date time.Time
}

// EncoderOptions configures LoadEncoder.
type EncoderOptions struct {
	// Plain uses DefaultPlainFormat ("Q: …\nA:") instead of the model's chat
	// template, for base models.
	Plain bool
	// Date is the date templates see (zero: DefaultDate).
	Date time.Time
}

// LoadEncoder reads the tokenizer and the chat template of a model folder.
func LoadEncoder(dir string, opts EncoderOptions) (*Encoder, error) {
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	if opts.Plain {
		return &Encoder{Format: DefaultPlainFormat, Tokenizer: tok, AddSpecial: true, Date: opts.Date}, nil
	}
	tpl, err := Load(dir)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w (use the plain format for base models)", err)
	}
	return &Encoder{Format: tpl, Tokenizer: tok, Date: opts.Date}, nil
}

// Encode returns the token ids of prompt as one user turn followed by the
// generation prompt.
func (e *Encoder) Encode(prompt string) ([]int, error) {
	date := e.Date
	if date.IsZero() {
		date = DefaultDate
	}
	text, err := e.Format.Render([]Message{{Role: "user", Content: prompt}}, Options{AddGenerationPrompt: true, Date: date})
	if err != nil {
		return nil, fmt.Errorf("chat template: %w", err)
	}
	ids, err := e.Tokenizer.Encode(text, e.AddSpecial)
	if err != nil {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("prompt %q encodes to no tokens", prompt)
	}
	return ids, nil
}

// Decode returns the text of generated ids without special tokens.
func (e *Encoder) Decode(ids []int) (string, error) {
	text, err := e.Tokenizer.Decode(ids, true)
	if err != nil {
		return "", fmt.Errorf("decode: %w", err)
	}
	return text, nil
}
