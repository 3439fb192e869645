package tensor_test

import (
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

// BenchmarkResnetBlock times one forward and backward pass of a CycleGAN
// residual block of 256 channels on a (1, 256, 64, 64) input: reflection
// pad, 3×3 conv, instance norm, ReLU, pad, conv, norm, plus the skip, then
// the gradient of an MSE loss with respect to the input and the four
// parameters. It is an external test so that it can use the layers.
func BenchmarkResnetBlock(b *testing.B) {
	r := tensor.NewRand(1)
	block := layers.NewResnetBlock(layers.Init{Rand: r, DType: tensor.Float32}, 256)
	params := layers.Vars(block)
	x := autograd.Param(tensor.RandNormal(r, tensor.Float32, 0, 1, 1, 256, 64, 64))
	target := autograd.Const(tensor.RandNormal(r, tensor.Float32, 0, 1, 1, 256, 64, 64))
	for b.Loop() {
		autograd.ZeroGrad(append(params, x))
		loss := ops.MSELoss(block.Forward(x), target)
		autograd.Backward(loss)
	}
}
