package ifeval

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gosteer/gosteer/steerlib/ifeval/langdetect"
)

// LanguageDetector identifies the language of a text. Detect returns an
// ISO 639-1 style code as Python's langdetect spells it ("en", "fr",
// "zh-cn"), ok=false when the text offers nothing to detect (the reference
// then counts the instruction as followed), or an error when the detector
// itself fails.
type LanguageDetector interface {
	Detect(text string) (lang string, ok bool, err error)
}

// LangdetectDetector is the default LanguageDetector: the Go port of Python's
// langdetect (same profiles and algorithm) with a fixed seed, so results are
// deterministic and equal to Python's with DetectorFactory.seed = Seed. The
// profiles (about 0.3 s, 6 MB of heap) are loaded on first use.
type LangdetectDetector struct {
	Seed uint64
}

// Detect implements LanguageDetector.
func (d LangdetectDetector) Detect(text string) (string, bool, error) {
	m, err := langdetect.Default()
	if err != nil {
		return "", false, fmt.Errorf("load langdetect profiles: %w", err)
	}
	lang, err := m.Detect(text, d.Seed)
	if errors.Is(err, langdetect.ErrNoFeatures) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return lang, true, nil
}

// Languages lists the codes Detect can return (sorted).
func (d LangdetectDetector) Languages() ([]string, error) {
	m, err := langdetect.Default()
	if err != nil {
		return nil, fmt.Errorf("load langdetect profiles: %w", err)
	}
	return m.Languages(), nil
}

// languageLister is implemented by detectors that know every code they can
// return; the language checker then refuses any other code.
type languageLister interface {
	Languages() ([]string, error)
}

// checkLanguageCode returns an error when the current detector lists its
// codes and lang is not one of them: such an instruction could never be
// followed, so scoring it would give a silently wrong number.
func checkLanguageCode(lang string) error {
	detectorMu.RLock()
	d := detector
	detectorMu.RUnlock()
	l, ok := d.(languageLister)
	if !ok {
		return nil
	}
	codes, err := l.Languages()
	if err != nil {
		return err
	}
	if !slices.Contains(codes, lang) {
		return fmt.Errorf("unknown language code %q (the detector knows %s)", lang, strings.Join(codes, ", "))
	}
	return nil
}

var (
	detectorMu sync.RWMutex
	detector   LanguageDetector = LangdetectDetector{}
)

// SetLanguageDetector replaces the detector used by the language-dependent
// checkers (language:response_language, change_case:english_capital,
// change_case:english_lowercase) and returns the previous one. nil restores
// the default.
func SetLanguageDetector(d LanguageDetector) LanguageDetector {
	if d == nil {
		d = LangdetectDetector{}
	}
	detectorMu.Lock()
	defer detectorMu.Unlock()
	prev := detector
	detector = d
	return prev
}

func detectLanguage(text string) (string, bool, error) {
	detectorMu.RLock()
	d := detector
	detectorMu.RUnlock()
	return d.Detect(text)
}
