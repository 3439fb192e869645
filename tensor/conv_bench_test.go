package tensor

import "testing"

// The benchmark convolution: 256 → 256 channels, 3×3, padding 1, on one
// 64×64 image, the shape of the residual blocks of the CycleGAN generator
// at 256×256 input.
func benchConvOperands() (x, w, b, gy *Tensor) {
	r := NewRand(1)
	x = RandNormal(r, Float32, 0, 1, 1, 256, 64, 64)
	w = RandNormal(r, Float32, 0, 0.02, 256, 256, 3, 3)
	b = RandNormal(r, Float32, 0, 0.02, 256)
	gy = RandNormal(r, Float32, 0, 1, 1, 256, 64, 64)
	return
}

// convFlops is 2·N·O·OH·OW·C·K·K for the benchmark convolution: the work
// of the direct method, the same for every primitive; GFLOP/s below counts
// it whatever the algorithm.
const convFlops = 2.0 * 256 * 64 * 64 * 256 * 9

func reportGFLOPS(b *testing.B, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkConv2d times the CPU backend's three convolution primitives on
// the benchmark convolution: forward, backward (input and weight gradient,
// as a training step needs), and each gradient alone.
func BenchmarkConv2d(b *testing.B) {
	x, w, bias, gy := benchConvOperands()
	p := ConvParams{Stride: 1, Padding: 1}
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			CPU.Conv2d(x, w, bias, p)
		}
		reportGFLOPS(b, convFlops)
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			CPU.Conv2dInputGrad(gy, w, p, 64, 64)
			CPU.Conv2dWeightGrad(x, gy, p, 3, 3)
		}
		reportGFLOPS(b, 2*convFlops)
	})
	b.Run("input_grad", func(b *testing.B) {
		for b.Loop() {
			CPU.Conv2dInputGrad(gy, w, p, 64, 64)
		}
		reportGFLOPS(b, convFlops)
	})
	b.Run("weight_grad", func(b *testing.B) {
		for b.Loop() {
			CPU.Conv2dWeightGrad(x, gy, p, 3, 3)
		}
		reportGFLOPS(b, convFlops)
	})
}

// BenchmarkConv2dPaths times each float32 path on the benchmark
// convolution, forcing the method and the micro-kernel, to see what every
// step buys: the reference loops, im2col + GEMM (packing col(x), or reading
// x in place) with each micro-kernel, and Winograd F(4×4, 3×3) with each
// micro-kernel; likewise for the two gradients, including the dot-product
// weight gradient.
func BenchmarkConv2dPaths(b *testing.B) {
	x, w, bias, gy := benchConvOperands()
	g := conv2dGeom("bench", x, w, ConvParams{Stride: 1, Padding: 1})
	xd, wd, bd, gyd := x.Float32s(), w.Float32s(), bias.Float32s(), gy.Float32s()
	y := New(Float32, 1, 256, 64, 64).Float32s()
	gw := New(Float32, 256, 256, 3, 3).Float32s()
	run := func(name string, f func()) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f()
			}
			reportGFLOPS(b, convFlops)
		})
	}
	run("forward/reference", func() { conv2dRef(g, xd, wd, bd, y) })
	for _, kern := range float32Kernels() {
		run("forward/gemm_"+kern.name, func() { conv2dGEMM(kern, g, xd, wd, bd, y) })
		run("forward/rows_"+kern.name, func() { conv2dRows(kern, g, xd, wd, bd, y) })
		run("forward/winograd_"+kern.name, func() { conv2dWinograd(kern, g, xd, wd, bd, y) })
		run("input_grad/gemm_col2im_"+kern.name, func() {
			clear(y)
			conv2dInputGradGEMM(kern, g, gyd, wd, y)
		})
		run("input_grad/flipped_"+kern.name, func() { conv2dInputGradFast(kern, g, gyd, wd, y) })
		run("weight_grad/gemm_"+kern.name, func() { conv2dWeightGradGEMM(kern, g, xd, gyd, gw) })
		run("weight_grad/winograd_"+kern.name, func() { conv2dWeightGradWinograd(kern, g, xd, gyd, gw) })
	}
	for _, dk := range float32DotKernels() {
		run("weight_grad/dot_"+dk.name, func() { conv2dWeightGradDot(dk, g, xd, gyd, gw) })
	}
}
