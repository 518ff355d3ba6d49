//go:build langcompare

// Command langcompare measures how closely general-purpose Go language
// detectors reproduce the reference IFEval verdicts of the three
// language-dependent instructions, compared with the langdetect port that
// ifeval uses by default. It is excluded from normal builds (lingua-go embeds
// about 100 MB of models); run it with
//
//	GOEXPERIMENT=simd go run -tags langcompare ./steerlib/ifeval/internal/langcompare \
//	    ../shared/conformance/ifeval_reference_scores.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/abadojack/whatlanggo"
	"github.com/pemistahl/lingua-go"

	"github.com/gosteer/gosteer/steerlib/ifeval"
)

type linguaDetector struct{ d lingua.LanguageDetector }

func (l linguaDetector) Detect(text string) (string, bool, error) {
	lang, ok := l.d.DetectLanguageOf(text)
	if !ok {
		return "", false, nil
	}
	return strings.ToLower(lang.IsoCode639_1().String()), true, nil
}

type whatlangDetector struct{}

func (whatlangDetector) Detect(text string) (string, bool, error) {
	info := whatlanggo.Detect(text)
	code := info.Lang.Iso6391()
	if code == "" {
		return "", false, nil
	}
	return code, true, nil
}

type row struct {
	ifeval.Record
	Strict []bool `json:"strict"`
	Loose  []bool `json:"loose"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: langcompare ifeval_reference_scores.jsonl")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var rows []row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	for sc.Scan() {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if len(r.InstructionIDs) == 1 && ifeval.UsesLanguageDetection(r.InstructionIDs[0]) {
			rows = append(rows, r)
		}
	}
	detectors := []struct {
		name string
		d    ifeval.LanguageDetector
	}{
		{"langdetect-port", ifeval.LangdetectDetector{}},
		{"lingua-go v1.4.0", linguaDetector{lingua.NewLanguageDetectorBuilder().FromAllLanguages().Build()}},
		{"whatlanggo v1.0.1", whatlangDetector{}},
	}
	for _, det := range detectors {
		ifeval.SetLanguageDetector(det.d)
		t0 := time.Now()
		n, s, l := map[string]int{}, map[string]int{}, map[string]int{}
		for _, r := range rows {
			res := ifeval.Evaluate(r.Record)
			id := r.InstructionIDs[0]
			n[id]++
			if res.Strict[0] == r.Strict[0] {
				s[id]++
			}
			if res.Loose[0] == r.Loose[0] {
				l[id]++
			}
		}
		ids := make([]string, 0, len(n))
		for id := range n {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		fmt.Printf("%s (%.1fs)\n", det.name, time.Since(t0).Seconds())
		for _, id := range ids {
			fmt.Printf("  %-36s n=%3d strict %6.2f%% loose %6.2f%%\n", id, n[id],
				100*float64(s[id])/float64(n[id]), 100*float64(l[id])/float64(n[id]))
		}
	}
}
