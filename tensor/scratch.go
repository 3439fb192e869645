package tensor

import (
	"math/bits"
	"sync"
)

// Scratch memory for the fast convolutions. One Winograd convolution of
// 256 channels on 64×64 needs about 25 MiB of transformed weights, tiles
// and products; allocating them afresh costs the zeroing of new memory and,
// after the garbage collector has returned pages to the OS, a page fault
// per 4 KiB. On the benchmark convolution that was 15–20% of the time, so
// the buffers are recycled through sync.Pools, one per power-of-two size
// and element type. Pools hold no state anyone can observe: a buffer taken
// from one has arbitrary contents (every user overwrites what it reads) and
// the runtime may drop pooled buffers at any garbage collection.

// scratchPools[c] holds buffers of exactly 2^c elements.
type scratchPools [48]sync.Pool

var (
	scratch32 scratchPools
	scratch64 scratchPools
)

func poolsFor[T float]() *scratchPools {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return &scratch32
	}
	return &scratch64
}

// getScratch returns a slice of n elements with arbitrary contents. Give it
// back with putScratch when done.
func getScratch[T float](n int) []T {
	if n == 0 {
		return nil
	}
	c := bits.Len(uint(n - 1)) // smallest c with 2^c ≥ n
	if p, ok := poolsFor[T]()[c].Get().(*[]T); ok {
		return (*p)[:n]
	}
	return make([]T, n, 1<<c)
}

// putScratch returns a slice from getScratch to its pool.
func putScratch[T float](s []T) {
	c := bits.Len(uint(cap(s))) - 1
	if cap(s) == 0 || cap(s) != 1<<c {
		return // not from getScratch
	}
	s = s[:cap(s)]
	poolsFor[T]()[c].Put(&s)
}
