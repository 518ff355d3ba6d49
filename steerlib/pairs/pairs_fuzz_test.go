package pairs

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzRead reads arbitrary bytes as pair JSONL and as a paper pair file:
// both either fail with an error or return pairs, and pairs that Read
// accepts are valid and survive a Write/Read round trip unchanged.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	if err := Write(&buf, []Pair{{InstructionID: "punctuation:no_comma", With: "Say hi. No commas.", Without: "Say hi."},
		{InstructionID: "keywords:existence", With: "Owls, with \"owl\".", Without: "Owls.", Kwargs: map[string]any{"keywords": []any{"owl"}}}}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	if d, err := sharedDataDir(); err == nil {
		paths, _ := filepath.Glob(filepath.Join(d, "*.jsonl"))
		for _, p := range paths {
			if line := firstLine(f, p); line != nil {
				f.Add(line)
			}
		}
	}
	path := filepath.Join(f.TempDir(), "pairs.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) {
		if ps, err := Read(bytes.NewReader(data), "fuzz"); err == nil {
			for i, p := range ps {
				if err := p.Validate(); err != nil {
					t.Fatalf("pair %d accepted but invalid: %v", i, err)
				}
			}
			var out bytes.Buffer
			if err := Write(&out, ps); err != nil {
				t.Fatalf("Write of read pairs: %v", err)
			}
			back, err := Read(&out, "round trip")
			if err != nil || !reflect.DeepEqual(back, ps) && len(ps) > 0 {
				t.Fatalf("round trip changed the pairs: %v", err)
			}
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ps, err := LoadPaperPairs(path)
		if err == nil {
			for i, p := range ps {
				if p.InstructionID == "" || p.With == "" || p.Without == "" {
					t.Fatalf("paper pair %d accepted with an empty field: %+v", i, p)
				}
			}
		}
		_, _ = LoadBaseQueries(path)
	})
}

func firstLine(tb testing.TB, path string) []byte {
	fh, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, maxLine)
	if sc.Scan() {
		return append([]byte(nil), sc.Bytes()...)
	}
	return nil
}
