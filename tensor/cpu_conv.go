package tensor

import "golang.org/x/exp/constraints"

// The CPU backend's convolutions: each primitive picks the fastest method
// that fits the geometry.
//
//	Conv2d            3×3, stride 1, float32  → Winograd F(4×4, 3×3) (winograd.go)
//	                  stride 1, O ≤ 32        → GEMM reading x in place (conv2dRows)
//	                  other stride 1          → im2col GEMM from a zero-padded
//	                                            copy of x (polyphase.go)
//	                  otherwise               → im2col GEMM (im2col.go)
//	Conv2dInputGrad   stride 1, square kernel, padding ≤ K−1, O ≤ 2C
//	                    → the forward convolution of gy with the flipped,
//	                      transposed kernel (so Winograd again for 3×3)
//	                  otherwise               → GEMM, then col2im
//	Conv2dWeightGrad  3×3, stride 1, float32  → Winograd F(4×4, 3×3)
//	                  other stride 1, O ≤ 128 → dot products along the rows
//	                  otherwise               → im2col GEMM
//
// The reference loops (cpu_conv_ref.go) define the results; the tests
// compare every path with them.

func (cpuBackend) Conv2d(x, w, b *Tensor, p ConvParams) *Tensor {
	checkCPU("conv2d", x, w, b)
	Conv2dGeom(x, w, b, p) // the checks, the bias's included
	g := conv2dGeom("conv2d", x, w, p)
	y := newUninit(x, Shape{g.n, g.o, g.oh, g.ow}) // every path writes all of y
	defer keepAlive(x, w, b)
	switch xd := x.data.(type) {
	case []float32:
		var bd []float32
		if b != nil {
			bd = b.Float32s()
		}
		conv2dFast(defaultKernel[float32](), g, xd, w.Float32s(), bd, y.Float32s())
	case []float64:
		var bd []float64
		if b != nil {
			bd = b.Float64s()
		}
		conv2dFast(defaultKernel[float64](), g, xd, w.Float64s(), bd, y.Float64s())
	}
	return y
}

func (cpuBackend) Conv2dInputGrad(gy, w *Tensor, p ConvParams, h, wd int) *Tensor {
	checkCPU("conv2d_input_grad", gy, w)
	g := inputGradGeom("conv2d_input_grad", gy, w, p, h, wd)
	gx := newUninit(gy, Shape{g.n, g.c, g.h, g.w}) // conv2dInputGradFast clears it for col2im
	defer keepAlive(gy, w)
	switch d := gy.data.(type) {
	case []float32:
		conv2dInputGradFast(defaultKernel[float32](), g, d, w.Float32s(), gx.Float32s())
	case []float64:
		conv2dInputGradFast(defaultKernel[float64](), g, d, w.Float64s(), gx.Float64s())
	}
	return gx
}

func (cpuBackend) Conv2dWeightGrad(x, gy *Tensor, p ConvParams, kh, kw int) *Tensor {
	checkCPU("conv2d_weight_grad", x, gy)
	g := weightGradGeom("conv2d_weight_grad", x, gy, p, kh, kw)
	gw := newUninit(x, Shape{g.o, g.c, kh, kw}) // every path writes all of gw
	defer keepAlive(x, gy)
	switch d := x.data.(type) {
	case []float32:
		conv2dWeightGradFast(defaultKernel[float32](), defaultDotKernel[float32](), g, d, gy.Float32s(), gw.Float32s())
	case []float64:
		conv2dWeightGradFast(defaultKernel[float64](), defaultDotKernel[float64](), g, d, gy.Float64s(), gw.Float64s())
	}
	return gw
}

// conv2dWeightGradFast computes gw: by Winograd when it applies, else, for
// stride 1 and up to 128 output channels, by dot products along the image
// rows (measured faster than the GEMM up to there), else by im2col GEMM.
func conv2dWeightGradFast[T constraints.Float](kern gemmKernel[T], dk dotKernel[T], g convGeom, x, gy, gw []T) {
	switch {
	case winogradApplies[T](g):
		conv2dWeightGradWinograd(kern, g, x, gy, gw)
	case g.stride == 1 && g.o <= 128:
		conv2dWeightGradDot(dk, g, x, gy, gw)
	default:
		conv2dWeightGradGEMM(kern, g, x, gy, gw)
	}
}

// conv2dFast computes y = conv(x, w) + b into y (any contents: every path
// writes all of it): by Winograd when it applies, else by the GEMM reading
// the image in place when the stride is 1 and the output channels few,
// else by a GEMM packing col(x) from a zero-padded copy of x for stride 1
// (measured 3–10% faster than packing from x with runs clamped at the
// borders, conv2dGEMM) and from x itself otherwise.
func conv2dFast[T constraints.Float](kern gemmKernel[T], g convGeom, x, w, b, y []T) {
	switch {
	case winogradApplies[T](g):
		conv2dWinograd(kern, g, x, w, b, y)
	case rowsApplies(g, kern.nr):
		conv2dRows(kern, g, x, w, b, y)
	case g.stride == 1:
		conv2dPhases(kern, g, x, w, b, y)
	default:
		conv2dGEMM(kern, g, x, w, b, y)
	}
}

// conv2dInputGradFast computes gx = A_wᵀ gy into gx (any contents).
//
// With stride 1, the input gradient is itself a correlation: output pixel
// (i, j) took x[i−p+ki, j−p+kj], so
//
//	gx[c, h, v] = Σ_{o,ki,kj} gy[o, h+p−ki, v+p−kj] · w[o, c, ki, kj]
//	            = Σ_{o,ki,kj} gy[o, h−p'+ki, v−p'+kj] · w'[c, o, ki, kj]
//
// with the kernel flipped and its channel axes swapped,
// w'[c, o, ki, kj] = w[o, c, K−1−ki, K−1−kj], and padding p' = K−1−p, which
// must not be negative.
//
// As a GEMM that correlation packs col(gy), O·K² rows of pixels, where
// the col2im route packs gy itself (O rows) and scatters C·K² rows: with
// few input channels (the 3 of an RGB image under a 7×7 kernel), col2im
// moves ~15× less data, so the flip is taken only when O ≤ 2C (the
// discriminator's 256 → 512 layer, O = 2C, measured 24 ms by col2im and
// 17–20 ms flipped).
func conv2dInputGradFast[T constraints.Float](kern gemmKernel[T], g convGeom, gy, w, gx []T) {
	if g.stride != 1 || g.kh != g.kw || g.padding > g.kh-1 || g.o > 2*g.c {
		clear(gx) // col2im adds into it
		conv2dInputGradGEMM(kern, g, gy, w, gx)
		return
	}
	k := g.kh
	wf := getScratch[T](len(w))
	defer putScratch(wf)
	for o := range g.o {
		for c := range g.c {
			src := w[(o*g.c+c)*k*k:][:k*k]
			dst := wf[(c*g.o+o)*k*k:][:k*k]
			for t := range k * k {
				dst[k*k-1-t] = src[t]
			}
		}
	}
	flipped := convGeom{n: g.n, c: g.o, h: g.oh, w: g.ow, o: g.c, kh: k, kw: k,
		oh: g.h, ow: g.w, stride: 1, padding: k - 1 - g.padding}
	conv2dFast(kern, flipped, gy, wf, nil, gx)
}
