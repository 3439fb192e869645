//go:build cuda

package cyclegan_test

import (
	"testing"

	"github.com/camcycle/camcycle/cuda"
	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/internal/steptest"
	"github.com/camcycle/camcycle/tensor"
)

// cudaBackend returns the CUDA backend with options o, or skips the test.
func cudaBackend(t *testing.T, o cuda.Options) tensor.Backend {
	t.Helper()
	if !cuda.Available() {
		t.Skip("no CUDA device: this GPU check does not run")
	}
	be, err := cuda.NewWith(o)
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// The golden step tests of golden_test.go on the GPU: the same PyTorch
// golden files, the same tolerances.
func TestGoldenStepsCUDA(t *testing.T) {
	steptest.RunOn(t, cudaBackend(t, cuda.Options{}), "standard", tensor.Float32, cyclegan.DefaultAttention())
}

func TestGoldenSteps64CUDA(t *testing.T) {
	steptest.RunOn(t, cudaBackend(t, cuda.Options{}), "standard64", tensor.Float64, cyclegan.DefaultAttention())
}

func TestGoldenStepsAttentionCUDA(t *testing.T) {
	steptest.RunOn(t, cudaBackend(t, cuda.Options{}), "att", tensor.Float32, lastBlock())
}

func TestGoldenStepsAttention64CUDA(t *testing.T) {
	steptest.RunOn(t, cudaBackend(t, cuda.Options{}), "att64", tensor.Float64, lastBlock())
}
