package attention_test

import (
	"testing"

	"github.com/camcycle/camcycle/attention"
	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/internal/steptest"
	"github.com/camcycle/camcycle/tensor"
)

// TestGoldenSteps: the golden run of the CycleGAN step test with the
// attention loss on the last residual block (index 11 with 2 blocks), order
// 2, in float64 (the script says why), as testdata/gen_cyclegan_golden.py
// computes it with
// torch.autograd.grad(create_graph=True): losses (att included) and weights
// after two updates agree with PyTorch.
func TestGoldenSteps(t *testing.T) {
	steptest.Run(t, "att", tensor.Float64, func(m *cyclegan.Model) cyclegan.GeneratorTerm {
		term, err := attention.Settings{Layers: "11"}.Build(m.GA.Model)
		if err != nil {
			t.Fatal(err)
		}
		return term
	})
}
