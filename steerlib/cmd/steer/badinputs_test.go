package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gosteer/gosteer/steerlib/internal/testdirs"

	"github.com/gosteer/gosteer/steerlib/safetensors"
	"github.com/gosteer/gosteer/steerlib/vectors"
)

// badInputsDoc is the table TestBadInputs runs (and documents the messages).
const badInputsDoc = "../../../docs/bad-inputs.md"

// badRow is one row of docs/bad-inputs.md.
type badRow struct {
	num             int
	class, cmd, why string
	exit            int
	want            string
}

var (
	badRowRE = regexp.MustCompile("^\\| (\\d+) \\| ([^|]+) \\| `(.+)` \\| (.+) \\| (\\d) \\| `(.*)` \\|$")
	placeRE  = regexp.MustCompile(`\{[a-z0-9:-]+\}`)
)

// readBadRows parses the table rows of the doc; every line that starts with
// "| N |" must parse.
func readBadRows(t *testing.T) []badRow {
	t.Helper()
	b, err := os.ReadFile(badInputsDoc)
	if err != nil {
		t.Fatal(err)
	}
	var rows []badRow
	for i, line := range strings.Split(string(b), "\n") {
		if !regexp.MustCompile(`^\| \d+ \|`).MatchString(line) {
			continue
		}
		m := badRowRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s:%d: row does not parse: %s", badInputsDoc, i+1, line)
		}
		n, _ := strconv.Atoi(m[1])
		code, _ := strconv.Atoi(m[5])
		if n != len(rows)+1 {
			t.Fatalf("%s:%d: row %d, want %d", badInputsDoc, i+1, n, len(rows)+1)
		}
		rows = append(rows, badRow{num: n, class: strings.TrimSpace(m[2]), cmd: m[3], why: strings.TrimSpace(m[4]), exit: code, want: m[6]})
	}
	return rows
}

// pendingRows reads the doc's "Pending: row N" (or "rows N, M") line: rows whose fix
// has not landed (they are skipped, and reported).
func pendingRows(t *testing.T) map[int]bool {
	b, err := os.ReadFile(badInputsDoc)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]bool{}
	m := regexp.MustCompile(`(?m)^Pending: rows? ([0-9, ]+)\.`).FindSubmatch(b)
	if m == nil {
		return out
	}
	for _, f := range strings.Split(string(m[1]), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			t.Fatalf("%s: Pending line: %q", badInputsDoc, f)
		}
		out[n] = true
	}
	return out
}

// splitCommand splits a command line on spaces; double quotes group (""
// is an empty argument).
func splitCommand(s string) []string {
	var out []string
	var cur strings.Builder
	inQ, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQ, have = !inQ, true
		case r == ' ' && !inQ:
			if have {
				out = append(out, cur.String())
			}
			cur.Reset()
			have = false
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

// TestBadInputs runs every row of docs/bad-inputs.md: each command must exit
// with the row's status, print the row's message (one line on stderr for
// status 1, the first line for usage errors) without a stack trace, and
// leave nothing under {out}.
func TestBadInputs(t *testing.T) {
	rows := readBadRows(t)
	if len(rows) < 60 {
		t.Fatalf("%d rows in %s, want ≥ 60", len(rows), badInputsDoc)
	}
	pending := pendingRows(t)
	w := newBadWorld(t)
	used := map[string]bool{}
	got := map[int]string{}
	for _, r := range rows {
		t.Run(fmt.Sprintf("%02d_%s", r.num, strings.ReplaceAll(r.class, " ", "_")), func(t *testing.T) {
			for _, ph := range placeRE.FindAllString(r.cmd, -1) {
				used[ph] = true
			}
			if pending[r.num] {
				t.Skipf("row %d is listed as pending in %s (see the note there)", r.num, badInputsDoc)
			}
			if r.want == "?" {
				t.Errorf("row %d has no expected message", r.num)
			}
			out := filepath.Join(t.TempDir(), "out.file")
			var stdin string
			var args []string
			parts := splitCommand(r.cmd)
			if parts[0] != "steer" {
				t.Fatalf("row %d: command does not start with steer", r.num)
			}
			for i := 1; i < len(parts); i++ {
				p := parts[i]
				exp := placeRE.ReplaceAllStringFunc(p, func(ph string) string {
					used[ph] = true
					if ph == "{out}" {
						return out
					}
					v, err := w.expand(ph)
					if err != nil {
						t.Fatalf("row %d: %v", r.num, err)
					}
					return v
				})
				if p == "<" {
					continue
				}
				if i > 1 && parts[i-1] == "<" {
					stdin = exp
					continue
				}
				args = append(args, exp)
			}
			code, stdout, stderr := runWithStdin(t, args, stdin)
			stderr = w.normalize(stderr, out)
			first, _, _ := strings.Cut(strings.TrimSpace(stderr), "\n")
			if *updateBad {
				got[r.num] = first
			}
			switch {
			case code != r.exit:
				t.Errorf("row %d: exit %d, want %d\nstdout: %s\nstderr: %s", r.num, code, r.exit, stdout, stderr)
			case !strings.Contains(first, r.want):
				t.Errorf("row %d: message %q lacks %q", r.num, first, r.want)
			case r.exit == 1 && strings.Count(strings.TrimSpace(stderr), "\n") != 0:
				t.Errorf("row %d: %d lines on stderr, want one message:\n%s", r.num, strings.Count(stderr, "\n"), stderr)
			case strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, ".go:"):
				t.Errorf("row %d: stack trace on stderr:\n%s", r.num, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("row %d: %s written although the command failed", r.num, out)
			}
			ents, _ := os.ReadDir(filepath.Dir(out))
			for _, e := range ents {
				t.Errorf("row %d: %s left in the output folder", r.num, e.Name())
			}
		})
	}
	if *updateBad {
		rewriteBadDoc(t, got)
	}
	for name := range w.fixtures {
		if !used[name] {
			t.Errorf("fixture %s is used by no row of %s", name, badInputsDoc)
		}
	}
}

var updateBad = flag.Bool("update-bad", false, "rewrite the message column of docs/bad-inputs.md with the messages the commands print")

// rewriteBadDoc replaces the last column of each row with its message.
func rewriteBadDoc(t *testing.T, got map[int]string) {
	b, err := os.ReadFile(badInputsDoc)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, line := range lines {
		m := badRowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if msg, ok := got[n]; ok {
			lines[i] = strings.TrimSuffix(line, "`"+m[6]+"` |") + "`" + msg + "` |"
		}
	}
	if err := os.WriteFile(badInputsDoc, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// normalize replaces the test's temporary paths in s with the placeholders
// of the doc.
func (w *badWorld) normalize(s, out string) string {
	s = strings.ReplaceAll(s, out, "{out}")
	for _, ph := range []string{"{model}", "{dir}", "{ro}"} {
		if v, ok := w.built[ph]; ok {
			s = strings.ReplaceAll(s, v, ph)
		}
	}
	return strings.ReplaceAll(s, w.dir, "{w}")
}

// runWithStdin runs steer in-process with stdin from the file at path ("":
// no stdin).
func runWithStdin(t *testing.T, args []string, path string) (int, string, string) {
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		old := tokStdin
		tokStdin = f
		defer func() { tokStdin = old }()
	}
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// badWorld holds the inputs of the bad-input rows, built on first use.
type badWorld struct {
	t        *testing.T
	dir      string
	model    string
	fixtures map[string]func() (string, error)
	built    map[string]string
}

func (w *badWorld) expand(ph string) (string, error) {
	if v, ok := w.built[ph]; ok {
		return v, nil
	}
	mk, ok := w.fixtures[ph]
	if !ok {
		return "", fmt.Errorf("unknown placeholder %s", ph)
	}
	v, err := mk()
	if err != nil {
		return "", fmt.Errorf("fixture %s: %w", ph, err)
	}
	w.built[ph] = v
	return v, nil
}

// file writes a fixture file.
func (w *badWorld) file(name string, data []byte) (string, error) {
	p := filepath.Join(w.dir, name)
	return p, os.WriteFile(p, data, 0o644)
}

// lines writes a JSONL fixture.
func (w *badWorld) lines(name string, ls ...string) func() (string, error) {
	return func() (string, error) { return w.file(name, []byte(strings.Join(ls, "\n")+"\n")) }
}

// tensors writes a safetensors fixture.
func (w *badWorld) tensors(name string, md map[string]string, ts ...safetensors.Tensor) func() (string, error) {
	return func() (string, error) {
		b, err := safetensors.Encode(ts, md)
		if err != nil {
			return "", err
		}
		return w.file(name, b)
	}
}

// variant copies the model folder with config edits (a nil value deletes
// the key) and files replaced (nil data removes the file).
func (w *badWorld) variant(name string, cfg map[string]any, files map[string][]byte) func() (string, error) {
	return func() (string, error) {
		d := filepath.Join(w.dir, "m-"+name)
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", err
		}
		ents, err := os.ReadDir(w.model)
		if err != nil {
			return "", err
		}
		for _, e := range ents {
			if err := os.Symlink(filepath.Join(w.model, e.Name()), filepath.Join(d, e.Name())); err != nil {
				return "", err
			}
		}
		if cfg != nil {
			var c map[string]any
			b, err := os.ReadFile(filepath.Join(w.model, "config.json"))
			if err != nil {
				return "", err
			}
			if err := json.Unmarshal(b, &c); err != nil {
				return "", err
			}
			for k, v := range cfg {
				if v == nil {
					delete(c, k)
				} else {
					c[k] = v
				}
			}
			b, _ = json.Marshal(c)
			files = mergeFiles(files, "config.json", b)
		}
		for f, data := range files {
			os.Remove(filepath.Join(d, f))
			if data != nil {
				if err := os.WriteFile(filepath.Join(d, f), data, 0o644); err != nil {
					return "", err
				}
			}
		}
		return d, nil
	}
}

func mergeFiles(m map[string][]byte, name string, data []byte) map[string][]byte {
	out := map[string][]byte{name: data}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// weights returns the model's tensors with edit applied.
func (w *badWorld) weights(edit func(ts []safetensors.Tensor) []safetensors.Tensor) []byte {
	st, err := safetensors.Open(filepath.Join(w.model, "model.safetensors"))
	if err != nil {
		w.t.Fatal(err)
	}
	defer st.Close()
	var ts []safetensors.Tensor
	for _, n := range st.Names() {
		tt, _ := st.Tensor(n)
		tt.Data = append([]byte(nil), tt.Data...)
		ts = append(ts, tt)
	}
	b, err := safetensors.Encode(edit(ts), st.Metadata())
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// vecFile is a vector file with one direction at layer 2 (width, values).
func vecFile(width int, fill func(i int) float32) ([]safetensors.Tensor, map[string]string) {
	u := make([]float32, width)
	for i := range u {
		u[i] = fill(i)
	}
	s := &vectors.Set{Method: vectors.MethodMeanDiff, Hidden: width, NumLayers: 4, ChosenLayer: 2,
		Layers: []vectors.Direction{{Layer: 2, U: u, Norm: 1, ZBar: 1, MeanProjWithout: 0, Coef: math.NaN()}}}
	return []safetensors.Tensor{safetensors.F32("direction.2", []int{width}, u)}, s.Metadata()
}

func ids32(v ...int32) []int32 { return v }

func newBadWorld(t *testing.T) *badWorld {
	w := &badWorld{t: t, dir: t.TempDir(), model: tinyChatModel(t), built: map[string]string{}}
	unit := func(i int) float32 { return float32(1 / math.Sqrt(64)) }
	vt, vmd := vecFile(64, unit)
	wt, wmd := vecFile(32, func(int) float32 { return float32(1 / math.Sqrt(32)) })
	nt, nmd := vecFile(64, func(i int) float32 { return map[bool]float32{true: float32(math.NaN()), false: unit(i)}[i == 3] })
	zt, zmd := vecFile(64, func(int) float32 { return 0 })
	ot, omd := vecFile(64, func(i int) float32 { return map[bool]float32{true: 1}[i == 0] })
	in := safetensors.I32("input_ids", []int{1, 4}, ids32(1, 72, 105, 33))
	pairLine := func(id, with, without string) string {
		b, _ := json.Marshal(map[string]string{"instruction_id": id, "with": with, "without": without})
		return string(b)
	}
	ifl := func(resp any, id string, kw string) string {
		r, _ := json.Marshal(resp)
		return fmt.Sprintf(`{"prompt": "p", "response": %s, "instruction_id_list": [%q], "kwargs": [%s]}`, r, id, kw)
	}
	cfgNoHeadDim := func(m map[string]any) map[string]any { m["head_dim"] = nil; return m }
	w.fixtures = map[string]func() (string, error){
		"{model}":    func() (string, error) { return w.model, nil },
		"{dir}":      func() (string, error) { return t.TempDir(), nil },
		"{missing}":  func() (string, error) { return filepath.Join(w.dir, "no", "such", "folder"), nil },
		"{ro}":       func() (string, error) { return testdirs.ReadOnly(t), nil },
		"{bad-utf8}": func() (string, error) { return "\xff\xfe", nil },
		"{long}":     func() (string, error) { return strings.Repeat("a", 400), nil },

		"{m:truncated-weights}": func() (string, error) {
			b, err := os.ReadFile(filepath.Join(w.model, "model.safetensors"))
			if err != nil {
				return "", err
			}
			return w.variant("truncated-weights", nil, map[string][]byte{"model.safetensors": b[:len(b)/2]})()
		},
		"{m:missing-tensor}": func() (string, error) {
			return w.variant("missing-tensor", nil, map[string][]byte{"model.safetensors": w.weights(func(ts []safetensors.Tensor) []safetensors.Tensor {
				var out []safetensors.Tensor
				for _, x := range ts {
					if !strings.Contains(x.Name, "layers.1.mlp.down_proj") {
						out = append(out, x)
					}
				}
				return out
			})})()
		},
		"{m:nan-weights}": func() (string, error) {
			return w.variant("nan-weights", nil, map[string][]byte{"model.safetensors": w.weights(func(ts []safetensors.Tensor) []safetensors.Tensor {
				for _, x := range ts {
					if strings.Contains(x.Name, "layers.0.self_attn.q_proj") {
						binary.LittleEndian.PutUint32(x.Data[0:], math.Float32bits(float32(math.NaN())))
					}
				}
				return ts
			})})()
		},
		"{m:config-weights-mismatch}": w.variant("config-weights-mismatch", map[string]any{"intermediate_size": 100}, nil),
		"{m:no-config}":               w.variant("no-config", nil, map[string][]byte{"config.json": nil}),
		"{m:bad-json-config}":         w.variant("bad-json-config", nil, map[string][]byte{"config.json": []byte("{\"hidden_size\": 64,\n oops")}),
		"{m:no-hidden}":               w.variant("no-hidden", map[string]any{"hidden_size": nil}, nil),
		"{m:zero-hidden}":             w.variant("zero-hidden", map[string]any{"hidden_size": 0}, nil),
		"{m:neg-layers}":              w.variant("neg-layers", map[string]any{"num_hidden_layers": -1}, nil),
		"{m:zero-heads}":              w.variant("zero-heads", map[string]any{"num_attention_heads": 0}, nil),
		"{m:heads-not-dividing}":      w.variant("heads-not-dividing", cfgNoHeadDim(map[string]any{"num_attention_heads": 5, "num_key_value_heads": 5}), nil),
		"{m:kv-not-dividing}":         w.variant("kv-not-dividing", map[string]any{"num_key_value_heads": 3}, nil),
		"{m:zero-vocab}":              w.variant("zero-vocab", map[string]any{"vocab_size": 0}, nil),
		"{m:neg-intermediate}":        w.variant("neg-intermediate", map[string]any{"intermediate_size": -128}, nil),
		"{m:huge-vocab}":              w.variant("huge-vocab", map[string]any{"vocab_size": 1 << 31}, nil),
		"{m:huge-context}":            w.variant("huge-context", map[string]any{"max_position_embeddings": 1 << 31}, nil),
		"{m:neg-positions}":           w.variant("neg-positions", map[string]any{"max_position_embeddings": -5}, nil),
		"{m:unknown-arch}":            w.variant("unknown-arch", map[string]any{"model_type": "mamba", "architectures": []string{"MambaForCausalLM"}}, nil),
		"{m:unknown-rope}":            w.variant("unknown-rope", map[string]any{"rope_parameters": map[string]any{"rope_theta": 10000.0, "rope_type": "foo"}}, nil),
		"{m:neg-eps}":                 w.variant("neg-eps", map[string]any{"rms_norm_eps": -1}, nil),
		"{m:bad-tokenizer}":           w.variant("bad-tokenizer", nil, map[string][]byte{"tokenizer.json": []byte("{\"model\": ")}),
		"{m:unknown-tokenizer-model}": w.variant("unknown-tokenizer-model", nil, map[string][]byte{"tokenizer.json": []byte(`{"version": "1.0", "model": {"type": "Foo", "vocab": {}}}`)}),
		"{m:no-tokenizer}":            w.variant("no-tokenizer", nil, map[string][]byte{"tokenizer.json": nil}),
		"{m:template-raises}":         w.variant("template-raises", nil, map[string][]byte{"tokenizer_config.json": []byte(`{"chat_template": "{{ raise_exception('Conversation roles must alternate') }}"}`)}),
		"{m:template-syntax}":         w.variant("template-syntax", nil, map[string][]byte{"tokenizer_config.json": []byte(`{"chat_template": "{% for m in messages %}{{ m.content }}"}`)}),
		"{m:template-recursion}":      w.variant("template-recursion", nil, map[string][]byte{"tokenizer_config.json": []byte(`{"chat_template": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"}`)}),
		"{m:template-loop}":           w.variant("template-loop", nil, map[string][]byte{"tokenizer_config.json": []byte(`{"chat_template": "{% for i in range(100000000) %}xxxxxxxx{% endfor %}"}`)}),

		"{f:in}": w.tensors("in.safetensors", nil, in),
		"{f:in-truncated}": func() (string, error) {
			b, _ := safetensors.Encode([]safetensors.Tensor{in}, nil)
			return w.file("in-truncated.safetensors", b[:len(b)-5])
		},
		"{f:in-header-overflow}": func() (string, error) {
			b := binary.LittleEndian.AppendUint64(nil, 1<<60)
			return w.file("in-header-overflow.safetensors", append(b, "{}"...))
		},
		"{f:in-f32-ids}":       w.tensors("in-f32.safetensors", nil, safetensors.F32("input_ids", []int{1, 4}, []float32{1, 72, 105, 33})),
		"{f:in-1d}":            w.tensors("in-1d.safetensors", nil, safetensors.I32("input_ids", []int{4}, ids32(1, 72, 105, 33))),
		"{f:in-mask-shape}":    w.tensors("in-mask-shape.safetensors", nil, in, safetensors.I32("attention_mask", []int{1, 3}, ids32(1, 1, 1))),
		"{f:in-out-of-vocab}":  w.tensors("in-oov.safetensors", nil, safetensors.I32("input_ids", []int{1, 4}, ids32(1, 72, 999, 33))),
		"{f:in-negative-id}":   w.tensors("in-neg.safetensors", nil, safetensors.I32("input_ids", []int{1, 4}, ids32(1, -1, 105, 33))),
		"{f:in-empty}":         w.tensors("in-empty.safetensors", nil, safetensors.I32("input_ids", []int{0, 4}, nil)),
		"{f:in-mask-zero-row}": w.tensors("in-mask0.safetensors", nil, safetensors.I32("input_ids", []int{2, 4}, ids32(1, 72, 105, 33, 1, 72, 105, 33)), safetensors.I32("attention_mask", []int{2, 4}, ids32(1, 1, 1, 1, 0, 0, 0, 0))),
		"{f:in-too-long}":      w.tensors("in-long.safetensors", nil, safetensors.I32("input_ids", []int{1, 300}, make([]int32, 300))),
		"{f:text}":             func() (string, error) { return w.file("notes.txt", []byte("hello, these are notes\n")) },
		"{f:vec}":              w.tensors("vec.safetensors", vmd, vt...),
		"{f:vec-width}":        w.tensors("vec-width.safetensors", wmd, wt...),
		"{f:vec-nan}":          w.tensors("vec-nan.safetensors", nmd, nt...),
		"{f:vec-onehot}":       w.tensors("vec-onehot.safetensors", omd, ot...),
		"{f:vec-zero}":         w.tensors("vec-zero.safetensors", zmd, zt...),
		"{f:vec-truncated}": func() (string, error) {
			b, _ := safetensors.Encode(vt, vmd)
			return w.file("vec-truncated.safetensors", b[:len(b)-9])
		},
		"{f:gguf-truncated}": func() (string, error) {
			b, err := os.ReadFile("../../controlvec/testdata/repeng.gguf")
			return w.fileOr("cv-truncated.gguf", b, err, len(b)-7)
		},
		"{f:gguf-layer0}":      func() (string, error) { return w.file("cv-layer0.gguf", ggufLayer0()) },
		"{f:strings}":          func() (string, error) { return w.file("strings.json", []byte(`["hi"]`)) },
		"{f:strings-bad-utf8}": func() (string, error) { return w.file("strings-bad.json", []byte("[\"a\xff\xfe\"]")) },
		"{f:messages}":         func() (string, error) { return w.file("messages.json", []byte(`[{"role": "user", "content": "hi"}]`)) },
		"{f:messages-bad-utf8}": func() (string, error) {
			return w.file("messages-bad.json", []byte("[{\"role\": \"user\", \"content\": \"a\xff\xfe\"}]"))
		},
		"{f:pairs}":                w.lines("pairs.jsonl", pairLine("change_case:english_lowercase", "Describe owls. Use lowercase only.", "Describe owls.")),
		"{f:pairs-empty}":          func() (string, error) { return w.file("pairs-empty.jsonl", nil) },
		"{f:pairs-bad-json}":       w.lines("pairs-bad.jsonl", pairLine("a:b", "x y", "x"), `{"instruction_id": "a:b", "with": `),
		"{f:pairs-identical}":      w.lines("pairs-same.jsonl", pairLine("a:b", "x", "x")),
		"{f:pairs-mixed}":          w.lines("pairs-mixed.jsonl", pairLine("a:b", "x y", "x"), pairLine("c:d", "z w", "z")),
		"{f:paper}":                w.lines("paper.jsonl", `{"prompt": "Describe owls. Use lowercase.", "prompt_without_instruction": "Describe owls.", "instruction_id_list": ["change_case:english_lowercase"], "kwargs": [{}]}`),
		"{f:queries}":              w.lines("queries.txt", "Describe owls."),
		"{f:ifeval-unknown-id}":    w.lines("if-unknown.jsonl", ifl("x", "no:such_id", "{}")),
		"{f:ifeval-kwargs-type}":   w.lines("if-kwargs.jsonl", ifl("x", "length_constraints:number_words", `{"relation": "at least", "num_words": "ten"}`)),
		"{f:ifeval-bad-json}":      w.lines("if-bad.jsonl", `{"prompt": "p", "response": `),
		"{f:ifeval-null-response}": w.lines("if-null.jsonl", ifl(nil, "punctuation:no_comma", "{}")),
		"{f:ifeval-bad-language}":  w.lines("if-lang.jsonl", ifl("x", "language:response_language", `{"language": "xx"}`)),
		"{f:ifeval-empty-marker}":  w.lines("if-marker.jsonl", ifl("x", "startend:end_checker", `{"end_phrase": ""}`)),
		"{f:ifeval-empty}":         func() (string, error) { return w.file("if-empty.jsonl", nil) },
	}
	return w
}

// fileOr writes data[:n] unless err is set.
func (w *badWorld) fileOr(name string, data []byte, err error, n int) (string, error) {
	if err != nil {
		return "", err
	}
	return w.file(name, data[:n])
}

// ggufLayer0 is a minimal GGUF control vector holding direction.0.
func ggufLayer0() []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	str := func(s string) { le(uint64(len(s))); b.WriteString(s) }
	b.WriteString("GGUF")
	le(uint32(3))
	le(uint64(1)) // tensors
	le(uint64(1)) // metadata
	str("general.architecture")
	le(uint32(8))
	str("controlvector")
	str("direction.0")
	le(uint32(1))
	le(uint64(4))
	le(uint32(0)) // F32
	le(uint64(0))
	for b.Len()%32 != 0 {
		b.WriteByte(0)
	}
	for range 4 {
		le(float32(0.5))
	}
	return b.Bytes()
}
