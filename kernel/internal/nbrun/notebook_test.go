package nbrun

import (
	"reflect"
	"strings"
	"testing"
)

// nb builds a notebook document with one code cell per outputs JSON list.
func nb(cellOutputs ...string) []byte {
	var cells []string
	for _, o := range cellOutputs {
		cells = append(cells, `{"cell_type":"code","execution_count":1,"metadata":{},"source":["x := 1\n","_ = x"],"outputs":`+o+`}`)
	}
	return []byte(`{"nbformat":4,"nbformat_minor":5,"metadata":{"kernelspec":{"name":"gonb"}},"cells":[` +
		`{"cell_type":"markdown","metadata":{},"source":"# title"},` + strings.Join(cells, ",") + `]}`)
}

func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		doc  []byte
		want []Problem
	}{
		{"clean", nb(`[{"output_type":"stream","name":"stdout","text":"hello\n"}]`,
			`[{"output_type":"display_data","metadata":{},"data":{"text/html":"<table></table>"}}]`), nil},
		{"no outputs", nb(`[]`), nil},
		{"panic exit status on stderr (GoNB)", nb(`[]`,
			`[{"output_type":"stream","name":"stderr","text":["panic: boom\n","\n","goroutine 1 [running]:\n","main.main()\n","exit status 2\n"]}]`),
			[]Problem{{Cell: 3, Kind: "exit status", Detail: "exit status 2"}}},
		{"shell command failure", nb(`[{"output_type":"stream","name":"stderr","text":"go: no such tool\nexit status 1"}]`),
			[]Problem{{Cell: 2, Kind: "exit status", Detail: "exit status 1"}}},
		{"exit status on stdout is not a failure", nb(`[{"output_type":"stream","name":"stdout","text":"the doc says exit status 2\n"}]`), nil},
		{"unrelated stderr", nb(`[{"output_type":"stream","name":"stderr","text":"warning: slow\nexit statuses are listed below\n"}]`), nil},
		{"error output (compile error)", nb(`[{"output_type":"error","ename":"ERROR","evalue":"failed to run \"/usr/local/go/bin/go build\": exit status 1\nmain.go:3: undefined: y","traceback":["main.go:3: undefined: y"]}]`),
			[]Problem{{Cell: 2, Kind: "error output", Detail: `ERROR: failed to run "/usr/local/go/bin/go build": exit status 1 …`}}},
		{"error output without name", nb(`[{"output_type":"error","ename":"","evalue":"interrupted","traceback":[]}]`),
			[]Problem{{Cell: 2, Kind: "error output", Detail: "interrupted"}}},
		{"several", nb(`[{"output_type":"error","ename":"E","evalue":"v","traceback":[]}]`,
			`[{"output_type":"stream","name":"stderr","text":"exit status 3\n"},{"output_type":"stream","name":"stderr","text":"exit status 4\n"}]`),
			[]Problem{{Cell: 2, Kind: "error output", Detail: "E: v"}, {Cell: 3, Kind: "exit status", Detail: "exit status 3"}, {Cell: 3, Kind: "exit status", Detail: "exit status 4"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Parse(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.Problems(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Problems() = %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, doc := range []string{`not json`, `{"cells":[{"cell_type":"code","source":7}]}`} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("Parse(%q): want error", doc)
		}
	}
}

func TestOutputsAndSummary(t *testing.T) {
	n, err := Parse(nb(
		`[{"output_type":"display_data","metadata":{},"data":{"text/html":["<table>","<tr><td>go</td></tr></table>"]}},`+
			`{"output_type":"stream","name":"stdout","text":"x"}]`,
		`[{"output_type":"display_data","metadata":{},"data":{"text/html":"<div><svg></svg></div>"}},`+
			`{"output_type":"execute_result","execution_count":2,"metadata":{},"data":{"text/plain":"3","image/png":"iVBORw0KGgo="}}]`))
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := map[string]int{"text/html": 2, "text/plain": 1, "image/png": 1}
	if got := n.MIMECounts(); !reflect.DeepEqual(got, wantCounts) {
		t.Errorf("MIMECounts() = %v, want %v", got, wantCounts)
	}
	wantHTML := []string{"<table><tr><td>go</td></tr></table>", "<div><svg></svg></div>"}
	if got := n.OutputsOf("text/html"); !reflect.DeepEqual(got, wantHTML) {
		t.Errorf("OutputsOf(text/html) = %q, want %q", got, wantHTML)
	}
	wantSummary := "2 code cells, 4 outputs (image/png: 1, text/html: 2, text/plain: 1)"
	if got := n.Summary(); got != wantSummary {
		t.Errorf("Summary() = %q, want %q", got, wantSummary)
	}
}

// testdata/executed_compile_error.ipynb is a notebook executed by GoNB
// v0.11.3 whose first cell does not compile.
func TestCompileErrorContext(t *testing.T) {
	n, err := ReadFile("testdata/executed_compile_error.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	ps := n.Problems()
	if len(ps) != 1 || ps[0].Cell != 1 || ps[0].Kind != "error output" {
		t.Fatalf("Problems() = %+v, want one error output in cell 1", ps)
	}
	want := "Cell[1]: Line 2\n./main.go:10:13: cannot use \"not an int\" (untyped string constant) as int value in variable declaration"
	if ps[0].Context != want {
		t.Errorf("Context = %q\nwant %q", ps[0].Context, want)
	}
}

func TestRemoveDivs(t *testing.T) {
	const open = `<div class="x">`
	tests := []struct{ in, want string }{
		{`a<div class="x">b<div>c</div>d</div>e`, "ae"},
		{`a<div class="x">b</div>c<div class="x">d</div>e`, "ace"},
		{`a<div class="y">b</div>`, `a<div class="y">b</div>`},
		{`a<div class="x">unclosed<div>`, "a"},
	}
	for _, tc := range tests {
		if got := removeDivs(tc.in, open); got != tc.want {
			t.Errorf("removeDivs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
