package tinyif

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gmodel "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/gosteer/gosteer/steerlib/backend"
	"github.com/gosteer/gosteer/steerlib/internal/atomicfile"
	"github.com/gosteer/gosteer/steerlib/model"
)

// TrainOptions configures Train. The zero value of a field means its default
// (see DefaultTrainOptions).
type TrainOptions struct {
	OutDir        string  // model folder written at the end (HF layout)
	CheckpointDir string  // GoMLX checkpoints for resuming; default OutDir/checkpoints
	Steps         int     // total optimizer steps
	BatchSize     int     // sequences per step
	LearningRate  float64 // peak learning rate
	WarmupSteps   int     // linear warm-up, then cosine decay to 10%
	WeightDecay   float64 // AdamW decoupled weight decay
	Seed          uint64  // seeds corpus, tokenizer corpus, weights and batches
	Arch          Arch
	Merges        int // BPE merges
	MaxLen        int // longest training sequence in tokens
	SaveEvery     int // checkpoint every this many steps
	// StopAfter, when > 0, stops this invocation after that many steps
	// (checkpointed), so a long training can be done in several sittings;
	// the model folder is written only when all Steps are done.
	StopAfter int
	Backend   string // GoMLX backend config ("" = $GOMLX_BACKEND or "go")
	Progress  io.Writer
	// Command is recorded in training.json next to the model.
	Command string
}

// DefaultTrainOptions returns the settings the embedded model was trained with.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{
		Steps:        1200,
		BatchSize:    32,
		LearningRate: 3e-3,
		WarmupSteps:  60,
		WeightDecay:  0.01,
		Seed:         1,
		Arch:         DefaultArch,
		Merges:       1000,
		MaxLen:       128,
		SaveEvery:    100,
	}
}

func (o *TrainOptions) fill() {
	d := DefaultTrainOptions()
	orDefault(&o.Steps, d.Steps)
	orDefault(&o.BatchSize, d.BatchSize)
	orDefault(&o.LearningRate, d.LearningRate)
	orDefault(&o.WarmupSteps, min(d.WarmupSteps, max(1, o.Steps/10)))
	orDefault(&o.WeightDecay, d.WeightDecay)
	orDefault(&o.Seed, d.Seed)
	orDefault(&o.Arch, d.Arch)
	orDefault(&o.Merges, d.Merges)
	orDefault(&o.MaxLen, d.MaxLen)
	orDefault(&o.SaveEvery, d.SaveEvery)
	orDefault(&o.CheckpointDir, filepath.Join(o.OutDir, "checkpoints"))
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// orDefault sets *v to d when *v is the zero value.
func orDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// LearningRateAt returns the learning rate of step (0-based): linear warm-up
// to peak, then cosine decay to 10% of peak at the last step.
func LearningRateAt(step, steps, warmup int, peak float64) float64 {
	if step < warmup {
		return peak * float64(step+1) / float64(warmup)
	}
	frac := float64(step-warmup) / float64(max(1, steps-warmup))
	return peak * (0.1 + 0.9*0.5*(1+math.Cos(math.Pi*frac)))
}

// TrainResult summarizes a finished training run.
type TrainResult struct {
	Steps     int             `json:"steps"`
	FinalLoss float64         `json:"final_loss"`    // mean loss over the last 20 steps
	Seconds   float64         `json:"seconds"`       // wall time of this invocation
	TotalSecs float64         `json:"total_seconds"` // training wall time of all invocations (loss.csv)
	Params    int             `json:"params"`
	Backend   string          `json:"backend"`
	Command   string          `json:"command"`
	Options   RecordedOptions `json:"options"`
	Tokens    int             `json:"tokens_per_step_max"`
	ResumedAt int             `json:"resumed_at_step"`
	// Done is the number of steps completed so far (< Steps when StopAfter
	// ended this invocation early).
	Done       int    `json:"-"`
	FinishedAt string `json:"finished_at"`
}

// RecordedOptions is the subset of TrainOptions recorded in training.json.
type RecordedOptions struct {
	Steps        int     `json:"steps"`
	BatchSize    int     `json:"batch_size"`
	LearningRate float64 `json:"learning_rate"`
	WarmupSteps  int     `json:"warmup_steps"`
	WeightDecay  float64 `json:"weight_decay"`
	Seed         uint64  `json:"seed"`
	Arch         Arch    `json:"arch"`
	Merges       int     `json:"merges"`
	MaxLen       int     `json:"max_len"`
}

// TrainBatch is one padded training batch (right padding), the input of one
// optimizer step (unlike model.Batch, the input of a forward pass).
type TrainBatch struct {
	IDs     [][]int32   // [B][T] inputs
	Mask    [][]int32   // 1 for real tokens
	Targets [][]int32   // next token
	Weights [][]float32 // 1 where the target is part of the answer (incl. <|im_end|>)
}

// EncodeExample returns the token ids of a chat-formatted example and the
// number of prompt tokens (the answer starts there).
func EncodeExample(tok *BPE, ex Example) (ids []int, promptLen int, err error) {
	prompt, err := tok.Encode(RenderChat(ex.Prompt))
	if err != nil {
		return nil, 0, err
	}
	full, err := tok.Encode(RenderChat(ex.Prompt) + ex.Answer + TokImEnd)
	if err != nil {
		return nil, 0, err
	}
	if len(full) < len(prompt) || !slices.Equal(full[:len(prompt)], prompt) {
		return nil, 0, fmt.Errorf("tinyif: prompt tokens are not a prefix of the example's tokens for %q", ex.Prompt)
	}
	return full, len(prompt), nil
}

// batchGroup is the number of consecutive steps whose sequences are drawn
// together and sorted by length, so each batch holds sequences of similar
// length and little compute is spent on padding.
const batchGroup = 4

// MakeBatch draws batch number step of a training run deterministically from
// seed: the same (seed, step) always gives the same batch. The sequences of
// batchGroup consecutive steps are drawn together, sorted by length and cut
// into batches; each batch is padded to a multiple of 16 tokens so few graph
// shapes are compiled.
func MakeBatch(tok *BPE, seed uint64, step, batchSize, maxLen int) (*TrainBatch, error) {
	group := step / batchGroup
	seqs, err := drawExamples(NewGenerator(seed*1_000_003+uint64(group)+17), tok, batchSize*batchGroup, maxLen)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(seqs, func(i, j int) bool { return len(seqs[i].IDs) < len(seqs[j].IDs) })
	k := step % batchGroup
	seqs = seqs[k*batchSize : (k+1)*batchSize]
	T := 0
	for _, s := range seqs {
		T = max(T, len(s.IDs)-1)
	}
	T = min(maxLen, (T+15)/16*16)
	pad := int32(tok.ID(TokEndOfText))
	b := &TrainBatch{}
	for _, s := range seqs {
		ids, mask, tgt := make([]int32, T), make([]int32, T), make([]int32, T)
		w := make([]float32, T)
		for i := range T {
			ids[i], tgt[i] = pad, pad
		}
		for i := 0; i+1 < len(s.IDs); i++ {
			ids[i], mask[i], tgt[i] = int32(s.IDs[i]), 1, int32(s.IDs[i+1])
			if i+1 >= s.Start {
				w[i] = 1
			}
		}
		b.IDs, b.Mask, b.Targets, b.Weights = append(b.IDs, ids), append(b.Mask, mask), append(b.Targets, tgt), append(b.Weights, w)
	}
	return b, nil
}

// BuildTokenizer trains the tinyif tokenizer deterministically from seed.
func BuildTokenizer(seed uint64, merges int) (*BPE, error) {
	c, err := Corpus(seed+1_000, 8000)
	if err != nil {
		return nil, err
	}
	var texts []string
	for _, e := range c {
		texts = append(texts, e.Prompt, e.Answer)
	}
	return TrainCasedBPE(texts, merges)
}

// maskedCrossEntropy is the mean next-token cross entropy over positions with
// weight 1. logits [B,T,V] float32, targets [B,T] int32, weights [B,T] float32.
func maskedCrossEntropy(logits, targets, weights *graph.Node) *graph.Node {
	V := logits.Shape().Dim(-1)
	logp := graph.LogSoftmax(logits, -1)
	onehot := graph.OneHot(targets, V, dtypes.Float32)
	nll := graph.Neg(graph.ReduceSum(graph.Mul(logp, onehot), -1)) // [B,T]
	total := graph.ReduceAllSum(graph.Mul(nll, weights))
	count := graph.Max(graph.ReduceAllSum(weights), graph.Scalar(logits.Graph(), dtypes.Float32, 1))
	return graph.Div(total, count)
}

var rsqrtOnce sync.Once

// registerRsqrtGradient gives GoMLX's Rsqrt (used by RMSNorm in
// steerlib/model) a gradient, which GoMLX v0.28.0 lacks:
// d(x^-½)/dx = -½·x^-3/2 = -½·y³ for y = x^-½.
func registerRsqrtGradient() {
	rsqrtOnce.Do(func() {
		if _, ok := graph.VJPRegistration[graph.NodeTypeRsqrt]; ok {
			return
		}
		graph.VJPRegistration[graph.NodeTypeRsqrt] = func(node *graph.Node, v []*graph.Node, _ shapes.Shape) []*graph.Node {
			y3 := graph.Mul(node, graph.Square(node))
			return []*graph.Node{graph.Mul(v[0], graph.MulScalar(y3, -0.5))}
		}
	})
}

// trainBackend returns the backend config used for training: the pure-Go
// backend runs the ops of a graph one at a time ("ops_sequential"; each op is
// still parallel inside), because its parallel scheduler was seen to
// stop making progress (0 % CPU inside its parallel executor) during
// training, twice, on the 2-core machine (see model/README.md).
func trainBackend(name string) string {
	if backend.Resolve(name) == "go" {
		return "go:ops_sequential"
	}
	return name
}

// varName turns a canonical weight name into a variable name.
func varName(canonical string) string { return strings.ReplaceAll(canonical, ".", "_") }

// Train trains a tinyif model from scratch (or resumes from the checkpoints
// in opts.CheckpointDir) and writes the model folder to opts.OutDir. Its
// steps: validate the options, write the tokenizer and configs
// (prepareTrainFiles), build the training graph over the weight variables
// (newTrainer), run the optimizer steps with checkpoints (trainer.run), and
// write the weights and the training record (trainer.finish).
func Train(opts TrainOptions) (res *TrainResult, err error) {
	if opts.OutDir == "" {
		return nil, errors.New("tinyif: train: no output directory")
	}
	opts.fill()
	if err := opts.Arch.Validate(); err != nil {
		return nil, err
	}
	if opts.Steps <= 0 || opts.BatchSize <= 0 || opts.LearningRate <= 0 || opts.MaxLen < 32 {
		return nil, fmt.Errorf("tinyif: train: steps %d, batch %d, learning rate %g, max length %d must be positive (max length >= 32)",
			opts.Steps, opts.BatchSize, opts.LearningRate, opts.MaxLen)
	}
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("tinyif: train: %v", r)
		}
	}()
	registerRsqrtGradient()
	start := time.Now()
	files, err := prepareTrainFiles(opts)
	if err != nil {
		return nil, err
	}
	t, err := newTrainer(opts, files.cfg)
	if err != nil {
		return nil, err
	}
	res, err = t.run(files.tok, start)
	if err != nil || res.Done < opts.Steps {
		return res, err
	}
	return res, t.finish(files, res, start)
}

// trainFiles is what training writes besides the weights.
type trainFiles struct {
	tok              *BPE
	cfgJSON, genJSON []byte
	cfg              *model.Config
}

// prepareTrainFiles trains the tokenizer and writes it into opts.OutDir,
// and returns it with the model's config.
func prepareTrainFiles(opts TrainOptions) (*trainFiles, error) {
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("tinyif: train: %w", err)
	}
	fmt.Fprintf(opts.Progress, "tinyif: training tokenizer (%d merges)\n", opts.Merges)
	tok, err := BuildTokenizer(opts.Seed, opts.Merges)
	if err != nil {
		return nil, err
	}
	if err := tok.WriteFiles(opts.OutDir, opts.Arch.MaxPositions); err != nil {
		return nil, err
	}
	f := &trainFiles{tok: tok}
	if f.cfgJSON, err = opts.Arch.ConfigJSON(tok); err != nil {
		return nil, err
	}
	if f.genJSON, err = GenerationConfigJSON(tok); err != nil {
		return nil, err
	}
	if f.cfg, err = model.ParseConfig(f.cfgJSON); err != nil {
		return nil, fmt.Errorf("tinyif: own config.json: %w", err)
	}
	return f, nil
}

// trainer holds the weight variables, the checkpointer and the compiled
// training step.
type trainer struct {
	opts    TrainOptions
	ckpt    *checkpoint.Handler
	vars    map[string]*gmodel.Variable
	exec    *gmodel.Exec
	params  int
	done    int // steps done before this invocation
	backend string
}

// newTrainer creates (or restores from the checkpoints) the weight
// variables and builds the training step: forward, masked cross entropy,
// AdamW update.
func newTrainer(opts TrainOptions, cfg *model.Config) (*trainer, error) {
	beName := trainBackend(opts.Backend)
	be, err := backend.Shared(beName)
	if err != nil {
		return nil, err
	}
	store := gmodel.NewStore()
	ckpt, err := checkpoint.Build(store).Dir(opts.CheckpointDir).Keep(2).Done()
	if err != nil {
		return nil, fmt.Errorf("tinyif: checkpoints in %s: %w", opts.CheckpointDir, err)
	}
	t := &trainer{opts: opts, ckpt: ckpt, vars: map[string]*gmodel.Variable{}, backend: backend.Describe(beName, be)}
	scope := store.RootScope().In("tinyif")
	w0 := initWeights(cfg, opts.Seed)
	shapes := model.WeightShapes(cfg)
	for _, n := range weightNames(cfg) {
		t.vars[n] = scope.VariableWithValue(varName(n), tensors.FromFlatDataAndDimensions(w0[n], shapes[n]...))
		t.params += len(w0[n])
	}
	stepVar := store.RootScope().In("tinyif_state").VariableWithValue("done_steps", int64(0)).SetTrainable(false)
	t.done = int(stepVar.MustValue().Value().(int64))
	opt := optimizer.Adam().WeightDecay(opts.WeightDecay).Betas(0.9, 0.98).Epsilon(1e-8).Done()
	t.exec, err = gmodel.NewExec(be, store, func(s *gmodel.Scope, ids, mask, targets, weights, lr *graph.Node) *graph.Node {
		g := ids.Graph()
		w := func(name string) *graph.Node {
			v, ok := t.vars[name]
			if !ok {
				panic(fmt.Sprintf("tinyif: forward asked for unknown weight %q", name))
			}
			return v.NodeValue(g)
		}
		loss := maskedCrossEntropy(model.ForwardGraph(cfg, w, ids, nil, mask, nil), targets, weights)
		optimizer.LearningRateVar(s, dtypes.Float32, opts.LearningRate).SetNodeValue(lr)
		opt.UpdateGraph(s, g, loss)
		stepVar.SetNodeValue(graph.AddScalar(stepVar.NodeValue(g), 1))
		return loss
	})
	if err != nil {
		return nil, fmt.Errorf("tinyif: build training step: %w", err)
	}
	t.exec.SetMaxCache(8)
	return t, nil
}

// run does the optimizer steps from where the checkpoints left off up to
// opts.Steps (or opts.StopAfter more), checkpointing and writing loss.csv
// every opts.SaveEvery steps.
func (t *trainer) run(tok *BPE, start time.Time) (*TrainResult, error) {
	o := t.opts
	lossPath := filepath.Join(o.OutDir, "loss.csv")
	curve, err := readLossCSV(lossPath, t.done)
	if err != nil {
		return nil, err
	}
	offset := 0.0 // training seconds of earlier invocations
	if len(curve) > 0 {
		offset = curve[len(curve)-1].Elapsed
	}
	if t.done > 0 {
		fmt.Fprintf(o.Progress, "tinyif: resuming at step %d from %s\n", t.done, o.CheckpointDir)
	}
	fmt.Fprintf(o.Progress, "tinyif: %d parameters, %d steps of %d sequences, backend %s\n", t.params, o.Steps, o.BatchSize, t.backend)
	res := &TrainResult{Steps: o.Steps, Params: t.params, Backend: backend.Resolve(trainBackend(o.Backend)), Command: o.Command,
		ResumedAt: t.done, Done: t.done, Options: RecordedOptions{o.Steps, o.BatchSize, o.LearningRate, o.WarmupSteps,
			o.WeightDecay, o.Seed, o.Arch, o.Merges, o.MaxLen}}
	bar := newProgressBar(o.Progress, o.Steps, t.done)
	last := o.Steps
	if o.StopAfter > 0 {
		last = min(last, t.done+o.StopAfter)
	}
	for step := t.done; step < last; step++ {
		b, err := MakeBatch(tok, o.Seed, step, o.BatchSize, o.MaxLen)
		if err != nil {
			return nil, err
		}
		res.Tokens = max(res.Tokens, len(b.IDs)*len(b.IDs[0]))
		lr := LearningRateAt(step, o.Steps, o.WarmupSteps, o.LearningRate)
		out, err := t.exec.Exec(b.IDs, b.Mask, b.Targets, b.Weights, float32(lr))
		if err != nil {
			return nil, fmt.Errorf("tinyif: step %d: %w", step, err)
		}
		loss := float64(out[0].Value().(float32))
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return nil, fmt.Errorf("tinyif: step %d: loss is %v", step, loss)
		}
		curve = append(curve, lossPoint{step + 1, loss, lr, offset + time.Since(start).Seconds()})
		bar.update(step+1, loss)
		res.Done = step + 1
		if (step+1)%o.SaveEvery == 0 || step+1 == last {
			if err := t.ckpt.Save(); err != nil {
				return nil, fmt.Errorf("tinyif: save checkpoint: %w", err)
			}
			if err := writeLossCSV(lossPath, curve); err != nil {
				return nil, err
			}
		}
	}
	bar.done()
	res.Seconds = time.Since(start).Seconds()
	if res.Done < o.Steps {
		fmt.Fprintf(o.Progress, "tinyif: stopped after step %d of %d; run again to resume\n", res.Done, o.Steps)
	}
	res.FinalLoss, res.TotalSecs = finalLoss(curve)
	return res, nil
}

// finalLoss returns the mean loss of the last 20 steps of curve and the
// training seconds of all invocations.
func finalLoss(curve []lossPoint) (loss, seconds float64) {
	if len(curve) == 0 {
		return 0, 0
	}
	n := min(20, len(curve))
	for _, p := range curve[len(curve)-n:] {
		loss += p.Loss
	}
	return loss / float64(n), curve[len(curve)-1].Elapsed
}

// finish writes the trained weights (model.safetensors), the configs and
// training.json into opts.OutDir.
func (t *trainer) finish(f *trainFiles, res *TrainResult, start time.Time) error {
	weights := map[string][]float32{}
	for n, v := range t.vars {
		val, err := v.Value()
		if err != nil {
			return fmt.Errorf("tinyif: read weight %s: %w", n, err)
		}
		weights[n] = tensors.MustCopyFlatData[float32](val)
	}
	res.Seconds = time.Since(start).Seconds()
	res.FinishedAt = time.Now().UTC().Format(time.RFC3339)
	meta := map[string]string{"format": "pt", "tinyif_steps": strconv.Itoa(t.opts.Steps),
		"tinyif_final_loss": strconv.FormatFloat(res.FinalLoss, 'f', 4, 64)}
	if err := writeModelDir(t.opts.OutDir, f.cfgJSON, f.genJSON, f.cfg, weights, meta); err != nil {
		return err
	}
	info, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("tinyif: encode training.json: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(t.opts.OutDir, "training.json"), append(info, '\n'), nil); err != nil {
		return fmt.Errorf("tinyif: write training.json: %w", err)
	}
	return nil
}

type lossPoint struct {
	Step    int
	Loss    float64
	LR      float64
	Elapsed float64
}

// readLossCSV reads the loss curve of earlier invocations, keeping steps ≤ upTo.
func readLossCSV(path string, upTo int) ([]lossPoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) || upTo == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tinyif: read %s: %w", path, err)
	}
	var out []lossPoint
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ",")
		if len(f) != 4 || f[0] == "step" {
			continue
		}
		var p lossPoint
		var e1, e2, e3, e4 error
		p.Step, e1 = strconv.Atoi(f[0])
		p.Loss, e2 = strconv.ParseFloat(f[1], 64)
		p.LR, e3 = strconv.ParseFloat(f[2], 64)
		p.Elapsed, e4 = strconv.ParseFloat(f[3], 64)
		if err := errors.Join(e1, e2, e3, e4); err != nil {
			return nil, fmt.Errorf("tinyif: %s: bad line %q: %w", path, sc.Text(), err)
		}
		if p.Step <= upTo {
			out = append(out, p)
		}
	}
	return out, nil
}

// writeLossCSV writes the loss curve: step,loss,lr,elapsed_s.
func writeLossCSV(path string, curve []lossPoint) error {
	var b strings.Builder
	b.WriteString("step,loss,lr,elapsed_s\n")
	for _, p := range curve {
		fmt.Fprintf(&b, "%d,%.5f,%.6g,%.1f\n", p.Step, p.Loss, p.LR, p.Elapsed)
	}
	if err := atomicfile.WriteBytes(path, []byte(b.String()), nil); err != nil {
		return fmt.Errorf("tinyif: write %s: %w", path, err)
	}
	return nil
}

// progressBar prints one updating line: steps, loss, speed and ETA.
type progressBar struct {
	w           io.Writer
	total, from int
	start, last time.Time
	avg         float64
}

func newProgressBar(w io.Writer, total, from int) *progressBar {
	return &progressBar{w: w, total: total, from: from, start: time.Now()}
}

func (p *progressBar) update(step int, loss float64) {
	if p.avg == 0 {
		p.avg = loss
	}
	p.avg = 0.9*p.avg + 0.1*loss
	now := time.Now()
	if now.Sub(p.last) < time.Second && step != p.total {
		return
	}
	p.last = now
	const width = 30
	filled := width * step / p.total
	rate := float64(step-p.from) / now.Sub(p.start).Seconds()
	eta := time.Duration(float64(p.total-step)/rate) * time.Second
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d loss %.4f (avg %.4f) %.2f steps/s ETA %s   ",
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), step, p.total, loss, p.avg, rate, eta.Round(time.Second))
}

func (p *progressBar) done() { fmt.Fprintln(p.w) }
