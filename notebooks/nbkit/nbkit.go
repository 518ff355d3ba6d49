// Package nbkit holds the little that gosteer's notebooks share beyond the
// steerlib facade: which checkpoint a notebook runs on, whether a person is
// watching (widgets) or the notebook runs headless, where one cell leaves
// results for the next, and answers as trimmed strings.
//
// A notebook runs on the embedded tinyif model unless the environment variable
// GOSTEER_MODEL names a Hugging Face folder or a Hub id ("hf://org/name"):
//
//	GOSTEER_MODEL=/models/Phi-3-mini-4k-instruct go run ./kernel run notebooks/02_directions.ipynb
//
// `go run ./kernel run` sets GOSTEER_HEADLESS=1 for the notebooks it executes;
// notebooks then replace their widgets (which wait for a browser) by the
// widgets' default values. In a browser, an interactive cell listens to its
// widgets until they have been idle for WidgetIdle.
package nbkit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gosteer/gosteer/steerlib"
	"github.com/gosteer/gosteer/steerlib/chat"
	"github.com/gosteer/gosteer/steerlib/model"
)

// EnvModel names the checkpoint the notebooks run on ("" or unset: the
// embedded tinyif model).
const EnvModel = "GOSTEER_MODEL"

// EnvHeadless is set to "1" by `go run ./kernel run` (nbconvert, no browser).
const EnvHeadless = "GOSTEER_HEADLESS"

// EnvWidgetIdle sets how long an interactive cell keeps listening to its
// widgets after the last change (a Go duration; default DefaultWidgetIdle).
// A browser test that runs every cell sets it short.
const EnvWidgetIdle = "GOSTEER_WIDGET_IDLE"

// DefaultWidgetIdle is the idle time after which interactive cells stop.
const DefaultWidgetIdle = 10 * time.Minute

// WidgetIdle returns GOSTEER_WIDGET_IDLE, or DefaultWidgetIdle when it is
// unset or not a positive duration.
func WidgetIdle() time.Duration {
	if d, err := time.ParseDuration(strings.TrimSpace(os.Getenv(EnvWidgetIdle))); err == nil && d > 0 {
		return d
	}
	return DefaultWidgetIdle
}

// Headless reports whether the notebook runs without a browser (GOSTEER_HEADLESS
// set to a non-empty value other than "0"), where widgets must not be built.
func Headless() bool {
	v := os.Getenv(EnvHeadless)
	return v != "" && v != "0"
}

// ModelSource returns what GOSTEER_MODEL names, or "" for the embedded model.
func ModelSource() string { return strings.TrimSpace(os.Getenv(EnvModel)) }

// Name is a short label of the notebook's model for titles and work folders:
// "tinyif", or the last element of GOSTEER_MODEL.
func Name() string {
	src := strings.TrimSuffix(ModelSource(), "/")
	if src == "" {
		return "tinyif"
	}
	if i := strings.LastIndexAny(src, "/:"); i >= 0 {
		return src[i+1:]
	}
	return src
}

// Open opens the notebook's model through the facade (steerlib.Open of
// GOSTEER_MODEL, or of the embedded model). A folder whose tokenizer has no
// chat template (a base model) is opened again with steerlib.WithPlain, so
// prompts use the plain "Q: …\nA:" format.
func Open(opts ...steerlib.Option) (*steerlib.Model, error) {
	m, err := steerlib.Open(ModelSource(), opts...)
	if err != nil {
		return nil, fmt.Errorf("nbkit: %s=%q: %w", EnvModel, ModelSource(), err)
	}
	if _, encErr := m.Encode("x"); encErr != nil && m.Encoder != nil && m.Encoder.Tokenizer != nil {
		m.Close()
		if m, err = steerlib.Open(ModelSource(), append(opts, steerlib.WithPlain())...); err != nil {
			return nil, fmt.Errorf("nbkit: %s=%q (plain prompts): %w", EnvModel, ModelSource(), err)
		}
	}
	return m, nil
}

// Plain reports whether m encodes prompts in the plain "Q: …\nA:" format.
func Plain(m *steerlib.Model) bool {
	if m.Encoder == nil {
		return false
	}
	_, ok := m.Encoder.Format.(chat.PlainFormat)
	if p, isPtr := m.Encoder.Format.(*chat.PlainFormat); isPtr && p != nil {
		ok = true
	}
	return ok
}

// WorkDir returns (and creates) the folder where one notebook's cells leave
// results for the next ones — GoNB runs every cell as a new program, so
// vectors and answers travel through files:
// <temp>/gosteer-notebooks/<notebook>/<Name()>.
func WorkDir(notebook string) (string, error) {
	dir := filepath.Join(os.TempDir(), "gosteer-notebooks", notebook, safeName(Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("nbkit: work folder: %w", err)
	}
	return dir, nil
}

// safeName keeps letters, digits, '.', '-' and '_' of name, mapping the rest to '_'.
func safeName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, name)
}

// Answers generates greedy answers of at most maxNew tokens to prompts (one
// batch), steered by ops, and returns their texts trimmed of surrounding
// space. With plain prompts a row stops at the next "\nQ:", which is cut.
func Answers(m *steerlib.Model, prompts []string, maxNew int, ops ...model.SteerOp) ([]string, error) {
	opts := steerlib.GenerateOptions{MaxNewTokens: maxNew, Steer: ops}
	if Plain(m) {
		opts.Stop = []string{"\nQ:"}
	}
	gens, err := m.Generate(prompts, opts)
	if err != nil {
		return nil, fmt.Errorf("nbkit: answers: %w", err)
	}
	out := make([]string, len(gens))
	for i, g := range gens {
		text := g.Text
		if len(opts.Stop) > 0 {
			text, _, _ = strings.Cut(text, opts.Stop[0])
		}
		out[i] = strings.TrimSpace(text)
	}
	return out, nil
}
