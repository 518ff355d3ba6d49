package ifeval

import (
	"strings"
	"testing"
)

// TestImpossibleKwargsAreErrors: kwargs that cannot be right give an error
// naming the instruction and the kwarg, never a score.
func TestImpossibleKwargsAreErrors(t *testing.T) {
	for _, c := range []struct {
		id   string
		kw   map[string]any
		want string
	}{
		{IDResponseLanguage, map[string]any{"language": "xx"}, `unknown language code "xx"`},
		{IDResponseLanguage, map[string]any{"language": "English"}, `unknown language code "English"`},
		{IDResponseLanguage, map[string]any{"language": 7.0}, `kwarg "language" has type float64`},
		{IDPostscript, map[string]any{"postscript_marker": "  "}, `"postscript_marker" is empty`},
		{IDMultipleSections, map[string]any{"section_spliter": "", "num_sections": 2.0}, `"section_spliter" is empty`},
		{IDEndChecker, map[string]any{"end_phrase": "\n"}, `"end_phrase" is empty`},
		{IDNumberWords, map[string]any{"num_words": -5.0, "relation": "less than"}, `"num_words" = -5 is negative`},
		{IDNumberParagraphs, map[string]any{"num_paragraphs": "3"}, `kwarg "num_paragraphs" has type string`},
		{IDKeywordsExistence, map[string]any{"keywords": []any{"a", 3.0}}, `holds float64, want strings`},
	} {
		for _, check := range []func(string, map[string]any, string, string) (bool, error){Check, CheckLoose} {
			ok, err := check(c.id, c.kw, "prompt", "Some response text here. P.S. yes")
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.id) {
				t.Errorf("%s %v: got (%v, %v), want an error naming %s and containing %q", c.id, c.kw, ok, err, c.id, c.want)
			}
		}
	}
}

// TestNullResponseIsAProblem: a record whose response is null is reported
// with its line and scored as failed, not as an empty response.
func TestNullResponseIsAProblem(t *testing.T) {
	items, err := ReadJSONL(strings.NewReader("\n" + `{"prompt":"p","response":null,"instruction_id_list":["punctuation:no_comma"]}`))
	if err != nil || len(items) != 1 {
		t.Fatalf("ReadJSONL: %v, %d items", err, len(items))
	}
	res := ScoreItem(items[0])
	if !res.Failed || len(res.Errors) == 0 || !strings.Contains(res.Errors[0], "line 2: response is null") {
		t.Fatalf("got %+v, want a failed result naming line 2 and the null response", res)
	}
}
