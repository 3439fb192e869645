package cyclegan_test

import (
	"testing"

	"github.com/camcycle/camcycle/internal/steptest"
	"github.com/camcycle/camcycle/tensor"
)

// TestGoldenSteps replays two training iterations of a tiny CycleGAN
// (ngf 8, ndf 8, 2 blocks, 32×32) that testdata/gen_cyclegan_golden.py ran
// in PyTorch from the same initial weights and images: the logged losses
// agree within 1e-4 relative and the weights after both updates agree.
func TestGoldenSteps(t *testing.T) { steptest.Run(t, "standard", tensor.Float32, nil) }
