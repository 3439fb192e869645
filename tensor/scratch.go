package tensor

import (
	"math/bits"

	"golang.org/x/exp/constraints"
)

// Scratch memory for the fast convolutions. One Winograd convolution of
// 256 channels on 64×64 needs about 25 MiB of transformed weights, tiles
// and products; allocating them afresh costs the zeroing of new memory and,
// after the garbage collector has returned pages to the OS, a page fault
// per 4 KiB. On the benchmark convolution that was 15–20% of the time, so
// the buffers are recycled through the free lists of storage.go, one per
// power-of-two length and element type. A buffer taken from one has
// arbitrary contents (every user overwrites what it reads).

// getScratch returns a slice of n elements with arbitrary contents. Give it
// back with putScratch when done. Lengths are rounded up to powers of two
// so that a few free lists serve every size.
func getScratch[T constraints.Float](n int) []T {
	if n == 0 {
		return nil
	}
	c := bits.Len(uint(n - 1)) // smallest c with 2^c ≥ n
	return freeFor[T]().get(1 << c)[:n]
}

// putScratch returns a slice from getScratch to its free list.
func putScratch[T constraints.Float](s []T) {
	c := bits.Len(uint(cap(s))) - 1
	if cap(s) == 0 || cap(s) != 1<<c {
		return // not from getScratch
	}
	freeFor[T]().put(s[:cap(s)])
}
