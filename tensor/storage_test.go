package tensor

import (
	"math"
	"runtime"
	"testing"
	"time"
	"unsafe"
)

// big is a float32 shape whose tensors are recycled (64 KiB and more).
var big = Shape{1, 4, 64, 64}

// freeHolds reports whether the free list of float32 buffers of length n
// holds the buffer starting at p.
func freeHolds(n int, p *float32) bool {
	f := freeFor[float32]()
	f.mu.Lock()
	defer f.mu.Unlock()
	if l := f.byLen[n]; l != nil {
		for _, b := range l.bufs {
			if unsafe.SliceData(b) == p {
				return true
			}
		}
	}
	return false
}

// collectUntil runs the garbage collector until cond holds (cleanups run
// on a goroutine of their own, a little after the collection), or fails
// after a few seconds.
func collectUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 200 {
		runtime.GC()
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: not after 200 collections", what)
}

// drain empties the float32 free list of length n, so that the next
// result of that length is fresh, zeroed memory.
func drain(n int) {
	f := freeFor[float32]()
	f.mu.Lock()
	delete(f.byLen, n)
	f.mu.Unlock()
}

func TestStorageIsRecycledWhenUnreachable(t *testing.T) {
	x := RandUniform(NewRand(1), Float32, -1, 1, big...)
	y := CPU.Unary(Neg, x)
	if y.st == nil {
		t.Fatalf("a %v float32 result is not recycled", big)
	}
	p := unsafe.SliceData(y.Float32s())
	y = nil
	collectUntil(t, "the buffer of an unreachable tensor back in its free list", func() bool { return freeHolds(big.Numel(), p) })
	// The free list is a stack: the next result gets the buffer put last,
	// p or that of another unreachable tensor of the same length.
	free := map[*float32]bool{}
	f := freeFor[float32]()
	f.mu.Lock()
	for _, b := range f.byLen[big.Numel()].bufs {
		free[unsafe.SliceData(b)] = true
	}
	f.mu.Unlock()
	z := CPU.Unary(Neg, x)
	if q := unsafe.SliceData(z.Float32s()); !free[q] {
		t.Errorf("the next result of the same length got a new buffer %p, not one of the %d free ones", q, len(free))
	}
	for i, v := range z.Float32s() {
		if v != -x.Float32s()[i] {
			t.Fatalf("element %d of -x in a recycled buffer is %v, want %v", i, v, -x.Float32s()[i])
		}
	}
}

func TestViewKeepsStorageAlive(t *testing.T) {
	x := RandUniform(NewRand(2), Float32, -1, 1, big...)
	y := CPU.Unary(Neg, x)
	v := y.Reshape(-1)
	p := unsafe.SliceData(v.Float32s())
	y = nil
	// A tensor of another storage must come back while v's must not.
	other := CPU.Unary(Abs, x)
	q := unsafe.SliceData(other.Float32s())
	other = nil
	collectUntil(t, "an unreachable tensor's buffer back", func() bool { return freeHolds(big.Numel(), q) })
	if freeHolds(big.Numel(), p) {
		t.Fatal("the storage of a live view was recycled")
	}
	for i, e := range v.Float32s() {
		if e != -x.Float32s()[i] {
			t.Fatalf("view element %d is %v, want %v", i, e, -x.Float32s()[i])
		}
	}
	runtime.KeepAlive(v)
}

func TestSmallTensorsAreNotRecycled(t *testing.T) {
	y := CPU.Unary(Neg, New(Float32, 8, 8))
	if y.st != nil {
		t.Errorf("a 256-byte tensor got recycled storage")
	}
	if y := CPU.Unary(Neg, New(Float32, big...)); y.st == nil {
		t.Errorf("a %d-byte tensor did not", big.Numel()*4)
	}
}

// TestPrimitivesOverwriteRecycledMemory runs every primitive that takes
// its result's memory as it is from the free list (newUninit) twice: once
// into fresh, zeroed memory, once into buffers full of NaN. A kernel that
// skipped an element would leave a NaN behind.
func TestPrimitivesOverwriteRecycledMemory(t *testing.T) {
	r := NewRand(3)
	x := RandUniform(r, Float32, -1, 1, big...)
	y := RandUniform(r, Float32, -1, 1, big...)
	c := RandUniform(r, Float32, -1, 1, 1, 4, 1, 64) // broadcast along H
	cond := CPU.Scalar(Greater, x, 0)
	wide := RandUniform(r, Float32, -1, 1, 1, 4, 60, 60)
	planes := RandUniform(r, Float32, -1, 1, 1, 4, 64, 32)
	yn, rn := CPU.InstanceNorm(x, 1e-5)
	h := AdamHyper{Beta1: 0.5, Beta2: 0.999, Eps: 1e-8, StepSize: 2e-4, SqrtBC2: 0.5}
	first := func(ts ...*Tensor) *Tensor { return ts[0] }
	cases := []struct {
		name string
		f    func() *Tensor
	}{
		{"unary", func() *Tensor { return CPU.Unary(Tanh, x) }},
		{"scalar", func() *Tensor { return CPU.Scalar(Maximum, x, 0) }},
		{"binary", func() *Tensor { return CPU.Binary(Mul, x, y) }},
		{"binary broadcast", func() *Tensor { return CPU.Binary(Sub, x, c) }},
		{"where", func() *Tensor { return CPU.Where(cond, x, c) }},
		{"expand", func() *Tensor { return CPU.Expand(c, big) }},
		{"permute", func() *Tensor { return CPU.Permute(x, []int{0, 1, 3, 2}) }},
		{"slice", func() *Tensor {
			return CPU.Slice(RandUniform(NewRand(4), Float32, 0, 1, 1, 8, 64, 64), []int{0, 2, 0, 0}, []int{1, 6, 64, 64})
		}},
		{"concat", func() *Tensor { return CPU.Concat(3, []*Tensor{planes, planes}) }},
		{"reflect pad", func() *Tensor { return CPU.ReflectPad2d(wide, Pad2d{2, 2, 2, 2}) }},
		{"instance norm", func() *Tensor { return first(CPU.InstanceNorm(x, 1e-5)) }},
		{"instance norm backward", func() *Tensor { return CPU.InstanceNormBackward(y, yn, rn) }},
		{"adam p", func() *Tensor { p, _, _ := CPU.AdamStep(x, y, x, CPU.Unary(Abs, y), h); return p }},
		{"adam v", func() *Tensor { _, _, v := CPU.AdamStep(x, y, x, CPU.Unary(Abs, y), h); return v }},
		{"conv", func() *Tensor {
			return CPU.Conv2d(x, RandUniform(NewRand(5), Float32, -1, 1, 4, 4, 3, 3), nil, ConvParams{Stride: 1, Padding: 1})
		}},
		{"conv strided", func() *Tensor {
			return CPU.Conv2d(RandUniform(NewRand(5), Float32, -1, 1, 1, 3, 128, 128), RandUniform(NewRand(6), Float32, -1, 1, 4, 3, 4, 4), nil, ConvParams{Stride: 2, Padding: 1})
		}},
		{"conv input grad, flipped", func() *Tensor {
			return CPU.Conv2dInputGrad(y, RandUniform(NewRand(7), Float32, -1, 1, 4, 4, 3, 3), ConvParams{Stride: 1, Padding: 1}, 64, 64)
		}},
		{"conv weight grad, dot", func() *Tensor {
			r := NewRand(10)
			return CPU.Conv2dWeightGrad(RandUniform(r, Float32, -1, 1, 1, 64, 16, 16), RandUniform(r, Float32, -1, 1, 1, 64, 15, 15), ConvParams{Stride: 1}, 2, 2)
		}},
		{"conv weight grad, GEMM", func() *Tensor {
			r := NewRand(11)
			return CPU.Conv2dWeightGrad(RandUniform(r, Float32, -1, 1, 1, 16, 16, 16), RandUniform(r, Float32, -1, 1, 1, 256, 15, 15), ConvParams{Stride: 1}, 2, 2)
		}},
		{"conv weight grad, strided GEMM", func() *Tensor {
			r := NewRand(12)
			return CPU.Conv2dWeightGrad(RandUniform(r, Float32, -1, 1, 1, 16, 16, 16), RandUniform(r, Float32, -1, 1, 1, 256, 8, 8), ConvParams{Stride: 2}, 2, 2)
		}},
		{"conv input grad, col2im", func() *Tensor {
			gy := RandUniform(NewRand(8), Float32, -1, 1, 1, 8, 32, 32)
			return CPU.Conv2dInputGrad(gy, RandUniform(NewRand(9), Float32, -1, 1, 8, 4, 3, 3), ConvParams{Stride: 2, Padding: 1}, 64, 64)
		}},
		{"pad", func() *Tensor { return CPU.Pad(wide, []int{0, 0, 2, 2}, []int{0, 0, 2, 2}) }},
		{"reflect pad adjoint", func() *Tensor {
			return CPU.ReflectPad2dAdjoint(RandUniform(NewRand(6), Float32, -1, 1, 1, 4, 68, 68), Pad2d{2, 2, 2, 2})
		}},
	}
	n := big.Numel()
	for _, tc := range cases {
		drain(n)
		want := tc.f()
		if want.Numel() != n {
			t.Fatalf("%s: result has %d elements, the test needs %d", tc.name, want.Numel(), n)
		}
		drain(n)
		// Several poisoned buffers: a case may make more than one result
		// of this length.
		for range 4 {
			b := make([]float32, n)
			for i := range b {
				b[i] = float32(math.NaN())
			}
			putBuffer(b)
		}
		got := tc.f()
		for i, v := range got.Float32s() {
			if w := want.Float32s()[i]; v != w && !(v != v && w != w) {
				t.Errorf("%s: element %d is %v in a recycled buffer, %v in fresh memory", tc.name, i, v, w)
				break
			}
		}
	}
	drain(n)
}
