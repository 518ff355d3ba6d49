package guard

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRecover(t *testing.T) {
	cases := []struct {
		name  string
		panic any
		want  string
		is    error
	}{
		{"none", nil, "", nil},
		{"string", "boom", "step: boom", nil},
		{"error", io.ErrUnexpectedEOF, "step: unexpected EOF", io.ErrUnexpectedEOF},
		{"value", 42, "step: 42", nil},
	}
	for _, c := range cases {
		err := func() (err error) {
			defer Recover(&err, "step")
			if c.panic != nil {
				panic(c.panic)
			}
			return nil
		}()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want || (c.is != nil && !errors.Is(err, c.is)) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
	Stacks = true
	defer func() { Stacks = false }()
	err := func() (err error) {
		defer Recover(&err, "step")
		panic("deep")
	}()
	if err == nil || !strings.Contains(err.Error(), "goroutine") {
		t.Errorf("with Stacks: %v", err)
	}
}
