package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/gosteer/gosteer/plots"
	"github.com/gosteer/gosteer/steerlib/tinyif"
)

func init() {
	register(command{
		name:    "demo",
		summary: "the whole method on the embedded tiny model, offline: vectors, layer choice, steered IFEval",
		run:     runDemo,
	})
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "[flags]", stderr)
	modelDir := fs.String("model", "", "model folder (default: the embedded tinyif model)")
	be := fs.String("backend", "", "GoMLX backend (default $GOMLX_BACKEND or go)")
	ids := fs.String("instructions", "", "comma-separated IFEval ids to run (default: all ten)")
	perTopic := fs.Int("per-topic", 2, "held-out prompts per test topic")
	jsonOut := fs.String("json", "", "also write the full result (validation curves, projections) to this JSON file")
	plotOut := fs.String("plot", "", "also draw each type's last-token projections with and without the instruction to this PNG (.png) or SVG (.svg) file")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput("--json", *jsonOut); err != nil {
		return err
	}
	format, err := plotFormat(*plotOut)
	if err != nil {
		return err
	}
	if err := atLeast("--per-topic", *perTopic, 1); err != nil {
		return err
	}
	opts := tinyif.DemoOptions{ModelDir: *modelDir, Backend: *be, TestPerTopic: *perTopic, Progress: stderr}
	if *quiet {
		opts.Progress = nil
	}
	if *ids != "" {
		for _, id := range strings.Split(*ids, ",") {
			opts.IDs = append(opts.IDs, strings.TrimSpace(id))
		}
	}
	res, err := tinyif.RunDemo(context.Background(), opts)
	if err != nil {
		return err
	}
	res.WriteExamples(stdout)
	res.WriteTable(stdout)
	followed, lifted := res.Bar()
	fmt.Fprintf(stdout, "%d instruction types reach >= 0.90 with the instruction and <= 0.15 without; steering lifts %d types by >= 0.30 (%.0fs)\n",
		followed, lifted, res.Seconds)
	if *jsonOut != "" {
		if err := writeIndentedJSON(*jsonOut, res); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	if *plotOut != "" {
		if err := writeProjectionPlot(*plotOut, format, res); err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
	}
	line, err := res.SummaryJSON()
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	fmt.Fprintf(stdout, "%s\n", line)
	return nil
}

// plotFormat checks --plot: "" (none), a .png or a .svg file in a folder
// that exists.
func plotFormat(path string) (plots.Format, error) {
	if path == "" {
		return "", nil
	}
	if err := checkOutput("--plot", path); err != nil {
		return "", err
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		return plots.PNG, nil
	case ".svg":
		return plots.SVG, nil
	}
	return "", fmt.Errorf("--plot %s: the file name must end in .png or .svg", path)
}

// writeProjectionPlot draws, per instruction type, the projections onto its
// direction u (at the layer the demo reports, ProjLayer) of the held-out
// prompts' last tokens with and without the instruction, rescaled so that
// the mean without is 0 and the mean with is 1 (the types' raw scales differ
// by an order of magnitude); the panel title says whether steering lifted
// the type. Separated groups with no lift say that the direction is there
// but adding or clamping it does not make the model write the form.
func writeProjectionPlot(path string, format plots.Format, res *tinyif.DemoResult) error {
	var panels []plots.Panel
	for _, ir := range res.Instructions {
		with, without := rescale(ir.ProjWith, ir.ProjWithout)
		in, _ := tinyif.InstructionByID(ir.ID)
		verdict := "not lifted"
		if ir.Steered-ir.Without >= 0.30 {
			verdict = fmt.Sprintf("lifted %+.2f", ir.Steered-ir.Without)
		}
		panels = append(panels, plots.Panel{Title: fmt.Sprintf("%s, layer %d: %s", in.Short, ir.ProjLayer, verdict),
			Groups: []plots.Group{{Name: "without", Values: without}, {Name: "with", Values: with}}})
	}
	m, err := plots.ProjectionMultiples("projection onto u (0: mean without, 1: mean with)", 2, panels)
	if err != nil {
		return err
	}
	data, err := plots.Render(m, format, 0, 0)
	if err != nil {
		return err
	}
	return writeOutput(nil, path, data)
}

// rescale maps with and without by x → (x − mean(without)) / (mean(with) −
// mean(without)); when the means coincide it only centres them.
func rescale(with, without []float64) ([]float64, []float64) {
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(max(1, len(xs)))
	}
	m0, m1 := mean(without), mean(with)
	scale := m1 - m0
	if math.Abs(scale) < 1e-12 {
		scale = 1
	}
	f := func(xs []float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = (x - m0) / scale
		}
		return out
	}
	return f(with), f(without)
}
