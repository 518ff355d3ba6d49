package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestDemoCommand runs `steer demo` on one instruction type and checks that
// the last output line is the summary JSON object.
func TestDemoCommand(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"demo", "--instructions", "startend:quotation", "--per-topic", "1", "--quiet"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	last := lines[len(lines)-1]
	var sum struct {
		Instructions map[string]struct {
			With    *float64 `json:"with_instruction"`
			Without *float64 `json:"without"`
			Steered *float64 `json:"steered"`
			Layer   *int     `json:"layer"`
		} `json:"instructions"`
	}
	if err := json.Unmarshal([]byte(last), &sum); err != nil {
		t.Fatalf("last line %q is not the summary: %v", last, err)
	}
	e, ok := sum.Instructions["startend:quotation"]
	if !ok || len(sum.Instructions) != 1 || e.With == nil || e.Without == nil || e.Steered == nil || e.Layer == nil {
		t.Fatalf("summary %s", last)
	}
	if !strings.Contains(out.String(), "instruction") || !strings.Contains(out.String(), "steered") {
		t.Errorf("no table in the output:\n%s", out.String())
	}
}

func TestDemoCommandBadInstruction(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"demo", "--instructions", "nope:nope", "--quiet"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "unknown instruction") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}
