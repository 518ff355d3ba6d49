package chat

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStrftime(t *testing.T) {
	d := time.Date(2024, time.July, 5, 14, 3, 9, 0, time.UTC) // a Friday
	tests := []struct{ format, want string }{
		{"%d %b %Y", "05 Jul 2024"},
		{"%Y-%m-%d", "2024-07-05"},
		{"%B %e, %y", "July  5, 24"},
		{"%a %A", "Fri Friday"},
		{"%H:%M:%S %I%p", "14:03:09 02PM"},
		{"%j %%", "187 %"},
		{"plain", "plain"},
	}
	for _, tc := range tests {
		got, err := strftime(d, tc.format)
		if err != nil || got != tc.want {
			t.Errorf("strftime(%q) = %q, %v; want %q", tc.format, got, err, tc.want)
		}
	}
	if _, err := strftime(d, "%Q"); err == nil {
		t.Error("strftime(%Q): no error")
	}
}

func TestPyFloat(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{{1, "1.0"}, {2.5, "2.5"}, {1e-5, "1e-05"}, {1e16, "1e+16"}, {0.0001, "0.0001"}, {-3.25, "-3.25"}}
	for _, tc := range tests {
		if got := pyFloat(tc.f); got != tc.want {
			t.Errorf("pyFloat(%v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestLoadVariants(t *testing.T) {
	msgs := []Message{{"user", "hi"}}
	tests := []struct {
		name   string
		config string
		jinja  string // chat_template.jinja content, if any
		want   string
		err    error
	}{
		{"string", `{"chat_template": "{{ bos_token }}{{ messages[0].content }}", "bos_token": "<s>"}`, "", "<s>hi", nil},
		{"object token", `{"chat_template": "{{ eos_token }}", "eos_token": {"content": "</s>"}}`, "", "</s>", nil},
		{"named list", `{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D{{ messages|length }}"}]}`, "", "D1", nil},
		{"jinja file wins", `{"chat_template": "config"}`, "file {{ messages[0].role }}", "file user", nil},
		{"jinja file only", ``, "only", "only", nil},
		{"none", `{"bos_token": "<s>"}`, "", "", ErrNoTemplate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.config != "" {
				if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(tc.config), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.jinja != "" {
				if err := os.WriteFile(filepath.Join(dir, "chat_template.jinja"), []byte(tc.jinja), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tpl, err := Load(dir)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := tpl.Render(msgs, Options{})
			if err != nil || got != tc.want {
				t.Fatalf("Render = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	if _, err := New("{% for %}"); err == nil {
		t.Error("New(bad syntax): no error")
	}
	tpl, err := New("{{ raise_exception('bad input: ' ~ messages[0].role) }}")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tpl.Render([]Message{{"robot", "x"}}, Options{})
	var re *RaiseError
	if !errors.As(err, &re) || re.Message != "bad input: robot" {
		t.Fatalf("err = %v, want RaiseError(bad input: robot)", err)
	}
	if !strings.Contains(err.Error(), "bad input: robot") {
		t.Errorf("error text %q lacks the message", err)
	}
	tpl, err = New("{{ strftime_now('%Q') }}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.Render(nil, Options{Date: time.Now()}); err == nil {
		t.Error("strftime_now(%Q): no error")
	}
}

// TestExtraVariables checks that Options.Extra reaches the template (as
// Qwen3's enable_thinking does).
func TestExtraVariables(t *testing.T) {
	tpl, err := New("{% if enable_thinking is defined and enable_thinking is false %}off{% else %}on{% endif %}")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		extra map[string]any
		want  string
	}{{nil, "on"}, {map[string]any{"enable_thinking": false}, "off"}, {map[string]any{"enable_thinking": true}, "on"}} {
		got, err := tpl.Render(nil, Options{Extra: tc.extra})
		if err != nil || got != tc.want {
			t.Errorf("Extra %v: got %q, %v; want %q", tc.extra, got, err, tc.want)
		}
	}
}

// TestConcurrentRender renders one template from several goroutines.
func TestConcurrentRender(t *testing.T) {
	tpl, err := New("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{{ m.role }}:{{ m.content }};{% endfor %}{{ ns.n }}{{ strftime_now('%Y') }}")
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)
	done := make(chan string, 16)
	for g := 0; g < 16; g++ {
		go func() {
			msgs := []Message{{"user", strings.Repeat("x", g)}}
			got, err := tpl.Render(msgs, Options{Date: date})
			want := "user:" + strings.Repeat("x", g) + ";12025"
			if err != nil || got != want {
				done <- "got " + got
				return
			}
			done <- ""
		}()
	}
	for g := 0; g < 16; g++ {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}

// TestToJSON checks tojson on what the oracle vectors do not cover: Go maps
// from Options.Extra (sorted keys), empty collections, nil, Python float
// exponents and indented lists, against Python's json.dumps output.
func TestToJSON(t *testing.T) {
	for _, tc := range []struct {
		tpl  string
		x    any
		want string
	}{
		{"{{ x|tojson }}", map[string]any{"z": 1, "a": []any{}}, `{"a": [], "z": 1}`},
		{"{{ x|tojson }}", map[string]any{"k": nil, "f": 1e-5}, `{"f": 1e-05, "k": null}`},
		{"{{ x|tojson(indent=2) }}", []any{1, map[string]any{}}, "[\n  1,\n  {}\n]"},
		{"{{ x|tojson(indent=2) }}", map[string]any{"b": []any{true}, "a": "é"}, "{\n  \"a\": \"é\",\n  \"b\": [\n    true\n  ]\n}"},
		{"{{ [[1, 2], []]|tojson(indent=1) }}", nil, "[\n [\n  1,\n  2\n ],\n []\n]"},
		{"{{ {'b': {}, 'a': none}|tojson }}", nil, `{"b": {}, "a": null}`},
	} {
		tpl, err := New(tc.tpl)
		if err != nil {
			t.Fatalf("%s: %v", tc.tpl, err)
		}
		got, err := tpl.Render(nil, Options{Extra: map[string]any{"x": tc.x}})
		if err != nil || got != tc.want {
			t.Errorf("%s with x=%v: got %q, %v; want %q", tc.tpl, tc.x, got, err, tc.want)
		}
	}
}
