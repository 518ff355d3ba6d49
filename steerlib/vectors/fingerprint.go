package vectors

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// Fingerprints tie a resumable state (Accumulator.Run) to what made it.
//
//	FileFingerprint(f)   = hex SHA-256 of the whole file
//	ModelFingerprint(d)  = hex SHA-256 over config.json (whole) and, for each
//	                       *.safetensors file of d in name order: its name,
//	                       size, header (8-byte length + JSON) and its data:
//	                       all of it up to 256 KiB, else fingerprintSamples
//	                       slices of fingerprintSlice bytes spread evenly from
//	                       the first byte to the last
//
// Sampling keeps the model's fingerprint to a few MB of reads for any model
// size; it changes with the config, any tensor's name, shape or dtype, and
// with weights in the sampled slices (retrained or re-converted weights
// differ everywhere).
const (
	fingerprintSamples = 64
	fingerprintSlice   = 4096
)

// FileFingerprint returns the hex SHA-256 of the file at path.
func FileFingerprint(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("fingerprint: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("fingerprint %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ModelFingerprint returns the fingerprint of the model folder dir (see
// above): its config.json and its safetensors weights.
func ModelFingerprint(dir string) (string, error) {
	h := sha256.New()
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return "", fmt.Errorf("fingerprint model: %w", err)
	}
	writeLen(h, len(cfg))
	h.Write(cfg)
	files, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("fingerprint model %s: no *.safetensors weights", dir)
	}
	sort.Strings(files)
	for _, p := range files {
		if err := sampleFile(h, p); err != nil {
			return "", fmt.Errorf("fingerprint model: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeLen(w io.Writer, n int) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	w.Write(b[:])
}

// sampleFile hashes a safetensors file's name, size, header and evenly
// spread slices of its data.
func sampleFile(h io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	io.WriteString(h, filepath.Base(path))
	writeLen(h, int(size))
	var n [8]byte
	if _, err := io.ReadFull(f, n[:]); err != nil {
		return fmt.Errorf("%s: header: %w", path, err)
	}
	hdr := int64(binary.LittleEndian.Uint64(n[:]))
	if hdr < 0 || hdr > size-8 {
		return fmt.Errorf("%s: header length %d exceeds the file (%d bytes)", path, hdr, size)
	}
	if _, err := io.Copy(h, io.NewSectionReader(f, 8, hdr)); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	start, data := 8+hdr, size-8-hdr
	if data <= fingerprintSamples*fingerprintSlice {
		_, err := io.Copy(h, io.NewSectionReader(f, start, data))
		return err
	}
	// Slices from the first to the last byte of the data, evenly spaced.
	for i := range int64(fingerprintSamples) {
		off := start + (data-fingerprintSlice)*i/(fingerprintSamples-1)
		if _, err := io.Copy(h, io.NewSectionReader(f, off, fingerprintSlice)); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}
