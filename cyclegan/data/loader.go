package data

import (
	"github.com/camcycle/camcycle/tensor"
)

// Loader delivers the batches of an epoch, stacked, in order. With
// workers > 0 it reads and transforms the images of the coming batches in
// that many goroutines while the caller trains on the current one (the
// reference's DataLoader with num_workers); with 0 it reads each batch when
// it is asked for. The images are a pure function of the pairs, so the
// number of workers changes nothing but the time. Close it when done.
type Loader struct {
	u       *Unaligned
	batches [][]Pair
	next    int
	// With workers: one future per pair, in order; ahead bounds how many
	// pairs are loaded or loading but not yet taken, work how many load at
	// once.
	futures []chan loaded
	taken   int
	ahead   chan struct{}
	done    chan struct{}
}

type loaded struct {
	a, b *tensor.Tensor
	err  error
}

// Loader returns a loader of batches with workers goroutines.
func (u *Unaligned) Loader(batches [][]Pair, workers int) *Loader {
	l := &Loader{u: u, batches: batches}
	if workers < 1 {
		return l
	}
	var pairs []Pair
	size := 1
	for _, b := range batches {
		pairs = append(pairs, b...)
		size = max(size, len(b))
	}
	l.futures = make([]chan loaded, len(pairs))
	for i := range l.futures {
		l.futures[i] = make(chan loaded, 1)
	}
	// Two batches ahead, as the reference's DataLoader prefetches, and at
	// least one pair per worker.
	l.ahead = make(chan struct{}, max(workers, 2*size))
	l.done = make(chan struct{})
	work := make(chan struct{}, workers)
	go func() {
		for i, p := range pairs {
			select {
			case l.ahead <- struct{}{}:
			case <-l.done:
				return
			}
			go func() {
				work <- struct{}{}
				defer func() { <-work }()
				var r loaded
				r.a, r.b, r.err = u.Load(p)
				l.futures[i] <- r
			}()
		}
	}()
	return l
}

// Next returns the next batch's images (N, 3, H, W); ok is false after the
// last batch. Errors name the file.
func (l *Loader) Next() (a, b *tensor.Tensor, ok bool, err error) {
	if l.next >= len(l.batches) {
		return nil, nil, false, nil
	}
	batch := l.batches[l.next]
	l.next++
	as, bs := make([]*tensor.Tensor, len(batch)), make([]*tensor.Tensor, len(batch))
	for i, p := range batch {
		if l.futures == nil {
			as[i], bs[i], err = l.u.Load(p)
		} else {
			r := <-l.futures[l.taken]
			l.taken++
			<-l.ahead
			as[i], bs[i], err = r.a, r.b, r.err
		}
		if err != nil {
			return nil, nil, true, err
		}
	}
	if a, err = Stack(as); err != nil {
		return nil, nil, true, err
	}
	if b, err = Stack(bs); err != nil {
		return nil, nil, true, err
	}
	return a, b, true, nil
}

// Close stops loading ahead; loads under way finish in the background.
func (l *Loader) Close() {
	if l.done != nil {
		close(l.done)
		l.done = nil
	}
}
