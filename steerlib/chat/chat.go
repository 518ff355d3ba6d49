// Package chat renders the Jinja chat templates of Hugging Face tokenizers
// (tokenizer_config.json's "chat_template" or chat_template.jinja) with the
// gonja engine, extended with what those templates use: raise_exception,
// strftime_now (with a fixed date for reproducible output), a Python-style
// tojson, namespace and loop controls, and Python string methods. It also
// provides an explicit plain format for base models without a template.
//
// Rendered text already holds the special tokens the template writes (for
// example bos_token for Llama 3 and Mistral-Nemo), so encode it without adding
// special tokens (tokenizer.Encode(text, false)), as transformers'
// apply_chat_template does. Encoder does all of it (template, fixed date
// DefaultDate, tokenizer) for a one-turn prompt; every gosteer tool encodes
// prompts through it.
//
// Known differences from Python Jinja (none affects the Qwen2.5, Qwen3,
// Llama-3.2 and Mistral-Nemo templates on plain conversations): tojson sorts
// the keys of Go maps such as messages (dict literals keep their order), and
// gonja's ** returns a float.
package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/gosteer/gosteer/steerlib/internal/guard"
	"github.com/nikolalohinski/gonja/v2"
	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Options control rendering.
type Options struct {
	// AddGenerationPrompt appends the header that starts the assistant's
	// reply (the template's add_generation_prompt).
	AddGenerationPrompt bool
	// Date is what strftime_now reports; the zero value means time.Now().
	Date time.Time
	// Extra holds additional template variables (e.g. "enable_thinking").
	Extra map[string]any
}

// Formatter renders a conversation to the prompt text a model expects.
type Formatter interface {
	Render(msgs []Message, opts Options) (string, error)
}

// Template is a parsed chat template together with the special tokens it may
// refer to.
type Template struct {
	// Source is the Jinja source of the template.
	Source string
	// BOS, EOS, PAD and UNK are the special-token strings passed to the
	// template as bos_token, eos_token, pad_token and unk_token ("" if unset).
	BOS, EOS, PAD, UNK string
	// Limits bound each Render (zero fields: DefaultLimits).
	Limits Limits

	tpl *exec.Template
}

// ErrNoTemplate is returned by Load when a tokenizer has no chat template
// (typical of base models; use PlainFormat then).
var ErrNoTemplate = errors.New("no chat template")

// Load reads the chat template of the tokenizer in dir: chat_template.jinja
// if present, else tokenizer_config.json's chat_template (a string, or a list
// of named templates from which "default" is taken). Special-token strings
// come from tokenizer_config.json.
func Load(dir string) (*Template, error) {
	cfgPath := filepath.Join(dir, "tokenizer_config.json")
	var cfg map[string]json.RawMessage
	data, err := os.ReadFile(cfgPath)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, fmt.Errorf("load chat template %s: %w", cfgPath, err)
		}
	case errors.Is(err, os.ErrNotExist):
	default:
		return nil, fmt.Errorf("load chat template %s: %w", cfgPath, err)
	}
	src, origin := "", ""
	jinjaPath := filepath.Join(dir, "chat_template.jinja")
	if b, err := os.ReadFile(jinjaPath); err == nil {
		src, origin = string(b), jinjaPath
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("load chat template: %w", err)
	} else if raw, ok := cfg["chat_template"]; ok {
		if src, err = templateSource(raw); err != nil {
			return nil, fmt.Errorf("load chat template %s: %w", cfgPath, err)
		}
		origin = cfgPath + ` field "chat_template"`
	}
	if src == "" {
		return nil, fmt.Errorf("load chat template from %s: %w", dir, ErrNoTemplate)
	}
	t, err := New(src)
	if err != nil {
		return nil, fmt.Errorf("load chat template %s: %w", origin, err)
	}
	for name, dst := range map[string]*string{"bos_token": &t.BOS, "eos_token": &t.EOS, "pad_token": &t.PAD, "unk_token": &t.UNK} {
		if raw, ok := cfg[name]; ok {
			if *dst, err = tokenString(raw); err != nil {
				return nil, fmt.Errorf("load chat template %s: %s: %w", cfgPath, name, err)
			}
		}
	}
	return t, nil
}

// templateSource reads chat_template as a string or a list of
// {"name", "template"} entries (the "default" one is used).
func templateSource(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return "", fmt.Errorf("chat_template: want a string or a list of named templates")
	}
	for _, e := range list {
		if e.Name == "default" {
			return e.Template, nil
		}
	}
	return "", fmt.Errorf("chat_template: no template named \"default\"")
}

// tokenString reads a special token written as a string, null or
// {"content": ...}.
func tokenString(raw json.RawMessage) (string, error) {
	if strings.TrimSpace(string(raw)) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", fmt.Errorf("want a string or {\"content\": ...}")
	}
	return obj.Content, nil
}

// New parses a Jinja chat template. Blocks are trimmed as Hugging Face does
// (trim_blocks and lstrip_blocks).
func New(source string) (t *Template, err error) {
	defer guard.Recover(&err, "parse chat template")
	if err := checkSource(source); err != nil {
		return nil, fmt.Errorf("parse chat template: %w", err)
	}
	cfg := config.New()
	cfg.TrimBlocks = true
	cfg.LeftStripBlocks = true
	root := "chat_template"
	tpl, err := exec.NewTemplate(root, cfg, &noFiles{root: root, source: strings.NewReader(source)}, environment())
	if err != nil {
		return nil, fmt.Errorf("parse chat template: %w", err)
	}
	if err := instrument(tpl.Root()); err != nil {
		return nil, fmt.Errorf("parse chat template: %w", err)
	}
	return &Template{Source: source, tpl: tpl}, nil
}

// Render renders msgs with the template.
func (t *Template) Render(msgs []Message, opts Options) (out string, err error) {
	defer guard.Recover(&err, "render chat template")
	date := opts.Date
	if date.IsZero() {
		date = time.Now()
	}
	messages := make([]any, len(msgs))
	for i, m := range msgs {
		messages[i] = map[string]any{"role": m.Role, "content": m.Content}
	}
	data := map[string]any{
		"messages":              messages,
		"add_generation_prompt": opts.AddGenerationPrompt,
		"bos_token":             t.BOS,
		"eos_token":             t.EOS,
		"pad_token":             t.PAD,
		"unk_token":             t.UNK,
		"raise_exception":       raiseException,
		"strftime_now": func(format string) (string, error) {
			return strftime(date, format)
		},
	}
	for k, v := range opts.Extra {
		data[k] = v
	}
	lim := t.Limits.withDefaults()
	data[budgetKey] = &budget{Limits: lim}
	data[binopName] = binop
	data["range"] = boundedRange(lim.MaxIterations)
	data["lipsum"] = func(*exec.Evaluator, *exec.VarArgs) *exec.Value {
		return exec.AsValue(errors.New("lipsum is not available in chat templates"))
	}
	w := &limitedWriter{max: lim.MaxOutput}
	if err := t.tpl.Execute(w, exec.NewContext(data)); err != nil {
		return "", fmt.Errorf("render chat template: %w", limitError(unwrapRaise(err)))
	}
	return w.buf.String(), nil
}

// environment returns gonja's default environment with the filters and
// globals chat templates need.
func environment() *exec.Environment {
	filters := exec.NewFilterSet(map[string]exec.FilterFunction{}).Update(builtins.Filters)
	_ = filters.Replace("tojson", filterToJSON)
	guardFilters(filters)
	return &exec.Environment{
		Context:           exec.EmptyContext().Update(gonja.DefaultContext),
		Filters:           filters,
		Tests:             builtins.Tests,
		ControlStructures: builtins.ControlStructures,
		Methods:           methods(),
	}
}

// strMethodNames are the Python str methods gonja implements.
var strMethodNames = strings.Fields(`capitalize capwords casefold center count encode endswith expandtabs
	find format format_map isalnum isalpha isascii isdecimal isdigit islower isnumeric isprintable isspace
	istitle isupper join ljust lower lstrip partition removeprefix removesuffix replace rfind rjust rpartition
	rsplit rstrip split splitlines startswith strip swapcase title upper zfill`)

// methods returns gonja's methods with Python's str.replace (optional count)
// and str.strip/lstrip/rstrip (optional chars; gonja requires them).
func methods() exec.Methods {
	m := builtins.Methods
	str := map[string]exec.Method[string]{}
	for _, name := range strMethodNames {
		if f, ok := builtins.Methods.Str.Get(name); ok {
			str[name] = f
		}
	}
	guardMethods(str)
	str["replace"] = strReplace
	str["strip"] = strStrip(true, true)
	str["lstrip"] = strStrip(true, false)
	str["rstrip"] = strStrip(false, true)
	m.Str = exec.NewMethodSet(str)
	return m
}

// strReplace is Python's str.replace(old, new[, count]).
func strReplace(self string, _ *exec.Value, args *exec.VarArgs) (any, error) {
	if len(args.Args) < 2 || len(args.Args) > 3 || len(args.KwArgs) > 0 {
		return nil, fmt.Errorf("replace: want (old, new[, count]), got %d arguments", len(args.Args))
	}
	if !args.Args[0].IsString() || !args.Args[1].IsString() {
		return nil, fmt.Errorf("replace: old and new must be strings")
	}
	n := -1
	if len(args.Args) == 3 {
		if !args.Args[2].IsInteger() {
			return nil, fmt.Errorf("replace: count must be an integer")
		}
		n = args.Args[2].Integer()
	}
	old, repl := args.Args[0].String(), args.Args[1].String()
	if err := checkReplace(self, old, repl, n); err != nil {
		return nil, err
	}
	return strings.Replace(self, old, repl, n), nil
}

// strStrip is Python's str.strip/lstrip/rstrip([chars]): whitespace when chars
// is absent or None.
func strStrip(left, right bool) exec.Method[string] {
	return func(self string, _ *exec.Value, args *exec.VarArgs) (any, error) {
		if len(args.Args) > 1 || len(args.KwArgs) > 0 {
			return nil, fmt.Errorf("strip: want at most one argument")
		}
		trim := func(s string) string {
			if left {
				s = strings.TrimLeftFunc(s, unicode.IsSpace)
			}
			if right {
				s = strings.TrimRightFunc(s, unicode.IsSpace)
			}
			return s
		}
		if len(args.Args) == 1 && !args.Args[0].IsNil() {
			if !args.Args[0].IsString() {
				return nil, fmt.Errorf("strip: chars must be a string")
			}
			cut := args.Args[0].String()
			trim = func(s string) string {
				if left {
					s = strings.TrimLeft(s, cut)
				}
				if right {
					s = strings.TrimRight(s, cut)
				}
				return s
			}
		}
		return trim(self), nil
	}
}
