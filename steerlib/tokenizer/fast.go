package tokenizer

// fastMatcherFor returns a hand-written matcher equivalent to the regular
// expression expr, or nil when there is none.
func fastMatcherFor(expr string) matcher { return nil }
