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
	// The bar being drawn, for pause and resume.
	desc  string
	total int
}

func newProgress(stderr io.Writer, quiet bool) *progress {
	f, ok := stderr.(*os.File)
	return &progress{w: stderr, on: !quiet && ok && term.IsTerminal(int(f.Fd()))}
}

// start begins a bar of total iterations of which done are already behind
// (a resumed epoch: the bar counts the rest).
func (p *progress) start(desc string, total, done int) {
	p.desc, p.total = desc, total
	if done > 0 {
		desc = fmt.Sprintf("%s (resumed at %d)", desc, done)
	}
	p.draw(desc, total-done)
}

// pause takes the bar down, so that lines can be printed; resume draws it
// again at done of its total.
func (p *progress) pause() { p.finish() }

func (p *progress) resume(done int) {
	if p.total > done {
		p.draw(fmt.Sprintf("%s (from %d)", p.desc, done), p.total-done)
	}
}

// draw begins a bar of n steps.
func (p *progress) draw(desc string, n int) {
	p.finish()
	if !p.on {
		return
	}
	p.bar = progressbar.NewOptions(n,
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
