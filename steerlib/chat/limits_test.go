package chat

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTemplateLimits: templates that loop, recurse, grow values or read
// files fail with a clear error (ErrLimit for the limits) instead of hanging
// or allocating without bound.
func TestTemplateLimits(t *testing.T) {
	small := Limits{MaxIterations: 10_000, MaxDepth: 16, MaxOutput: 1 << 16}
	for _, c := range []struct {
		name, src string
		limit     bool   // the error must wrap ErrLimit
		want      string // and contain this
	}{
		{"huge range", `{% for i in range(1000000000) %}{% endfor %}`, true, "range with more than 10000 items"},
		{"nested loops", `{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}`, true, "more than 10000 loop iterations"},
		{"loop over a long list", `{% for c in "x" * 9000 %}{% for d in "ab" %}{% endfor %}{% endfor %}`, true, "loop iterations"},
		{"recursive macro", `{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}`, true, "nested deeper than 16"},
		{"output", `{% for i in range(9000) %}0123456789{% endfor %}`, true, "output longer than 65536 bytes"},
		{"string repeat", `{{ "ab" * 1000000000000 }}`, true, "would hold"},
		{"doubling", `{% set ns = namespace(s="x") %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}`, true, "would hold"},
		{"list doubling", `{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}`, true, "would hold"},
		{"center width", `{{ "x"|center(10000000000) }}`, true, "center(10000000000)"},
		{"ljust width", `{{ "x".ljust(10000000000) }}`, true, "ljust(10000000000)"},
		{"format width", `{{ "{:>100000000}".format("x") }}`, true, "width of 8 or more digits"},
		{"replace growth", `{% set s = "x" * 4000000 %}{{ s.replace("", "yyyyyyyyyy") }}`, true, "replace would build"},
		{"join growth", `{% set s = "x" * 1000000 %}{{ s.join(range(5000)) }}`, true, "join would build"},
		{"include a file", `{% include "/etc/passwd" %}`, false, `cannot load other templates ("/etc/passwd")`},
		{"include itself", `{% include "chat_template" %}`, false, "cannot load other templates"},
		{"recursive for", `{% for m in messages recursive %}{{ loop(m) }}{% endfor %}`, false, "recursive for loops are not supported"},
		{"lipsum", `{{ lipsum(100000000) }}`, false, "lipsum is not available"},
		{"deep brackets", "{{ " + strings.Repeat("(", 200000) + "1" + strings.Repeat(")", 200000) + " }}", true, "nested deeper than 128"},
		{"deep blocks", strings.Repeat("{% if true %}", 20000) + strings.Repeat("{% endif %}", 20000), true, "nested deeper than 128"},
		{"huge source", "{# " + strings.Repeat("x", MaxTemplateSize) + " #}", true, "template of 1048582 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			tpl, err := New(c.src)
			if err == nil {
				tpl.Limits = small
				_, err = tpl.Render([]Message{{Role: "user", Content: "hi"}}, Options{})
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || c.limit && !errors.Is(err, ErrLimit) {
				t.Fatalf("got %v, want an error containing %q (wrapping ErrLimit: %v)", err, c.want, c.limit)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v to refuse", d)
			}
		})
	}
}

// TestTemplateLimitsAllowNormalWork: the limits leave ordinary templates
// alone — loops, macros, concatenation, padding and range under the limits.
func TestTemplateLimitsAllowNormalWork(t *testing.T) {
	src := `{% macro turn(m) %}<{{ m.role }}>{{ m.content | trim }}{% endmacro %}` +
		`{% for m in messages %}{{ turn(m) ~ "\n" }}{% endfor %}{{ "-" * 3 }}{{ [1] + [2] }}{{ 2 * 3 + 1.5 }}` +
		`{% for i in range(3) %}{{ i }}{% endfor %}{{ "a".ljust(3, " ") ~ "|" }}{{ "x,y".replace(",", ";") }}{{ "-".join(["p", "q"]) }}`
	tpl, err := New(src)
	if err != nil {
		t.Fatal(err)
	}
	tpl.Limits = Limits{MaxIterations: 10, MaxDepth: 2, MaxOutput: 200}
	got, err := tpl.Render([]Message{{Role: "user", Content: " hi "}, {Role: "assistant", Content: "yo"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "<user>hi\n<assistant>yo\n---[1, 2]7.5012a  |x;yp-q"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestLoadErrorNamesFileAndField: a template that does not parse gives one
// error naming tokenizer_config.json's chat_template field or
// chat_template.jinja.
func TestLoadErrorNamesFileAndField(t *testing.T) {
	for _, c := range []struct {
		file, content, want string
	}{
		{"tokenizer_config.json", `{"chat_template": "{% for m in messages %}{{ m.content }"}`, `tokenizer_config.json field "chat_template"`},
		{"chat_template.jinja", `{% if messages %}unclosed`, "chat_template.jinja"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, c.file), []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, c.file)) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error naming %q", c.file, err, c.want)
		}
	}
}
