package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

// TestDispatch covers the argument handling that needs no installation.
func TestDispatch(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr error  // nil, errUsage, flag.ErrHelp, or errOther
		wantOut string // in stdout+stderr
	}{
		{nil, errUsage, "Usage: go run ./kernel <command>"},
		{[]string{"help"}, nil, "Commands:"},
		{[]string{"bogus"}, errUsage, `unknown command "bogus"`},
		{[]string{"run"}, errUsage, "NOTEBOOK.ipynb..."},
		{[]string{"run", "-h"}, flag.ErrHelp, "-cell-timeout"},
		{[]string{"install", "extra"}, errUsage, "-skip-apt"},
		{[]string{"install", "-env", "NOEQUALS"}, errOther, ""},
		{[]string{"install", "-nosuchflag"}, errUsage, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), tc.args, &out, &errb)
			switch {
			case tc.wantErr == errOther:
				if err == nil || errors.Is(err, errUsage) {
					t.Errorf("err = %v, want a plain error", err)
				}
			case !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil):
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if all := out.String() + errb.String(); !strings.Contains(all, tc.wantOut) {
				t.Errorf("output lacks %q:\n%s", tc.wantOut, all)
			}
		})
	}
}

var errOther = errors.New("some other error")
