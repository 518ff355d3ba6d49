// Package nbkit holds the little that gosteer's notebooks share beyond the
// library itself: which checkpoint a notebook runs on, whether a person is
// watching (widgets) or the notebook runs headless, and a session bundling the
// model with its tokenizer and chat encoder so that a cell can ask for answers
// in one call.
//
// A notebook runs on the embedded tinyif model unless the environment variable
// GOSTEER_MODEL names a Hugging Face folder or a Hub id ("hf://org/name"):
//
//	GOSTEER_MODEL=/models/Phi-3-mini-4k-instruct go run ./kernel run notebooks/02_directions.ipynb
//
// `go run ./kernel run` sets GOSTEER_HEADLESS=1 for the notebooks it executes;
// notebooks then replace their widgets (which wait for a browser) by the
// widgets' default values.
package nbkit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/tinyif"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// EnvModel names the checkpoint the notebooks run on ("" or unset: the
// embedded tinyif model).
const EnvModel = "GOSTEER_MODEL"

// EnvHeadless is set to "1" by `go run ./kernel run` (nbconvert, no browser).
const EnvHeadless = "GOSTEER_HEADLESS"

// Headless reports whether the notebook runs without a browser (GOSTEER_HEADLESS
// set to a non-empty value other than "0"), where widgets must not be built.
func Headless() bool {
	v := os.Getenv(EnvHeadless)
	return v != "" && v != "0"
}

// ModelSource returns what GOSTEER_MODEL names, or "" for the embedded model.
func ModelSource() string { return strings.TrimSpace(os.Getenv(EnvModel)) }

// Session is a loaded model with its tokenizer and prompt encoder.
type Session struct {
	// Source is GOSTEER_MODEL as given ("" for the embedded model); Dir is
	// the local folder the files were read from.
	Source, Dir string
	// Name is a short label for titles: "tinyif" or the folder's base name.
	Name  string
	Model *model.Model
	Tok   *tokenizer.Tokenizer
	// Enc renders a user message with the chat template (generation prompt
	// added) and tokenizes it; Plain is true when the folder has no chat
	// template and prompts use the plain "Q: …\nA:" format instead.
	Enc   vectors.Encoder
	Plain bool
	// LoadTime is how long loading took.
	LoadTime time.Duration
}

// Open loads the notebook's model: GOSTEER_MODEL when set, else the embedded
// tinyif model (offline).
func Open() (*Session, error) {
	start := time.Now()
	s := &Session{Source: ModelSource(), Name: "tinyif"}
	var err error
	if s.Source == "" {
		if s.Dir, err = tinyif.EmbeddedModelDir(); err != nil {
			return nil, fmt.Errorf("nbkit: embedded model: %w", err)
		}
	} else if s.Dir, err = model.ResolveDir(s.Source, false); err != nil {
		return nil, fmt.Errorf("nbkit: %s=%q: %w", EnvModel, s.Source, err)
	} else {
		s.Name = lastElem(strings.TrimSuffix(s.Source, "/"))
	}
	if s.Model, err = model.Load(s.Dir, model.WithOffline()); err != nil {
		return nil, fmt.Errorf("nbkit: %w", err)
	}
	if s.Tok, err = tokenizer.Load(s.Dir); err != nil {
		s.Model.Close()
		return nil, fmt.Errorf("nbkit: %w", err)
	}
	if s.Enc, err = vectors.LoadEncoder(s.Dir, false, time.Time{}); err != nil {
		// A base model without a chat template: plain "Q: …\nA:" prompts.
		if s.Enc, err = vectors.LoadEncoder(s.Dir, true, time.Time{}); err != nil {
			s.Model.Close()
			return nil, fmt.Errorf("nbkit: prompt encoder: %w", err)
		}
		s.Plain = true
	}
	s.LoadTime = time.Since(start)
	return s, nil
}

func lastElem(p string) string {
	if i := strings.LastIndexAny(p, "/:"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// WorkDir returns (and creates) a folder for what one notebook's cells hand
// to the next ones — GoNB runs every cell as a new program, so vectors and
// results travel through files: <temp>/gosteer-notebooks/<notebook>/<Name>.
func (s *Session) WorkDir(notebook string) (string, error) {
	dir := filepath.Join(os.TempDir(), "gosteer-notebooks", notebook, safeName(s.Name))
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

// Close releases the model.
func (s *Session) Close() error { return s.Model.Close() }

// Encode returns the token rows of prompts (see Enc).
func (s *Session) Encode(prompts []string) ([][]int, error) {
	rows := make([][]int, len(prompts))
	for i, p := range prompts {
		ids, err := s.Enc(p)
		if err != nil {
			return nil, fmt.Errorf("nbkit: encode prompt %d: %w", i, err)
		}
		rows[i] = ids
	}
	return rows, nil
}

// Answers generates greedy answers of at most maxNew tokens to prompts, in one
// batch, steered by ops, and returns them decoded without special tokens.
// Plain-format sessions stop at the next "Q:".
func (s *Session) Answers(prompts []string, maxNew int, ops ...model.SteerOp) ([]string, error) {
	rows, err := s.Encode(prompts)
	if err != nil {
		return nil, err
	}
	opts := model.GenerateOptions{MaxNewTokens: maxNew, Greedy: true, StopAtEOS: true, Steer: ops}
	if s.Plain {
		opts.StopStrings = []string{"\nQ:"}
		opts.Decode = func(ids []int) (string, error) { return s.Tok.Decode(ids, true) }
	}
	res, err := s.Model.Generate(rows, opts)
	if err != nil {
		return nil, fmt.Errorf("nbkit: generate: %w", err)
	}
	out := make([]string, len(res.Tokens))
	for i, ids := range res.Tokens {
		text, err := s.Tok.Decode(ids, true)
		if err != nil {
			return nil, fmt.Errorf("nbkit: decode answer %d: %w", i, err)
		}
		if s.Plain {
			text, _, _ = strings.Cut(text, "\nQ:")
		}
		out[i] = strings.TrimSpace(text)
	}
	return out, nil
}
