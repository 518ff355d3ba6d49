package pystr

import "testing"

func TestCasePredicates(t *testing.T) {
	cases := []struct {
		s            string
		upper, lower bool
	}{
		{"HELLO WORLD 123!", true, false},
		{"hello world 123!", false, true},
		{"Hello", false, false},
		{"123 !?", false, false},
		{"", false, false},
		{"ÉCOLE", true, false},
		{"ǅ", false, false}, // titlecase letter
		{"Ⓐ", true, false},  // Other_Uppercase
		{"ª", false, true},  // Other_Lowercase
		{"日本", false, false},
	}
	for _, c := range cases {
		if IsUpper(c.s) != c.upper || IsLower(c.s) != c.lower {
			t.Errorf("%q: IsUpper=%v IsLower=%v, want %v %v", c.s, IsUpper(c.s), IsLower(c.s), c.upper, c.lower)
		}
	}
}

func TestSpaceWordStrip(t *testing.T) {
	if !IsSpace('\u00a0') || !IsSpace('\u2003') || !IsSpace('\x1c') || IsSpace('\u200b') || IsSpace('x') {
		t.Error("IsSpace")
	}
	if !IsWord('é') || !IsWord('_') || !IsWord('٣') || IsWord('-') || IsWord('\u0301') {
		t.Error("IsWord")
	}
	if got := Strip("\u3000 hi\u00a0\n"); got != "hi" {
		t.Errorf("Strip = %q", got)
	}
	if !IsBlank(" \t\u2028") || IsBlank(" a ") {
		t.Error("IsBlank")
	}
}

func TestWordBoundary(t *testing.T) {
	s := "a café-b" // byte offsets: é is bytes 5-6, '-' is 7, 'b' is 8
	for i, want := range map[int]bool{0: true, 1: true, 2: true, 4: false, 7: true, 8: true, 9: true} {
		if got := WordBoundary(s, i); got != want {
			t.Errorf("WordBoundary(%q, %d) = %v, want %v", s, i, got, want)
		}
	}
}

func TestLower(t *testing.T) {
	cases := map[string]string{
		"HeLLo":    "hello",
		"İstanbul": "i\u0307stanbul",
		"ΟΔΟΣ":     "οδος",
		"ΣΑ":       "σα",
		"Σ":        "σ",
	}
	for in, want := range cases {
		if got := Lower(in); got != want {
			t.Errorf("Lower(%q) = %q, want %q", in, got, want)
		}
	}
}
