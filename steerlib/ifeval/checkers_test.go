package ifeval

import (
	"strings"
	"testing"
)

type checkCase struct {
	name   string
	id     string
	kwargs map[string]any
	resp   string
	want   bool
}

func kw(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func runCheckCases(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.id+"/"+c.name, func(t *testing.T) {
			got, err := Check(c.id, c.kwargs, "", c.resp)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got != c.want {
				t.Errorf("Check(%s, %v, %q) = %v, want %v", c.id, c.kwargs, c.resp, got, c.want)
			}
		})
	}
}

func TestKeywordCheckers(t *testing.T) {
	runCheckCases(t, []checkCase{
		{"all present any case", IDKeywordsExistence, kw("keywords", []any{"Apple", "banana"}), "I like APPLE pie and Banana bread.", true},
		{"one missing", IDKeywordsExistence, kw("keywords", []any{"apple", "cherry"}), "apple pie", false},
		{"substring counts", IDKeywordsExistence, kw("keywords", []any{"cat"}), "concatenate", true},
		{"freq at least met", IDKeywordsFrequency, kw("keyword", "the", "frequency", 3, "relation", "at least"), "The cat, the dog and THE bird.", true},
		{"freq at least unmet", IDKeywordsFrequency, kw("keyword", "dog", "frequency", 2, "relation", "at least"), "one dog", false},
		{"freq less than", IDKeywordsFrequency, kw("keyword", "dog", "frequency", 2, "relation", "less than"), "one dog", true},
		{"freq less than boundary", IDKeywordsFrequency, kw("keyword", "dog", "frequency", 2, "relation", "less than"), "dog dog", false},
		{"freq counts substrings", IDKeywordsFrequency, kw("keyword", " war ", "frequency", 1, "relation", "at least"), "warm award", true},
		{"forbidden absent", IDKeywordsForbiddenWords, kw("forbidden_words", []any{"rock", "roll"}), "Jazz is smooth.", true},
		{"forbidden present case-insensitive", IDKeywordsForbiddenWords, kw("forbidden_words", []any{"rock"}), "We ROCK.", false},
		{"forbidden needs word boundary", IDKeywordsForbiddenWords, kw("forbidden_words", []any{"rock"}), "rocky rocks bedrock", true},
		{"forbidden after punctuation", IDKeywordsForbiddenWords, kw("forbidden_words", []any{"rock"}), "(rock)", false},
		{"forbidden unicode boundary", IDKeywordsForbiddenWords, kw("forbidden_words", []any{"cafe"}), "cafeé", true},
		{"forbidden second occurrence bounded", IDKeywordsForbiddenWords, kw("forbidden_words", []any{"art"}), "party art", false},
		{"letter at least", IDKeywordsLetterFrequency, kw("letter", "a", "let_frequency", 3, "let_relation", "at least"), "A banana", true},
		{"letter less than", IDKeywordsLetterFrequency, kw("letter", "z", "let_frequency", 2, "let_relation", "less than"), "Zoo z", false},
		{"letter upper kwarg", IDKeywordsLetterFrequency, kw("letter", "Q", "let_frequency", 1, "let_relation", "at least"), "quiet", true},
	})
}

func TestLengthCheckers(t *testing.T) {
	runCheckCases(t, []checkCase{
		{"sentences less than", IDNumberSentences, kw("num_sentences", 3, "relation", "less than"), "One. Two.", true},
		{"sentences less than boundary", IDNumberSentences, kw("num_sentences", 2, "relation", "less than"), "One. Two.", false},
		{"sentences at least abbrev", IDNumberSentences, kw("num_sentences", 3, "relation", "at least"), "Dr. Smith came. He sat. Mr. Brown left.", true},
		{"sentences question marks", IDNumberSentences, kw("num_sentences", 3, "relation", "at least"), "Why? Because! Fine.", true},
		{"paragraphs exact", IDNumberParagraphs, kw("num_paragraphs", 3), "a\n***\nb\n***\nc", true},
		{"paragraphs wrong count", IDNumberParagraphs, kw("num_paragraphs", 2), "a\n***\nb\n***\nc", false},
		{"paragraphs leading and trailing dividers", IDNumberParagraphs, kw("num_paragraphs", 2), "***\na\n***\nb\n***", true},
		{"paragraphs empty middle fails", IDNumberParagraphs, kw("num_paragraphs", 2), "a\n***\n***\nb", false},
		{"paragraphs no divider", IDNumberParagraphs, kw("num_paragraphs", 1), "just text\n\nmore", true},
		{"words at least", IDNumberWords, kw("num_words", 5, "relation", "at least"), "one two, three-four five", true},
		{"words less than", IDNumberWords, kw("num_words", 5, "relation", "less than"), "one two three four five", false},
		{"words underscore digits", IDNumberWords, kw("num_words", 3, "relation", "at least"), "snake_case 42 x", true},
		{"nth first word", IDNthParagraphFirstWord, kw("num_paragraphs", 2, "nth_paragraph", 2, "first_word", "Second"), "First para.\n\n\"Second,\" he said.", true},
		{"nth wrong word", IDNthParagraphFirstWord, kw("num_paragraphs", 2, "nth_paragraph", 2, "first_word", "third"), "First para.\n\nSecond para.", false},
		{"nth wrong paragraph count", IDNthParagraphFirstWord, kw("num_paragraphs", 3, "nth_paragraph", 1, "first_word", "first"), "First para.\n\nSecond para.", false},
		{"nth blank paragraphs not counted", IDNthParagraphFirstWord, kw("num_paragraphs", 2, "nth_paragraph", 1, "first_word", "first"), "First.\n\n\n\nSecond.", true},
		{"nth index uses raw split", IDNthParagraphFirstWord, kw("num_paragraphs", 2, "nth_paragraph", 2, "first_word", "second"), "First.\n\n\n\nSecond.", false},
		{"nth punctuation stops word", IDNthParagraphFirstWord, kw("num_paragraphs", 1, "nth_paragraph", 1, "first_word", "hello"), "Hello, world", true},
	})
}

func TestContentAndFormatCheckers(t *testing.T) {
	runCheckCases(t, []checkCase{
		{"placeholders enough", IDNumberPlaceholders, kw("num_placeholders", 2), "Dear [name], at [address].", true},
		{"placeholders not enough", IDNumberPlaceholders, kw("num_placeholders", 3), "Dear [name], at [address].", false},
		{"placeholder spans no newline", IDNumberPlaceholders, kw("num_placeholders", 1), "[open\nclose]", false},
		{"postscript P.S.", IDPostscript, kw("postscript_marker", "P.S."), "Body.\n\nP.S. see you", true},
		{"postscript lowercase p.s.", IDPostscript, kw("postscript_marker", "P.S."), "body\np.s. bye", true},
		{"postscript missing", IDPostscript, kw("postscript_marker", "P.S."), "PS bye", false},
		{"postscript P.P.S spaced", IDPostscript, kw("postscript_marker", "P.P.S"), "x\nP. P. S. more", true},
		{"postscript custom marker", IDPostscript, kw("postscript_marker", "Note:"), "x\nNOTE: y", true},
		{"bullets star and dash", IDNumberBulletLists, kw("num_bullets", 3), "Intro\n* one\n* two\n- three", true},
		{"bullets bold not bullet", IDNumberBulletLists, kw("num_bullets", 1), "* one\n**bold**", true},
		{"bullets wrong count", IDNumberBulletLists, kw("num_bullets", 2), "* one\n* two\n* three", false},
		{"bullets indented", IDNumberBulletLists, kw("num_bullets", 2), "  * one\n\t- two", true},
		{"constrained yes", IDConstrainedResponse, nil, "Well.\nMy answer is yes.", true},
		{"constrained missing period", IDConstrainedResponse, nil, "My answer is yes", false},
		{"highlights single", IDNumberHighlightedSections, kw("num_highlights", 2), "*one* and *two*", true},
		{"highlights bold counts once", IDNumberHighlightedSections, kw("num_highlights", 1), "**bold**", true},
		{"highlights bold not twice", IDNumberHighlightedSections, kw("num_highlights", 2), "**bold**", false},
		{"highlights bold and single", IDNumberHighlightedSections, kw("num_highlights", 3), "**bold** *it*", false},
		{"highlights empty ignored", IDNumberHighlightedSections, kw("num_highlights", 1), "** ** and * *", false},
		{"highlights not across lines", IDNumberHighlightedSections, kw("num_highlights", 1), "*open\nclose*", false},
		{"sections enough", IDMultipleSections, kw("section_spliter", "Section", "num_sections", 2), "Section 1\nA\nSection 2\nB", true},
		{"sections too few", IDMultipleSections, kw("section_spliter", "SECTION", "num_sections", 3), "SECTION 1\nA\nSECTION 2\nB", false},
		{"sections case sensitive", IDMultipleSections, kw("section_spliter", "Section", "num_sections", 1), "SECTION 1", false},
		{"sections need number", IDMultipleSections, kw("section_spliter", "Part", "num_sections", 1), "Part one", false},
		{"json object", IDJSONFormat, nil, `{"a": [1, 2.5e3, null, true]}`, true},
		{"json fenced", IDJSONFormat, nil, "```json\n{\"a\": 1}\n```", true},
		{"json fenced upper", IDJSONFormat, nil, "```JSON\n[1]\n```", true},
		{"json trailing text", IDJSONFormat, nil, "{\"a\": 1} done", false},
		{"json python NaN", IDJSONFormat, nil, `{"a": NaN, "b": -Infinity}`, true},
		{"json single quotes", IDJSONFormat, nil, `{'a': 1}`, false},
		{"json leading zero", IDJSONFormat, nil, `[01]`, false},
		{"title", IDTitle, nil, "<<My Poem>>\nroses", true},
		{"title empty", IDTitle, nil, "<<  >>", false},
		{"title across lines", IDTitle, nil, "<<a\nb>>", false},
	})
}

func TestCombinationStartEndCaseCheckers(t *testing.T) {
	runCheckCases(t, []checkCase{
		{"two responses", IDTwoResponses, nil, "first\n******\nsecond", true},
		{"two responses identical", IDTwoResponses, nil, "same\n******\nsame ", false},
		{"two responses three parts", IDTwoResponses, nil, "a******b******c", false},
		{"two responses empty middle", IDTwoResponses, nil, "a******   ******b", false},
		{"two responses outer empties", IDTwoResponses, nil, "******a******b******", true},
		{"repeat prompt", IDRepeatPrompt, kw("prompt_to_repeat", "Write a poem."), "  write a POEM. Here it is.", true},
		{"repeat prompt changed", IDRepeatPrompt, kw("prompt_to_repeat", "Write a poem."), "Sure! Write a poem.", false},
		{"end phrase", IDEndChecker, kw("end_phrase", "Any other questions?"), "Done. any other questions?\n", true},
		{"end phrase quoted", IDEndChecker, kw("end_phrase", "Is there anything else I can help with?"), "\"Is there anything else I can help with?\"", true},
		{"end phrase followed", IDEndChecker, kw("end_phrase", "Any other questions?"), "Any other questions? Bye.", false},
		{"capital words at least", IDCapitalWordFrequency, kw("capital_frequency", 3, "capital_relation", "at least"), "I LOVE NASA and you.", true},
		{"capital words contraction split", IDCapitalWordFrequency, kw("capital_frequency", 2, "capital_relation", "at least"), "DON'T", true},
		{"capital words less than", IDCapitalWordFrequency, kw("capital_frequency", 2, "capital_relation", "less than"), "OK fine", true},
		{"capital words hyphen one token", IDCapitalWordFrequency, kw("capital_frequency", 2, "capital_relation", "at least"), "WELL-KNOWN fact", false},
		{"english capital", IDEnglishCapital, nil, "THIS IS A LONG ENGLISH SENTENCE ABOUT THE WEATHER TODAY.", true},
		{"english capital has lowercase", IDEnglishCapital, nil, "THIS IS Almost ALL CAPS.", false},
		{"english capital langdetect quirk", IDEnglishCapital, nil, "HELLO WORLD", false},
		{"english capital no features counts as followed", IDEnglishCapital, nil, "Ⓐ Ⓑ 123", true},
		{"english lowercase", IDEnglishLowercase, nil, "this response is entirely written in lowercase letters and it is in english.", true},
		{"english lowercase not english", IDEnglishLowercase, nil, "le renard brun rapide saute par-dessus le chien paresseux près de la rivière.", false},
		{"english lowercase capital", IDEnglishLowercase, nil, "this is English.", false},
		{"no comma", IDNoComma, nil, "No commas here.", true},
		{"comma", IDNoComma, nil, "One, two.", false},
		{"fullwidth comma allowed", IDNoComma, nil, "一，二", true},
		{"quotation", IDQuotation, nil, "  \"wrapped\"\n", true},
		{"quotation single char", IDQuotation, nil, "\"", false},
		{"quotation unwrapped", IDQuotation, nil, "\"open only", false},
		{"language fr", IDResponseLanguage, kw("language", "fr"), "Le renard brun rapide saute par-dessus le chien paresseux près de la rivière.", true},
		{"language wrong", IDResponseLanguage, kw("language", "de"), "Le renard brun rapide saute par-dessus le chien paresseux près de la rivière.", false},
		{"language undetectable counts as followed", IDResponseLanguage, kw("language", "ko"), "1. 2. 3.", true},
	})
}

func TestBlankResponseFailsStrictAndLoose(t *testing.T) {
	for _, id := range []string{IDNoComma, IDConstrainedResponse, IDJSONFormat, IDTitle} {
		for _, resp := range []string{"", "  \n\t "} {
			s, err := Check(id, nil, "", resp)
			if err != nil || s {
				t.Errorf("Check(%s, %q) = %v, %v; want false, nil", id, resp, s, err)
			}
			l, err := CheckLoose(id, nil, "", resp)
			if err != nil || l {
				t.Errorf("CheckLoose(%s, %q) = %v, %v; want false, nil", id, resp, l, err)
			}
		}
	}
}

func TestKwargsErrors(t *testing.T) {
	cases := []struct {
		id     string
		kwargs map[string]any
		want   string
	}{
		{"nope:unknown", nil, "unknown instruction id"},
		{IDNumberWords, kw("num_words", 10), "missing kwarg \"relation\""},
		{IDNumberWords, kw("num_words", 10.5, "relation", "at least"), "not an integer"},
		{IDNumberWords, kw("num_words", "10", "relation", "at least"), "want integer"},
		{IDNumberWords, kw("num_words", 10, "relation", "at most"), "want \"less than\" or \"at least\""},
		{IDNoComma, kw("language", "en"), "unexpected kwargs language"},
		{IDKeywordsExistence, kw("keywords", []any{}), "is empty"},
		{IDKeywordsExistence, kw("keywords", []any{"a", 3.0}), "want strings"},
		{IDKeywordsLetterFrequency, kw("letter", "ab", "let_frequency", 1, "let_relation", "at least"), "want one character"},
		{IDNthParagraphFirstWord, kw("num_paragraphs", 2, "nth_paragraph", 3, "first_word", "x"), "outside 1..num_paragraphs"},
		{IDKeywordsExistence, kw("keywords", []any{"(unclosed"}), "pattern"},
	}
	for _, c := range cases {
		_, err := Check(c.id, c.kwargs, "", "text")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%s, %v): err = %v, want containing %q", c.id, c.kwargs, err, c.want)
		}
	}
	// Null values (Hugging Face IFEval fills absent keys with null) are ignored.
	if _, err := Check(IDNoComma, kw("language", nil, "num_words", nil), "", "x"); err != nil {
		t.Errorf("null kwargs rejected: %v", err)
	}
}

func TestLooseVariants(t *testing.T) {
	got := LooseVariants("Sure!\n*a*, b\nThanks")
	want := []string{"Sure!\n*a*, b\nThanks", "Sure!\na, b\nThanks", "*a*, b\nThanks", "Sure!\n*a*, b", "*a*, b", "a, b\nThanks", "Sure!\na, b", "a, b"}
	if len(got) != len(want) {
		t.Fatalf("got %d variants, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("variant %d = %q, want %q", i, got[i], want[i])
		}
	}
	one := LooseVariants("single")
	if one[2] != "" || one[3] != "" || one[4] != "" {
		t.Errorf("single-line variants = %q", one)
	}
}

func TestEvaluateStrictLoose(t *testing.T) {
	rec := Record{
		Prompt:         "Answer in JSON without commas and end with 'Bye.'",
		Response:       "Here is the JSON:\n{\"a\": 1}\nBye.",
		InstructionIDs: []string{IDJSONFormat, IDNoComma, IDEndChecker, IDQuotation},
		Kwargs:         []map[string]any{{}, {}, {"end_phrase": "Bye."}, {}},
	}
	res := Evaluate(rec)
	wantS := []bool{false, true, true, false}
	wantL := []bool{true, true, true, false}
	for i := range wantS {
		if res.Strict[i] != wantS[i] || res.Loose[i] != wantL[i] {
			t.Errorf("instruction %s: strict %v loose %v, want %v %v", rec.InstructionIDs[i], res.Strict[i], res.Loose[i], wantS[i], wantL[i])
		}
	}
	if res.FollowAllStrict || res.FollowAllLoose || res.Failed {
		t.Errorf("follow_all = %v/%v failed=%v, want false/false/false", res.FollowAllStrict, res.FollowAllLoose, res.Failed)
	}
	rec.InstructionIDs = rec.InstructionIDs[:3]
	rec.Kwargs = rec.Kwargs[:3]
	res = Evaluate(rec)
	if res.FollowAllStrict || !res.FollowAllLoose {
		t.Errorf("follow_all strict/loose = %v/%v, want false/true", res.FollowAllStrict, res.FollowAllLoose)
	}
}

func TestEvaluateReportsBadInstructions(t *testing.T) {
	res := Evaluate(Record{
		Response:       "fine",
		InstructionIDs: []string{IDNoComma, "made:up", IDNumberWords},
		Kwargs:         []map[string]any{{}, {}, {"num_words": 1}},
	})
	if !res.Failed || len(res.Errors) != 3 {
		t.Fatalf("Failed=%v Errors=%q", res.Failed, res.Errors)
	}
	if res.Errors[0] != "" || !strings.Contains(res.Errors[1], "made:up") || !strings.Contains(res.Errors[2], "relation") {
		t.Errorf("errors = %q", res.Errors)
	}
	if !res.Strict[0] || res.Strict[1] || res.Strict[2] || res.FollowAllStrict {
		t.Errorf("strict = %v follow_all=%v", res.Strict, res.FollowAllStrict)
	}
	// More kwargs than instructions is reported, not ignored.
	res = Evaluate(Record{Response: "x", InstructionIDs: []string{IDNoComma}, Kwargs: []map[string]any{{}, {}}})
	if !res.Failed || !strings.Contains(res.Errors[0], "2 kwargs entries") {
		t.Errorf("extra kwargs: %+v", res)
	}
}

func TestLanguageSuffixedID(t *testing.T) {
	ok, err := Check("language:response_language_fr", kw("language", "fr"), "", "Le renard brun rapide saute par-dessus le chien paresseux près de la rivière.")
	if err != nil || !ok {
		t.Errorf("suffixed id: %v, %v", ok, err)
	}
}

func TestInstructionIDs(t *testing.T) {
	ids := InstructionIDs()
	if len(ids) != 25 {
		t.Fatalf("%d ids, want 25: %v", len(ids), ids)
	}
	for _, id := range ids {
		if _, ok := registry[id]; !ok {
			t.Errorf("%s not registered", id)
		}
	}
}

func TestCheckSentenceCount(t *testing.T) {
	cases := []struct {
		resp, rel string
		n         int
		want      bool
	}{
		{"One. Two. Three.", RelAtMost, 3, true},
		{"One. Two. Three.", RelAtMost, 2, false},
		{"One. Two. Three.", RelAtLeast, 4, false},
		{"One. Two. Three.", RelExactly, 3, true},
		{"", RelAtMost, 1, true},
		{"Mr. Smith went home. He slept.", RelExactly, 2, true},
	}
	for _, c := range cases {
		got, err := CheckSentenceCount(c.resp, c.rel, c.n)
		if err != nil || got != c.want {
			t.Errorf("CheckSentenceCount(%q, %s, %d) = %v, %v; want %v", c.resp, c.rel, c.n, got, err, c.want)
		}
	}
	if _, err := CheckSentenceCount("x", "about", 1); err == nil {
		t.Error("bad relation accepted")
	}
	ok, err := Check(LengthSentencesID, kw("relation", "exactly", "num_sentences", 2), "", "A. B.")
	if err != nil || !ok {
		t.Errorf("LengthSentencesID: %v %v", ok, err)
	}
	if ok, _ := Check(LengthSentencesID, kw("relation", "at most", "num_sentences", 2), "", "  "); ok {
		t.Error("blank response passed strict length check")
	}
}

func TestEvaluateAllKeepsOrder(t *testing.T) {
	recs := benchRecords(t, 60)
	seq := EvaluateAll(recs, 1)
	par := EvaluateAll(recs, 3)
	for i := range recs {
		if seq[i].Strict[0] != par[i].Strict[0] || seq[i].Loose[0] != par[i].Loose[0] {
			t.Errorf("record %d: sequential %+v, parallel %+v", i, seq[i], par[i])
		}
	}
}
