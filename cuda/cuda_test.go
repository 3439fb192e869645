//go:build cuda

package cuda

import (
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
