package tinyif

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/model"
)

func readTokenSeqs(t *testing.T, path string) []TokenSeq {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []TokenSeq
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s TokenSeq
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestPrepareTorchData checks the folders and token files the PyTorch
// trainer reads: both configs load, only the instruct tokenizer has a chat
// template, base documents are Q:/A: text or prose, instruct sequences
// start their loss at the assistant turn.
func TestPrepareTorchData(t *testing.T) {
	dir := t.TempDir()
	arch := Arch{Hidden: 32, Layers: 2, Heads: 2, KVHeads: 1, Intermediate: 64, MaxPositions: 256}
	if err := PrepareTorchData(PrepareOptions{Dir: dir, Merges: 200, Arch: arch, BaseSeqs: 40, InstructSeqs: 30}); err != nil {
		t.Fatal(err)
	}
	tok, err := LoadBPE(filepath.Join(dir, "instruct", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		stage    string
		template bool
	}{{"base", false}, {"instruct", true}} {
		cfg, err := model.LoadConfig(filepath.Join(dir, c.stage))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.NumLayers != 2 || cfg.VocabSize != len(tok.Vocab) {
			t.Errorf("%s: %d layers, vocab %d", c.stage, cfg.NumLayers, cfg.VocabSize)
		}
		data, err := os.ReadFile(filepath.Join(dir, c.stage, "tokenizer_config.json"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(data), "chat_template"); got != c.template {
			t.Errorf("%s tokenizer_config has a chat template: %v, want %v", c.stage, got, c.template)
		}
	}
	for _, c := range []struct {
		file string
		n    int
	}{{"base.jsonl", 40}, {"instruct.jsonl", 30}, {"verify.jsonl", 3}} {
		seqs := readTokenSeqs(t, filepath.Join(dir, c.file))
		if len(seqs) != c.n {
			t.Fatalf("%s: %d sequences, want %d", c.file, len(seqs), c.n)
		}
		qa := 0
		for _, s := range seqs {
			text, err := tok.Decode(s.IDs)
			if err != nil {
				t.Fatal(err)
			}
			switch c.file {
			case "base.jsonl":
				if s.Start != 0 || !strings.HasSuffix(text, TokEndOfText) || strings.Contains(text, TokImStart) {
					t.Errorf("base document %q starts its loss at %d", text, s.Start)
				}
				if strings.HasPrefix(text, "Q: ") {
					qa++
				}
			case "instruct.jsonl":
				prompt, err := tok.Decode(s.IDs[:s.Start])
				if err != nil {
					t.Fatal(err)
				}
				// The loss starts at the answer, or, in a continuation
				// example, within it, after the token that sets its form.
				_, answered, ok := strings.Cut(prompt, TokImStart+"assistant\n")
				if !ok || strings.Contains(answered, TokImEnd) || !strings.HasSuffix(text, TokImEnd) {
					t.Errorf("instruct sequence %q: loss starts after %q", text, prompt)
				}
			}
		}
		if c.file == "base.jsonl" && (qa == 0 || qa == len(seqs)) {
			t.Errorf("base corpus: %d of %d documents are Q:/A:, want a mix with prose", qa, len(seqs))
		}
	}
}

// TestContinuationExamples: a continuation example is the request without
// its instruction answered in the instruction's form, and its loss starts
// right after the first token where that answer departs from the plain one
// (that token itself, the choice of form, is never a target); one-sentence
// answers depart only at their end and leave nothing to train.
func TestContinuationExamples(t *testing.T) {
	tok, err := BuildTokenizer(1, 300)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range Instructions {
		t.Run(in.Short, func(t *testing.T) {
			g := NewGenerator(3)
			ex, err := g.Example("owls", in.ID, false)
			if err != nil {
				t.Fatal(err)
			}
			seq, err := encodeTraining(tok, ex, true)
			if err != nil {
				t.Fatal(err)
			}
			prompt, err := tok.Encode(RenderChat(ex.Request))
			if err != nil {
				t.Fatal(err)
			}
			plain, _, err := EncodeExample(tok, Example{Prompt: ex.Request, Answer: ex.Plain})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seq.IDs[:len(prompt)], prompt) {
				t.Fatalf("prompt is not the request alone")
			}
			if in.ID == "length_constraints:number_sentences" {
				if seq.Start != len(seq.IDs) {
					t.Errorf("one sentence: Start %d of %d, want nothing to train", seq.Start, len(seq.IDs))
				}
				return
			}
			d := seq.Start - 1 // the departing token
			if d < len(prompt) || seq.Start >= len(seq.IDs) {
				t.Fatalf("Start %d (prompt %d, sequence %d)", seq.Start, len(prompt), len(seq.IDs))
			}
			if !slices.Equal(seq.IDs[:d], plain[:d]) || (d < len(plain) && seq.IDs[d] == plain[d]) {
				t.Errorf("token %d is not where %q departs from %q", d, ex.Answer, ex.Plain)
			}
			got, err := tok.Decode(seq.IDs[len(prompt):])
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got, ex.Answer) {
				t.Errorf("answer %q, want the formatted %q", got, ex.Answer)
			}
		})
	}
	// In a drawn corpus, one instructed example in ContinuationEvery (3/4
	// of all, less the skipped one-sentence ones) is a continuation: its
	// loss starts past the first answer token.
	seqs, err := InstructCorpus(tok, 5, 2000, 128)
	if err != nil {
		t.Fatal(err)
	}
	header, err := tok.Encode("assistant\n")
	if err != nil {
		t.Fatal(err)
	}
	cont := 0
	for _, s := range seqs {
		answerStart := slices.Index(s.IDs, tok.ID(TokImStart)) // the user turn
		answerStart += slices.Index(s.IDs[answerStart+1:], tok.ID(TokImStart)) + 2 + len(header)
		if s.Start > answerStart {
			cont++
		}
	}
	if share := float64(cont) / float64(len(seqs)); share < 0.14 || share > 0.24 {
		t.Errorf("%d of %d sequences are continuations, want about 0.17", cont, len(seqs))
	}
}
