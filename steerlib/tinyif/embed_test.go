package tinyif

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
)

func TestEmbeddedModelFiles(t *testing.T) {
	names, err := EmbeddedFiles()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, want := range []string{"config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
		"tokenizer_config.json", "training.json", "loss.csv"} {
		if !have[want] {
			t.Errorf("embedded model lacks %s", want)
		}
	}
	dir := t.TempDir()
	if err := ExtractModel(dir); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, n := range names {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
	}
	if total > 25<<20 {
		t.Errorf("embedded model is %d bytes, more than 25 MB", total)
	}
	var info TrainResult
	data, err := os.ReadFile(filepath.Join(dir, "training.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &info); err != nil {
		t.Fatal(err)
	}
	if info.Steps <= 0 || info.FinalLoss <= 0 || info.Command == "" || info.Params <= 0 || info.Params > 5_000_000 {
		t.Errorf("training.json: %+v", info)
	}
	pts, err := readLossCSV(filepath.Join(dir, "loss.csv"), info.Steps)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != info.Steps {
		t.Errorf("loss.csv has %d steps, training.json says %d", len(pts), info.Steps)
	}
}

// TestEmbeddedModelLoads loads the embedded folder through the runtime used
// for real checkpoints and compares its logits with the training graph's.
func TestEmbeddedModelLoads(t *testing.T) {
	dir, err := EmbeddedModelDir()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := model.LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != cfg.VocabSize {
		t.Errorf("tokenizer has %d tokens, config %d", tok.VocabSize(), cfg.VocabSize)
	}
	if eos, ok := tok.EOS(); !ok || !cfg.IsEOS(eos.ID) {
		t.Errorf("tokenizer EOS %+v is not the model's EOS %v", eos, cfg.EOS)
	}
	// The embedded tokenizer gives the same ids through steerlib/tokenizer as
	// through the encoder training used.
	own, err := LoadBPE(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	exs, err := Corpus(77, 60)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exs {
		text := RenderChat(e.Prompt) + e.Answer + TokImEnd
		want, err := own.Encode(text)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tok.Encode(text, false)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ids differ for %q:\n got %v\nwant %v", text, got, want)
		}
	}
	rel, err := VerifyExport(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if rel > 1e-5 {
		t.Errorf("runtime logits differ from the training graph: relative error %g", rel)
	}
}

// TestEmbeddedBaseModel checks the embedded base model: it shares the
// instruct model's tokenizer and architecture, has no chat template (it is
// used with the plain Q:/A: format), and loads through steerlib/model with
// the same logits as the training graph.
func TestEmbeddedBaseModel(t *testing.T) {
	baseDir, err := EmbeddedBaseModelDir()
	if err != nil {
		t.Fatal(err)
	}
	instDir, err := EmbeddedModelDir()
	if err != nil {
		t.Fatal(err)
	}
	read := func(dir, name string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if !reflect.DeepEqual(read(baseDir, "tokenizer.json"), read(instDir, "tokenizer.json")) {
		t.Error("base and instruct tokenizers differ")
	}
	if !reflect.DeepEqual(read(baseDir, "config.json"), read(instDir, "config.json")) {
		t.Error("base and instruct configs differ")
	}
	var tc map[string]any
	if err := json.Unmarshal(read(baseDir, "tokenizer_config.json"), &tc); err != nil {
		t.Fatal(err)
	}
	if _, ok := tc["chat_template"]; ok {
		t.Error("the base model's tokenizer_config has a chat template")
	}
	rel, err := VerifyExport(baseDir, "")
	if err != nil {
		t.Fatal(err)
	}
	if rel > 1e-5 {
		t.Errorf("base model: runtime logits differ from the training graph: relative error %g", rel)
	}
}

// TestEmbeddedModelsLoadQuietly: both embedded checkpoints hold exactly the
// tensors their configs use, so loading them prints no unused-tensor warning
// (the head is tied to the embedding and not stored twice).
func TestEmbeddedModelsLoadQuietly(t *testing.T) {
	for _, c := range []struct {
		name string
		dir  func() (string, error)
	}{{"instruct", EmbeddedModelDir}, {"base", EmbeddedBaseModelDir}} {
		dir, err := c.dir()
		if err != nil {
			t.Fatal(err)
		}
		var warn strings.Builder
		m, err := model.Load(dir, model.WithWarnings(&warn))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		m.Close()
		if warn.Len() > 0 {
			t.Errorf("%s: loading warned: %s", c.name, warn.String())
		}
	}
}
