package main

import (
	"fmt"
	"io"
	"time"

	"github.com/gosteer/gosteer/steerlib/chat"
)

func init() {
	register(command{
		name:    "chat",
		summary: "render a JSON conversation with a tokenizer's chat template (stdin → stdout)",
		run:     runChat,
	})
}

func runChat(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("chat", "--tokenizer DIR [--add-generation-prompt] [--date YYYY-MM-DD] [--plain] < messages.json", stderr)
	dir := fs.String("tokenizer", "", "directory holding tokenizer_config.json (or chat_template.jinja)")
	addGen := fs.Bool("add-generation-prompt", false, "end with the header that starts the assistant's reply")
	dateStr := fs.String("date", "", "date strftime_now reports, YYYY-MM-DD (default: today)")
	plain := fs.Bool("plain", false, `use the plain base-model format ("Q: …\nA:") instead of a chat template`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" && !*plain {
		fmt.Fprintln(stderr, "steer chat: --tokenizer is required (or --plain)")
		fs.Usage()
		return errUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "steer chat: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	opts := chat.Options{AddGenerationPrompt: *addGen}
	if *dateStr != "" {
		d, err := time.Parse("2006-01-02", *dateStr)
		if err != nil {
			return fmt.Errorf("--date %q: want YYYY-MM-DD: %w", *dateStr, err)
		}
		opts.Date = d
	}
	var f chat.Formatter = chat.DefaultPlainFormat
	if !*plain {
		tpl, err := chat.Load(*dir)
		if err != nil {
			return fmt.Errorf("%w (use --plain for base models)", err)
		}
		f = tpl
	}
	var msgs []chat.Message
	if err := decodeStdinJSON(&msgs); err != nil {
		return fmt.Errorf("read stdin: want a JSON array of {role, content}: %w", err)
	}
	text, err := f.Render(msgs, opts)
	if err != nil {
		return err
	}
	return writeJSONLine(stdout, text)
}
