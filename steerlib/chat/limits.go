package chat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"unsafe"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Limits bound the work of one Render. Chat templates arrive inside
// downloaded model folders, so a template that loops forever, recurses
// without end or builds a gigabyte string must fail with an error instead of
// hanging or exhausting memory. Zero fields take the DefaultLimits value.
//
// Enforcement:
//   - MaxIterations counts every iteration of every for loop (including
//     loops over range(), which may not produce more items than the limit);
//   - MaxDepth counts nested macro calls (a macro calling itself included);
//   - MaxOutput caps the rendered text, and also every string or list that
//     +, ~ and * build and the widths given to padding filters and methods,
//     so no intermediate value outgrows it.
//
// Templates cannot read other files: include, import, from and extends
// fail, as do recursive for loops.
type Limits struct {
	MaxIterations int
	MaxDepth      int
	MaxOutput     int
}

// DefaultLimits are far above what real chat templates need (a few hundred
// iterations and a few kilobytes for a long conversation).
var DefaultLimits = Limits{MaxIterations: 1_000_000, MaxDepth: 64, MaxOutput: 16 << 20}

// ErrLimit is wrapped by the errors of Render when a template exceeds its
// Limits.
var ErrLimit = errors.New("chat template exceeds a limit")

// maxValueSize bounds the bytes of strings built inside templates (by
// operators, string methods and filters, where a template's own Limits are
// not reachable); maxListLen bounds the items of lists built by +.
var (
	maxValueSize = DefaultLimits.MaxOutput
	maxListLen   = 1 << 20
)

// limitError turns an error whose text carries ErrLimit (gonja flattens the
// errors of functions and control structures into messages) into one that
// wraps ErrLimit with the innermost message, e.g. "chat template exceeds a
// limit: more than 1000000 loop iterations".
func limitError(err error) error {
	msg := err.Error()
	i := strings.LastIndex(msg, ErrLimit.Error())
	if i < 0 || errors.Is(err, ErrLimit) {
		return err
	}
	return fmt.Errorf("%w%s", ErrLimit, msg[i+len(ErrLimit.Error()):])
}

func (l Limits) withDefaults() Limits {
	if l.MaxIterations <= 0 {
		l.MaxIterations = DefaultLimits.MaxIterations
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxOutput <= 0 {
		l.MaxOutput = DefaultLimits.MaxOutput
	}
	return l
}

// budget is the per-render state of the limits, stored in the template
// context under budgetKey.
type budget struct {
	Limits
	iterations, depth int
}

const (
	budgetKey = "__gosteer_budget__"
	binopName = "__gosteer_binop__"
)

func budgetOf(ctx *exec.Context) (*budget, error) {
	v, ok := ctx.Get(budgetKey)
	b, isBudget := v.(*budget)
	if !ok || !isBudget {
		return nil, fmt.Errorf("%w: the template overwrote %s", ErrLimit, budgetKey)
	}
	return b, nil
}

// limitedWriter fails once more than max bytes are written.
type limitedWriter struct {
	buf bytes.Buffer
	max int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.max {
		return 0, fmt.Errorf("%w: output longer than %d bytes", ErrLimit, w.max)
	}
	return w.buf.Write(p)
}

// tickKind says what a tick node counts.
type tickKind int

const (
	tickIteration tickKind = iota
	tickEnter
	tickLeave
)

// tick is a control structure inserted into the parsed template: at the
// start of every for-loop body (an iteration) and at the start and end of
// every macro body (entering and leaving a call).
type tick struct{ kind tickKind }

func (t *tick) Position() *tokens.Token { return &tokens.Token{} }
func (t *tick) String() string          { return "limit check" }

// Execute counts the event and fails when a limit is passed.
func (t *tick) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	b, err := budgetOf(r.Environment.Context)
	if err != nil {
		return err
	}
	switch t.kind {
	case tickIteration:
		if b.iterations++; b.iterations > b.MaxIterations {
			return fmt.Errorf("%w: more than %d loop iterations", ErrLimit, b.MaxIterations)
		}
	case tickEnter:
		if b.depth++; b.depth > b.MaxDepth {
			return fmt.Errorf("%w: macro calls nested deeper than %d", ErrLimit, b.MaxDepth)
		}
	case tickLeave:
		b.depth--
	}
	return nil
}

func tickNode(k tickKind) nodes.Node {
	return &nodes.ControlStructureBlock{Location: &tokens.Token{}, Name: "limit", ControlStructure: &tick{k}}
}

var (
	expressionType = reflect.TypeOf((*nodes.Expression)(nil)).Elem()
	nodeType       = reflect.TypeOf((*nodes.Node)(nil)).Elem()
)

// instrument rewrites a parsed template in place: ticks in loop and macro
// bodies, and +, ~ and * replaced by calls to the size-checking binop.
// It walks every field (exported or not) of the gonja node structs.
func instrument(root *nodes.Template) error {
	w := walker{seen: map[uintptr]bool{}}
	w.value(reflect.ValueOf(root))
	return w.err
}

type walker struct {
	seen map[uintptr]bool
	err  error
}

func (w *walker) value(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || w.seen[v.Pointer()] || !isGonja(v.Type().Elem()) {
			return
		}
		w.seen[v.Pointer()] = true
		w.visitNode(v.Interface())
		w.value(v.Elem())
	case reflect.Interface:
		if !v.IsNil() {
			w.value(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if f.CanAddr() {
				f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
			}
			w.field(f)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			w.field(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			if e.Type() == expressionType {
				nv := reflect.New(expressionType).Elem()
				nv.Set(e)
				w.field(nv)
				v.SetMapIndex(k, nv)
			} else {
				w.value(e)
			}
		}
	}
}

// field visits a settable field or element, replacing guarded binary
// expressions first.
func (w *walker) field(f reflect.Value) {
	if f.CanSet() && (f.Type() == expressionType || f.Type() == nodeType) && !f.IsNil() {
		if be, ok := f.Interface().(*nodes.BinaryExpression); ok {
			if call := guardBinary(be); call != nil {
				w.value(reflect.ValueOf(be))
				f.Set(reflect.ValueOf(call))
				return
			}
		}
	}
	w.value(f)
}

// visitNode inserts ticks and refuses what templates may not use.
func (w *walker) visitNode(n any) {
	switch x := n.(type) {
	case *nodes.Macro:
		if x.Wrapper != nil {
			x.Wrapper.Nodes = append(append([]nodes.Node{tickNode(tickEnter)}, x.Wrapper.Nodes...), tickNode(tickLeave))
		}
	case *nodes.Wrapper:
	default:
		v := reflect.ValueOf(n).Elem()
		if v.Kind() != reflect.Struct {
			return
		}
		if body := v.FieldByName("BodyWrapper"); body.IsValid() && strings.HasPrefix(v.Type().Name(), "For") {
			if rec := v.FieldByName("Recursive"); rec.IsValid() && rec.Bool() && w.err == nil {
				w.err = errors.New("recursive for loops are not supported in chat templates")
			}
			if wr, ok := body.Interface().(*nodes.Wrapper); ok && wr != nil {
				wr.Nodes = append([]nodes.Node{tickNode(tickIteration)}, wr.Nodes...)
			}
		}
	}
}

func isGonja(t reflect.Type) bool {
	return strings.HasPrefix(t.PkgPath(), "github.com/nikolalohinski/gonja/")
}

// guardBinary returns a call of the size-checking binop for +, ~ and *, or
// nil for other operators.
func guardBinary(be *nodes.BinaryExpression) *nodes.Call {
	if be.Operator == nil || be.Operator.Token == nil {
		return nil
	}
	op := be.Operator.Token.Val
	if op != "+" && op != "~" && op != "*" {
		return nil
	}
	loc := be.Operator.Token
	return &nodes.Call{
		Location: loc,
		Func:     &nodes.Name{Name: &tokens.Token{Type: tokens.Name, Val: binopName, Line: loc.Line, Col: loc.Col}},
		Args:     []nodes.Expression{&nodes.String{Location: loc, Val: op}, be.Left, be.Right},
		Kwargs:   map[string]nodes.Expression{},
	}
}

// binop evaluates +, ~ and * as gonja does, refusing results larger than
// the value size limit before building them.
func binop(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	if len(params.Args) != 3 {
		return exec.AsValue(errors.New("internal: binop wants 3 arguments"))
	}
	op, l, r := params.Args[0].String(), params.Args[1], params.Args[2]
	tooBig := func(n int) *exec.Value {
		return exec.AsValue(fmt.Errorf("%w: %s %s %s would hold %d elements (limit %d)", ErrLimit, kind(l), op, kind(r), n, maxValueSize))
	}
	switch {
	case op == "~" || op == "+" && !l.IsList() && !l.IsFloat() && !r.IsFloat() && (l.IsString() || r.IsString()):
		ls, rs := l.String(), r.String()
		if len(ls)+len(rs) > maxValueSize {
			return tooBig(len(ls) + len(rs))
		}
		return exec.AsValue(ls + rs)
	case op == "+" && l.IsList():
		if !r.IsList() {
			return exec.AsValue(fmt.Errorf("unable to concatenate list to %s", kind(r)))
		}
		if l.Len()+r.Len() > maxListLen {
			return exec.AsValue(fmt.Errorf("%w: list + list would hold %d items (limit %d)", ErrLimit, l.Len()+r.Len(), maxListLen))
		}
		out := make([]any, 0, l.Len()+r.Len())
		for _, v := range []*exec.Value{l, r} {
			for i := 0; i < v.Len(); i++ {
				out = append(out, v.Index(i).Interface())
			}
		}
		return exec.AsValue(out)
	case l.IsFloat() || r.IsFloat():
		if op == "+" {
			return exec.AsValue(l.Float() + r.Float())
		}
		return exec.AsValue(l.Float() * r.Float())
	case op == "*" && l.IsString():
		s, n := l.String(), r.Integer()
		if n <= 0 || s == "" {
			return exec.AsValue("")
		}
		if n > maxValueSize/len(s) {
			return tooBig(n)
		}
		return exec.AsValue(strings.Repeat(s, n))
	case op == "+":
		return exec.AsValue(l.Integer() + r.Integer())
	}
	return exec.AsValue(l.Integer() * r.Integer())
}

func kind(v *exec.Value) string {
	switch {
	case v.IsString():
		return "string"
	case v.IsList():
		return "list"
	case v.IsFloat():
		return "float"
	case v.IsInteger():
		return "int"
	}
	return "value"
}

// boundedRange is Jinja's range() returning a list, refusing more items
// than the iteration limit (gonja's own range feeds a channel from a
// goroutine that leaks when a loop stops early).
func boundedRange(limit int) func(*exec.Evaluator, *exec.VarArgs) *exec.Value {
	return func(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
		a := params.Args
		for _, x := range a {
			if !x.IsInteger() {
				return exec.AsValue(errors.New("range: arguments must be integers"))
			}
		}
		start, stop, step := 0, 0, 1
		switch len(a) {
		case 1:
			stop = a[0].Integer()
		case 2:
			start, stop = a[0].Integer(), a[1].Integer()
		case 3:
			start, stop, step = a[0].Integer(), a[1].Integer(), a[2].Integer()
		default:
			return exec.AsValue(errors.New("range: want [start, ]stop[, step]"))
		}
		if step == 0 {
			return exec.AsValue(errors.New("range: step cannot be 0"))
		}
		var out []int
		for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
			if len(out) == limit {
				return exec.AsValue(fmt.Errorf("%w: range with more than %d items", ErrLimit, limit))
			}
			out = append(out, i)
		}
		return exec.AsValue(out)
	}
}

// sizeArgs wraps a filter so that integer arguments above the value size
// limit (widths, counts) are refused before the filter allocates them.
func sizeArgs(name string, f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		if err := checkSizeArgs(name, params); err != nil {
			return exec.AsValue(err)
		}
		return f(e, in, params)
	}
}

// sizeArgsMethod is sizeArgs for string methods.
func sizeArgsMethod(name string, m exec.Method[string]) exec.Method[string] {
	return func(self string, v *exec.Value, params *exec.VarArgs) (any, error) {
		if err := checkSizeArgs(name, params); err != nil {
			return nil, err
		}
		return m(self, v, params)
	}
}

func checkSizeArgs(name string, params *exec.VarArgs) error {
	check := func(v *exec.Value) error {
		if v.IsInteger() && (v.Integer() > maxValueSize || v.Integer() < -maxValueSize) {
			return fmt.Errorf("%w: %s(%d): size above %d", ErrLimit, name, v.Integer(), maxValueSize)
		}
		return nil
	}
	for _, v := range params.Args {
		if err := check(v); err != nil {
			return err
		}
	}
	for _, v := range params.KwArgs {
		if err := check(v); err != nil {
			return err
		}
	}
	return nil
}

// noFiles is the template loader: it serves the template's own source once
// (to the parser) and refuses every other read, so include, import and
// extends can neither read the file system nor include the template itself.
type noFiles struct {
	root   string
	source io.Reader
}

func (l *noFiles) Read(path string) (io.Reader, error) {
	if path == l.root && l.source != nil {
		src := l.source
		l.source = nil
		return src, nil
	}
	return nil, fmt.Errorf("chat templates cannot load other templates (%q)", path)
}

func (l *noFiles) Resolve(path string) (string, error) { return path, nil }

func (l *noFiles) Inherit(string) (loaders.Loader, error) { return l, nil }

// sizedFilters and sizedMethods take widths or counts that size their
// result; their integer arguments are checked against the value size limit.
var (
	sizedFilters = []string{"batch", "center", "indent", "slice", "truncate", "wordwrap", "tojson"}
	sizedMethods = []string{"center", "ljust", "rjust", "zfill", "expandtabs"}
	bigWidth     = regexp.MustCompile(`[0-9]{8,}`)
)

// checkReplace refuses a replacement whose result would exceed the value
// size limit (replacing "" inserts repl between every character).
func checkReplace(s, old, repl string, n int) error {
	count := strings.Count(s, old)
	if n >= 0 && n < count {
		count = n
	}
	if grow := len(repl) - len(old); grow > 0 && count > 0 && count > (maxValueSize-len(s))/grow {
		return fmt.Errorf("%w: replace would build more than %d bytes", ErrLimit, maxValueSize)
	}
	return nil
}

// checkJoin refuses a join whose result would exceed the value size limit.
func checkJoin(list *exec.Value, sep string) error {
	if !list.IsList() {
		return nil
	}
	total := 0
	for i := 0; i < list.Len(); i++ {
		total += len(list.Index(i).String())
		if i > 0 {
			total += len(sep)
		}
		if total > maxValueSize {
			return fmt.Errorf("%w: join would build more than %d bytes", ErrLimit, maxValueSize)
		}
	}
	return nil
}

// guardFilters wraps the filters whose result size depends on their
// arguments.
func guardFilters(filters *exec.FilterSet) {
	for _, name := range sizedFilters {
		if f, ok := filters.Get(name); ok {
			_ = filters.Replace(name, sizeArgs(name, f))
		}
	}
	if f, ok := filters.Get("replace"); ok {
		_ = filters.Replace("replace", func(e *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
			if len(p.Args) >= 2 {
				if err := checkReplace(in.String(), p.Args[0].String(), p.Args[1].String(), -1); err != nil {
					return exec.AsValue(err)
				}
			}
			return f(e, in, p)
		})
	}
	if f, ok := filters.Get("join"); ok {
		_ = filters.Replace("join", func(e *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
			sep := ""
			if len(p.Args) > 0 {
				sep = p.Args[0].String()
			} else if v, ok := p.KwArgs["d"]; ok {
				sep = v.String()
			}
			if err := checkJoin(in, sep); err != nil {
				return exec.AsValue(err)
			}
			return f(e, in, p)
		})
	}
}

// guardMethods wraps the string methods whose result size depends on their
// arguments (or, for format, on widths written in the format string).
func guardMethods(str map[string]exec.Method[string]) {
	for _, name := range sizedMethods {
		if f, ok := str[name]; ok {
			str[name] = sizeArgsMethod(name, f)
		}
	}
	if f, ok := str["join"]; ok {
		str["join"] = func(self string, v *exec.Value, p *exec.VarArgs) (any, error) {
			if len(p.Args) == 1 {
				if err := checkJoin(p.Args[0], self); err != nil {
					return nil, err
				}
			}
			return f(self, v, p)
		}
	}
	for _, name := range []string{"format", "format_map"} {
		if f, ok := str[name]; ok {
			str[name] = func(self string, v *exec.Value, p *exec.VarArgs) (any, error) {
				if bigWidth.MatchString(self) {
					return nil, fmt.Errorf("%w: %s with a width of 8 or more digits", ErrLimit, name)
				}
				return f(self, v, p)
			}
		}
	}
}

// Source limits: gonja parses and renders recursively, so a template nested
// thousands of levels deep would exhaust the goroutine stack (a fatal error,
// not a panic). Real chat templates are a few kilobytes, nested a few levels.
const (
	// MaxTemplateSize is the longest template source accepted.
	MaxTemplateSize = 1 << 20
	// MaxNesting bounds the nesting of brackets inside one tag and of block
	// tags (if, for, macro, ...) inside each other.
	MaxNesting = 128
)

var blockTags = map[string]bool{"if": true, "for": true, "macro": true, "call": true, "filter": true, "with": true,
	"block": true, "raw": true, "autoescape": true, "trans": true}

// checkSource refuses sources too large or too deeply nested to parse safely.
func checkSource(src string) error {
	if len(src) > MaxTemplateSize {
		return fmt.Errorf("%w: template of %d bytes (limit %d)", ErrLimit, len(src), MaxTemplateSize)
	}
	blocks := 0
	for rest := src; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 || i+1 >= len(rest) {
			return nil
		}
		open := rest[i+1]
		if open != '{' && open != '%' {
			rest = rest[i+1:]
			continue
		}
		closer := "}}"
		if open == '%' {
			closer = "%}"
		}
		end := strings.Index(rest[i+2:], closer)
		if end < 0 {
			end = len(rest) - i - 2
		}
		tag := rest[i+2 : i+2+end]
		rest = rest[i+2+end:]
		if open == '%' {
			blocks += blockDelta(tag)
		}
		if blocks > MaxNesting || bracketDepth(tag) > MaxNesting {
			return fmt.Errorf("%w: template nested deeper than %d levels", ErrLimit, MaxNesting)
		}
	}
}

// blockDelta is +1 for a tag opening a block (including a block set without
// "="), -1 for an end tag, else 0.
func blockDelta(tag string) int {
	word := strings.Fields(strings.Trim(tag, "-+ \t\r\n"))
	switch {
	case len(word) == 0:
		return 0
	case blockTags[word[0]] || word[0] == "set" && !strings.Contains(tag, "="):
		return 1
	case strings.HasPrefix(word[0], "end"):
		return -1
	}
	return 0
}

// bracketDepth is the deepest nesting of (), [] and {} in a tag.
func bracketDepth(tag string) int {
	depth, deepest := 0, 0
	for _, r := range tag {
		switch r {
		case '(', '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ')', ']', '}':
			depth--
		}
	}
	return deepest
}
