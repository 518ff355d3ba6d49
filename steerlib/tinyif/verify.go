package tinyif

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gmodel "github.com/gomlx/gomlx/ml/model"

	"github.com/gosteer/gosteer/steerlib/backend"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/safetensors"
)

// readCanonicalWeights reads dir/model.safetensors and returns the weights
// under steerlib/model's canonical names.
func readCanonicalWeights(dir string, cfg *model.Config) (map[string][]float32, error) {
	path := filepath.Join(dir, "model.safetensors")
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tinyif: %w", err)
	}
	defer f.Close()
	out := map[string][]float32{}
	for _, n := range weightNames(cfg) {
		hn, err := hfName(n)
		if err != nil {
			return nil, err
		}
		t, ok := f.Tensor(hn)
		if !ok {
			return nil, fmt.Errorf("tinyif: %s has no tensor %s", path, hn)
		}
		v, err := t.Float32s()
		if err != nil {
			return nil, fmt.Errorf("tinyif: %s: %s: %w", path, hn, err)
		}
		out[n] = v
	}
	return out, nil
}

// verifyRows returns a few tokenized chat examples used to compare logits.
func verifyRows(tok *BPE) ([][]int, error) {
	var rows [][]int
	for i, id := range []string{"", Instructions[0].ID, Instructions[2].ID} {
		exs, err := EvalExamples(99, SplitValidation, id, 1)
		if err != nil {
			return nil, err
		}
		ids, _, err := EncodeExample(tok, exs[i])
		if err != nil {
			return nil, err
		}
		rows = append(rows, ids)
	}
	return rows, nil
}

// VerifyExport checks an exported model folder: it loads the folder through
// steerlib/model.Load (the runtime used for real checkpoints) and compares its
// logits on a few right-padded example sequences with those of the training
// forward graph fed with the same saved weights. It returns the relative
// error ‖runtime−training‖/‖training‖ over the real tokens.
func VerifyExport(dir, backendName string) (rel float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			rel, err = 0, fmt.Errorf("tinyif: verify %s: %v", dir, r)
		}
	}()
	cfg, err := model.LoadConfig(dir)
	if err != nil {
		return 0, fmt.Errorf("tinyif: verify: %w", err)
	}
	tok, err := LoadBPE(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return 0, err
	}
	weights, err := readCanonicalWeights(dir, cfg)
	if err != nil {
		return 0, err
	}
	rows, err := verifyRows(tok)
	if err != nil {
		return 0, err
	}
	B, T := len(rows), 0
	for _, r := range rows {
		T = max(T, len(r))
	}
	ids, mask, pos := make([]int32, B*T), make([]int32, B*T), make([]int32, B*T)
	for i, r := range rows {
		for j := range T {
			pos[i*T+j] = int32(j)
			if j < len(r) {
				ids[i*T+j], mask[i*T+j] = int32(r[j]), 1
			}
		}
	}
	be, err := backend.Shared(backendName)
	if err != nil {
		return 0, err
	}
	shapes := model.WeightShapes(cfg)
	ref, err := gmodel.ExecOnce(be, gmodel.NewStore(), func(_ *gmodel.Scope, idsN, maskN *graph.Node) *graph.Node {
		g := idsN.Graph()
		w := func(name string) *graph.Node {
			return graph.Const(g, tensors.FromFlatDataAndDimensions(weights[name], shapes[name]...))
		}
		return model.ForwardGraph(cfg, w, idsN, nil, maskN, nil)
	}, tensors.FromFlatDataAndDimensions(ids, B, T), tensors.FromFlatDataAndDimensions(mask, B, T))
	if err != nil {
		return 0, fmt.Errorf("tinyif: verify: training graph: %w", err)
	}
	refLogits := tensors.MustCopyFlatData[float32](ref)

	m, err := model.Load(dir, model.WithBackend(backendName), model.WithOffline())
	if err != nil {
		return 0, fmt.Errorf("tinyif: verify: %w", err)
	}
	defer m.Close()
	res, err := m.Forward(model.Batch{B: B, T: T, IDs: ids, Mask: mask, Positions: pos}, model.ForwardOptions{Logits: model.LogitsAll})
	if err != nil {
		return 0, fmt.Errorf("tinyif: verify: runtime forward: %w", err)
	}
	V := cfg.VocabSize
	if len(res.Logits) != B*T*V || len(refLogits) != B*T*V {
		return 0, fmt.Errorf("tinyif: verify: logits sizes %d (runtime) and %d (training graph), want %d", len(res.Logits), len(refLogits), B*T*V)
	}
	var num, den float64
	for i := range B * T {
		if mask[i] == 0 {
			continue
		}
		for v := range V {
			d := float64(res.Logits[i*V+v] - refLogits[i*V+v])
			num += d * d
			den += float64(refLogits[i*V+v]) * float64(refLogits[i*V+v])
		}
	}
	return math.Sqrt(num / den), nil
}

// TrainerLogits is one sequence and the logits the trainer computed for it
// (scripts/train_tinyif_torch.py writes a list of them).
type TrainerLogits struct {
	IDs    []int       `json:"ids"`
	Logits [][]float32 `json:"logits"` // [len(IDs)][vocab]
}

// VerifyTrainerLogits loads the model folder dir through steerlib/model.Load
// and compares its logits on the sequences of the trainer's logits file
// with the trainer's: it returns the largest absolute difference and the
// relative error ‖runtime−trainer‖/‖trainer‖ over all positions.
func VerifyTrainerLogits(dir, logitsPath, backendName string) (maxAbs, rel float64, err error) {
	data, err := os.ReadFile(logitsPath)
	if err != nil {
		return 0, 0, fmt.Errorf("tinyif: verify: %w", err)
	}
	var refs []TrainerLogits
	if err := json.Unmarshal(data, &refs); err != nil {
		return 0, 0, fmt.Errorf("tinyif: verify: %s: %w", logitsPath, err)
	}
	m, err := model.Load(dir, model.WithBackend(backendName), model.WithOffline())
	if err != nil {
		return 0, 0, fmt.Errorf("tinyif: verify: %w", err)
	}
	defer m.Close()
	V := m.Config.VocabSize
	var num, den float64
	for k, ref := range refs {
		T := len(ref.IDs)
		ids, mask, pos := make([]int32, T), make([]int32, T), make([]int32, T)
		for j, id := range ref.IDs {
			ids[j], mask[j], pos[j] = int32(id), 1, int32(j)
		}
		res, err := m.Forward(model.Batch{B: 1, T: T, IDs: ids, Mask: mask, Positions: pos}, model.ForwardOptions{Logits: model.LogitsAll})
		if err != nil {
			return 0, 0, fmt.Errorf("tinyif: verify: forward: %w", err)
		}
		if len(res.Logits) != T*V || len(ref.Logits) != T {
			return 0, 0, fmt.Errorf("tinyif: verify: sequence %d: %d runtime logits, %d trainer rows, want %d×%d", k, len(res.Logits), len(ref.Logits), T, V)
		}
		for j, row := range ref.Logits {
			if len(row) != V {
				return 0, 0, fmt.Errorf("tinyif: verify: sequence %d position %d: %d trainer logits, want %d", k, j, len(row), V)
			}
			for v, want := range row {
				d := float64(res.Logits[j*V+v] - want)
				maxAbs = max(maxAbs, math.Abs(d))
				num += d * d
				den += float64(want) * float64(want)
			}
		}
	}
	if den == 0 {
		return 0, 0, fmt.Errorf("tinyif: verify: %s holds no logits", logitsPath)
	}
	return maxAbs, math.Sqrt(num / den), nil
}
