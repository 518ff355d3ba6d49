package ifeval

import "fmt"

// Relations of the paper's length task.
const (
	RelAtMost  = "at most"
	RelAtLeast = "at least"
	RelExactly = "exactly"
)

// CheckSentenceCount is the paper's length task: whether the response has at
// most / at least / exactly n sentences, counted with NLTK's sent_tokenize
// (here Punkt with English parameters). A blank response has 0 sentences.
func CheckSentenceCount(response, relation string, n int) (bool, error) {
	c, err := CountSentences(response)
	if err != nil {
		return false, err
	}
	switch relation {
	case RelAtMost:
		return c <= n, nil
	case RelAtLeast:
		return c >= n, nil
	case RelExactly:
		return c == n, nil
	}
	return false, fmt.Errorf("length task: relation %q, want %q, %q or %q", relation, RelAtMost, RelAtLeast, RelExactly)
}

func buildLengthSentences(k *kwargs, _ string) (checker, error) {
	n, err := k.int("num_sentences")
	if err != nil {
		return nil, err
	}
	rel, err := k.str("relation")
	if err != nil {
		return nil, err
	}
	if rel != RelAtMost && rel != RelAtLeast && rel != RelExactly {
		return nil, k.errf("kwarg \"relation\" = %q, want %q, %q or %q", rel, RelAtMost, RelAtLeast, RelExactly)
	}
	return func(v string) (bool, error) { return CheckSentenceCount(v, rel, n) }, nil
}
