package steerlib_test

import (
	"context"
	"fmt"
	"log"

	"github.com/gosteer/gosteer/steerlib"
	"github.com/gosteer/gosteer/steerlib/model"
)

// Example runs the whole method on the embedded tinyif model in six calls:
// load, pairs with and without an instruction, a direction per layer, the
// paper's clamp operator after block 2, steered generation for a request
// without the instruction, and IFEval's check. README.md shows this code.
func Example() {
	m, err := steerlib.Open("") // or a Hugging Face model folder, or "hf://org/name"
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	const id = "change_case:english_lowercase"
	ps, err := steerlib.Pairs(id, "Tell me about owls.", "Describe a harbor.", "Tell me about bread.")
	if err != nil {
		log.Fatal(err)
	}
	set, err := m.Directions(context.Background(), ps)
	if err != nil {
		log.Fatal(err)
	}
	op, err := set.Clamp(2)
	if err != nil {
		log.Fatal(err)
	}
	const prompt = "Tell me about foxes."
	out, err := m.Generate([]string{prompt}, steerlib.GenerateOptions{MaxNewTokens: 64, Steer: []model.SteerOp{op}})
	if err != nil {
		log.Fatal(err)
	}
	ok, err := steerlib.Follows(id, nil, prompt, out[0].Text)
	fmt.Printf("%s\nfollows: %v %v\n", out[0].Text, ok, err)
	// Output:
	// when you think about it, you can find foxes in river valleys, sunny plains and sunny plains. every year in may, a group of grandparents will get together to talk about foxes.
	// follows: true <nil>
}
