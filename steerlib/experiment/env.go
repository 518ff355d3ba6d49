package experiment

import (
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/gosteer/gosteer/steerlib/model"
)

// env is a loaded model with its runner parts and the optional screen.
type env struct {
	model  *model.Model
	base   *Runner
	screen *Screen
	plain  bool
}

// openEnv loads the model, its tokenizer and encoder, and the screen model.
func openEnv(dir string, opts []model.Option, pplDir string, plain bool) (*env, error) {
	m, err := model.Load(dir, opts...)
	if err != nil {
		return nil, err
	}
	base, err := NewRunner(m, m.Dir, plain)
	if err != nil {
		m.Close()
		return nil, err
	}
	e := &env{model: m, base: base, plain: plain}
	if pplDir != "" {
		if e.screen, err = LoadScreen(pplDir, opts...); err != nil {
			m.Close()
			return nil, err
		}
	}
	return e, nil
}

func (e *env) close() {
	e.model.Close()
	if e.screen != nil {
		e.screen.Close()
	}
}

// runner returns a Runner with the run's options.
func (e *env) runner(maxNew, batch int, prog Progress) *Runner {
	r := *e.base
	r.MaxNewTokens, r.BatchSize, r.Screen, r.Progress = maxNew, batch, e.screen, prog
	return &r
}

// fingerprint covers what every run shares: model, data, screen model and
// generation options (dtype included; the backend and batch size are not, so
// shards may run on different machines).
func (e *env) fingerprint(data string, maxNew int) (Fingerprint, error) {
	md, err := ModelDigest(e.model.Dir)
	if err != nil {
		return Fingerprint{}, err
	}
	dd, err := FileDigest(data)
	if err != nil {
		return Fingerprint{}, err
	}
	if maxNew <= 0 {
		maxNew = DefaultMaxNewTokens
	}
	opts := map[string]string{"max_new_tokens": strconv.Itoa(maxNew), "plain": strconv.FormatBool(e.plain), "dtype": e.model.DType().String()}
	if e.screen != nil {
		if opts["ppl_model"], err = ModelDigest(e.screen.Model.Dir); err != nil {
			return Fingerprint{}, err
		}
	}
	return Fingerprint{Model: md, Data: dd[:16], Options: opts}, nil
}

// sortedResults returns the results sorted by key.
func sortedResults(done map[string]Result) []Result {
	rs := make([]Result, 0, len(done))
	for _, r := range done {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Key < rs[j].Key })
	return rs
}

// errIncomplete marks a sweep whose units are not all in its results file.
var errIncomplete = errors.New("incomplete")

func incomplete(missing, total int) error {
	return fmt.Errorf("%w: %d of %d units missing", errIncomplete, missing, total)
}
