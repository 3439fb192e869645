package cyclegan_test

import (
	"testing"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/internal/steptest"
	"github.com/camcycle/camcycle/tensor"
)

// TestGoldenSteps replays two training iterations of a tiny CycleGAN
// (ngf 8, ndf 8, 2 blocks, 32×32) that testdata/gen_cyclegan_golden.py ran
// in PyTorch from the same initial weights and images: the logged losses
// agree within 1e-4 relative and the weights after both updates agree.
func TestGoldenSteps(t *testing.T) {
	steptest.Run(t, "standard", tensor.Float32, cyclegan.DefaultAttention())
}

// TestGoldenSteps64: the same run in float64, where Go and PyTorch agree to
// rounding, and where the biases before an InstanceNorm (gradient zero but
// for rounding, far below Adam's eps) barely move on either side.
func TestGoldenSteps64(t *testing.T) {
	steptest.Run(t, "standard64", tensor.Float64, cyclegan.DefaultAttention())
}

// lastBlock is the attention loss on the last residual block of the golden
// run's 2-block generator (index 11), order 2.
func lastBlock() cyclegan.AttentionOptions {
	a := cyclegan.DefaultAttention()
	a.Layers = gradcam.Indices(11)
	return a
}

// TestGoldenStepsAttention: the same run with the attention loss on the
// last residual block, order 2, as testdata/gen_cyclegan_golden.py computes
// it with torch.autograd.grad(create_graph=True): the losses (att included)
// and the weights after two updates agree with PyTorch.
func TestGoldenStepsAttention(t *testing.T) { steptest.Run(t, "att", tensor.Float32, lastBlock()) }

// TestGoldenStepsAttention64: the same run in float64, where Go and PyTorch
// agree to rounding (about 1e-13 of each update): the second-order gradient
// is the same computation, not merely a close one.
func TestGoldenStepsAttention64(t *testing.T) { steptest.Run(t, "att64", tensor.Float64, lastBlock()) }
