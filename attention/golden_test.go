package attention_test

import (
	"testing"

	"github.com/camcycle/camcycle/attention"
	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/internal/steptest"
	"github.com/camcycle/camcycle/tensor"
)

// lastBlock is the attention term on the last residual block of the golden
// run's 2-block generator (index 11), order 2.
func lastBlock(t *testing.T) func(m *cyclegan.Model) cyclegan.GeneratorTerm {
	return func(m *cyclegan.Model) cyclegan.GeneratorTerm {
		term, err := attention.Settings{Layers: "11"}.Build(m.GA.Model)
		if err != nil {
			t.Fatal(err)
		}
		return term
	}
}

// TestGoldenSteps: the golden run of the CycleGAN step test (float32) with
// the attention loss on the last residual block, order 2, as
// testdata/gen_cyclegan_golden.py computes it with
// torch.autograd.grad(create_graph=True): the losses (att included) and the
// weights after two updates agree with PyTorch.
func TestGoldenSteps(t *testing.T) { steptest.Run(t, "att", tensor.Float32, lastBlock(t)) }

// TestGoldenSteps64: the same run in float64, where Go and PyTorch agree to
// rounding (about 1e-13 of each update): the second-order gradient is the
// same computation, not merely a close one.
func TestGoldenSteps64(t *testing.T) { steptest.Run(t, "att64", tensor.Float64, lastBlock(t)) }
