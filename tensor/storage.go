package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/exp/constraints"
)

// Recycled memory for the results of CPU primitives and for the scratch
// of the fast kernels.
//
// A CycleGAN training step at 256×256 makes about 8 GB of tensors, most of
// them a few MiB, in the same few dozen shapes every step. Left to the
// garbage collector, each new tensor is fresh heap memory: Go zeroes it (a
// second of single-core memclr per step) and, whenever the heap has grown
// or given pages back to the OS, the kernel faults it in page by page
// (4 KiB at a time, at several microseconds each on a virtual machine).
// Measured on the full step: 9–12 s with fresh memory, 6 s recycled.
// PyTorch avoids both costs by freeing a tensor the moment its reference
// count drops and letting malloc hand the same memory to the next tensor
// of that size.
//
// Tensors here are values that nobody frees explicitly, so the recycling
// rides on the garbage collector instead: every large tensor a CPU
// primitive makes holds its memory through a small storage object, shared
// by its Reshape views, and runtime.AddCleanup has the runtime call
// putBuffer with the memory once that object is unreachable, which happens
// exactly when no tensor or view of it is left. putBuffer puts the memory
// on a free list of its exact length, and the next primitive that needs a
// result of that length takes it from there without zeroing it: the
// kernels that write every element of their result (elementwise, movement,
// normalisation, Adam) take it as it is (newUninit), the others clear it
// (newLike). The scratch buffers of the kernels (scratch.go) use the same
// free lists, given back explicitly.
//
// This holds nothing anyone can observe: a buffer is handed out again only
// after the last tensor using it became unreachable. It relies on two
// rules: a primitive's operands stay reachable while its kernel reads them
// (each primitive defers keepAlive of its operands), and nobody keeps the
// slice of Float32s or Float64s longer than the tensor it came from.

// recycleMin is the smallest storage, in bytes, worth recycling; smaller
// ones are left to the allocator, which handles them well.
const recycleMin = 64 << 10

// gcMin and gcShare set how many bytes of recycled storage may be handed
// out between two garbage collections: gcMin, or a gcShare-th of all the
// recycled memory there is, whichever is more. A buffer comes back only
// when a collection has found its storage unreachable, and the collector's
// own schedule does not see the need: free buffers are live memory to it,
// so with GOGC=100 it would wait until the heap had doubled, and the free
// lists would have to hold a whole step's worth of buffers. So the
// recycler starts collections itself, in the background: a training step
// at 256×256 (about 4 GiB of recycled memory, 8 GB handed out) runs about
// 30 of them, each a few milliseconds of marking (the heap's pointers are
// the graph's small objects; the tensors' memory is not scanned), and
// memory stays within a sixteenth of the step's peak of live tensors. A
// small program (a benchmark of one convolution) gets a collection every
// gcMin bytes, so that it too reuses its few buffers soon.
const (
	gcMin   = 16 << 20
	gcShare = 16
)

// trimAfter is how many collections a length may go unrequested before its
// free buffers are dropped (left to the garbage collector): the pool keeps
// what a training loop reuses, not every shape a program ever made.
const trimAfter = 64

// storage is the identity of one recycled allocation. Its field makes it
// an object of its own: a zero-size object would share the address of all
// others, and a small one without pointers would go to the runtime's tiny
// allocator, which packs several into one 16-byte block that is freed, and
// cleaned up, only when all of them are unreachable (a storage next to a
// parameter's would never come back).
type storage struct{ _ *byte }

// freeLists holds the free buffers of one element type by length.
type freeLists[T constraints.Float] struct {
	mu    sync.Mutex
	byLen map[int]*freeList[T]
}

type freeList[T constraints.Float] struct {
	bufs    [][]T
	lastUse uint64 // the collection count when last asked for
}

// recycler is the state shared by both element types: the bytes of all
// recycled buffers made so far (less those dropped), the bytes handed out
// since the last collection, whether one is running, and the number of
// collections it has started.
type recycler struct {
	made    atomic.Int64
	handed  atomic.Int64
	running atomic.Bool
	epoch   atomic.Uint64
}

var (
	free32  = freeLists[float32]{byLen: map[int]*freeList[float32]{}}
	free64  = freeLists[float64]{byLen: map[int]*freeList[float64]{}}
	recycle recycler
)

func freeFor[T constraints.Float]() *freeLists[T] {
	if l, ok := any(&free32).(*freeLists[T]); ok {
		return l
	}
	return any(&free64).(*freeLists[T])
}

// get returns a slice of n elements with arbitrary contents, a free one
// when there is one.
func (f *freeLists[T]) get(n int) []T {
	f.mu.Lock()
	l := f.byLen[n]
	if l == nil {
		l = &freeList[T]{}
		f.byLen[n] = l
	}
	l.lastUse = recycle.epoch.Load()
	if k := len(l.bufs); k > 0 {
		b := l.bufs[k-1]
		l.bufs[k-1] = nil
		l.bufs = l.bufs[:k-1]
		f.mu.Unlock()
		return b
	}
	f.mu.Unlock()
	recycle.made.Add(int64(n * sizeOf[T]()))
	return make([]T, n)
}

// put takes back a buffer nobody uses any more.
func (f *freeLists[T]) put(b []T) {
	f.mu.Lock()
	l := f.byLen[len(b)]
	if l == nil {
		l = &freeList[T]{lastUse: recycle.epoch.Load()}
		f.byLen[len(b)] = l
	}
	l.bufs = append(l.bufs, b)
	f.mu.Unlock()
}

// putBuffer is the cleanup of a storage: it takes back the buffer.
func putBuffer[T constraints.Float](b []T) { freeFor[T]().put(b) }

// trim drops the free buffers of lengths not asked for in trimAfter
// collections.
func (f *freeLists[T]) trim(epoch uint64) {
	f.mu.Lock()
	for n, l := range f.byLen {
		if epoch-l.lastUse > trimAfter {
			recycle.made.Add(-int64(n * sizeOf[T]() * len(l.bufs)))
			delete(f.byLen, n)
		}
	}
	f.mu.Unlock()
}

// count counts bytes handed out and starts a background collection (one
// at a time) when they reach max(gcMin, made/gcShare).
func (r *recycler) count(bytes int) {
	if r.handed.Add(int64(bytes)) < max(gcMin, r.made.Load()/gcShare) || !r.running.CompareAndSwap(false, true) {
		return
	}
	r.handed.Store(0)
	go func() {
		runtime.GC()
		e := r.epoch.Add(1)
		free32.trim(e)
		free64.trim(e)
		r.running.Store(false)
	}()
}

// newRecycled returns a CPU tensor of dtype dt and shape s. Its elements
// are zero when zero is true and arbitrary otherwise: the caller must then
// write every one.
func newRecycled(dt DType, s Shape, zero bool) *Tensor {
	switch dt {
	case Float32:
		return recycled[float32](dt, s, zero)
	case Float64:
		return recycled[float64](dt, s, zero)
	}
	panic("tensor: unknown dtype " + dt.String())
}

func recycled[T constraints.Float](dt DType, s Shape, zero bool) *Tensor {
	n := s.Numel()
	if n*sizeOf[T]() < recycleMin {
		return Wrap(CPU, dt, s, make([]T, n))
	}
	recycle.count(n * sizeOf[T]())
	d := freeFor[T]().get(n)
	if zero {
		clear(d)
	}
	t := Wrap(CPU, dt, s, d)
	t.st = new(storage)
	runtime.AddCleanup(t.st, putBuffer[T], d)
	return t
}

// sizeOf returns the size of a T in bytes.
func sizeOf[T constraints.Float]() int {
	var zero T
	return int(unsafe.Sizeof(zero))
}

// keepAlive keeps the operands of a primitive reachable until it returns
// (call it deferred): a kernel reads their slices, and the garbage
// collector must not recycle the memory under it.
func keepAlive(ts ...*Tensor) {
	for _, t := range ts {
		runtime.KeepAlive(t)
	}
}
