package vectors

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/pairs"
	"github.com/gosteer/gosteer/steerlib/progress"
)

// PairSource yields pairs one at a time and io.EOF after the last;
// *pairs.Reader implements it.
type PairSource interface {
	Next() (pairs.Pair, error)
}

// SliceSource is a PairSource over a slice.
type SliceSource struct {
	Pairs []pairs.Pair
	i     int
}

// Next implements PairSource.
func (s *SliceSource) Next() (pairs.Pair, error) {
	if s.i >= len(s.Pairs) {
		return pairs.Pair{}, io.EOF
	}
	s.i++
	return s.Pairs[s.i-1], nil
}

// Encoder turns a prompt (the user message) into the token ids the model
// reads: normally the chat template with add_generation_prompt=true, then the
// tokenizer (the Encode method of a chat.Encoder).
type Encoder func(prompt string) ([]int, error)

// CaptureFunc runs the model over token rows of different lengths and returns,
// for every layer l, the residual stream after block l at each row's last
// token: acts[l] is a row-major [len(rows), hidden] matrix.
type CaptureFunc func(rows [][]int) (acts [][]float32, err error)

// ModelCapture returns a CaptureFunc over a loaded model: rows are left
// padded into one batch and every layer is captured at the last real token
// in a single forward pass (no logits).
func ModelCapture(m *model.Model) CaptureFunc {
	all := make([]int, m.Config.NumLayers)
	for i := range all {
		all[i] = i
	}
	return func(rows [][]int) ([][]float32, error) {
		b, err := model.LeftPad(rows, 0)
		if err != nil {
			return nil, err
		}
		res, err := m.Forward(b, model.ForwardOptions{Layers: all, At: model.LastToken, Logits: model.LogitsNone})
		if err != nil {
			return nil, err
		}
		acts := make([][]float32, len(all))
		for l := range all {
			acts[l] = res.Resid[l]
		}
		return acts, nil
	}
}

// ExtractOptions configures Extract.
type ExtractOptions struct {
	// BatchSize is the number of pairs per forward pass (each pass runs
	// 2·BatchSize prompts); memory is bounded by it. Default 8.
	BatchSize int
	// InstructionID keeps only pairs of this instruction. When empty, all
	// pairs must share one instruction id.
	InstructionID string
	// Progress receives progress in pairs (nil: none); Total sizes it.
	Progress progress.Reporter
	Total    int
	// StatePath, when set, receives the accumulator state every
	// CheckpointEvery batches (default 16) and at the end, so an
	// interrupted run can resume.
	StatePath       string
	CheckpointEvery int
	// Resume skips the first acc.N − acc.Run.BaseN matching pairs of the
	// source (those this run already added), checking that they are the
	// pairs the accumulator saw (same fingerprint from
	// acc.Run.BaseFingerprint). Without Resume, every pair of the source is
	// added to acc (an update with more pairs).
	Resume bool
}

// Extract streams pairs from src, encodes both prompts of each, captures the
// last-token residual stream at every layer in batches and adds the
// differences to acc. It stops at the end of src, at the first error, or
// when ctx is cancelled (after saving the state when StatePath is set and
// pairs were added). The final save sets acc.Run.Complete; a run that adds
// no pair at all writes no state.
func Extract(ctx context.Context, acc *Accumulator, src PairSource, enc Encoder, capture CaptureFunc, opts ExtractOptions) (err error) {
	bs := opts.BatchSize
	if bs <= 0 {
		bs = 8
	}
	every := opts.CheckpointEvery
	if every <= 0 {
		every = 16
	}
	prog := progress.Or(opts.Progress)
	in := &instructionFilter{src: src, id: opts.InstructionID, fixed: opts.InstructionID != ""}
	if in.id == "" {
		in.id = acc.InstructionID
	}
	if opts.Resume && acc.N > acc.Run.BaseN {
		if err := skipSeen(in, acc); err != nil {
			return fmt.Errorf("resume: %w", err)
		}
	}
	if acc.InstructionID == "" {
		acc.InstructionID = in.id
	}
	startN := acc.N
	save := func(final bool) error {
		acc.Run.Complete = final
		if opts.StatePath == "" || acc.N == 0 || (!final && acc.N == startN) {
			return nil
		}
		return acc.Save(opts.StatePath)
	}
	progress.StartAt(prog, "pairs", opts.Total, acc.N)
	defer prog.Finish()
	batch := make([]pairs.Pair, 0, bs)
	for nb, done := 0, false; !done; {
		if err := ctx.Err(); err != nil {
			if serr := save(false); serr != nil {
				return errors.Join(err, serr)
			}
			return err
		}
		if batch, done, err = readBatch(in, batch[:0]); err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		if err := addBatch(acc, batch, enc, capture); err != nil {
			return fmt.Errorf("pairs %d..%d: %w", acc.N+1, acc.N+len(batch), err)
		}
		if acc.InstructionID == "" {
			acc.InstructionID = in.id
		}
		prog.Set(acc.N)
		if nb++; nb%every == 0 {
			if err := save(false); err != nil {
				return err
			}
		}
	}
	return save(true)
}

// instructionFilter yields the pairs of one instruction from src: id when
// fixed, else the instruction of the first pair, and then every pair of
// another instruction is an error.
type instructionFilter struct {
	src   PairSource
	id    string
	fixed bool
}

// Next implements PairSource.
func (f *instructionFilter) Next() (pairs.Pair, error) {
	for {
		p, err := f.src.Next()
		if err != nil {
			return p, err
		}
		if f.id == "" {
			f.id = p.InstructionID
		}
		if p.InstructionID == f.id {
			return p, nil
		}
		if !f.fixed {
			return p, fmt.Errorf("pairs of several instructions (%q, %q): a vector is computed for one instruction; choose one", f.id, p.InstructionID)
		}
	}
}

// skipSeen consumes the acc.N − acc.Run.BaseN pairs this run already added,
// checking that they are the same pairs (same fingerprint).
func skipSeen(src PairSource, acc *Accumulator) error {
	fp := acc.Run.BaseFingerprint
	n := acc.N - acc.Run.BaseN
	for i := 0; i < n; i++ {
		p, err := src.Next()
		if err == io.EOF {
			return fmt.Errorf("the state holds %d pairs of this source but it has only %d", n, i)
		}
		if err != nil {
			return err
		}
		fp = chainFingerprint(fp, p.With, p.Without)
	}
	if fp != acc.Fingerprint {
		return fmt.Errorf("the first %d pairs of the source differ from those in the state (another dataset?)", n)
	}
	return nil
}

// readBatch appends pairs from src to batch up to its capacity; done
// reports the end of src.
func readBatch(src PairSource, batch []pairs.Pair) (_ []pairs.Pair, done bool, err error) {
	for len(batch) < cap(batch) {
		p, err := src.Next()
		if err == io.EOF {
			return batch, true, nil
		}
		if err != nil {
			return batch, false, err
		}
		batch = append(batch, p)
	}
	return batch, false, nil
}

// addBatch encodes and captures one batch and adds it to acc.
func addBatch(acc *Accumulator, batch []pairs.Pair, enc Encoder, capture CaptureFunc) error {
	n := len(batch)
	rows := make([][]int, 2*n)
	for i, p := range batch {
		var err error
		if rows[i], err = enc(p.With); err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		if rows[n+i], err = enc(p.Without); err != nil {
			return fmt.Errorf("encode: %w", err)
		}
	}
	acts, err := capture(rows)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	if len(acts) != acc.NumLayers {
		return fmt.Errorf("capture returned %d layers, want %d", len(acts), acc.NumLayers)
	}
	D := acc.Hidden
	for l := range acts {
		if len(acts[l]) != 2*n*D {
			return fmt.Errorf("capture: layer %d has %d values, want %d×%d", l, len(acts[l]), 2*n, D)
		}
	}
	with := make([][]float32, acc.NumLayers)
	without := make([][]float32, acc.NumLayers)
	for i, p := range batch {
		for l := range acts {
			with[l] = acts[l][i*D : (i+1)*D]
			without[l] = acts[l][(n+i)*D : (n+i+1)*D]
		}
		if err := acc.Add(with, without); err != nil {
			return err
		}
		acc.Fingerprint = chainFingerprint(acc.Fingerprint, p.With, p.Without)
	}
	return nil
}
