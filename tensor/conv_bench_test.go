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

// BenchmarkConv2dPaths times each float32 forward path with each kernel on
// the benchmark convolution, to see what every step buys.
func BenchmarkConv2dPaths(b *testing.B) {
	x, w, bias, _ := benchConvOperands()
	g := conv2dGeom("bench", x, w, ConvParams{Stride: 1, Padding: 1})
	y := New(Float32, 1, 256, 64, 64)
	for _, kern := range float32Kernels() {
		b.Run("gemm/"+kern.name, func(b *testing.B) {
			for b.Loop() {
				conv2dGEMM(kern, g, x.Float32s(), w.Float32s(), bias.Float32s(), y.Float32s())
			}
			reportGFLOPS(b, convFlops)
		})
		b.Run("winograd/"+kern.name, func(b *testing.B) {
			for b.Loop() {
				conv2dWinograd(kern, g, x.Float32s(), w.Float32s(), bias.Float32s(), y.Float32s())
			}
			reportGFLOPS(b, convFlops)
		})
	}
}
