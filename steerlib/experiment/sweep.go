package experiment

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// Layer-search defaults (the reference code's).
const (
	DefaultSweepN    = 8
	DefaultSweepSeed = 42
)

// DefaultCandidates returns the paper's candidate layers for a model of L
// blocks: vectors.NoLayer, then every second layer from ⌊L/5⌋.
func DefaultCandidates(numLayers int) []int {
	out := []int{vectors.NoLayer}
	for l := numLayers / 5; l < numLayers; l += 2 {
		out = append(out, l)
	}
	return out
}

// DefaultOp is the paper's operator for an instruction: add for length and
// word instructions, clamp for format, case, punctuation, start/end and
// language instructions.
func DefaultOp(id string) string {
	if strings.HasPrefix(id, "length_constraints:") || strings.HasPrefix(id, "keywords:") {
		return OpAdd
	}
	return OpClamp
}

// VectorFile is a vector set read for a sweep, with the plan id it steers.
type VectorFile struct {
	ID   string
	Path string
	Set  *vectors.Set
}

// LoadVectorFiles reads "FILE" or "ID=FILE" specs. The id defaults to the
// file's instruction id; a language vector needs its target language in the
// id (language:response_language_xx=FILE).
func LoadVectorFiles(specs []string) ([]VectorFile, error) {
	var out []VectorFile
	seen := map[string]string{}
	for _, sp := range specs {
		id, path, named := strings.Cut(sp, "=")
		if !named {
			path, id = sp, ""
		}
		set, err := vectors.Load(path)
		if err != nil {
			return nil, err
		}
		if id == "" {
			id = set.InstructionID
		}
		switch {
		case id == "":
			return nil, fmt.Errorf("vectors %s: the file names no instruction; write ID=%s", path, path)
		case id == "language:response_language":
			return nil, fmt.Errorf("vectors %s: a language vector needs its target language: language:response_language_xx=%s", path, path)
		case !KnownID(id):
			return nil, fmt.Errorf("vectors %s: unknown instruction id %q", path, id)
		case seen[id] != "":
			return nil, fmt.Errorf("vectors: %s and %s both steer %s", seen[id], path, id)
		}
		seen[id] = path
		out = append(out, VectorFile{ID: id, Path: path, Set: set})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// SweepSpec configures RunSweep. Data is the validation set.
type SweepSpec struct {
	RunOptions
	// Vectors are "FILE" or "ID=FILE" (see LoadVectorFiles).
	Vectors []string
	// Out is the plan JSON; Results the search's results JSONL (default:
	// Out without .json, plus ".sweep.jsonl").
	Out, Results string
	// WithInstruction searches for the "with" setting (prompts with the
	// instruction) instead of "without".
	WithInstruction bool
	// Layers are the candidate layers, vectors.NoLayer included if wanted (default
	// DefaultCandidates). Coefs are the add coefficients tried (default: the
	// layer's ‖v‖). Ops overrides DefaultOp per instruction id.
	Layers []int
	Coefs  []float64
	Ops    map[string]string
	// N validation records per instruction, sampled with Seed (defaults 8, 42).
	N    int
	Seed uint64
	// BaseModel sets the degenerate baseline to the no-steering candidate's
	// share (instead of 0).
	BaseModel bool
}

func (s *SweepSpec) fill(numLayers int) {
	if len(s.Layers) == 0 {
		s.Layers = DefaultCandidates(numLayers)
	}
	if s.N <= 0 {
		s.N = DefaultSweepN
	}
	if s.Seed == 0 {
		s.Seed = DefaultSweepSeed
	}
	if s.Results == "" {
		s.Results = strings.TrimSuffix(s.Out, ".json") + ".sweep.jsonl"
	}
}

// setting returns "with" or "without".
func (s *SweepSpec) setting() string {
	if s.WithInstruction {
		return CondWith
	}
	return CondWithout
}

// SweepReport is what RunSweep did. Plan is nil while units are missing
// (a shard: merge the shards' results, then rerun without a shard).
type SweepReport struct {
	Run       Fingerprint
	Units     int
	Generated int
	Plan      *Plan
	Results   []Result
}

// candidate is one steering tried for one instruction.
type candidate struct {
	layer int
	op    string
	coef  float64
}

func (c candidate) key() string {
	if c.layer == vectors.NoLayer {
		return "none"
	}
	return fmt.Sprintf("L%d:%s=%s", c.layer, c.op, strconv.FormatFloat(c.coef, 'g', 6, 64))
}

// sweepJob is the layer search of one instruction.
type sweepJob struct {
	vf    VectorFile
	op    string
	recs  []Record
	cands []candidate
}

// RunSweep runs the layer search: every candidate of every instruction on n
// sampled validation records, appended to the results file (resumable,
// shardable); when all units are present it scores the candidates and writes
// the plan.
func RunSweep(ctx context.Context, spec SweepSpec) (*SweepReport, error) {
	vfs, err := LoadVectorFiles(spec.Vectors)
	if err != nil {
		return nil, err
	}
	recs, env, err := spec.start()
	if err != nil {
		return nil, err
	}
	defer env.close()
	spec.fill(env.model.Config.NumLayers)
	jobs, err := sweepJobs(&spec, env.model.Config, vfs, recs)
	if err != nil {
		return nil, err
	}
	fp, err := sweepFingerprint(&spec, env, jobs)
	if err != nil {
		return nil, err
	}
	all, err := sweepUnits(&spec, jobs)
	if err != nil {
		return nil, err
	}
	st, err := spec.execute(ctx, env, fp, all, spec.Results, "sweep")
	if err != nil {
		return nil, err
	}
	rep := &SweepReport{Run: fp, Units: st.units, Generated: st.generated, Results: sortedResults(st.done)}
	if missing := pending(all, st.done); missing > 0 {
		logf(spec.Log, "steer sweep: %v from %s; merge every shard's results (steer merge) and rerun without a shard with --results on the merged file to write the plan\n", incomplete(missing, len(all)), spec.Results)
		return rep, nil
	}
	rep.Plan = choosePlan(&spec, env.model, jobs, st.done)
	if env.screen == nil {
		logf(spec.Log, "steer sweep: no --ppl-model: candidates were not screened for degenerate responses\n")
	}
	return rep, rep.Plan.Save(spec.Out)
}

// sweepJobs builds each instruction's candidates and samples its records.
func sweepJobs(spec *SweepSpec, cfg *model.Config, vfs []VectorFile, recs []Record) ([]sweepJob, error) {
	var jobs []sweepJob
	var errs []error
	for _, vf := range vfs {
		if vf.Set.Hidden != cfg.HiddenSize {
			errs = append(errs, fmt.Errorf("vectors %s: width %d but the model's hidden size is %d", vf.Path, vf.Set.Hidden, cfg.HiddenSize))
			continue
		}
		op := DefaultOp(vf.ID)
		if o, ok := spec.Ops[vf.ID]; ok {
			op = o
		}
		cands, err := candidates(vf.Set, op, spec.Layers, spec.Coefs, cfg.NumLayers)
		if err != nil {
			errs = append(errs, fmt.Errorf("vectors %s: %w", vf.Path, err))
			continue
		}
		sample := sampleRecords(recs, vf.ID, spec.N, spec.Seed)
		if len(sample) == 0 {
			errs = append(errs, fmt.Errorf("%s: no single-instruction record for it in %s", vf.ID, spec.Data))
			continue
		}
		jobs = append(jobs, sweepJob{vf: vf, op: op, recs: sample, cands: cands})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("sweep: %w", errors.Join(errs...))
	}
	return jobs, nil
}

// candidates expands layers (and add coefficients) into candidates.
func candidates(set *vectors.Set, op string, layers []int, coefs []float64, numLayers int) ([]candidate, error) {
	if op != OpAdd && op != OpClamp {
		return nil, fmt.Errorf("op %q: want %q or %q", op, OpClamp, OpAdd)
	}
	var out []candidate
	for _, l := range layers {
		if l == vectors.NoLayer {
			out = append(out, candidate{layer: vectors.NoLayer})
			continue
		}
		if l < 0 || l >= numLayers {
			return nil, fmt.Errorf("candidate layer %d out of range: the model has %d layers", l, numLayers)
		}
		lv, ok := set.Get(l)
		if !ok {
			return nil, fmt.Errorf("no direction for candidate layer %d", l)
		}
		switch {
		case op == OpClamp:
			out = append(out, candidate{layer: l, op: op, coef: lv.ZBar})
		case len(coefs) == 0:
			out = append(out, candidate{layer: l, op: op, coef: lv.Norm})
		default:
			for _, c := range coefs {
				out = append(out, candidate{layer: l, op: op, coef: c})
			}
		}
	}
	return out, nil
}

// sampleRecords draws n records steered by id alone, reproducibly for
// (seed, id), returned in file order.
func sampleRecords(recs []Record, id string, n int, seed uint64) []Record {
	var pool []Record
	for _, r := range recs {
		if r.SteerID() == id {
			pool = append(pool, r)
		}
	}
	if len(pool) <= n {
		return pool
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	idx := rand.New(rand.NewPCG(seed, h.Sum64())).Perm(len(pool))[:n]
	sort.Ints(idx)
	out := make([]Record, n)
	for i, k := range idx {
		out[i] = pool[k]
	}
	return out
}

// sweepUnits lists the units of all jobs: instruction, candidate, record.
func sweepUnits(spec *SweepSpec, jobs []sweepJob) ([]Unit, error) {
	set := spec.setting()
	var units []Unit
	for _, j := range jobs {
		for _, c := range j.cands {
			st, ops, err := candidateSteering(j, c)
			if err != nil {
				return nil, err
			}
			cond := set
			if c.layer != vectors.NoLayer {
				cond += "+steer"
			}
			for _, rec := range j.recs {
				prompt := rec.PromptWithout
				if spec.WithInstruction {
					prompt = rec.Prompt
				}
				units = append(units, Unit{Key: sweepKey(set, j.vf.ID, c, rec), Rec: rec, Condition: cond,
					Candidate: c.key(), Prompt: prompt, Steering: st, Ops: ops})
			}
		}
	}
	return units, nil
}

func sweepKey(setting, id string, c candidate, rec Record) string {
	return "sweep:" + setting + "|" + id + "|" + c.key() + "|" + rec.Key
}

// candidateSteering returns the steering record and operators of a candidate.
func candidateSteering(j sweepJob, c candidate) ([]Steering, []model.SteerOp, error) {
	if c.layer == vectors.NoLayer {
		return nil, nil, nil
	}
	coef := c.coef
	op, _, err := choiceOp(j.vf.Set, Choice{Layer: Layer(c.layer), Op: c.op, Coef: &coef})
	if err != nil {
		return nil, nil, fmt.Errorf("sweep %s: %w", j.vf.ID, err)
	}
	st := Steering{ID: j.vf.ID, Vector: j.vf.Path, Layer: Layer(c.layer), Op: c.op, Coef: c.coef}
	return []Steering{st}, []model.SteerOp{op}, nil
}

// sweepFingerprint covers model, data, vectors and the search options.
func sweepFingerprint(spec *SweepSpec, e *env, jobs []sweepJob) (Fingerprint, error) {
	fp, err := e.fingerprint(spec.Data, spec.MaxNewTokens)
	if err != nil {
		return fp, err
	}
	var vs []string
	for _, j := range jobs {
		d, err := FileDigest(j.vf.Path)
		if err != nil {
			return fp, err
		}
		vs = append(vs, j.vf.ID+"="+d[:16]+":"+j.op)
	}
	fp.Plan = strings.Join(vs, ",")
	fp.Options["sweep"] = fmt.Sprintf("setting=%s layers=%v coefs=%v n=%d seed=%d base=%t", spec.setting(), spec.Layers, spec.Coefs, spec.N, spec.Seed, spec.BaseModel)
	return fp, nil
}

// choosePlan scores every candidate from the results and picks each
// instruction's steering.
func choosePlan(spec *SweepSpec, m *model.Model, jobs []sweepJob, done map[string]Result) *Plan {
	p := &Plan{Setting: spec.setting(), Model: filepath.Base(m.Dir), Instructions: map[string]Choice{}, Candidates: map[string][]CandidateScore{}}
	for _, j := range jobs {
		scores := make([]CandidateScore, len(j.cands))
		for ci, c := range j.cands {
			var rs []Result
			for _, rec := range j.recs {
				rs = append(rs, done[sweepKey(spec.setting(), j.vf.ID, c, rec)])
			}
			scores[ci] = scoreCandidate(c, rs)
		}
		best := Choose(scores, spec.BaseModel)
		scores[best].Chosen = true
		c := j.cands[best]
		ch := Choice{Vector: j.vf.Path, Layer: Layer(c.layer), Op: j.op}
		if c.layer != vectors.NoLayer {
			coef := c.coef
			ch.Coef = &coef
		}
		p.Instructions[j.vf.ID] = ch
		p.Candidates[j.vf.ID] = scores
	}
	return p
}

// scoreCandidate returns a candidate's loose accuracy and degenerate share.
func scoreCandidate(c candidate, rs []Result) CandidateScore {
	s := CandidateScore{Layer: Layer(c.layer), Op: c.op, Coef: c.coef, N: len(rs)}
	acc, deg := 0, 0
	for _, r := range rs {
		acc += b2i(r.Loose)
		if r.Degenerate != nil && *r.Degenerate {
			deg++
		}
	}
	if len(rs) > 0 {
		s.Accuracy = float64(acc) / float64(len(rs))
		s.Degenerate = float64(deg) / float64(len(rs))
	}
	return s
}

// Choose fills each candidate's Score and returns the index of the best:
// Score is the accuracy, or 0 when the degenerate share exceeds the baseline
// (0; or, for base models, the share of the first vectors.NoLayer candidate). The
// highest score wins; ties go to the earliest candidate.
func Choose(scores []CandidateScore, baseModel bool) int {
	baseline := 0.0
	if baseModel {
		for _, s := range scores {
			if s.Layer == vectors.NoLayer {
				baseline = s.Degenerate
				break
			}
		}
	}
	best := 0
	for i := range scores {
		scores[i].Score = scores[i].Accuracy
		if scores[i].Degenerate > baseline+1e-12 {
			scores[i].Score = 0
		}
		if scores[i].Score > scores[best].Score {
			best = i
		}
	}
	return best
}
