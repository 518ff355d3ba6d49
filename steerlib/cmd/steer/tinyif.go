package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gosteer/gosteer/steerlib/tinyif"
)

func init() {
	register(group("tinyif", "the embedded tiny instruction follower: train it, write its corpus, extract it",
		command{"train", "train the tinyif model from scratch (resumes from its checkpoints)", runTinyIFTrain},
		command{"corpus", "print tinyif training examples as JSON lines", runTinyIFCorpus},
		command{"extract", "write the embedded tinyif model to a folder", runTinyIFExtract},
	))
}

func runTinyIFTrain(args []string, stdout, stderr io.Writer) error {
	d := tinyif.DefaultTrainOptions()
	fs := newFlagSet("tinyif train", "--out DIR [flags]", stderr)
	out := fs.String("out", "", "model folder to write (Hugging Face layout); checkpoints go to DIR/checkpoints")
	ckpt := fs.String("checkpoints", "", "checkpoint folder (default OUT/checkpoints); training resumes from it")
	steps := fs.Int("steps", d.Steps, "optimizer steps")
	batch := fs.Int("batch", d.BatchSize, "sequences per step")
	lr := fs.Float64("lr", d.LearningRate, "peak learning rate (warm-up then cosine decay to 10%)")
	warmup := fs.Int("warmup", d.WarmupSteps, "warm-up steps")
	wd := fs.Float64("weight-decay", d.WeightDecay, "AdamW weight decay")
	seed := fs.Uint64("seed", d.Seed, "seed for corpus, tokenizer, initial weights and batches")
	layers := fs.Int("layers", d.Arch.Layers, "decoder blocks")
	hidden := fs.Int("hidden", d.Arch.Hidden, "hidden size")
	heads := fs.Int("heads", d.Arch.Heads, "attention heads")
	kvHeads := fs.Int("kv-heads", d.Arch.KVHeads, "key/value heads")
	inter := fs.Int("intermediate", d.Arch.Intermediate, "MLP intermediate size")
	saveEvery := fs.Int("save-every", d.SaveEvery, "checkpoint every N steps")
	stopAfter := fs.Int("stop-after", 0, "stop this run after N steps (checkpointed; run again to resume)")
	be := fs.String("backend", "", "GoMLX backend (default $GOMLX_BACKEND or go)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return errors.New("--out is required")
	}
	for _, c := range []struct {
		flag string
		v    int
	}{{"--steps", *steps}, {"--batch", *batch}, {"--layers", *layers}, {"--hidden", *hidden}, {"--heads", *heads}, {"--kv-heads", *kvHeads}, {"--intermediate", *inter}, {"--save-every", *saveEvery}} {
		if err := atLeast(c.flag, c.v, 1); err != nil {
			return err
		}
	}
	arch := d.Arch
	arch.Layers, arch.Hidden, arch.Heads, arch.KVHeads, arch.Intermediate = *layers, *hidden, *heads, *kvHeads, *inter
	opts := tinyif.TrainOptions{
		OutDir: *out, CheckpointDir: *ckpt, Steps: *steps, BatchSize: *batch, LearningRate: *lr,
		WarmupSteps: *warmup, WeightDecay: *wd, Seed: *seed, Arch: arch, SaveEvery: *saveEvery, StopAfter: *stopAfter,
		Backend: *be, Progress: stderr, Command: "steer tinyif train " + strings.Join(args, " "),
	}
	res, err := tinyif.Train(opts)
	if err != nil {
		return err
	}
	if res.Done < res.Steps {
		fmt.Fprintf(stdout, "stopped after %d of %d steps (%.0fs); run the same command again to resume\n", res.Done, res.Steps, res.Seconds)
		return nil
	}
	fmt.Fprintf(stdout, "trained %d steps in %.0fs (this run), final loss %.4f, %d parameters -> %s\n",
		res.Steps, res.Seconds, res.FinalLoss, res.Params, *out)
	rel, err := tinyif.VerifyExport(*out, *be)
	if err != nil {
		return fmt.Errorf("verify exported model: %w", err)
	}
	fmt.Fprintf(stdout, "model.Load(%s) logits vs training graph: relative error %.2e\n", *out, rel)
	return nil
}

func runTinyIFCorpus(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tinyif corpus", "[--n N] [--seed S]", stderr)
	n := fs.Int("n", 20, "number of training examples to print as JSON lines")
	seed := fs.Uint64("seed", 1, "corpus seed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := atLeast("--n", *n, 1); err != nil {
		return err
	}
	exs, err := tinyif.Corpus(*seed, *n)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, e := range exs {
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("write example: %w", err)
		}
	}
	return nil
}

func runTinyIFExtract(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tinyif extract", "--out DIR", stderr)
	out := fs.String("out", "", "folder to write the embedded model into")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return errors.New("--out is required")
	}
	if err := tinyif.ExtractModel(*out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote the embedded tinyif model to %s\n", *out)
	return nil
}
