package cuda

import (
	"errors"
	"testing"
)

// fakeMemory hands out increasing addresses and fails once its budget of
// live bytes is spent.
type fakeMemory struct {
	next, live, budget int
	blocks             map[uintptr]int
	allocs, frees      int
}

func (f *fakeMemory) Alloc(n int) (uintptr, error) {
	if f.live+n > f.budget {
		return 0, errors.New("out of memory")
	}
	f.next += n
	f.live += n
	f.allocs++
	p := uintptr(f.next)
	f.blocks[p] = n
	return p, nil
}

func (f *fakeMemory) Free(p uintptr) error {
	n, ok := f.blocks[p]
	if !ok {
		return errors.New("double free")
	}
	delete(f.blocks, p)
	f.live -= n
	f.frees++
	return nil
}

func TestSizeClass(t *testing.T) {
	prev := 0
	for n := 1; n < 1<<20; n += 1 + n/7 {
		c := SizeClass(n)
		if c < n || c < minClass || (n > minClass && 5*(c-n) > c) {
			t.Fatalf("SizeClass(%d) = %d", n, c)
		}
		if c < prev {
			t.Fatalf("SizeClass(%d) = %d below the class of a smaller size, %d", n, c, prev)
		}
		prev = c
	}
	if SizeClass(1000) != SizeClass(1024) || SizeClass(1025) == SizeClass(1024) {
		t.Error("1000 and 1024 bytes share a class; 1025 does not")
	}
}

func TestAllocatorReuses(t *testing.T) {
	f := &fakeMemory{budget: 1 << 20, blocks: map[uintptr]int{}}
	a := NewAllocator(f)
	p1, c1, err := a.Get(1000)
	if err != nil {
		t.Fatal(err)
	}
	a.Put(p1, c1)
	p2, c2, err := a.Get(900) // same class
	if err != nil || p2 != p1 || c2 != c1 {
		t.Fatalf("Get after Put: %#x class %d (%v), want the freed %#x class %d", p2, c2, err, p1, c1)
	}
	p3, c3, _ := a.Get(5000)
	s := a.Stats()
	if s.Hits != 1 || s.Misses != 2 || s.InUse != c2+c3 || s.Cached != 0 || f.allocs != 2 || f.frees != 0 {
		t.Errorf("stats %+v, %d allocs and %d frees of the device", s, f.allocs, f.frees)
	}
	a.Put(p2, c2)
	a.Put(p3, c3)
	if s := a.Stats(); s.InUse != 0 || s.Cached != c2+c3 || s.Peak != c2+c3 || s.PeakInUse != c2+c3 {
		t.Errorf("after Put: %+v", s)
	}
	// A hit reuses cached memory: the in-use peak grows, the reserved
	// one does not.
	p4, c4, _ := a.Get(900)
	p5, c5, _ := a.Get(900) // a miss: the 1024 class held one block
	p6, c6, _ := a.Get(5000)
	if s := a.Stats(); s.PeakInUse != c4+c5+c6 || s.Peak != c2+c3+c5 {
		t.Errorf("after reuse: %+v, want PeakInUse %d and Peak %d", s, c4+c5+c6, c2+c3+c5)
	}
	a.Put(p4, c4)
	a.Put(p5, c5)
	a.Put(p6, c6)
	if err := a.Trim(); err != nil || f.live != 0 || f.frees != 3 || a.Stats().Cached != 0 {
		t.Errorf("Trim: %v, %d bytes still live, %d frees", err, f.live, f.frees)
	}
}

// A failing allocation frees the cache and tries again.
func TestAllocatorTrimsOnFailure(t *testing.T) {
	f := &fakeMemory{budget: 4096, blocks: map[uintptr]int{}}
	a := NewAllocator(f)
	p, c, _ := a.Get(3000)
	a.Put(p, c) // 3072 bytes cached
	if _, _, err := a.Get(2000); err != nil {
		t.Fatalf("Get with the memory held by the cache: %v", err)
	}
	if s := a.Stats(); s.Trims != 1 || s.Cached != 0 {
		t.Errorf("stats %+v, want one trim", s)
	}
	if _, _, err := a.Get(4000); err == nil {
		t.Error("Get beyond the device's memory: no error")
	}
}
