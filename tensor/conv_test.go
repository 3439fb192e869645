package tensor

import (
	"fmt"
	"math"
	"testing"
)

// convCase is one convolution geometry: x (n, c, h, w), w (o, c, k, k).
type convCase struct {
	n, c, h, w, o, k, stride, pad int
}

func (cc convCase) String() string {
	return fmt.Sprintf("x%dx%dx%dx%d_w%dx%dx%dx%d_s%d_p%d", cc.n, cc.c, cc.h, cc.w, cc.o, cc.c, cc.k, cc.k, cc.stride, cc.pad)
}

// convCases covers strides 1 and 2, paddings 0 to 3, kernels 1, 3, 4 and
// 7, batches of 1 and 2, odd and non-square images, channel counts that are
// not multiples of any vector width or micro-kernel tile, depths beyond one
// kc block, and 3×3 stride-1 cases with enough channels for Winograd
// (including partial tiles at the right and bottom edges, and more tiles
// than one chunk of the weight gradient).
var convCases = []convCase{
	{1, 3, 7, 7, 5, 3, 1, 1},
	{2, 5, 9, 6, 7, 3, 1, 0},
	{1, 4, 9, 11, 6, 3, 2, 1},
	{2, 3, 16, 16, 8, 4, 2, 1},
	{1, 6, 10, 10, 5, 4, 1, 1},
	{1, 2, 5, 5, 3, 4, 2, 3},
	{1, 3, 13, 12, 4, 7, 1, 0},
	{1, 3, 10, 10, 4, 7, 1, 3},
	{1, 5, 6, 7, 9, 1, 1, 0},
	{2, 7, 8, 5, 3, 1, 2, 0},
	{1, 4, 5, 5, 3, 1, 1, 1},
	{1, 8, 15, 15, 8, 3, 2, 3},
	{1, 40, 12, 12, 24, 3, 1, 1},
	{1, 17, 11, 13, 19, 3, 1, 1},
	{2, 16, 8, 8, 16, 3, 1, 2},
	{1, 20, 10, 9, 33, 3, 1, 0},
	{1, 9, 12, 12, 70, 3, 1, 1},
	{1, 130, 9, 9, 20, 3, 1, 1},
	{1, 24, 30, 18, 18, 3, 1, 1},
	{1, 16, 66, 66, 17, 3, 1, 1},
}

// Tolerances, relative to the largest magnitude of the reference result:
// float32 sums of a few thousand products, Winograd's transforms on top,
// and float64.
const (
	tolGEMM32     = 5e-6
	tolWinograd32 = 1e-4
	tolFloat64    = 1e-12
)

// convOperands returns random x, w, b and gy for cc in dtype dt.
func convOperands(cc convCase, dt DType) (x, w, b, gy *Tensor) {
	r := NewRand(uint64(cc.c*1000 + cc.o*10 + cc.k))
	oh := (cc.h+2*cc.pad-cc.k)/cc.stride + 1
	ow := (cc.w+2*cc.pad-cc.k)/cc.stride + 1
	x = RandUniform(r, dt, -1, 1, cc.n, cc.c, cc.h, cc.w)
	w = RandUniform(r, dt, -1, 1, cc.o, cc.c, cc.k, cc.k)
	b = RandUniform(r, dt, -1, 1, cc.o)
	gy = RandUniform(r, dt, -1, 1, cc.n, cc.o, oh, ow)
	return x, w, b, gy
}

// closeTo fails t unless got and want have the same shape and every element
// is within tol·max|want| of want.
func closeTo(t *testing.T, what string, got, want *Tensor, tol float64) {
	t.Helper()
	if !got.Shape().Equal(want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	g, w := got.Values(), want.Values()
	scale := 0.0
	for _, v := range w {
		scale = math.Max(scale, math.Abs(v))
	}
	worst, at := 0.0, 0
	for i := range g {
		if e := math.Abs(g[i] - w[i]); e > worst || e != e {
			worst, at = e, i
		}
	}
	if !(worst <= tol*scale) {
		t.Fatalf("%s: element %d is %g, want %g (error %.3g of max %.3g, tolerance %.3g)",
			what, at, g[at], w[at], worst/scale, scale, tol)
	}
}

// refs64 returns the reference results in float64 for operands of any dtype.
func refs64(cc convCase, x, w, b, gy *Tensor) (y, gx, gw *Tensor) {
	p := ConvParams{Stride: cc.stride, Padding: cc.pad}
	x, w, b, gy = CPU.Cast(x, Float64), CPU.Cast(w, Float64), CPU.Cast(b, Float64), CPU.Cast(gy, Float64)
	return Conv2dRef(x, w, b, p), Conv2dInputGradRef(gy, w, p, cc.h, cc.w), Conv2dWeightGradRef(x, gy, p, cc.k, cc.k)
}

func geomOf(cc convCase) convGeom {
	oh := (cc.h+2*cc.pad-cc.k)/cc.stride + 1
	ow := (cc.w+2*cc.pad-cc.k)/cc.stride + 1
	return convGeom{n: cc.n, c: cc.c, h: cc.h, w: cc.w, o: cc.o, kh: cc.k, kw: cc.k, oh: oh, ow: ow,
		stride: cc.stride, padding: cc.pad}
}

// TestConvBackendMatchesReference checks the three public CPU primitives,
// whatever path they take, in float32 and float64.
func TestConvBackendMatchesReference(t *testing.T) {
	for _, cc := range convCases {
		for _, dt := range []DType{Float32, Float64} {
			t.Run(cc.String()+"/"+dt.String(), func(t *testing.T) {
				x, w, b, gy := convOperands(cc, dt)
				y, gx, gw := refs64(cc, x, w, b, gy)
				p := ConvParams{Stride: cc.stride, Padding: cc.pad}
				tol := tolFloat64
				if dt == Float32 {
					tol = tolGEMM32
					if winogradApplies[float32](geomOf(cc)) {
						tol = tolWinograd32
					}
				}
				closeTo(t, "conv2d", CPU.Conv2d(x, w, b, p), y, tol)
				closeTo(t, "conv2d without bias", CPU.Conv2d(x, w, nil, p), Conv2dRef(CPU.Cast(x, Float64), CPU.Cast(w, Float64), nil, p), tol)
				if dt == Float32 && cc.stride == 1 && cc.pad <= cc.k-1 && winogradApplies[float32](geomOf(cc)) {
					// The input gradient goes through Winograd too.
					tol = tolWinograd32
				}
				closeTo(t, "conv2d_input_grad", CPU.Conv2dInputGrad(gy, w, p, cc.h, cc.w), gx, tol)
				if dt == Float32 {
					tol = tolGEMM32
					if winogradApplies[float32](geomOf(cc)) {
						tol = tolWinograd32
					}
				}
				closeTo(t, "conv2d_weight_grad", CPU.Conv2dWeightGrad(x, gy, p, cc.k, cc.k), gw, tol)
			})
		}
	}
}

// TestConvPathsMatchReference runs each float32 path with each micro-kernel
// the machine has, whether or not the dispatch would pick it: the im2col
// GEMM for all three primitives, the GEMM + col2im input gradient, the
// polyphase paths for all three, the in-place GEMM (conv2dRows) wherever
// the stride is 1, and Winograd wherever the kernel is 3×3 with stride 1.
func TestConvPathsMatchReference(t *testing.T) {
	for _, kern := range float32Kernels() {
		for _, cc := range convCases {
			t.Run(kern.name+"/"+cc.String(), func(t *testing.T) {
				x, w, b, gy := convOperands(cc, Float32)
				y, gx, gw := refs64(cc, x, w, b, gy)
				g := geomOf(cc)
				xd, wd, bd, gyd := x.Float32s(), w.Float32s(), b.Float32s(), gy.Float32s()

				out := New(Float32, cc.n, cc.o, g.oh, g.ow)
				conv2dGEMM(kern, g, xd, wd, bd, out.Float32s())
				closeTo(t, "conv2dGEMM", out, y, tolGEMM32)

				if cc.stride == 1 {
					out = New(Float32, cc.n, cc.o, g.oh, g.ow)
					conv2dRows(kern, g, xd, wd, bd, out.Float32s())
					closeTo(t, "conv2dRows", out, y, tolGEMM32)
				}

				out = New(Float32, cc.n, cc.c, cc.h, cc.w)
				conv2dInputGradGEMM(kern, g, gyd, wd, out.Float32s())
				closeTo(t, "conv2dInputGradGEMM", out, gx, tolGEMM32)

				out = New(Float32, cc.o, cc.c, cc.k, cc.k)
				conv2dWeightGradGEMM(kern, g, xd, gyd, out.Float32s())
				closeTo(t, "conv2dWeightGradGEMM", out, gw, tolGEMM32)

				// The GEMM over the phases of x, for any stride (stride 1 is
				// one phase, the zero-padded copy).
				out = New(Float32, cc.n, cc.o, g.oh, g.ow)
				conv2dPhases(kern, g, xd, wd, bd, out.Float32s())
				closeTo(t, "conv2dPhases", out, y, tolGEMM32)

				if cc.k == 3 && cc.stride == 1 {
					out = New(Float32, cc.n, cc.o, g.oh, g.ow)
					conv2dWinograd(kern, g, xd, wd, bd, out.Float32s())
					closeTo(t, "conv2dWinograd", out, y, tolWinograd32)

					out = New(Float32, cc.o, cc.c, cc.k, cc.k)
					conv2dWeightGradWinograd(kern, g, xd, gyd, out.Float32s())
					closeTo(t, "conv2dWeightGradWinograd", out, gw, tolWinograd32)
				}
			})
		}
	}
}

// TestConvWeightGradDot runs the dot-product weight gradient with each dot
// kernel the machine has, in float32 and float64, on every case.
func TestConvWeightGradDot(t *testing.T) {
	for _, cc := range convCases {
		g := geomOf(cc)
		for _, dk := range float32DotKernels() {
			x, w, b, gy := convOperands(cc, Float32)
			_, _, gw := refs64(cc, x, w, b, gy)
			out := New(Float32, cc.o, cc.c, cc.k, cc.k)
			conv2dWeightGradDot(dk, g, x.Float32s(), gy.Float32s(), out.Float32s())
			closeTo(t, dk.name+"/"+cc.String(), out, gw, tolGEMM32)
		}
		x, w, b, gy := convOperands(cc, Float64)
		_, _, gw := refs64(cc, x, w, b, gy)
		out := New(Float64, cc.o, cc.c, cc.k, cc.k)
		conv2dWeightGradDot(goDotKernel[float64](), g, x.Float64s(), gy.Float64s(), out.Float64s())
		closeTo(t, "go/float64/"+cc.String(), out, gw, tolFloat64)
	}
}

// TestWinogradTransforms checks the matrices of F(4×4, 3×3) and their
// Kronecker products: a 6×6 tile d and a 3×3 kernel g through
// (Aᵀ⊗Aᵀ)[((G⊗G) g) ⊙ ((Bᵀ⊗Bᵀ) d)] must give the 4×4 direct correlation.
func TestWinogradTransforms(t *testing.T) {
	r := NewRand(7)
	var d [36]float64
	var g [9]float64
	for i := range d {
		d[i] = r.Float64()*2 - 1
	}
	for i := range g {
		g[i] = r.Float64()*2 - 1
	}
	bt, gm, at := winogradMatrices()
	mul := func(a []float64, rows int, x []float64) []float64 {
		out := make([]float64, rows)
		for i := range rows {
			for k := range x {
				out[i] += a[i*len(x)+k] * x[k]
			}
		}
		return out
	}
	v := mul(kron[float64](bt), 36, d[:])
	u := mul(kron[float64](gm), 36, g[:])
	m := make([]float64, 36)
	for i := range m {
		m[i] = u[i] * v[i]
	}
	y := mul(kron[float64](at), 16, m)
	for i := range 4 {
		for j := range 4 {
			var want float64
			for ki := range 3 {
				for kj := range 3 {
					want += d[(i+ki)*6+j+kj] * g[ki*3+kj]
				}
			}
			if math.Abs(y[4*i+j]-want) > 1e-12 {
				t.Fatalf("Y[%d,%d] = %g, want %g", i, j, y[4*i+j], want)
			}
		}
	}
}
