package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress is the progress bar of an epoch on stderr (it/s and ETA), drawn
// only when stderr is a terminal and -quiet is not given.
type progress struct {
	w   io.Writer
	on  bool
	bar *progressbar.ProgressBar
}

func newProgress(stderr io.Writer, quiet bool) *progress {
	f, ok := stderr.(*os.File)
	return &progress{w: stderr, on: !quiet && ok && term.IsTerminal(int(f.Fd()))}
}

// start begins a bar of total iterations of which done are already behind
// (a resumed epoch: the bar counts the rest).
func (p *progress) start(desc string, total, done int) {
	p.finish()
	if !p.on {
		return
	}
	if done > 0 {
		desc = fmt.Sprintf("%s (resumed at %d)", desc, done)
	}
	p.bar = progressbar.NewOptions(total-done,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("it"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish())
}

func (p *progress) add() {
	if p.bar != nil {
		p.bar.Add(1)
	}
}

// finish removes the bar, if any, so that the next line prints cleanly.
func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}
