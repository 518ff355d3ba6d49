package langdetect

import (
	"math"
	"testing"
)

// Values printed by CPython 3.11's random module.
func TestPyRandomMatchesCPython(t *testing.T) {
	var r pyRandom
	r.seed(0)
	for i, want := range []float64{0.8444218515250481, 0.7579544029403025, 0.420571580830845} {
		if got := r.random(); got != want {
			t.Errorf("random() #%d = %v, want %v", i, got, want)
		}
	}
	r.seed(0)
	for i, want := range []float64{0.9417154046806644, -1.3965781047011498, -0.6797144480784211} {
		if got := r.gauss(); math.Abs(got-want) > 1e-15 {
			t.Errorf("gauss() #%d = %v, want %v", i, got, want)
		}
	}
	r.seed(12345678901)
	for i, c := range []struct{ n, want int }{{1, 0}, {2, 1}, {7, 2}, {1000, 551}, {123457, 92493}} {
		if got := r.below(c.n); got != c.want {
			t.Errorf("_randbelow(%d) #%d = %d, want %d", c.n, i, got, c.want)
		}
	}
}

func TestDetect(t *testing.T) {
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m.Languages()); n != 55 {
		t.Errorf("%d languages, want 55", n)
	}
	cases := []struct{ text, want string }{
		{"The quick brown fox jumps over the lazy dog near the river bank.", "en"},
		{"Der schnelle braune Fuchs springt über den faulen Hund am Flussufer.", "de"},
		{"素早い茶色の狐が川のそばで怠けた犬を飛び越える。", "ja"},
		{"빠른 갈색 여우가 강가에서 게으른 개를 뛰어넘는다.", "ko"},
		// Capital words contribute only their first letter: langdetect's quirk.
		{"HELLO WORLD", "so"},
	}
	for _, c := range cases {
		got, err := m.Detect(c.text, 0)
		if err != nil || got != c.want {
			t.Errorf("Detect(%q) = %q, %v; want %q", c.text, got, err, c.want)
		}
	}
	for _, text := range []string{"", "1234 !!! ...", "https://example.com/a/b someone@example.org"} {
		if got, err := m.Detect(text, 0); err != ErrNoFeatures {
			t.Errorf("Detect(%q) = %q, %v; want ErrNoFeatures", text, got, err)
		}
	}
}

func TestReplaceURLs(t *testing.T) {
	if got := replaceURLs("see http://a.b/c?d=1 now"); got != "see   now" {
		t.Errorf("got %q", got)
	}
	long := "http://" + string(make([]byte, 0)) + repeat("a", 2100)
	got := replaceURLs(long)
	if got != " "+repeat("a", 2100-urlMaxRun) {
		t.Errorf("long URL: got %d bytes", len(got))
	}
}

func repeat(s string, n int) string {
	out := make([]byte, 0, n*len(s))
	for i := 0; i < n; i++ {
		out = append(out, s...)
	}
	return string(out)
}
