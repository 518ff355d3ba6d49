// Package fuzzpass holds no library code: its test runs every fuzz target of
// the module (each FuzzXxx in a *_fuzz_test.go file) for a few seconds, so
// that the plain test-suite command (`go test ./...`, what .ci/run runs)
// includes a short fuzz pass on top of the targets' seed corpora.
//
// Long runs are done by hand, one target at a time:
//
//	go test -run='^$' -fuzz='^FuzzParse$' -fuzztime=10m -parallel 1 ./steerlib/safetensors
//
// and what they find is committed under the package's testdata/fuzz/FuzzXxx/
// (go test then replays it as a regression test).
package fuzzpass
