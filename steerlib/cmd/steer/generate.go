package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/gosteer/gosteer/steerlib/chat"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
)

func init() {
	register(command{
		name:    "generate",
		summary: "generate tokens from token ids (or a text prompt), optionally steered",
		run:     runGenerate,
	})
}

// generateOutput is the JSON written by steer generate.
type generateOutput struct {
	IDs     [][]int  `json:"ids"`
	Text    []string `json:"text,omitempty"`
	Reasons []string `json:"stop_reasons"`
}

func runGenerate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("generate", "--model DIR (--input IN.safetensors | --prompt TEXT) --max-new-tokens N [--greedy | --temperature T ...] [--steer SPEC]... --out OUT.json", stderr)
	rf := addRuntimeFlags(fs, true)
	input := fs.String("input", "", "safetensors with input_ids I32 [B,T] and optional attention_mask I32 [B,T] (padding is dropped per row)")
	prompt := fs.String("prompt", "", "text prompt: rendered with the model's chat template (or --plain), tokenized with its tokenizer")
	plain := fs.Bool("plain", false, `with --prompt: use the base-model "Q: …\nA:" format instead of the chat template`)
	out := fs.String("out", "", `output JSON {"ids": [[new ids per row]], "stop_reasons": [...]} (default: stdout)`)
	maxNew := fs.Int("max-new-tokens", 0, "tokens to generate per row (exactly this many unless --stop-at-eos or --stop)")
	greedy := fs.Bool("greedy", false, "pick the most likely token (default unless --temperature > 0)")
	temperature := fs.Float64("temperature", 0, "sampling temperature (> 0 samples)")
	topK := fs.Int("top-k", 0, "sample among the K most likely tokens (0: all)")
	topP := fs.Float64("top-p", 0, "sample among the most likely tokens holding probability P (0: all)")
	seed := fs.Uint64("seed", 0, "sampling seed")
	stopEOS := fs.Bool("stop-at-eos", false, "stop a row after an end-of-sequence token")
	stops := &specList{}
	fs.Var(stops, "stop", "stop a row once its text contains this string (repeatable; needs the tokenizer)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*input == "") == (*prompt == "") || *maxNew <= 0 || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "steer generate: give --model, exactly one of --input or --prompt, and --max-new-tokens > 0")
		fs.Usage()
		return errUsage
	}
	if *greedy && *temperature > 0 {
		return fmt.Errorf("--greedy and --temperature %g contradict each other", *temperature)
	}
	m, err := rf.load()
	if err != nil {
		return err
	}
	defer m.Close()
	ops, err := rf.steerOps(m.Config)
	if err != nil {
		return err
	}

	var tok *tokenizer.Tokenizer
	if *prompt != "" || len(*stops) > 0 {
		if m.Dir == "" {
			return fmt.Errorf("text prompts and --stop need the model folder's tokenizer")
		}
		if tok, err = tokenizer.Load(m.Dir); err != nil {
			return fmt.Errorf("tokenizer: %w", err)
		}
	}
	var rows [][]int
	if *prompt != "" {
		ids, err := encodePrompt(m.Dir, tok, *prompt, *plain)
		if err != nil {
			return err
		}
		rows = [][]int{ids}
	} else {
		batch, err := readInputBatch(*input)
		if err != nil {
			return err
		}
		if rows, err = batchRows(batch); err != nil {
			return fmt.Errorf("--input %s: %w", *input, err)
		}
	}
	opts := model.GenerateOptions{
		MaxNewTokens: *maxNew, Greedy: *greedy || *temperature <= 0, Temperature: *temperature,
		TopK: *topK, TopP: *topP, Seed: *seed, StopAtEOS: *stopEOS, StopStrings: *stops, Steer: ops,
	}
	if tok != nil {
		opts.Decode = func(ids []int) (string, error) { return tok.Decode(ids, true) }
	}
	res, err := m.Generate(rows, opts)
	if err != nil {
		return err
	}
	o := generateOutput{IDs: res.Tokens, Reasons: res.Reasons}
	if tok != nil {
		for _, ids := range res.Tokens {
			text, err := tok.Decode(ids, true)
			if err != nil {
				return fmt.Errorf("decode: %w", err)
			}
			o.Text = append(o.Text, text)
		}
	}
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if *out == "" {
		_, err = stdout.Write(data)
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// batchRows returns each row's tokens where the mask is 1.
func batchRows(b model.Batch) ([][]int, error) {
	rows := make([][]int, b.B)
	for i := 0; i < b.B; i++ {
		for t := 0; t < b.T; t++ {
			if b.Mask == nil || b.Mask[i*b.T+t] != 0 {
				rows[i] = append(rows[i], int(b.IDs[i*b.T+t]))
			}
		}
		if len(rows[i]) == 0 {
			return nil, fmt.Errorf("row %d has no tokens (attention_mask all 0)", i)
		}
	}
	return rows, nil
}

// encodePrompt renders a one-turn conversation with the generation prompt and
// tokenizes it. A chat template writes its own special tokens; the plain
// format gets the tokenizer's (e.g. BOS).
func encodePrompt(dir string, tok *tokenizer.Tokenizer, text string, plain bool) ([]int, error) {
	var f chat.Formatter = chat.DefaultPlainFormat
	if !plain {
		tpl, err := chat.Load(dir)
		if err != nil {
			return nil, fmt.Errorf("chat template: %w (use --plain for base models)", err)
		}
		f = tpl
	}
	rendered, err := f.Render([]chat.Message{{Role: "user", Content: text}}, chat.Options{AddGenerationPrompt: true})
	if err != nil {
		return nil, fmt.Errorf("chat template: %w", err)
	}
	ids, err := tok.Encode(rendered, plain)
	if err != nil {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	return ids, nil
}
