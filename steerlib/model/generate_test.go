package model

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func intsOf(v []int32) []int { return convertInts[int](v) }

// convertInts converts between integer slice types.
func convertInts[To, From int | int32](v []From) []To {
	out := make([]To, len(v))
	for i, x := range v {
		out[i] = To(x)
	}
	return out
}

// TestGenerateGreedyMatchesTransformers: 10 greedy KV-cached tokens equal
// the fixture's full-recompute greedy tokens, unsteered and steered.
func TestGenerateGreedyMatchesTransformers(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			m := loadFixture(t, name)
			ref := openReference(t, name)
			prompt, _ := ref.ints(t, "gen_prompt")
			u, _ := ref.floats(t, "steer_u")
			layer := ref.metaInt(t, "steer_layer")
			cases := []struct {
				want  string
				steer []SteerOp
			}{
				{"gen_plain", nil},
				{"gen_steer_add", []SteerOp{{Layer: layer, Kind: OpAdd, U: u, C: 8}}},
				{"gen_steer_clamp", []SteerOp{{Layer: layer, Kind: OpClamp, U: u, C: 3}}},
			}
			for _, c := range cases {
				want, _ := ref.ints(t, c.want)
				var streamed []int
				res, err := m.Generate([][]int{intsOf(prompt)}, GenerateOptions{MaxNewTokens: len(want), Greedy: true, Steer: c.steer,
					OnToken: func(row, step, id int) { streamed = append(streamed, id) }})
				if err != nil {
					t.Fatalf("%s: %v", c.want, err)
				}
				if !slices.Equal(res.Tokens[0], intsOf(want)) {
					t.Errorf("%s: got %v want %v", c.want, res.Tokens[0], intsOf(want))
				}
				if !slices.Equal(streamed, res.Tokens[0]) {
					t.Errorf("%s: streamed %v, returned %v", c.want, streamed, res.Tokens[0])
				}
			}
		})
	}
}

// TestGenerateBatchMatchesSingles: rows of different lengths, left-padded in
// one batch, generate what each prompt generates alone (several families:
// sliding windows, q/k norms, biases).
func TestGenerateBatchMatchesSingles(t *testing.T) {
	prompts := [][]int{{11, 12, 13, 14, 15, 16, 17, 18, 19}, {20, 21}, {30, 31, 32, 33, 34}}
	for _, name := range []string{"llama", "gemma2", "qwen3"} {
		t.Run(name, func(t *testing.T) {
			m := loadFixture(t, name)
			u := make([]float32, m.Config.HiddenSize)
			u[5] = 1
			steer := []SteerOp{{Layer: 1, Kind: OpClamp, U: u, C: 2}}
			batch, err := m.Generate(prompts, GenerateOptions{MaxNewTokens: 8, Greedy: true, Steer: steer})
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range prompts {
				one, err := m.Generate([][]int{p}, GenerateOptions{MaxNewTokens: 8, Greedy: true, Steer: steer})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(one.Tokens[0], batch.Tokens[i]) {
					t.Errorf("row %d: batch %v, alone %v", i, batch.Tokens[i], one.Tokens[0])
				}
			}
		})
	}
}

// TestGenerateMatchesForwardArgmax: each greedy token equals the argmax of a
// full forward over prompt+generated tokens (cache vs recompute), with a
// GeneratedOnly op that must not act during the prompt.
func TestGenerateMatchesForwardArgmax(t *testing.T) {
	m := loadFixture(t, "gemma3")
	V := m.Config.VocabSize
	u := make([]float32, m.Config.HiddenSize)
	u[2], u[9] = 0.6, -0.8
	prompt := []int{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}
	steer := []SteerOp{{Layer: 2, Kind: OpAdd, U: u, C: 6, Scope: SteerGenerated}}
	res, err := m.Generate([][]int{prompt}, GenerateOptions{MaxNewTokens: 6, Steer: steer})
	if err != nil {
		t.Fatal(err)
	}
	// The first token comes from the unsteered prompt pass.
	seq := append([]int(nil), prompt...)
	b, _ := LeftPad([][]int{seq}, 0)
	fw, err := m.Forward(b, ForwardOptions{Logits: LogitsLast})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Tokens[0][0], argmax(fw.Logits[:V]); got != want {
		t.Fatalf("first token %d, forward argmax %d", got, want)
	}
	// Without the op, generation differs (the op does act on generated tokens).
	plain, err := m.Generate([][]int{prompt}, GenerateOptions{MaxNewTokens: 6})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(plain.Tokens[0], res.Tokens[0]) {
		t.Errorf("SteerGenerated op changed nothing: %v", res.Tokens[0])
	}
	if plain.Tokens[0][0] != res.Tokens[0][0] {
		t.Errorf("SteerGenerated op changed the prompt's token")
	}
	// Unsteered tokens match a full recompute at every step.
	for i := range plain.Tokens[0] {
		b, _ := LeftPad([][]int{append(append([]int(nil), prompt...), plain.Tokens[0][:i]...)}, 0)
		fw, err := m.Forward(b, ForwardOptions{Logits: LogitsLast})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := plain.Tokens[0][i], argmax(fw.Logits[:V]); got != want {
			t.Errorf("step %d: cached %d, recomputed %d", i, got, want)
		}
	}
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func TestGenerateSamplingAndStops(t *testing.T) {
	m := loadFixture(t, "llama")
	prompt := [][]int{{7, 8, 9, 10}, {40, 41}}
	greedy, err := m.Generate(prompt, GenerateOptions{MaxNewTokens: 6, Greedy: true})
	if err != nil {
		t.Fatal(err)
	}
	topk1, err := m.Generate(prompt, GenerateOptions{MaxNewTokens: 6, Temperature: 1.5, TopK: 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(greedy.Tokens, topk1.Tokens) {
		t.Errorf("top-k 1 sampling %v != greedy %v", topk1.Tokens, greedy.Tokens)
	}
	s1, err := m.Generate(prompt, GenerateOptions{MaxNewTokens: 12, Temperature: 5, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := m.Generate(prompt, GenerateOptions{MaxNewTokens: 12, Temperature: 5, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	s3, err := m.Generate(prompt, GenerateOptions{MaxNewTokens: 12, Temperature: 5, Seed: 43})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s1.Tokens, s2.Tokens) {
		t.Errorf("same seed, different samples: %v vs %v", s1.Tokens, s2.Tokens)
	}
	if reflect.DeepEqual(s1.Tokens, s3.Tokens) || reflect.DeepEqual(s1.Tokens, greedy.Tokens) {
		t.Errorf("temperature 5 samples do not depend on the seed: %v", s1.Tokens)
	}

	// Stop at EOS: declare the third greedy token of row 0 an EOS id.
	eos := greedy.Tokens[0][2]
	stopped, err := m.Generate(prompt, GenerateOptions{MaxNewTokens: 6, Greedy: true, StopAtEOS: true, EOS: []int{eos}})
	if err != nil {
		t.Fatal(err)
	}
	want0 := greedy.Tokens[0][:slices.Index(greedy.Tokens[0], eos)+1]
	if !slices.Equal(stopped.Tokens[0], want0) || stopped.Reasons[0] != StopEOS {
		t.Errorf("row 0 stopped %v (%s), want %v (eos)", stopped.Tokens[0], stopped.Reasons[0], want0)
	}
	if !slices.Contains(greedy.Tokens[1], eos) && (len(stopped.Tokens[1]) != 6 || stopped.Reasons[1] != StopLength) {
		t.Errorf("row 1 %v (%s), want 6 tokens (length)", stopped.Tokens[1], stopped.Reasons[1])
	}

	// Stop strings through a caller-provided decoder (ids as letters).
	decode := func(ids []int) (string, error) {
		var sb strings.Builder
		for _, id := range ids {
			sb.WriteByte(byte('a' + id%26))
		}
		return sb.String(), nil
	}
	text, _ := decode(greedy.Tokens[1][:4])
	stop := text[2:4]
	st, err := m.Generate(prompt[1:], GenerateOptions{MaxNewTokens: 6, Greedy: true, StopStrings: []string{stop}, Decode: decode})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := decode(st.Tokens[0])
	if !strings.HasSuffix(got, stop) || st.Reasons[0] != StopString || len(st.Tokens[0]) > 4 {
		t.Errorf("stop string %q: got %q (%s)", stop, got, st.Reasons[0])
	}
}

func TestGenerateErrors(t *testing.T) {
	m := loadFixture(t, "llama")
	long := make([]int, 250)
	for _, tc := range []struct {
		name    string
		prompts [][]int
		opts    GenerateOptions
		want    string
	}{
		{"empty batch", nil, GenerateOptions{MaxNewTokens: 2}, "empty batch"},
		{"empty row", [][]int{{1}, {}}, GenerateOptions{MaxNewTokens: 2}, "row 1 is empty"},
		{"zero tokens", [][]int{{1}}, GenerateOptions{}, "MaxNewTokens must be positive"},
		{"too long", [][]int{long}, GenerateOptions{MaxNewTokens: 10}, "exceeds the context of 256"},
		{"bad id", [][]int{{1, 384}}, GenerateOptions{MaxNewTokens: 2}, "outside vocabulary"},
		{"stop without decoder", [][]int{{1}}, GenerateOptions{MaxNewTokens: 2, StopStrings: []string{"x"}}, "need a Decode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Generate(tc.prompts, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestForwardErrors(t *testing.T) {
	m := loadFixture(t, "llama")
	long := Batch{B: 1, T: 300, IDs: make([]int32, 300)}
	for _, tc := range []struct {
		name  string
		batch Batch
		opts  ForwardOptions
		want  string
	}{
		{"empty batch", Batch{}, ForwardOptions{}, "empty batch"},
		{"prompt longer than context", long, ForwardOptions{}, "outside the context of 256"},
		{"ids size", Batch{B: 2, T: 3, IDs: []int32{1, 2}}, ForwardOptions{}, "batch has 2 ids, want 2×3"},
		{"mask values", Batch{B: 1, T: 2, IDs: []int32{1, 2}, Mask: []int32{1, 2}}, ForwardOptions{}, "attention mask value 2"},
		{"capture layer", Batch{B: 1, T: 1, IDs: []int32{1}}, ForwardOptions{Layers: []int{4}}, "capture layer 4 out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Forward(tc.batch, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want error containing %q", err, tc.want)
			}
		})
	}
}

// TestCompiledGraphs documents what compiles when: nearby shapes share a
// bucket, new steering values reuse graphs, and LastToken captures of any
// layer set share one graph.
func TestCompiledGraphs(t *testing.T) {
	m := loadFixture(t, "llama")
	D := m.Config.HiddenSize
	u := make([]float32, D)
	u[0] = 1
	gen := func(prompts [][]int, c float32) {
		t.Helper()
		if _, err := m.Generate(prompts, GenerateOptions{MaxNewTokens: 4, Steer: []SteerOp{{Layer: 2, Kind: OpAdd, U: u, C: c}}}); err != nil {
			t.Fatal(err)
		}
	}
	gen([][]int{{1, 2, 3}}, 1)
	n := m.NumCompiled()
	if n != 2 {
		t.Errorf("one generation compiled %d graphs, want 2 (prefill, decode)", n)
	}
	gen([][]int{{1, 2, 3, 4, 5}}, -3) // same buckets, new steering values
	if m.NumCompiled() != n {
		t.Errorf("new prompt length in the bucket or new steering values compiled: %d -> %d", n, m.NumCompiled())
	}
	gen([][]int{{1, 2, 3, 4, 5}, {6}}, 2) // batch bucket 2: a prefill and a decode graph
	if m.NumCompiled() != n+2 {
		t.Errorf("a new batch bucket compiled %d graphs, want 2", m.NumCompiled()-n)
	}
	n = m.NumCompiled()
	b, _ := LeftPad([][]int{{1, 2, 3}}, 0)
	for _, layers := range [][]int{{0}, {1, 3}, {0, 1, 2, 3}} {
		if _, err := m.Forward(b, ForwardOptions{Layers: layers, At: LastToken, Logits: LogitsNone}); err != nil {
			t.Fatal(err)
		}
	}
	if m.NumCompiled() != n+1 {
		t.Errorf("LastToken captures of three layer sets compiled %d graphs, want 1", m.NumCompiled()-n)
	}
}
