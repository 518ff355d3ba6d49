package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/gosteer/gosteer/steerlib/version"
)

// Version is the gosteer release this binary was built from.
const Version = version.Version

func init() {
	register(command{
		name:    "version",
		summary: "print the gosteer version and the Go toolchain",
		run: func(args []string, stdout, stderr io.Writer) error {
			fs := newFlagSet("version", "", stderr)
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "gosteer %s (%s, %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	})
}
