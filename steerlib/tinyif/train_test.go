package tinyif

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/safetensors"
)

func TestLearningRateSchedule(t *testing.T) {
	const steps, warm, peak = 100, 10, 1e-3
	cases := []struct {
		step int
		want float64
	}{
		{0, peak / 10}, {4, peak / 2}, {9, peak}, {10, peak}, {55, peak * (0.1 + 0.9*0.5)}, {100, peak * 0.1},
	}
	for _, c := range cases {
		if got := LearningRateAt(c.step, steps, warm, peak); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("LearningRateAt(%d) = %g, want %g", c.step, got, c.want)
		}
	}
}

func TestMakeBatch(t *testing.T) {
	tok, _ := smallTokenizer(t)
	a, err := MakeBatch(tok, 3, 5, 6, 128)
	if err != nil {
		t.Fatal(err)
	}
	b, err := MakeBatch(tok, 3, 5, 6, 128)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.IDs) != 6 || len(a.IDs[0])%16 != 0 {
		t.Fatalf("batch shape %d x %d", len(a.IDs), len(a.IDs[0]))
	}
	for i := range a.IDs {
		for j := range a.IDs[i] {
			if a.IDs[i][j] != b.IDs[i][j] || a.Weights[i][j] != b.Weights[i][j] {
				t.Fatal("same (seed, step) gave different batches")
			}
		}
	}
	imStart, imEnd := int32(tok.ID(TokImStart)), int32(tok.ID(TokImEnd))
	for i := range a.IDs {
		// The last weighted target is <|im_end|>, the first follows the
		// second <|im_start|> ("assistant\n"), and padding is never weighted.
		starts, firstW, lastW := 0, -1, -1
		for j := range a.IDs[i] {
			if a.Mask[i][j] == 1 && a.IDs[i][j] == imStart {
				starts++
			}
			if a.Weights[i][j] == 1 {
				if a.Mask[i][j] == 0 {
					t.Fatalf("row %d: padding position %d weighted", i, j)
				}
				if firstW < 0 {
					firstW = j
					if starts != 2 {
						t.Errorf("row %d: first weighted position %d comes after %d <|im_start|>", i, j, starts)
					}
				}
				lastW = j
			}
		}
		if lastW < 0 || a.Targets[i][lastW] != imEnd {
			t.Errorf("row %d: last weighted target is not <|im_end|>", i)
		}
		if j := lastW + 1; j < len(a.Mask[i]) && a.Mask[i][j] == 1 {
			t.Errorf("row %d: real token after the final target", i)
		}
	}
}

// TestTrainResumeAndExport trains a very small model for 4 steps in one go and
// in two sittings (stop after 2, resume), and checks that both give the same
// weights, that the first loss is about ln(vocab), that the loss curve is
// saved, and that the exported folder loads through steerlib/model with the
// training graph's logits.
func TestTrainResumeAndExport(t *testing.T) {
	base := TrainOptions{
		Steps: 4, BatchSize: 4, LearningRate: 1e-3, WarmupSteps: 2, Seed: 5, Merges: 200, SaveEvery: 100,
		Arch: Arch{Hidden: 32, Layers: 2, Heads: 2, KVHeads: 1, Intermediate: 64, MaxPositions: 256},
	}
	one := base
	one.OutDir = filepath.Join(t.TempDir(), "one")
	resA, err := Train(one)
	if err != nil {
		t.Fatal(err)
	}
	two := base
	two.OutDir = filepath.Join(t.TempDir(), "two")
	two.StopAfter = 2
	partial, err := Train(two)
	if err != nil {
		t.Fatal(err)
	}
	if partial.Done != 2 {
		t.Fatalf("stopped run did %d steps, want 2", partial.Done)
	}
	if _, err := os.Stat(filepath.Join(two.OutDir, "model.safetensors")); err == nil {
		t.Fatal("an unfinished run wrote model.safetensors")
	}
	two.StopAfter = 0
	resB, err := Train(two)
	if err != nil {
		t.Fatal(err)
	}
	if resB.ResumedAt != 2 || resB.Done != 4 {
		t.Fatalf("resumed at %d, done %d; want 2 and 4", resB.ResumedAt, resB.Done)
	}
	if math.Abs(resA.FinalLoss-resB.FinalLoss) > 1e-5*resA.FinalLoss {
		t.Errorf("final loss %v in one sitting, %v in two", resA.FinalLoss, resB.FinalLoss)
	}
	wa := readWeights(t, one.OutDir)
	wb := readWeights(t, two.OutDir)
	for name, a := range wa {
		if rel := relErr(wb[name], a); rel > 1e-5 {
			t.Errorf("weight %s differs between one and two sittings: relative error %g", name, rel)
		}
	}

	curve, err := os.ReadFile(filepath.Join(two.OutDir, "loss.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(curve)), "\n")
	if len(lines) != 5 || lines[0] != "step,loss,lr,elapsed_s" {
		t.Fatalf("loss.csv:\n%s", curve)
	}
	pts, err := readLossCSV(filepath.Join(two.OutDir, "loss.csv"), 4)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := model.LoadConfig(two.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if lnV := math.Log(float64(cfg.VocabSize)); math.Abs(pts[0].Loss-lnV) > 0.1*lnV {
		t.Errorf("first loss %v, want about ln(V) = %v", pts[0].Loss, lnV)
	}

	rel, err := VerifyExport(two.OutDir, "")
	if err != nil {
		t.Fatal(err)
	}
	if rel > 1e-5 {
		t.Errorf("model.Load logits differ from the training graph: relative error %g", rel)
	}
}

func readWeights(t *testing.T, dir string) map[string][]float32 {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]float32{}
	for _, n := range f.Names() {
		tt, _ := f.Tensor(n)
		v, err := tt.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		out[n] = v
	}
	return out
}

func relErr(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range want {
		d := float64(got[i] - want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / math.Max(den, 1e-30))
}
