package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/gosteer/gosteer/steerlib"
	"github.com/gosteer/gosteer/steerlib/chat"
	"github.com/gosteer/gosteer/steerlib/model"
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

// dateFlag is a YYYY-MM-DD flag value.
type dateFlag time.Time

// String implements flag.Value.
func (d *dateFlag) String() string { return time.Time(*d).Format(time.DateOnly) }

// Set implements flag.Value.
func (d *dateFlag) Set(s string) error {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("want YYYY-MM-DD")
	}
	*d = dateFlag(t)
	return nil
}

// addDateFlag adds --date, the date chat templates print (default
// chat.DefaultDate, the date every gosteer tool encodes prompts with).
func addDateFlag(fs *flag.FlagSet) *dateFlag {
	d := dateFlag(chat.DefaultDate)
	fs.Var(&d, "date", "date chat templates see (YYYY-MM-DD; fixed so runs are reproducible)")
	return &d
}

func runGenerate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("generate", "--model DIR (--input IN.safetensors | --prompt TEXT) --max-new-tokens N [--greedy | --temperature T ...] [--steer SPEC]... --out OUT.json", stderr)
	rf := addRuntimeFlags(fs, true)
	input := fs.String("input", "", "safetensors with input_ids I32 [B,T] and optional attention_mask I32 [B,T] (padding is dropped per row)")
	prompt := fs.String("prompt", "", "text prompt: rendered with the model's chat template (or --plain), tokenized with its tokenizer")
	plain := fs.Bool("plain", false, `with --prompt: use the base-model "Q: …\nA:" format instead of the chat template`)
	date := addDateFlag(fs)
	out := fs.String("out", "", `output JSON {"ids": [[new ids per row]], "stop_reasons": [...]} (default: stdout)`)
	maxNew := fs.Int("max-new-tokens", 0, "tokens to generate per row (exactly this many unless --stop-at-eos or --stop)")
	greedy := fs.Bool("greedy", false, "pick the most likely token (default unless --temperature > 0)")
	var o steerlib.GenerateOptions
	fs.Float64Var(&o.Temperature, "temperature", 0, "sampling temperature (> 0 samples)")
	fs.IntVar(&o.TopK, "top-k", 0, "sample among the K most likely tokens (0: all)")
	fs.Float64Var(&o.TopP, "top-p", 0, "sample among the most likely tokens holding probability P (0: all)")
	fs.Uint64Var(&o.Seed, "seed", 0, "sampling seed")
	stopEOS := fs.Bool("stop-at-eos", false, "stop a row after an end-of-sequence token")
	stops := &specList{}
	fs.Var(stops, "stop", "stop a row once its text contains this string (repeatable; needs the tokenizer)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*input == "") == (*prompt == "" && !flagSet(fs, "prompt")) || *maxNew <= 0 || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "steer generate: give --model, exactly one of --input or --prompt, and --max-new-tokens > 0")
		fs.Usage()
		return errUsage
	}
	if err := checkPrompt(fs, *prompt); err != nil {
		return err
	}
	if err := checkSampling(fs, *greedy, o); err != nil {
		return err
	}
	if err := checkOutput("--out", *out, *input); err != nil {
		return err
	}
	opts := []steerlib.Option{steerlib.WithDate(time.Time(*date))}
	if *plain {
		opts = append(opts, steerlib.WithPlain())
	}
	m, err := rf.open(opts...)
	if err != nil {
		return err
	}
	defer m.Close()
	if o.Steer, err = rf.steerOps(m.Net.Config); err != nil {
		return err
	}
	o.MaxNewTokens, o.PastEOS, o.Stop = *maxNew, !*stopEOS, *stops
	gens, err := generateRows(m, *prompt, *input, o)
	if err != nil {
		return err
	}
	res := generateOutput{}
	for _, g := range gens {
		res.IDs, res.Reasons = append(res.IDs, g.IDs), append(res.Reasons, g.Reason)
		if *prompt != "" || len(*stops) > 0 {
			res.Text = append(res.Text, g.Text)
		}
	}
	return writeJSON(stdout, *out, res)
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// checkPrompt refuses an empty --prompt (given but blank) and one that is
// not valid UTF-8 (the tokenizer would see replacement characters).
func checkPrompt(fs *flag.FlagSet, prompt string) error {
	if !flagSet(fs, "prompt") {
		return nil
	}
	if strings.TrimSpace(prompt) == "" {
		return errors.New("--prompt is empty: give the text to continue")
	}
	if err := checkUTF8([]byte(prompt)); err != nil {
		return fmt.Errorf("--prompt: %w", err)
	}
	return nil
}

// checkSampling refuses sampling flags that cannot be meant: a temperature
// that is NaN, infinite or negative, top-p outside (0, 1], a negative top-k,
// and top-k or top-p without a temperature > 0 (which would silently be
// greedy).
func checkSampling(fs *flag.FlagSet, greedy bool, o steerlib.GenerateOptions) error {
	t := o.Temperature
	switch {
	case math.IsNaN(t) || math.IsInf(t, 0) || t < 0:
		return fmt.Errorf("--temperature %g: want a finite number ≥ 0 (0: greedy)", t)
	case greedy && t > 0:
		return fmt.Errorf("--greedy and --temperature %g contradict each other", t)
	case o.TopK < 0:
		return fmt.Errorf("--top-k %d: want ≥ 0 (0: all tokens)", o.TopK)
	case flagSet(fs, "top-p") && !(o.TopP > 0 && o.TopP <= 1):
		return fmt.Errorf("--top-p %g: want a probability in (0, 1]", o.TopP)
	case t == 0 && (flagSet(fs, "top-k") || flagSet(fs, "top-p")):
		return errors.New("--top-k/--top-p apply to sampling: give --temperature > 0 too (without it generation is greedy)")
	}
	return nil
}

// generateRows continues the text prompt, or the rows of the --input file.
func generateRows(m *steerlib.Model, prompt, input string, o steerlib.GenerateOptions) ([]steerlib.Generation, error) {
	if prompt != "" {
		return m.Generate([]string{prompt}, o)
	}
	batch, err := readInputBatch(input)
	if err != nil {
		return nil, err
	}
	rows, err := batchRows(batch)
	if err != nil {
		return nil, fmt.Errorf("--input %s: %w", input, err)
	}
	return m.GenerateIDs(rows, o)
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
