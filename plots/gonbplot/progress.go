package gonbplot

import (
	"fmt"
	"html"
	"io"
	"time"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/gosteer/gosteer/steerlib/progress"
)

// HTMLProgress returns a progress display that renders an HTML bar
//
//	<progress value=done max=total> label done/total  pct rate ETA elapsed
//
// and hands it to update, at most every 250 ms.
func HTMLProgress(update func(html string)) *progress.Display {
	return progress.New(250*time.Millisecond, func(s progress.State, _ bool) {
		update(progressHTML(s))
	})
}

// progressHTML renders s as an HTML progress bar (max 1 when the total is
// unknown).
func progressHTML(s progress.State) string {
	top := s.Total
	if top <= 0 {
		top = 1
	}
	return fmt.Sprintf(`<div style="font-family:monospace"><progress value="%d" max="%d" style="width:40%%"></progress> %s</div>`,
		min(s.Done, top), top, html.EscapeString(s.Line()))
}

// Progress returns an HTML progress bar that updates one output block of the
// current notebook cell.
func Progress() *progress.Display {
	id := "gosteer_progress_" + gonbui.UniqueID()
	return HTMLProgress(func(h string) { gonbui.UpdateHTML(id, h) })
}

// AutoProgress returns Progress in a notebook and progress.Terminal(w)
// elsewhere.
func AutoProgress(w io.Writer) progress.Reporter {
	if gonbui.IsNotebook {
		return Progress()
	}
	return progress.Terminal(w)
}
