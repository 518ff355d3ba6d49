package nbkit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosteer/gosteer/steerlib/tinyif"
)

func TestHeadlessAndName(t *testing.T) {
	tests := []struct {
		headless, model string
		wantHeadless    bool
		wantName        string
	}{
		{"", "", false, "tinyif"},
		{"0", " ", false, "tinyif"},
		{"1", "/models/Phi-3-mini-4k-instruct/", true, "Phi-3-mini-4k-instruct"},
		{"yes", "hf://HuggingFaceTB/SmolLM2-135M-Instruct", true, "SmolLM2-135M-Instruct"},
		{"1", "gemma", true, "gemma"},
	}
	for _, tc := range tests {
		t.Setenv(EnvHeadless, tc.headless)
		t.Setenv(EnvModel, tc.model)
		if got := Headless(); got != tc.wantHeadless {
			t.Errorf("%s=%q: Headless() = %v, want %v", EnvHeadless, tc.headless, got, tc.wantHeadless)
		}
		if got := Name(); got != tc.wantName {
			t.Errorf("%s=%q: Name() = %q, want %q", EnvModel, tc.model, got, tc.wantName)
		}
	}
}

func TestWidgetIdle(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want time.Duration
	}{
		{"", DefaultWidgetIdle},
		{"2s", 2 * time.Second},
		{" 90ms ", 90 * time.Millisecond},
		{"-1s", DefaultWidgetIdle},
		{"soon", DefaultWidgetIdle},
	} {
		t.Setenv(EnvWidgetIdle, tc.env)
		if got := WidgetIdle(); got != tc.want {
			t.Errorf("%s=%q: WidgetIdle() = %v, want %v", EnvWidgetIdle, tc.env, got, tc.want)
		}
	}
}

func TestWorkDir(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	t.Setenv(EnvModel, "hf://org/we ird:name")
	dir, err := WorkDir("02_directions")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(os.TempDir(), "gosteer-notebooks", "02_directions", "name"); dir != want {
		t.Errorf("WorkDir = %q, want %q", dir, want)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Errorf("work folder not created: %v", err)
	}
	if got := safeName("a b/c:d.e-f_g"); got != "a_b_c_d.e-f_g" {
		t.Errorf("safeName = %q", got)
	}
}

// copyWithoutTemplate copies the embedded model folder into a temporary one
// whose tokenizer_config.json has no chat template (a base model's folder).
func copyWithoutTemplate(t *testing.T) string {
	t.Helper()
	src, err := tinyif.EmbeddedModelDir()
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "tokenizer_config.json" {
			var cfg map[string]any
			if err := json.Unmarshal(data, &cfg); err != nil {
				t.Fatal(err)
			}
			delete(cfg, "chat_template")
			if data, err = json.Marshal(cfg); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// Open follows GOSTEER_MODEL, falls back to plain prompts without a chat
// template, and Answers returns one trimmed answer per prompt.
func TestOpenAndAnswers(t *testing.T) {
	tests := []struct {
		name      string
		model     string
		wantPlain bool
	}{
		{"embedded", "", false},
		{"folder without chat template", copyWithoutTemplate(t), true},
	}
	prompts := []string{"Tell me about owls.", "Describe a harbor."}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvModel, tc.model)
			m, err := Open()
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if got := Plain(m); got != tc.wantPlain {
				t.Errorf("Plain = %v, want %v", got, tc.wantPlain)
			}
			if tc.model != "" && m.Net.Dir != tc.model {
				t.Errorf("model read from %q, want %q", m.Net.Dir, tc.model)
			}
			ids, err := m.Encode(prompts[0])
			if err != nil {
				t.Fatal(err)
			}
			if text, _ := m.Encoder.Decode(ids[0]); strings.Contains(text, "Q: ") != tc.wantPlain {
				t.Errorf("encoded prompt %q: plain format %v, want %v", text, !tc.wantPlain, tc.wantPlain)
			}
			ans, err := Answers(m, prompts, 12)
			if err != nil {
				t.Fatal(err)
			}
			if len(ans) != len(prompts) {
				t.Fatalf("%d answers for %d prompts", len(ans), len(prompts))
			}
			for i, a := range ans {
				if a != strings.TrimSpace(a) || strings.Contains(a, "\nQ:") {
					t.Errorf("answer %d not trimmed at the stop: %q", i, a)
				}
			}
		})
	}
}
