// Command tinyif prepares the data of the CPU training path of the embedded
// tinyif models and checks its result (see scripts/train_tinyif_cpu.sh):
//
//	tinyif prepare --data DIR      tokenizer, configs (tinyif.DefaultArch) and token files for scripts/train_tinyif_torch.py
//	tinyif verify --model DIR      steerlib/model's logits vs the trainer's (DIR/trainer_logits.json)
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gosteer/gosteer/steerlib/tinyif"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tinyif:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: tinyif prepare --data DIR | tinyif verify --model DIR [--max-abs X]")
	}
	fs := flag.NewFlagSet("tinyif "+args[0], flag.ContinueOnError)
	switch args[0] {
	case "prepare":
		d := tinyif.DefaultPrepareOptions()
		dir := fs.String("data", "", "output folder")
		nBase := fs.Int("base-seqs", d.BaseSeqs, "base corpus sequences")
		nInst := fs.Int("instruct-seqs", d.InstructSeqs, "instruct corpus sequences")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *dir == "" {
			return errors.New("prepare: --data is required")
		}
		d.Dir, d.BaseSeqs, d.InstructSeqs, d.Progress = *dir, *nBase, *nInst, os.Stderr
		return tinyif.PrepareTorchData(d)
	case "verify":
		dir := fs.String("model", "", "model folder holding trainer_logits.json")
		limit := fs.Float64("max-abs", 1e-4, "fail when a logit differs by more than this")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		maxAbs, rel, err := tinyif.VerifyTrainerLogits(*dir, filepath.Join(*dir, "trainer_logits.json"), "")
		if err != nil {
			return err
		}
		fmt.Printf("%s: steerlib/model logits vs the trainer's: max |diff| %.2e, relative error %.2e\n", *dir, maxAbs, rel)
		if maxAbs > *limit {
			return fmt.Errorf("verify: max |diff| %.2e exceeds %.0e", maxAbs, *limit)
		}
		return nil
	}
	return fmt.Errorf("unknown command %q (prepare, verify)", args[0])
}
