package gonbplot

import (
	"strings"
	"testing"
	"time"
)

func TestHTMLProgress(t *testing.T) {
	now := time.Unix(1000, 0)
	var last string
	hp := HTMLProgress(func(h string) { last = h })
	hp.Now = func() time.Time { return now }
	hp.Start("<pairs>", 8)
	now = now.Add(time.Second)
	hp.Set(4)
	if !strings.Contains(last, `value="4" max="8"`) || !strings.Contains(last, "&lt;pairs&gt;") {
		t.Fatalf("html: %s", last)
	}
	hp.Start("n", 0)
	if !strings.Contains(last, `value="0" max="1"`) {
		t.Fatalf("html with unknown total: %s", last)
	}
	hp.Set(9) // within 250 ms of Start: rate limited
	if strings.Contains(last, `value="9"`) {
		t.Fatalf("update not rate limited: %s", last)
	}
}
