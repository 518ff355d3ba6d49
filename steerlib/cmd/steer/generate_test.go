package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gosteer/gosteer/steerlib/safetensors"
)

// TestGenerateCLI: 10 greedy tokens equal gen_plain, and with --steer
// gen_steer_add (c=8) and gen_steer_clamp (z̄=3), on every fixture.
func TestGenerateCLI(t *testing.T) {
	for _, name := range runtimeFixtures {
		t.Run(name, func(t *testing.T) {
			ref := fixtureRef(t, name)
			dir := t.TempDir()
			prompt, shape := refInts(t, ref, "gen_prompt")
			in := filepath.Join(dir, "in.safetensors")
			if err := safetensors.Write(in, []safetensors.Tensor{safetensors.I32("input_ids", shape, prompt)}, nil); err != nil {
				t.Fatal(err)
			}
			vec, layer := steerVectorFile(t, ref)
			for _, c := range []struct {
				ref   string
				extra []string
			}{
				{"gen_plain", nil},
				{"gen_steer_add", []string{"--steer", fmt.Sprintf("%s@%d:add=8", vec, layer)}},
				{"gen_steer_clamp", []string{"--steer", fmt.Sprintf("%s@%d:clamp=3", vec, layer)}},
			} {
				out := filepath.Join(dir, c.ref+".json")
				args := append([]string{"generate", "--model", runtimeFixture(name), "--input", in, "--max-new-tokens", "10", "--greedy", "--out", out}, c.extra...)
				if code, _, stderr := runSteer(args...); code != 0 {
					t.Fatalf("%s: exit %d: %s", c.ref, code, stderr)
				}
				data, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				var got struct {
					IDs [][]int `json:"ids"`
				}
				if err := json.Unmarshal(data, &got); err != nil {
					t.Fatalf("%s: %v", c.ref, err)
				}
				want, _ := refInts(t, ref, c.ref)
				wantInts := make([]int, len(want))
				for i, v := range want {
					wantInts[i] = int(v)
				}
				if len(got.IDs) != 1 || !reflect.DeepEqual(got.IDs[0], wantInts) {
					t.Errorf("%s: got %v want %v", c.ref, got.IDs, wantInts)
				}
			}
		})
	}
}
