package paper

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gosteer/gosteer/plots"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// Transfer runs the instruct → base experiment on e (the instruction-tuned
// model) and base (its base model, prompted "Q: …\nA:"): directions and z̄
// are computed on the instruct model; the layer searches and the four
// conditions run on the base model with those directions (screen baseline:
// the base model's own no-steering share); directions computed on the base
// model from the same pairs give the cosine per layer.
func (e *Env) Transfer(ctx context.Context, base *Env, o Options) (*Report, error) {
	if base.Model.Config.HiddenSize != e.Model.Config.HiddenSize || base.Model.Config.NumLayers != e.Model.Config.NumLayers {
		return nil, fmt.Errorf("transfer: the base model (%d layers × %d) does not match the instruct model (%d × %d)",
			base.Model.Config.NumLayers, base.Model.Config.HiddenSize, e.Model.Config.NumLayers, e.Model.Config.HiddenSize)
	}
	o.fill(e.Model.Config.NumLayers)
	o.RelativeScreen = true
	ids, err := formatIDs(o.Data, o.Instructions)
	if err != nil {
		return nil, err
	}
	if err := e.formatVectors(ctx, ids, &o, ""); err != nil {
		return nil, err
	}
	if err := base.formatVectors(ctx, ids, &o, "base:"); err != nil {
		return nil, err
	}
	cos := map[string]map[int]float64{}
	for _, id := range ids {
		if cos[id], err = vectors.CompareSets(e.Vectors[id], base.Vectors["base:"+id]); err != nil {
			return nil, fmt.Errorf("transfer %s: %w", id, err)
		}
	}
	// The instruct directions (already in the run folder) steer the base model.
	rep, err := base.formatRun(ctx, "transfer", ids, &o)
	if err != nil {
		return nil, err
	}
	ct, fig, err := cosineOutputs(ids, cos, e.Model.Config.NumLayers)
	if err != nil {
		return nil, err
	}
	rep.Experiment, rep.Title = "transfer", "Transfer instruct → base: four conditions on the base model (IFEval loose)"
	rep.Intro = "Data: " + o.Data.Name() + ". Directions and z̄ from the instruction-tuned model (" + e.Model.Dir + "), applied to the base model (" +
		base.Model.Dir + ") prompted \"Q: …\\nA:\" and stopped at \"Q:\"; layers searched again on the base model."
	rep.Tables = append(rep.Tables, ct)
	rep.Figures = append(rep.Figures, fig)
	return rep, nil
}

// CosineTable lists cos(û_instruct,l, û_base,l) per instruction and layer.
func CosineTable(ids []string, cos map[string]map[int]float64, L int) Table {
	t := Table{Title: "Cosine similarity of the instruct and base directions per layer", Header: []string{"instruction"}}
	for l := range L {
		t.Header = append(t.Header, "L"+strconv.Itoa(l))
	}
	for _, id := range ids {
		r := []string{id}
		for l := range L {
			r = append(r, f3(cos[id][l]))
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// cosineOutputs builds the cosine table and its per-layer figure.
func cosineOutputs(ids []string, cos map[string]map[int]float64, L int) (Table, Figure, error) {
	var series []plots.Series
	for _, id := range ids {
		s := plots.Series{Name: shortNames([]string{id})[0]}
		for l := range L {
			s.X, s.Y = append(s.X, float64(l)), append(s.Y, cos[id][l])
		}
		series = append(series, s)
	}
	p, err := plots.Lines("Cosine similarity of instruct and base directions", "layer", "cosine", series)
	if err != nil {
		return Table{}, Figure{}, err
	}
	p.Y.Min, p.Y.Max = -1, 1
	return CosineTable(ids, cos, L), Figure{Name: "cosine", Caption: "cos(û_instruct, û_base) per layer and instruction.", Plot: p}, nil
}
