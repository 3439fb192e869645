//go:build cuda

package cuda

import (
	"math"
	"testing"

	"github.com/camcycle/camcycle/tensor"
	"github.com/camcycle/camcycle/tensor/backendtest"
)

// The CUDA backend must pass the conformance suite the CPU passes
// (tensor/cpu_test.go), float32 and float64.
func TestCUDAConformance(t *testing.T) {
	if !Available() {
		t.Skip("no CUDA device: the CUDA backend is not checked")
	}
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	backendtest.Run(t, b)
	if err := b.(*Backend).Synchronize(); err != nil {
		t.Fatalf("queued work failed: %v", err)
	}
	t.Logf("allocator: %+v", b.(*Backend).Stats())
}

// The device's caching allocator must hand memory back: a loop of
// primitives whose results die must not grow the device memory in use
// without bound.
func TestCUDAMemoryIsReused(t *testing.T) {
	if !Available() {
		t.Skip("no CUDA device")
	}
	be, err := New()
	if err != nil {
		t.Fatal(err)
	}
	b := be.(*Backend)
	x := b.FromHost(tensor.Full(tensor.Float32, 1, 1024, 1024))
	for range 200 {
		x = b.Scalar(tensor.Mul, x, 1)
	}
	s := b.Stats()
	if s.Hits == 0 {
		t.Errorf("no block was reused in 200 steps: %+v", s)
	}
	if v := b.ToHost(x).Values()[0]; v != 1 {
		t.Errorf("x = %g after 200 multiplications by 1", v)
	}
}

// NewWith gives one backend per Options, the backends of a device sharing
// it, and refuses a device the machine does not have.
func TestCUDANewWith(t *testing.T) {
	if !Available() {
		t.Skip("no CUDA device: NewWith is not checked")
	}
	a, err := NewWith(Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New()
	c, err := NewWith(Options{TF32: true})
	if err != nil {
		t.Fatal(err)
	}
	if a != b || a == c || a.(*Backend).d != c.(*Backend).d {
		t.Errorf("New %p, NewWith{} %p, NewWith{TF32} %p: want the first two the same, the third apart on the same device", b, a, c)
	}
	if !c.(*Backend).Options().TF32 || a.(*Backend).Options().TF32 {
		t.Errorf("options %+v, %+v", a.(*Backend).Options(), c.(*Backend).Options())
	}
	if _, err := NewWith(Options{Device: 1 << 20}); err == nil {
		t.Error("device 1<<20 accepted")
	}
}

// TF32 changes float32 convolutions by about TF32's rounding (2^-11
// relative per product), and nothing at all in float64.
func TestCUDATF32Conv(t *testing.T) {
	if !Available() {
		t.Skip("no CUDA device: TF32 is not checked")
	}
	full, _ := NewWith(Options{})
	tf, _ := NewWith(Options{TF32: true})
	rng := tensor.NewRand(1)
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		x := tensor.RandUniform(rng, dt, -1, 1, 1, 64, 32, 32)
		w := tensor.RandUniform(rng, dt, -1, 1, 64, 64, 3, 3)
		p := tensor.ConvParams{Stride: 1, Padding: 1}
		y := full.Conv2d(x.To(full), w.To(full), nil, p).Values()
		z := tf.Conv2d(x.To(tf), w.To(tf), nil, p).Values()
		var d, s float64
		for i := range y {
			d, s = max(d, math.Abs(y[i]-z[i])), max(s, math.Abs(y[i]))
		}
		switch {
		case dt == tensor.Float64 && d != 0:
			t.Errorf("float64: TF32 changed the result by %g", d)
		case dt == tensor.Float32 && d > 1e-2*s:
			t.Errorf("float32: TF32 differs by %g (largest |y| %g): more than TF32 rounding", d, s)
		}
		t.Logf("%s: TF32 − full: largest %g of %g", dt, d, s)
	}
}
