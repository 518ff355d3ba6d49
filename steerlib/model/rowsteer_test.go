package model

import (
	"slices"
	"strings"
	"testing"
)

// rowSteerCase builds per-row ops of every shape for m: add, clamp, ablate,
// none, two ops on one row, an op acting on generated tokens only.
func rowSteerCase(m *Model) (prompts [][]int, rows [][]SteerOp) {
	D, L := m.Config.HiddenSize, m.Config.NumLayers
	dir := func(seed int) []float32 {
		u := make([]float32, D)
		u[seed%D], u[(seed*7+3)%D] = 0.6, -0.8
		return u
	}
	prompts = [][]int{{11, 12, 13, 14, 15, 16, 17, 18, 19}, {20, 21}, {30, 31, 32, 33, 34}, {5, 6, 7}, {40, 41, 42, 43}}
	rows = [][]SteerOp{
		{{Layer: 0, Kind: OpAdd, U: dir(1), C: 6}},
		{{Layer: L - 1, Kind: OpClamp, U: dir(2), C: -3}},
		nil,
		{{Layer: 1, Kind: OpAblate, U: dir(3)}, {Layer: 1, Kind: OpAdd, U: dir(4), C: 5}, {Layer: L / 2, Kind: OpClamp, U: dir(5), C: 2}},
		{{Layer: L / 2, Kind: OpAdd, U: dir(6), C: 9, Scope: SteerGenerated}},
	}
	return prompts, rows
}

// TestRowSteerMatchesAlone: in one batch where each row carries its own ops,
// every row's logits (rel 1e-5) and greedy tokens equal that row run alone
// with its ops as batch-wide Steer; a batch of another mix reuses the graphs.
func TestRowSteerMatchesAlone(t *testing.T) {
	for _, name := range []string{"llama", "gemma2", "gpt2"} {
		t.Run(name, func(t *testing.T) {
			m := loadFixture(t, name)
			prompts, rows := rowSteerCase(m)
			V := m.Config.VocabSize
			batch, err := LeftPad(prompts, 0)
			if err != nil {
				t.Fatal(err)
			}
			mixed, err := m.Forward(batch, ForwardOptions{RowSteer: rows})
			if err != nil {
				t.Fatal(err)
			}
			gen, err := m.Generate(prompts, GenerateOptions{MaxNewTokens: 8, Greedy: true, RowSteer: rows})
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range prompts {
				one, err := m.Forward(Batch{B: 1, T: len(p), IDs: convertInts[int32](p)}, ForwardOptions{Steer: rows[i]})
				if err != nil {
					t.Fatal(err)
				}
				got := mixed.Logits[(i*batch.T+batch.T-len(p))*V : (i+1)*batch.T*V]
				if e := relErr(got, one.Logits, nil); e > 1e-5 {
					t.Errorf("row %d: logits rel err %.3g vs alone", i, e)
				}
				alone, err := m.Generate([][]int{p}, GenerateOptions{MaxNewTokens: 8, Greedy: true, Steer: rows[i]})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(gen.Tokens[i], alone.Tokens[0]) {
					t.Errorf("row %d: batch %v, alone %v", i, gen.Tokens[i], alone.Tokens[0])
				}
			}
			// Another mix of layers, kinds and rows without ops: no new graph.
			n := m.NumCompiled()
			slices.Reverse(rows)
			rows[0] = []SteerOp{{Layer: m.Config.NumLayers - 1, Kind: OpAblate, U: rows[4][0].U}}
			if _, err := m.Generate(prompts, GenerateOptions{MaxNewTokens: 8, Greedy: true, RowSteer: rows}); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Forward(batch, ForwardOptions{RowSteer: rows}); err != nil {
				t.Fatal(err)
			}
			if m.NumCompiled() != n {
				t.Errorf("another per-row mix compiled %d graphs, want 0", m.NumCompiled()-n)
			}
		})
	}
}

func TestRowSteerErrors(t *testing.T) {
	m := loadFixture(t, "llama")
	u := make([]float32, m.Config.HiddenSize)
	u[0] = 1
	op := SteerOp{Layer: 1, U: u, C: 1}
	for _, tc := range []struct {
		name string
		opts GenerateOptions
		want string
	}{
		{"row count", GenerateOptions{RowSteer: [][]SteerOp{{op}}}, "RowSteer has 1 rows, the batch has 2"},
		{"both", GenerateOptions{Steer: []SteerOp{op}, RowSteer: [][]SteerOp{{op}, nil}}, "not both"},
		{"bad row op", GenerateOptions{RowSteer: [][]SteerOp{nil, {{Layer: 9, U: u}}}}, "row 1: steer op 0 (add at layer 9): layer out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.MaxNewTokens = 2
			_, err := m.Generate([][]int{{1, 2}, {3}}, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want error containing %q", err, tc.want)
			}
			fo := ForwardOptions{Steer: tc.opts.Steer, RowSteer: tc.opts.RowSteer}
			b, _ := LeftPad([][]int{{1, 2}, {3}}, 0)
			if _, err := m.Forward(b, fo); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("forward: got %v, want error containing %q", err, tc.want)
			}
		})
	}
}
