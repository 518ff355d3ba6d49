package experiment

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// The four conditions of the paper's evaluation.
const (
	CondWithout      = "without"
	CondWithoutSteer = "without+steer"
	CondWith         = "with"
	CondWithSteer    = "with+steer"
)

// AllConditions lists the conditions in the paper's table order.
var AllConditions = []string{CondWithout, CondWithoutSteer, CondWith, CondWithSteer}

// ParseConditions parses a comma-separated list of conditions.
func ParseConditions(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		if !isCondition(c) {
			return nil, fmt.Errorf("condition %q: want %s", c, strings.Join(AllConditions, ", "))
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

func isCondition(c string) bool {
	for _, k := range AllConditions {
		if c == k {
			return true
		}
	}
	return false
}

// EvalUnits lists the work units of an evaluation, record by record in
// condition order: the "with" conditions use the prompt, the others the
// prompt without the instruction; "without+steer" is steered by plan and
// "with+steer" by planWith (nil: plan). A plan may be nil when no steered
// condition is asked for.
func EvalUnits(recs []Record, conds []string, plan, planWith Resolved) ([]Unit, error) {
	if planWith == nil {
		planWith = plan
	}
	var units []Unit
	for _, rec := range recs {
		for _, c := range conds {
			u := Unit{Key: rec.Key + "|" + c, Rec: rec, Condition: c, Prompt: rec.PromptWithout}
			if c == CondWith || c == CondWithSteer {
				u.Prompt = rec.Prompt
			}
			var p Resolved
			switch c {
			case CondWithoutSteer:
				p = plan
			case CondWithSteer:
				p = planWith
			}
			if c == CondWithoutSteer || c == CondWithSteer {
				if p == nil {
					return nil, fmt.Errorf("condition %s needs a plan (--plan; --plan-with for with+steer)", c)
				}
				var err error
				if u.Steering, u.Ops, err = p.For(rec); err != nil {
					return nil, err
				}
			}
			units = append(units, u)
		}
	}
	return units, nil
}

// RunOptions are the inputs and options every run shares.
type RunOptions struct {
	// Model is the model folder; ModelOptions are passed to model.Load.
	Model        string
	ModelOptions []model.Option
	// Data is the JSONL records file.
	Data string
	// PPLModel is the perplexity screen model folder ("" for none).
	PPLModel string
	// MaxNewTokens, BatchSize and Plain: see Runner.
	MaxNewTokens, BatchSize int
	Plain                   bool
	// Shard is this process's share of the units.
	Shard Shard
	// Progress receives progress (nil: none); Log receives messages (nil: none).
	Progress Progress
	Log      io.Writer
}

// start reads the records and loads the models.
func (o *RunOptions) start() ([]Record, *env, error) {
	recs, err := ReadRecords(o.Data)
	if err != nil {
		return nil, nil, err
	}
	e, err := openEnv(o.Model, o.ModelOptions, o.PPLModel, o.Plain)
	if err != nil {
		return nil, nil, err
	}
	return recs, e, nil
}

// runStats is what execute did.
type runStats struct {
	units, generated int
	done             map[string]Result
}

// execute runs this shard's share of all units into the results file at
// path, skipping the units already there.
func (o *RunOptions) execute(ctx context.Context, e *env, fp Fingerprint, all []Unit, path, what string) (runStats, error) {
	units := o.Shard.Select(all)
	w, err := OpenResults(path, fp.ID())
	if err != nil {
		return runStats{}, err
	}
	defer w.Close()
	logf(o.Log, "steer %s: run %s, shard %s: %d units, %d already in %s\n", what, fp.ID(), o.Shard, len(units), len(units)-pending(units, w.Done), path)
	n, err := e.runner(o.MaxNewTokens, o.BatchSize, o.Progress).Run(ctx, units, w)
	if err != nil {
		return runStats{}, err
	}
	return runStats{units: len(units), generated: n, done: w.Done}, nil
}

// EvalSpec configures RunEval: every input of an evaluation.
type EvalSpec struct {
	RunOptions
	// Plan steers "without+steer" and PlanWith (default Plan) "with+steer".
	Plan, PlanWith string
	// Conditions to run (default AllConditions).
	Conditions []string
	// Out is the results JSONL; tables go beside it (see TablePaths).
	Out string
}

// EvalReport is what RunEval did.
type EvalReport struct {
	Run       Fingerprint
	Units     int // units of this shard
	Generated int // units generated now (the rest were in the file)
	Table     *Table
	Results   []Result
}

// RunEval evaluates a data set under a plan in the requested conditions,
// appends results to spec.Out (resuming a previous run of the same
// fingerprint), and writes the summary table of the file beside it.
func RunEval(ctx context.Context, spec EvalSpec) (*EvalReport, error) {
	if len(spec.Conditions) == 0 {
		spec.Conditions = AllConditions
	}
	recs, env, err := spec.start()
	if err != nil {
		return nil, err
	}
	defer env.close()
	fp, err := evalFingerprint(spec, env)
	if err != nil {
		return nil, err
	}
	plan, planWith, err := resolvePlans(spec.Plan, spec.PlanWith, env.model.Config, spec.Log)
	if err != nil {
		return nil, err
	}
	units, err := EvalUnits(recs, spec.Conditions, plan, planWith)
	if err != nil {
		return nil, err
	}
	st, err := spec.execute(ctx, env, fp, units, spec.Out, "eval")
	if err != nil {
		return nil, err
	}
	rep := &EvalReport{Run: fp, Units: st.units, Generated: st.generated, Results: sortedResults(st.done)}
	rep.Table = Summarize(rep.Results)
	rep.Table.Run = fp.String()
	return rep, WriteTables(spec.Out, rep.Table)
}

// resolvePlans loads and checks the plans ("" for none).
// Without withPath, planPath steers both conditions. A plan chosen for the
// other setting is used with a warning on log.
func resolvePlans(planPath, withPath string, cfg *model.Config, log io.Writer) (plan, planWith Resolved, err error) {
	load := func(path, setting string) (Resolved, error) {
		if path == "" {
			return nil, nil
		}
		p, err := LoadPlan(path)
		if err != nil {
			return nil, err
		}
		if p.Setting != "" && p.Setting != setting {
			logf(log, "steer eval: WARNING: plan %s was chosen for the %q setting but steers %q prompts here\n", path, p.Setting, setting)
		}
		return p.Resolve(cfg)
	}
	if plan, err = load(planPath, CondWithout); err != nil {
		return nil, nil, err
	}
	withSetting := CondWith
	if withPath == "" {
		withPath, withSetting = planPath, CondWithout // the same plan, already warned about
	}
	if planWith, err = load(withPath, withSetting); err != nil {
		return nil, nil, err
	}
	return plan, planWith, nil
}

// evalFingerprint describes an evaluation run: model, data, plans, options.
func evalFingerprint(spec EvalSpec, e *env) (Fingerprint, error) {
	fp, err := e.fingerprint(spec.Data, spec.MaxNewTokens)
	if err != nil {
		return fp, err
	}
	var plans []string
	for _, p := range []string{spec.Plan, spec.PlanWith} {
		if p == "" {
			plans = append(plans, "-")
			continue
		}
		d, err := planDigest(p)
		if err != nil {
			return fp, err
		}
		plans = append(plans, d)
	}
	fp.Plan = strings.Join(plans, ",")
	return fp, nil // conditions are not part of it: a later run may add conditions to the same file
}

// planDigest hashes a plan's choices and the content of its vector files.
func planDigest(path string) (string, error) {
	p, err := LoadPlan(path)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, group := range []map[string]Choice{p.Instructions, p.Records} {
		keys := make([]string, 0, len(group))
		for k := range group {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c := group[k]
			fmt.Fprintf(&b, "%s|%d|%s|", k, c.Layer, c.Op)
			if c.Coef != nil {
				fmt.Fprintf(&b, "%g", *c.Coef)
			}
			if c.Vector != "" && c.Layer != vectors.NoLayer {
				d, err := FileDigest(p.vectorPath(c.Vector))
				if err != nil {
					return "", err
				}
				b.WriteString("|" + d)
			}
			b.WriteString(";")
		}
		b.WriteString("#")
	}
	return Fingerprint{Plan: b.String()}.ID(), nil
}

// pending counts the units not in done.
func pending(units []Unit, done map[string]Result) int {
	n := 0
	for _, u := range units {
		if _, ok := done[u.Key]; !ok {
			n++
		}
	}
	return n
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}
