package vectors_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/gosteer/gosteer/steerlib/ifeval"
	"github.com/gosteer/gosteer/steerlib/model"
	"github.com/gosteer/gosteer/steerlib/pairs"
	"github.com/gosteer/gosteer/steerlib/tinyif"
	"github.com/gosteer/gosteer/steerlib/tokenizer"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// Example walks the whole method on the embedded tinyif model: pairs with and
// without an instruction, a direction per layer, generation steered with the
// paper's clamp operator, and an IFEval check. README.md shows this code.
func Example() {
	dir, err := tinyif.EmbeddedModelDir() // or any Hugging Face model folder / "hf://org/name"
	if err != nil {
		log.Fatal(err)
	}
	m, err := model.Load(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	enc, err := vectors.LoadEncoder(dir, false, vectors.DefaultDate) // chat template + tokenizer
	if err != nil {
		log.Fatal(err)
	}

	// 1. Pairs: the same requests with and without "answer in lowercase".
	const id = "change_case:english_lowercase"
	ps, err := pairs.Build([]string{"Tell me about owls.", "Describe a harbor.", "Tell me about bread."},
		pairs.BuildOptions{IDs: []string{id}, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}

	// 2. Directions: mean difference of last-token residuals, every layer.
	set, _, err := vectors.Compute(context.Background(), m, enc, ps,
		vectors.ComputeOptions{InstructionID: id, Progress: vectors.AutoProgress(os.Stderr)})
	if err != nil {
		log.Fatal(err)
	}

	// 3. Steer: clamp the projection onto u to the mean z̄ after block 2.
	op, err := set.Clamp(2)
	if err != nil {
		log.Fatal(err)
	}
	prompt, err := enc("Tell me about foxes.")
	if err != nil {
		log.Fatal(err)
	}
	out, err := m.Generate([][]int{prompt}, model.GenerateOptions{
		MaxNewTokens: 64, Greedy: true, StopAtEOS: true, Steer: []model.SteerOp{op}})
	if err != nil {
		log.Fatal(err)
	}

	// 4. Score with IFEval's loose check.
	tok, err := tokenizer.Load(dir)
	if err != nil {
		log.Fatal(err)
	}
	text, err := tok.Decode(out.Tokens[0], true)
	if err != nil {
		log.Fatal(err)
	}
	ok, err := ifeval.CheckLoose(id, nil, "Tell me about foxes.", text)
	fmt.Println(text, ok, err)
}
