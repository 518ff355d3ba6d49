package paper

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/gosteer/gosteer/steerlib/tinyif"
)

func TestScratchFormat(t *testing.T) {
	dir, err := tinyif.EmbeddedModelDir()
	if err != nil {
		t.Fatal(err)
	}
	l, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	out := "/tmp/paperx/format"
	j, err := OpenJournal(out, Shard{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEnv(l, EnvOptions{PPL: l, MaxNewTokens: 48, BatchSize: 32, Journal: j, Progress: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep, err := e.Format(context.Background(), Options{Out: out, Data: Embedded{}, N: 4, ValN: 4, PairsN: 16, LengthLayer: -1, RelativeScreen: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Write(out); err != nil {
		t.Fatal(err)
	}
	t.Log(time.Since(start))
}
