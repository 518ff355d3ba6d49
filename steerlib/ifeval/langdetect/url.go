package langdetect

import "regexp"

// mailRe mirrors langdetect's e-mail pattern.
var mailRe = regexp.MustCompile(`[-_.0-9A-Za-z]{1,64}@[-_0-9A-Za-z]{1,255}[-_.0-9A-Za-z]{1,255}`)

var urlRe = regexp.MustCompile(`https?://[-_.?&~;+=/#0-9A-Za-z]+`)

// replaceURLs mirrors re.sub(r'https?://[-_.?&~;+=/#0-9A-Za-z]{1,2076}', ' ')
// (Go's regexp caps counted repetition at 1000, so the cap is applied here).
func replaceURLs(s string) string {
	locs := urlRe.FindAllStringIndex(s, -1)
	if locs == nil {
		return s
	}
	out := make([]byte, 0, len(s))
	prev := 0
	for _, l := range locs {
		start, end := l[0], l[1]
		prefix := 7 // "http://"
		if s[start+4] == 's' {
			prefix = 8
		}
		if end-start-prefix > urlMaxRun {
			end = start + prefix + urlMaxRun
		}
		out = append(out, s[prev:start]...)
		out = append(out, ' ')
		prev = end
	}
	out = append(out, s[prev:]...)
	return string(out)
}
