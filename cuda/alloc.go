package cuda

import (
	"fmt"
	"math/bits"
	"sync"
)

// The caching device allocator, in plain Go so that its bookkeeping is
// tested without a GPU (alloc_test.go gives it a fake RawMemory). Freed
// blocks go onto a free list of their size class and are handed out again;
// the device's own free (cuMemFree, which synchronises the device) runs
// only in Trim, when an allocation failed or the backend is told to give
// memory back, never in the hot path. Put is plain Go under a mutex, so a
// finaliser may call it: no CUDA call is made from a finaliser.
//
// Reusing a block is safe without events because the backend runs every
// kernel and copy on one stream: a kernel that reads a block freed while
// earlier work on it is still queued runs after that work.

// RawMemory is the device's allocator: cuMemAlloc and cuMemFree on the
// GPU, a fake in the tests.
type RawMemory interface {
	Alloc(bytes int) (uintptr, error)
	Free(ptr uintptr) error
}

// minClass is the smallest block: every request is rounded up to at least
// this many bytes (and so every block is aligned for any element type).
const minClass = 512

// SizeClass returns the size of the block that serves a request of n
// bytes: a power of two, or 1¼, 1½ or 1¾ times one, at least minClass, so
// that a block wastes at most a fifth of itself.
func SizeClass(n int) int {
	if n <= minClass {
		return minClass
	}
	// 2^e ≤ n−1 < 2^(e+1); steps of 2^(e−2) within the octave.
	e := bits.Len(uint(n-1)) - 1
	step := 1 << (e - 2)
	return (n + step - 1) / step * step
}

// AllocStats counts the allocator's blocks and calls.
type AllocStats struct {
	InUse, Cached int // bytes in blocks handed out, and on the free lists
	Peak          int // largest InUse + Cached so far: the device memory reserved (PyTorch's max_memory_reserved)
	PeakInUse     int // largest InUse so far (PyTorch's max_memory_allocated)
	Hits, Misses  int // Gets served from a free list, and by RawMemory
	Trims         int // calls of Trim that freed something
}

// Allocator is the caching allocator over a RawMemory.
type Allocator struct {
	mu    sync.Mutex
	raw   RawMemory
	free  map[int][]uintptr // size class → blocks
	stats AllocStats
}

// NewAllocator returns an allocator with empty free lists.
func NewAllocator(raw RawMemory) *Allocator {
	return &Allocator{raw: raw, free: map[int][]uintptr{}}
}

// Get returns a block of at least n bytes and its size class (to give
// back to Put). On a miss it asks RawMemory; if that fails it frees the
// cached blocks (Trim) and asks once more.
func (a *Allocator) Get(n int) (ptr uintptr, class int, err error) {
	class = SizeClass(n)
	a.mu.Lock()
	if l := a.free[class]; len(l) > 0 {
		ptr = l[len(l)-1]
		a.free[class] = l[:len(l)-1]
		a.stats.Cached -= class
		a.stats.InUse += class
		a.stats.Hits++
		a.stats.PeakInUse = max(a.stats.PeakInUse, a.stats.InUse)
		a.mu.Unlock()
		return ptr, class, nil
	}
	a.mu.Unlock()
	ptr, err = a.raw.Alloc(class)
	if err != nil {
		if terr := a.Trim(); terr != nil {
			return 0, 0, fmt.Errorf("cuda: allocating %d bytes: %v (and freeing the cache: %v)", class, err, terr)
		}
		ptr, err = a.raw.Alloc(class)
		if err != nil {
			return 0, 0, fmt.Errorf("cuda: allocating %d bytes: %w", class, err)
		}
	}
	a.mu.Lock()
	a.stats.InUse += class
	a.stats.Misses++
	a.stats.PeakInUse = max(a.stats.PeakInUse, a.stats.InUse)
	a.stats.Peak = max(a.stats.Peak, a.stats.InUse+a.stats.Cached)
	a.mu.Unlock()
	return ptr, class, nil
}

// Put returns a block got from Get to its free list. It makes no device
// call, so finalisers may call it.
func (a *Allocator) Put(ptr uintptr, class int) {
	a.mu.Lock()
	a.free[class] = append(a.free[class], ptr)
	a.stats.InUse -= class
	a.stats.Cached += class
	a.mu.Unlock()
}

// Trim frees every cached block with RawMemory. It is called on the thread
// that owns the device context.
func (a *Allocator) Trim() error {
	a.mu.Lock()
	free := a.free
	a.free = map[int][]uintptr{}
	cached := a.stats.Cached
	a.stats.Cached = 0
	if cached > 0 {
		a.stats.Trims++
	}
	a.mu.Unlock()
	var first error
	for _, l := range free {
		for _, p := range l {
			if err := a.raw.Free(p); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// Stats returns the counters.
func (a *Allocator) Stats() AllocStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}
