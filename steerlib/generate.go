package steerlib

import (
	"fmt"

	"github.com/gosteer/gosteer/steerlib/model"
)

// GenerateOptions configures Generate. The zero value decodes greedily,
// without steering, up to DefaultMaxNewTokens tokens or the end of sequence.
type GenerateOptions struct {
	// MaxNewTokens is the most tokens generated per prompt (0:
	// DefaultMaxNewTokens).
	MaxNewTokens int
	// Steer are the steering operators (applied in order; see model.SteerOp).
	Steer []model.SteerOp
	// Temperature > 0 samples (with TopK, TopP and Seed); otherwise decoding
	// is greedy.
	Temperature float64
	TopK        int
	TopP        float64
	Seed        uint64
	// PastEOS keeps generating after an end-of-sequence token, so that
	// every row gets exactly MaxNewTokens tokens.
	PastEOS bool
	// Stop ends a row once its text contains one of these strings.
	Stop []string
	// BatchSize is the most prompts generated together (0:
	// DefaultBatchSize); memory grows with it.
	BatchSize int
}

// Defaults of GenerateOptions.
const (
	DefaultMaxNewTokens = 128
	DefaultBatchSize    = 32
)

// Generation is one generated continuation.
type Generation struct {
	// IDs are the new token ids (an end-of-sequence token included).
	IDs []int
	// Text is IDs decoded without special tokens ("" without a tokenizer).
	Text string
	// Reason is why the row stopped: model.StopLength, StopEOS or StopString.
	Reason string
}

// Generate encodes each prompt (see Encode), continues it and decodes the
// new tokens.
func (m *Model) Generate(prompts []string, opts GenerateOptions) ([]Generation, error) {
	rows, err := m.Encode(prompts...)
	if err != nil {
		return nil, err
	}
	return m.GenerateIDs(rows, opts)
}

// GenerateIDs continues prompts that are already token ids, BatchSize rows
// at a time.
func (m *Model) GenerateIDs(rows [][]int, opts GenerateOptions) ([]Generation, error) {
	mo := model.GenerateOptions{
		MaxNewTokens: opts.MaxNewTokens, Greedy: opts.Temperature <= 0, Temperature: opts.Temperature,
		TopK: opts.TopK, TopP: opts.TopP, Seed: opts.Seed, StopAtEOS: !opts.PastEOS,
		StopStrings: opts.Stop, Steer: opts.Steer,
	}
	if mo.MaxNewTokens == 0 {
		mo.MaxNewTokens = DefaultMaxNewTokens
	}
	bs := opts.BatchSize
	if bs <= 0 {
		bs = DefaultBatchSize
	}
	dec := m.Encoder != nil && m.Encoder.Tokenizer != nil
	if dec {
		mo.Decode = m.Encoder.Decode
	} else if len(opts.Stop) > 0 {
		return nil, fmt.Errorf("generate: stop strings need the model folder's tokenizer")
	}
	out := make([]Generation, 0, len(rows))
	for start := 0; start < len(rows); start += bs {
		res, err := m.Net.Generate(rows[start:min(len(rows), start+bs)], mo)
		if err != nil {
			return nil, fmt.Errorf("generate rows %d..: %w", start, err)
		}
		for i, ids := range res.Tokens {
			g := Generation{IDs: ids, Reason: res.Reasons[i]}
			if dec {
				if g.Text, err = m.Encoder.Decode(ids); err != nil {
					return nil, fmt.Errorf("generate: row %d: %w", start+i, err)
				}
			}
			out = append(out, g)
		}
	}
	return out, nil
}
