package chat

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// RaiseError is the error a template raises with raise_exception.
type RaiseError struct{ Message string }

// Error returns the raised message with a "template raised: " prefix.
func (e *RaiseError) Error() string { return "template raised: " + e.Message }

func raiseException(msg string) (string, error) { return "", &RaiseError{msg} }

// unwrapRaise returns the RaiseError inside err, if any, else err.
func unwrapRaise(err error) error {
	var re *RaiseError
	if errors.As(err, &re) {
		return re
	}
	// gonja may flatten the error into a message.
	if i := strings.Index(err.Error(), "template raised: "); i >= 0 {
		msg := err.Error()[i+len("template raised: "):]
		return &RaiseError{msg}
	}
	return err
}

var (
	shortMonths = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	longMonths  = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	shortDays   = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	longDays    = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// strftime formats t with the C/Python directives chat templates use
// (English names).
func strftime(t time.Time, format string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'Y':
			b.WriteString(strconv.Itoa(t.Year()))
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'b', 'h':
			b.WriteString(shortMonths[t.Month()-1])
		case 'B':
			b.WriteString(longMonths[t.Month()-1])
		case 'a':
			b.WriteString(shortDays[t.Weekday()])
		case 'A':
			b.WriteString(longDays[t.Weekday()])
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%02d", h)
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("strftime_now: unsupported directive %%%c", format[i])
		}
	}
	return b.String(), nil
}

// filterToJSON is tojson as Hugging Face defines it (Python json.dumps with
// ensure_ascii=False): ", " and ": " separators, or "," and ": " with an
// indent; non-ASCII text is kept; map keys are sorted (Go maps have no order).
func filterToJSON(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	indent := -1
	if v, ok := params.KwArgs["indent"]; ok && !v.IsNil() {
		if !v.IsInteger() {
			return exec.AsValue(fmt.Errorf("tojson: indent must be an integer, got %s", v.String()))
		}
		indent = v.Integer()
	} else if len(params.Args) > 0 && params.Args[0].IsInteger() {
		indent = params.Args[0].Integer()
	}
	var b strings.Builder
	if err := (jsonWriter{&b, indent}).value(reflect.ValueOf(in.Interface()), 0); err != nil {
		return exec.AsValue(fmt.Errorf("tojson: %w", err))
	}
	return exec.AsSafeValue(b.String())
}

// jsonWriter writes values as tojson does; indent < 0 means one line.
type jsonWriter struct {
	b      *strings.Builder
	indent int
}

// jsonEntry is one key and value of a JSON object, in output order.
type jsonEntry struct {
	key string
	val reflect.Value
}

// value writes v at nesting depth: template values and pointers are followed
// to what they hold, template dicts keep their order, Go maps are sorted by
// key, and nil is null.
func (w jsonWriter) value(v reflect.Value, depth int) error {
	v, dict := unwrapJSON(v)
	if dict != nil {
		return w.object(dictEntries(dict), depth)
	}
	if !v.IsValid() {
		w.b.WriteString("null")
		return nil
	}
	switch v.Kind() {
	case reflect.Bool:
		w.b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		w.b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		w.b.WriteString(pyFloat(v.Float()))
	case reflect.String:
		writeJSONString(w.b, v.String())
	case reflect.Slice, reflect.Array:
		return w.array(v, depth)
	case reflect.Map:
		return w.object(mapEntries(v), depth)
	default:
		return fmt.Errorf("cannot serialize %s", v.Type())
	}
	return nil
}

// unwrapJSON follows interfaces, pointers and template values down to a plain
// value, or to a template dict (returned separately); a nil on the way gives
// the invalid (null) value.
func unwrapJSON(v reflect.Value) (reflect.Value, *exec.Dict) {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		if v.IsNil() {
			return reflect.Value{}, nil
		}
		switch val := v.Interface().(type) {
		case *exec.Value:
			v = reflect.ValueOf(val.Interface())
			continue
		case *exec.Dict:
			return reflect.Value{}, val
		}
		v = v.Elem()
	}
	return v, nil
}

// dictEntries lists a template dict's pairs in their order.
func dictEntries(d *exec.Dict) []jsonEntry {
	out := make([]jsonEntry, len(d.Pairs))
	for i, p := range d.Pairs {
		out[i] = jsonEntry{p.Key.String(), reflect.ValueOf(p.Value)}
	}
	return out
}

// mapEntries lists a Go map's entries sorted by the keys' printed form.
func mapEntries(v reflect.Value) []jsonEntry {
	keys := make([]string, 0, v.Len())
	vals := map[string]reflect.Value{}
	for it := v.MapRange(); it.Next(); {
		k := fmt.Sprint(it.Key().Interface())
		keys = append(keys, k)
		vals[k] = it.Value()
	}
	sort.Strings(keys)
	out := make([]jsonEntry, len(keys))
	for i, k := range keys {
		out[i] = jsonEntry{k, vals[k]}
	}
	return out
}

// array writes a slice or array, one element a line when indenting.
func (w jsonWriter) array(v reflect.Value, depth int) error {
	if v.Len() == 0 {
		w.b.WriteString("[]")
		return nil
	}
	w.b.WriteByte('[')
	for i := 0; i < v.Len(); i++ {
		w.separate(i, depth+1)
		if err := w.value(v.Index(i), depth+1); err != nil {
			return err
		}
	}
	w.newline(depth)
	w.b.WriteByte(']')
	return nil
}

// object writes the entries as a JSON object, one entry a line when
// indenting.
func (w jsonWriter) object(entries []jsonEntry, depth int) error {
	if len(entries) == 0 {
		w.b.WriteString("{}")
		return nil
	}
	w.b.WriteByte('{')
	for i, e := range entries {
		w.separate(i, depth+1)
		writeJSONString(w.b, e.key)
		w.b.WriteString(": ")
		if err := w.value(e.val, depth+1); err != nil {
			return err
		}
	}
	w.newline(depth)
	w.b.WriteByte('}')
	return nil
}

// separate starts the i-th item of a list or object at depth: a separator
// after the first (", " on one line, "," when indenting), then the line
// break and indentation if any.
func (w jsonWriter) separate(i, depth int) {
	if i > 0 {
		if w.indent >= 0 {
			w.b.WriteByte(',')
		} else {
			w.b.WriteString(", ")
		}
	}
	w.newline(depth)
}

// newline breaks the line and indents to depth when indenting.
func (w jsonWriter) newline(depth int) {
	if w.indent >= 0 {
		w.b.WriteByte('\n')
		w.b.WriteString(strings.Repeat(" ", w.indent*depth))
	}
}

// pyFloat formats f as Python's repr does.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Python writes two-digit exponents at least: 1e-05.
		if i := strings.IndexByte(s, 'e'); i >= 0 && len(s)-i == 3 {
			s = s[:i+2] + "0" + s[i+2:]
		}
		return s
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r == utf8.RuneError {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
