//go:build cuda

package ops_test

import (
	"testing"

	"github.com/camcycle/camcycle/cuda"
	"github.com/camcycle/camcycle/tensor"
)

// cudaBackend returns the CUDA backend on device 0, or skips the test.
func cudaBackend(t *testing.T) tensor.Backend {
	t.Helper()
	if !cuda.Available() {
		t.Skip("no CUDA device: the op table is not run on the GPU")
	}
	be, err := cuda.New()
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// TestOpTableCUDA64: every row of the op table (output, first- and
// second-order gradients) on the GPU in float64 agrees with the CPU's to
// the golden tolerance: the same computation, summed in another order.
func TestOpTableCUDA64(t *testing.T) { checkOpTableOn(t, cudaBackend(t), tensor.Float64) }

// TestOpTableCUDA32: the same in float32, within the tolerance the CPU's
// own float32 passes (TestOpTableFloat32).
func TestOpTableCUDA32(t *testing.T) { checkOpTableOn(t, cudaBackend(t), tensor.Float32) }
