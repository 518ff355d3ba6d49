package tinyif

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gosteer/gosteer/steerlib/internal/atomicfile"
)

// The CPU training path: Go makes the tokenizer, both models' config.json and
// the tokenized corpora (PrepareTorchData); scripts/train_tinyif_torch.py
// trains the weights with PyTorch and writes model.safetensors in the
// Hugging Face layout; VerifyTrainerLogits checks the result against the
// trainer's own logits. scripts/train_tinyif_cpu.sh runs the three steps.
//
// The two models share the tokenizer and the architecture:
//
//   - base is pre-trained on plain text: "Q: {request}\nA: {answer}" (requests
//     without an instruction, plain answers) and prose, i.e. answers on their
//     own, rendered in one of the instructions' formats at random (lowercase,
//     capitals, JSON, quoted, titled, bullets, …) but never because a request
//     asked for it. The loss counts every token.
//   - instruct starts from base and is fine-tuned on the chat-template corpus
//     of Corpus (1/4 plain, 3/4 with one of the ten instructions); the loss
//     counts the answer tokens only.

// PrepareOptions configures PrepareTorchData. Zero values mean the defaults
// of DefaultPrepareOptions.
type PrepareOptions struct {
	Dir          string // output folder
	Seed         uint64 // seeds tokenizer corpus and both corpora
	Merges       int    // BPE merges
	Arch         Arch   // architecture of both models
	BaseSeqs     int    // sequences of the base corpus
	InstructSeqs int    // sequences of the instruct corpus
	MaxLen       int    // longest sequence in tokens (longer ones are redrawn)
	Progress     io.Writer
}

// DefaultPrepareOptions returns the settings the embedded pair was made with.
func DefaultPrepareOptions() PrepareOptions {
	return PrepareOptions{Seed: 1, Merges: 1000, Arch: DefaultArch, BaseSeqs: 9600, InstructSeqs: 80000, MaxLen: 128}
}

func (o *PrepareOptions) fill() {
	d := DefaultPrepareOptions()
	orDefault(&o.Seed, d.Seed)
	orDefault(&o.Merges, d.Merges)
	orDefault(&o.Arch, d.Arch)
	orDefault(&o.BaseSeqs, d.BaseSeqs)
	orDefault(&o.InstructSeqs, d.InstructSeqs)
	orDefault(&o.MaxLen, d.MaxLen)
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// TokenSeq is one tokenized training sequence: the loss counts the targets
// of positions ≥ Start (the answer), or every target when Start is 0.
type TokenSeq struct {
	IDs   []int `json:"ids"`
	Start int   `json:"start"`
}

// PrepareTorchData writes, into opts.Dir, the folders base/ and instruct/
// (tokenizer.json, tokenizer_config.json, config.json,
// generation_config.json; the base's tokenizer_config has no chat template)
// and the token files base.jsonl, instruct.jsonl and verify.jsonl (the
// sequences whose logits the trainer records for VerifyTrainerLogits).
func PrepareTorchData(opts PrepareOptions) error {
	opts.fill()
	if err := opts.Arch.Validate(); err != nil {
		return err
	}
	fmt.Fprintf(opts.Progress, "tinyif prepare: tokenizer (%d merges)\n", opts.Merges)
	tok, err := BuildTokenizer(opts.Seed, opts.Merges)
	if err != nil {
		return err
	}
	for _, stage := range []string{"base", "instruct"} {
		if err := writeStageDir(filepath.Join(opts.Dir, stage), tok, opts.Arch, stage == "base"); err != nil {
			return err
		}
	}
	fmt.Fprintf(opts.Progress, "tinyif prepare: %d base and %d instruct sequences\n", opts.BaseSeqs, opts.InstructSeqs)
	base, err := BaseCorpus(tok, opts.Seed+2_000, opts.BaseSeqs, opts.MaxLen)
	if err != nil {
		return err
	}
	instruct, err := InstructCorpus(tok, opts.Seed+3_000, opts.InstructSeqs, opts.MaxLen)
	if err != nil {
		return err
	}
	rows, err := verifyRows(tok)
	if err != nil {
		return err
	}
	verify := make([]TokenSeq, len(rows))
	for i, r := range rows {
		verify[i] = TokenSeq{IDs: r}
	}
	for name, seqs := range map[string][]TokenSeq{"base.jsonl": base, "instruct.jsonl": instruct, "verify.jsonl": verify} {
		if err := writeJSONLines(filepath.Join(opts.Dir, name), seqs); err != nil {
			return err
		}
	}
	return nil
}

// writeStageDir writes the tokenizer and config files of one model folder.
func writeStageDir(dir string, tok *BPE, arch Arch, base bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tinyif prepare: %w", err)
	}
	if err := tok.WriteFiles(dir, arch.MaxPositions); err != nil {
		return err
	}
	cfgJSON, err := arch.ConfigJSON(tok)
	if err != nil {
		return err
	}
	genJSON, err := GenerationConfigJSON(tok)
	if err != nil {
		return err
	}
	if base {
		if err := dropChatTemplate(filepath.Join(dir, "tokenizer_config.json")); err != nil {
			return err
		}
		if genJSON, err = json.MarshalIndent(map[string]any{
			"eos_token_id": []int{tok.ID(TokEndOfText), tok.ID(TokImEnd)},
			"pad_token_id": tok.ID(TokEndOfText),
			"do_sample":    false,
		}, "", "  "); err != nil {
			return fmt.Errorf("tinyif prepare: %w", err)
		}
	}
	for name, data := range map[string][]byte{"config.json": cfgJSON, "generation_config.json": genJSON} {
		if err := atomicfile.WriteBytes(filepath.Join(dir, name), append(data, '\n'), nil); err != nil {
			return fmt.Errorf("tinyif prepare: %w", err)
		}
	}
	return nil
}

// dropChatTemplate removes chat_template from a tokenizer_config.json: the
// base model is used with the plain "Q: …\nA:" format.
func dropChatTemplate(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("tinyif prepare: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("tinyif prepare: %s: %w", path, err)
	}
	delete(m, "chat_template")
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("tinyif prepare: %w", err)
	}
	if err := atomicfile.WriteBytes(path, append(out, '\n'), nil); err != nil {
		return fmt.Errorf("tinyif prepare: %w", err)
	}
	return nil
}

// BaseText returns one plain-text document of the base corpus drawn by g:
// half are "Q: {request}\nA: {plain answer}", half are prose (an answer on
// its own, in a format drawn at random, uninstructed). Both end in
// <|endoftext|>.
func BaseText(g *Generator, topics []string) (string, error) {
	ex, err := g.TrainingExample(topics)
	if err != nil {
		return "", err
	}
	if g.r.IntN(2) == 0 {
		return "Q: " + ex.Request + "\nA: " + ex.Plain + TokEndOfText, nil
	}
	return ex.Answer + TokEndOfText, nil
}

// BaseCorpus returns n tokenized base documents (see BaseText) of at most
// maxLen+1 tokens, deterministic in seed.
func BaseCorpus(tok *BPE, seed uint64, n, maxLen int) ([]TokenSeq, error) {
	g := NewGenerator(seed)
	g.UsePieces(tok)
	topics := Topics(SplitTrain)
	out := make([]TokenSeq, 0, n)
	for len(out) < n {
		text, err := BaseText(g, topics)
		if err != nil {
			return nil, err
		}
		ids, err := tok.Encode(text)
		if err != nil {
			return nil, err
		}
		if len(ids)-1 <= maxLen {
			out = append(out, TokenSeq{IDs: ids})
		}
	}
	return out, nil
}

// InstructCorpus returns n tokenized chat examples (EncodeExample) of at
// most maxLen+1 tokens, deterministic in seed; Start is the first answer
// token.
func InstructCorpus(tok *BPE, seed uint64, n, maxLen int) ([]TokenSeq, error) {
	return drawExamples(NewGenerator(seed), tok, n, maxLen)
}

// drawExamples draws n tokenized training examples of at most maxLen+1 tokens
// from g (longer ones are skipped); Start is the first answer token, or, for
// a continuation example (see ContinuationEvery), the token after the one where
// the formatted answer departs from the plain one.
func drawExamples(g *Generator, tok *BPE, n, maxLen int) ([]TokenSeq, error) {
	g.UsePieces(tok)
	topics := Topics(SplitTrain)
	out := make([]TokenSeq, 0, n)
	for len(out) < n {
		ex, err := g.TrainingExample(topics)
		if err != nil {
			return nil, err
		}
		seq, err := encodeTraining(tok, ex, ex.InstructionID != "" && g.r.IntN(ContinuationEvery) == 0)
		if err != nil {
			return nil, err
		}
		if len(seq.IDs)-1 <= maxLen && seq.Start < len(seq.IDs) {
			out = append(out, seq)
		}
	}
	return out, nil
}

// ContinuationEvery: one instructed training example in ContinuationEvery
// becomes a continuation example.
//
// A continuation example is the request without its instruction, answered
// in the instruction's form, with the loss counted only after the first
// token where that answer departs from the plain one (the first token of a
// lowercase, quoted, JSON or titled answer; the missing comma; the end
// phrase). The model is thus never trained to choose a form nobody asked
// for — that token carries no loss, and the answers without the instruction
// stay plain — but it is trained to keep a form once an answer has started
// in it: to close the quotation it opened, to write the next sentence in
// lowercase too. A large model learns this from pre-training on text; this
// one sees too little text, and without it an answer steered into a form
// reverts after its first sentence ("like many things, bees can be gentle …
// A walk through …"), because the model looks the form up in the
// instruction, which a steered prompt does not contain.
const ContinuationEvery = 4

// encodeTraining encodes ex as a chat example, or as a continuation example
// (the request alone, ex's formatted answer, Start after the first token
// where it departs from the plain answer; Start = len(IDs) when the answers
// do not differ before their end, which the caller skips).
func encodeTraining(tok *BPE, ex Example, continuation bool) (TokenSeq, error) {
	if !continuation {
		ids, p, err := EncodeExample(tok, ex)
		return TokenSeq{IDs: ids, Start: p}, err
	}
	plain := ex
	plain.Prompt, plain.Answer = ex.Request, ex.Plain
	plainIDs, p, err := EncodeExample(tok, plain)
	if err != nil {
		return TokenSeq{}, err
	}
	formatted := ex
	formatted.Prompt = ex.Request
	ids, _, err := EncodeExample(tok, formatted)
	if err != nil {
		return TokenSeq{}, err
	}
	d := p
	for d < len(ids) && d < len(plainIDs) && ids[d] == plainIDs[d] {
		d++
	}
	return TokenSeq{IDs: ids, Start: min(d+1, len(ids))}, nil
}

// writeJSONLines writes one JSON value per line, under a temporary name
// renamed at the end.
func writeJSONLines[T any](path string, xs []T) error {
	err := atomicfile.Write(path, func(f *os.File) error {
		w := bufio.NewWriter(f)
		enc := json.NewEncoder(w)
		for _, x := range xs {
			if err := enc.Encode(x); err != nil {
				return err
			}
		}
		return w.Flush()
	}, nil)
	if err != nil {
		return fmt.Errorf("tinyif: write %s: %w", path, err)
	}
	return nil
}
