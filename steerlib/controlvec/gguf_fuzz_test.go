package controlvec

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeGGUF feeds arbitrary bytes to the GGUF reader and the control
// vector conversion, seeded with the files of testdata (a gosteer export, a
// repeng-style file). Whatever the bytes, decoding returns an error or a
// file whose tensors lie inside the input; a set it imports passes
// vectors.Set.Validate and exports again to a file that imports.
func FuzzDecodeGGUF(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.gguf"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed files in testdata (%v)", err)
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := decodeGGUF(b)
		if err != nil {
			return
		}
		for _, tn := range g.Tensors {
			if len(tn.Data) > len(b) {
				t.Fatalf("tensor %s: %d data bytes from a %d-byte input", tn.Name, len(tn.Data), len(b))
			}
		}
		s, err := fromControlVector(g)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("imported set fails Validate: %v", err)
		}
		// Export's codec in memory (no file: the fuzzer runs this often).
		g2, err := toGGUF(s, ExportOptions{Scale: 1})
		if err != nil {
			return // e.g. a layer of choice that export refuses
		}
		var buf bytes.Buffer
		if err := encodeGGUF(&buf, g2); err != nil {
			t.Fatalf("encode a re-exported import: %v", err)
		}
		g3, err := decodeGGUF(buf.Bytes())
		if err == nil {
			_, err = fromControlVector(g3)
		}
		if err != nil {
			t.Fatalf("a re-exported import does not import: %v", err)
		}
	})
}
