package chat

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gosteer/gosteer/steerlib/tokenizer/tokenizertest"
)

// fuzzTemplates are seed templates written for the fuzzer: the constructs
// real chat templates use (loops with loop.*, namespace, macros, filters,
// string methods, raise_exception, tojson) plus the abusive ones the limits
// stop.
var fuzzTemplates = []string{
	`{% for m in messages %}{% if m.role == "system" %}<<SYS>>{{ m.content | trim }}<</SYS>>{% else %}[{{ m.role | upper }}] {{ m.content }}{% endif %}{% if not loop.last %}\n{% endif %}{% endfor %}{% if add_generation_prompt %}[ASSISTANT]{% endif %}`,
	`{% set ns = namespace(sys="", n=0) %}{% for m in messages %}{% if m.role == "system" %}{% set ns.sys = m.content %}{% else %}{% set ns.n = ns.n + 1 %}{% endif %}{% endfor %}{{ bos_token ~ ns.sys }}{{ ns.n }}{{ messages | tojson }}`,
	`{% macro render(m) %}<|{{ m.role }}|>{{ m.content.strip().replace("\n", " ") }}{% endmacro %}{% for m in messages %}{{ render(m) }}{% endfor %}{{ "x" * 3 }}{{ strftime_now("%d %b %Y") }}`,
	`{% if messages[0].role != "user" %}{{ raise_exception("first message must be from the user") }}{% endif %}{% for i in range(messages|length) %}{{ messages[i].content[:5] }}{% endfor %}`,
	`{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{{ n }}{% endmacro %}{{ f(20) }}{% for a in range(200) %}{% for b in range(200) %}{% endfor %}{% endfor %}`,
	`{% set ns = namespace(s="ab") %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}{{ "x"|center(99999999999) }}`,
}

// realTemplates returns the chat templates of the tokenizer packages the
// tests already fetched into the npm cache (none when it is empty).
func realTemplates() []string {
	root, err := tokenizertest.CacheRoot()
	if err != nil {
		return nil
	}
	paths, _ := filepath.Glob(filepath.Join(root, "*", "tokenizer_config.json"))
	var out []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var cfg map[string]json.RawMessage
		if json.Unmarshal(b, &cfg) != nil {
			continue
		}
		if raw, ok := cfg["chat_template"]; ok {
			if src, err := templateSource(raw); err == nil && src != "" {
				out = append(out, src)
			}
		}
	}
	return out
}

// FuzzRender parses and renders arbitrary templates on a short conversation
// under small limits: a result or an error, never a panic, a hang or an
// unbounded allocation; output never exceeds MaxOutput.
func FuzzRender(f *testing.F) {
	for _, src := range append(fuzzTemplates, realTemplates()...) {
		f.Add(src, "Hello, how are you?")
	}
	lim := Limits{MaxIterations: 20_000, MaxDepth: 32, MaxOutput: 1 << 16}
	date := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, src, content string) {
		tpl, err := New(src)
		if err != nil {
			return
		}
		tpl.Limits, tpl.BOS, tpl.EOS = lim, "<s>", "</s>"
		msgs := []Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: content}, {Role: "assistant", Content: "Fine."}}
		out, err := tpl.Render(msgs, Options{AddGenerationPrompt: true, Date: date})
		if err == nil && len(out) > lim.MaxOutput {
			t.Fatalf("output of %d bytes passed the %d-byte limit", len(out), lim.MaxOutput)
		}
	})
}
