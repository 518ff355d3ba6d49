package ifeval

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// kwargs wraps one instruction's keyword arguments and records which ones
// were read, so that unexpected arguments can be reported.
type kwargs struct {
	id   string
	m    map[string]any
	used map[string]bool
}

func newKwargs(id string, m map[string]any) *kwargs {
	return &kwargs{id: id, m: m, used: map[string]bool{}}
}

func (k *kwargs) get(name string) (any, bool) {
	k.used[name] = true
	v, ok := k.m[name]
	if !ok || v == nil {
		return nil, false
	}
	return v, true
}

func (k *kwargs) errf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", k.id, fmt.Sprintf(format, args...))
}

// int reads a required non-negative integer argument (JSON numbers arrive as
// float64; every integer kwarg of IFEval is a count or a position, so a
// negative one is an error rather than a threshold that always holds).
func (k *kwargs) int(name string) (int, error) {
	n, err := k.anyInt(name)
	if err == nil && n < 0 {
		return 0, k.errf("kwarg %q = %d is negative", name, n)
	}
	return n, err
}

// anyInt reads a required integer argument of any sign.
func (k *kwargs) anyInt(name string) (int, error) {
	v, ok := k.get(name)
	if !ok {
		return 0, k.errf("missing kwarg %q", name)
	}
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) || math.Abs(x) > 1e15 {
			return 0, k.errf("kwarg %q = %v is not an integer", name, x)
		}
		return int(x), nil
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case int32:
		return int(x), nil
	default:
		return 0, k.errf("kwarg %q has type %T, want integer", name, v)
	}
}

// str reads a required string argument.
func (k *kwargs) str(name string) (string, error) {
	v, ok := k.get(name)
	if !ok {
		return "", k.errf("missing kwarg %q", name)
	}
	s, ok := v.(string)
	if !ok {
		return "", k.errf("kwarg %q has type %T, want string", name, v)
	}
	return s, nil
}

// strs reads a required non-empty list of strings.
func (k *kwargs) strs(name string) ([]string, error) {
	v, ok := k.get(name)
	if !ok {
		return nil, k.errf("missing kwarg %q", name)
	}
	var out []string
	switch x := v.(type) {
	case []string:
		out = append(out, x...)
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, k.errf("kwarg %q holds %T, want strings", name, e)
			}
			out = append(out, s)
		}
	default:
		return nil, k.errf("kwarg %q has type %T, want list of strings", name, v)
	}
	if len(out) == 0 {
		return nil, k.errf("kwarg %q is empty", name)
	}
	return out, nil
}

// relation reads a comparison relation, "less than" or "at least".
func (k *kwargs) relation(name string) (string, error) {
	s, err := k.str(name)
	if err != nil {
		return "", err
	}
	if s != relLessThan && s != relAtLeast {
		return "", k.errf("kwarg %q = %q, want %q or %q", name, s, relLessThan, relAtLeast)
	}
	return s, nil
}

// done reports arguments that the instruction does not take (null values are
// tolerated: the Hugging Face copy of IFEval fills every key with null).
func (k *kwargs) done() error {
	var extra []string
	for name, v := range k.m {
		if !k.used[name] && v != nil {
			extra = append(extra, name)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	return k.errf("unexpected kwargs %s", strings.Join(extra, ", "))
}

const (
	relLessThan = "less than"
	relAtLeast  = "at least"
)

// bound is a count constraint: "less than" or "at least" a threshold.
type bound struct {
	rel       string
	threshold int
}

// holds reports whether count satisfies the bound.
func (b bound) holds(count int) bool {
	if b.rel == relLessThan {
		return count < b.threshold
	}
	return count >= b.threshold
}

// bound reads a count constraint from the kwargs countName (the threshold)
// and relName (the relation).
func (k *kwargs) bound(countName, relName string) (bound, error) {
	n, err := k.int(countName)
	if err != nil {
		return bound{}, err
	}
	rel, err := k.relation(relName)
	if err != nil {
		return bound{}, err
	}
	return bound{rel, n}, nil
}
