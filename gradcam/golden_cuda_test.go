//go:build cuda

package gradcam_test

import (
	"testing"

	"github.com/camcycle/camcycle/cuda"
)

// TestGoldenPyTorchCUDA: the attention loss, its directions and the
// generators' first- and second-order gradients on the GPU against the
// PyTorch golden file, as TestGoldenPyTorch checks the CPU.
func TestGoldenPyTorchCUDA(t *testing.T) {
	if !cuda.Available() {
		t.Skip("no CUDA device: the attention golden test does not run on the GPU")
	}
	be, err := cuda.New()
	if err != nil {
		t.Fatal(err)
	}
	goldenPyTorch(t, be)
}
