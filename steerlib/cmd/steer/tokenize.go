package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/gosteer/gosteer/steerlib/tokenizer"
)

// tokStdin is where tokenize and chat read their JSON input; tests replace it.
var tokStdin io.Reader = os.Stdin

func init() {
	register(command{
		name:    "tokenize",
		summary: "encode a JSON array of strings to token ids (stdin → stdout)",
		run:     runTokenize,
	})
}

func runTokenize(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tokenize", "--tokenizer DIR [--add-special-tokens] < strings.json", stderr)
	dir := fs.String("tokenizer", "", "directory holding tokenizer.json (and tokenizer_config.json)")
	addSpecial := fs.Bool("add-special-tokens", false, "add the post-processor's special tokens (e.g. BOS)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		fmt.Fprintln(stderr, "steer tokenize: --tokenizer is required")
		fs.Usage()
		return errUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "steer tokenize: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	tk, err := tokenizer.Load(*dir)
	if err != nil {
		return err
	}
	var texts []string
	if err := decodeStdinJSON(&texts); err != nil {
		return fmt.Errorf("read stdin: want a JSON array of strings: %w", err)
	}
	out := make([][]int, len(texts))
	for i, s := range texts {
		if out[i], err = tk.Encode(s, *addSpecial); err != nil {
			return fmt.Errorf("string %d: %w", i, err)
		}
	}
	return writeJSONLine(stdout, out)
}

// decodeStdinJSON reads one JSON value from tokStdin into v, rejecting
// trailing data.
func decodeStdinJSON(v any) error {
	data, err := io.ReadAll(tokStdin)
	if err != nil {
		return err
	}
	// encoding/json would silently turn invalid UTF-8 into U+FFFD.
	if err := checkUTF8(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// checkUTF8 names the first byte of b that is not valid UTF-8.
func checkUTF8(b []byte) error {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return fmt.Errorf("invalid UTF-8 (byte 0x%02x at offset %d)", b[i], i)
		}
		i += n
	}
	return nil
}

// writeJSONLine writes v as one line of JSON without HTML escaping (special
// tokens such as <|eot_id|> stay readable).
func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
