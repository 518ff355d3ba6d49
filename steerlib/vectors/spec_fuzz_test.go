package vectors

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// FuzzParseSpec feeds arbitrary text to the steering-spec parser, seeded
// with the specs of testdata/specs.txt (one per line). A spec it accepts
// must name a file, a non-negative layer or NoLayer, a finite float32 value,
// and render with String to a spec that parses back to the same Spec.
func FuzzParseSpec(f *testing.F) {
	fh, err := os.Open("testdata/specs.txt")
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		f.Add(sc.Text())
	}
	fh.Close()
	if err := sc.Err(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		sp, err := ParseSpec(in)
		if err != nil {
			if !strings.Contains(err.Error(), "steer spec") {
				t.Fatalf("ParseSpec(%q): error %q does not name the spec", in, err)
			}
			return
		}
		if sp.File == "" || (sp.Layer < 0 && sp.Layer != NoLayer) {
			t.Fatalf("ParseSpec(%q) = %+v: no file or a negative layer", in, sp)
		}
		again, err := ParseSpec(sp.String())
		if err != nil || again != sp {
			t.Fatalf("ParseSpec(%q) = %+v renders as %q, which parses to %+v, %v", in, sp, sp.String(), again, err)
		}
	})
}
