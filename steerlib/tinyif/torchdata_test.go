package tinyif

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
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
				if !strings.HasSuffix(prompt, TokImStart+"assistant\n") || !strings.HasSuffix(text, TokImEnd) {
					t.Errorf("instruct sequence %q: loss starts after %q", text, prompt)
				}
			}
		}
		if c.file == "base.jsonl" && (qa == 0 || qa == len(seqs)) {
			t.Errorf("base corpus: %d of %d documents are Q:/A:, want a mix with prose", qa, len(seqs))
		}
	}
}
