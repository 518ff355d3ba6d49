package chat

import (
	"fmt"
	"strings"
)

// PlainFormat renders a conversation for a base model without a chat
// template, as plain question/answer text. With the default prefixes a single
// user message "Hi" and a generation prompt give "Q: Hi\nA:", the format the
// steering paper used for base models.
type PlainFormat struct {
	// System, User and Assistant prefix the content of each role's turn
	// (defaults "", "Q: " and "A: ").
	System, User, Assistant string
	// Separator is written between turns (default "\n").
	Separator string
	// GenerationPrompt ends the text when Options.AddGenerationPrompt is set
	// (default "A:").
	GenerationPrompt string
}

// DefaultPlainFormat is the "Q: …\nA:" format.
var DefaultPlainFormat = PlainFormat{User: "Q: ", Assistant: "A: ", Separator: "\n", GenerationPrompt: "A:"}

// Render writes the turns in order. A system message becomes its content
// followed by the separator. Roles other than system, user and assistant are
// an error.
func (p PlainFormat) Render(msgs []Message, opts Options) (string, error) {
	var b strings.Builder
	for i, m := range msgs {
		var prefix string
		switch m.Role {
		case "system":
			prefix = p.System
		case "user":
			prefix = p.User
		case "assistant":
			prefix = p.Assistant
		default:
			return "", fmt.Errorf("plain format: message %d has unsupported role %q", i, m.Role)
		}
		if i > 0 {
			b.WriteString(p.Separator)
		}
		b.WriteString(prefix)
		b.WriteString(m.Content)
	}
	if opts.AddGenerationPrompt {
		if len(msgs) > 0 {
			b.WriteString(p.Separator)
		}
		b.WriteString(p.GenerationPrompt)
	}
	return b.String(), nil
}
