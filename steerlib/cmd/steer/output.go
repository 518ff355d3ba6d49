package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gosteer/gosteer/steerlib/internal/atomicfile"
)

// Every file a steer command writes goes through steerlib/internal/atomicfile:
// a temporary name in the output's folder, renamed to the final name only
// when complete (and, for vectors and GGUF exports, after its own import has
// read it back). checkOutput runs before any work so that a missing or
// read-only folder, or an output that is also an input, fails at once.

// checkOutput checks that the output flag's path can be written and names
// none of the inputs. An empty path or "-" (stdout) passes.
func checkOutput(flag, out string, inputs ...string) error {
	if out == "" || out == "-" {
		return nil
	}
	for _, in := range inputs {
		if in != "" && atomicfile.SameFile(in, out) {
			return fmt.Errorf("%s %s is also an input of this command: write to another file", flag, out)
		}
	}
	if err := atomicfile.CheckDir(out); err != nil {
		return fmt.Errorf("%s %s: %w", flag, out, err)
	}
	return nil
}

// atLeast checks an integer flag that sizes work: --batch, --workers,
// --per-query, --n, ... must be ≥ lo.
func atLeast(flag string, v, lo int) error {
	if v < lo {
		return fmt.Errorf("%s %d: want an integer ≥ %d", flag, v, lo)
	}
	return nil
}

// writeJSON writes v as one JSON line to path (atomically), or to stdout
// when path is "" or "-".
func writeJSON(stdout io.Writer, path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	return writeOutput(stdout, path, append(data, '\n'))
}

// writeIndentedJSON writes v as indented JSON to path (atomically).
func writeIndentedJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	return writeOutput(nil, path, append(data, '\n'))
}

// writeOutput writes data to path through a temporary file, or to stdout
// when path is "" or "-".
func writeOutput(stdout io.Writer, path string, data []byte) error {
	if path == "" || path == "-" {
		if stdout == nil {
			return errors.New("no output path")
		}
		_, err := stdout.Write(data)
		return err
	}
	return atomicfile.WriteBytes(path, data, nil)
}

// writeFileWith writes path through a temporary file filled by write.
func writeFileWith(path string, write func(w io.Writer) error) error {
	return atomicfile.Write(path, func(f *os.File) error { return write(f) }, nil)
}
