package tensor

import (
	"fmt"

	"golang.org/x/exp/constraints"
)

// The reference convolutions: the definitions written as loops, used by the
// conformance suite to check the fast paths and readable by hand.
//
//	y[n,o,i,j]  = b[o] + Σ_{c,ki,kj} x[n,c,i·s−p+ki, j·s−p+kj] · w[o,c,ki,kj]
//	gx[n,c,h,w] = Σ_{o,i,j,ki,kj : h=i·s−p+ki, w=j·s−p+kj} gy[n,o,i,j] · w[o,c,ki,kj]
//	gw[o,c,ki,kj] = Σ_{n,i,j} gy[n,o,i,j] · x[n,c,i·s−p+ki, j·s−p+kj]

// convGeom holds the sizes of one convolution.
type convGeom struct {
	n, c, h, w      int // input
	o, kh, kw       int // weight (O, C, KH, KW)
	oh, ow          int // output
	stride, padding int
}

func (g convGeom) String() string {
	return fmt.Sprintf("x (%d, %d, %d, %d), w (%d, %d, %d, %d), y (%d, %d, %d, %d), stride %d, padding %d",
		g.n, g.c, g.h, g.w, g.o, g.c, g.kh, g.kw, g.n, g.o, g.oh, g.ow, g.stride, g.padding)
}

func checkConvParams(op string, p ConvParams) {
	if p.Stride < 1 || p.Padding < 0 {
		panic(fmt.Sprintf("%s: stride %d, padding %d", op, p.Stride, p.Padding))
	}
}

// conv2dGeom checks the operands of Conv2d and returns the geometry.
func conv2dGeom(op string, x, w *Tensor, p ConvParams) convGeom {
	checkConvParams(op, p)
	if x.Rank() != 4 || w.Rank() != 4 || x.shape[1] != w.shape[1] {
		panic(fmt.Sprintf("%s: x %v and w %v do not fit (want x (N, C, H, W), w (O, C, KH, KW))", op, x.shape, w.shape))
	}
	g := convGeom{n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3],
		o: w.shape[0], kh: w.shape[2], kw: w.shape[3], stride: p.Stride, padding: p.Padding}
	g.oh, g.ow = p.OutSize(g.h, g.kh), p.OutSize(g.w, g.kw)
	if g.oh < 1 || g.ow < 1 {
		panic(fmt.Sprintf("%s: empty output for %v", op, g))
	}
	return g
}

// inputGradGeom checks the operands of Conv2dInputGrad.
func inputGradGeom(op string, gy, w *Tensor, p ConvParams, h, wd int) convGeom {
	checkConvParams(op, p)
	if gy.Rank() != 4 || w.Rank() != 4 || gy.shape[1] != w.shape[0] {
		panic(fmt.Sprintf("%s: gy %v and w %v do not fit (want gy (N, O, OH, OW), w (O, C, KH, KW))", op, gy.shape, w.shape))
	}
	g := convGeom{n: gy.shape[0], c: w.shape[1], h: h, w: wd, o: w.shape[0], kh: w.shape[2], kw: w.shape[3],
		oh: gy.shape[2], ow: gy.shape[3], stride: p.Stride, padding: p.Padding}
	if p.OutSize(h, g.kh) != g.oh || p.OutSize(wd, g.kw) != g.ow {
		panic(fmt.Sprintf("%s: an input of %d×%d does not give the output %d×%d (%v)", op, h, wd, g.oh, g.ow, g))
	}
	return g
}

// weightGradGeom checks the operands of Conv2dWeightGrad.
func weightGradGeom(op string, x, gy *Tensor, p ConvParams, kh, kw int) convGeom {
	checkConvParams(op, p)
	if x.Rank() != 4 || gy.Rank() != 4 || x.shape[0] != gy.shape[0] {
		panic(fmt.Sprintf("%s: x %v and gy %v do not fit", op, x.shape, gy.shape))
	}
	g := convGeom{n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3], o: gy.shape[1], kh: kh, kw: kw,
		oh: gy.shape[2], ow: gy.shape[3], stride: p.Stride, padding: p.Padding}
	if p.OutSize(g.h, kh) != g.oh || p.OutSize(g.w, kw) != g.ow {
		panic(fmt.Sprintf("%s: x %v with a %d×%d kernel does not give gy %v", op, x.shape, kh, kw, gy.shape))
	}
	return g
}

func conv2dRef[T constraints.Float](g convGeom, x, w, b, y []T) {
	for n := range g.n {
		for o := range g.o {
			for i := range g.oh {
				for j := range g.ow {
					var s T
					if b != nil {
						s = b[o]
					}
					for c := range g.c {
						for ki := range g.kh {
							h := i*g.stride - g.padding + ki
							if h < 0 || h >= g.h {
								continue
							}
							for kj := range g.kw {
								v := j*g.stride - g.padding + kj
								if v < 0 || v >= g.w {
									continue
								}
								s += x[((n*g.c+c)*g.h+h)*g.w+v] * w[((o*g.c+c)*g.kh+ki)*g.kw+kj]
							}
						}
					}
					y[((n*g.o+o)*g.oh+i)*g.ow+j] = s
				}
			}
		}
	}
}

func conv2dInputGradRef[T constraints.Float](g convGeom, gy, w, gx []T) {
	for n := range g.n {
		for o := range g.o {
			for i := range g.oh {
				for j := range g.ow {
					d := gy[((n*g.o+o)*g.oh+i)*g.ow+j]
					for c := range g.c {
						for ki := range g.kh {
							h := i*g.stride - g.padding + ki
							if h < 0 || h >= g.h {
								continue
							}
							for kj := range g.kw {
								v := j*g.stride - g.padding + kj
								if v < 0 || v >= g.w {
									continue
								}
								gx[((n*g.c+c)*g.h+h)*g.w+v] += d * w[((o*g.c+c)*g.kh+ki)*g.kw+kj]
							}
						}
					}
				}
			}
		}
	}
}

func conv2dWeightGradRef[T constraints.Float](g convGeom, x, gy, gw []T) {
	for o := range g.o {
		for c := range g.c {
			for ki := range g.kh {
				for kj := range g.kw {
					var s T
					for n := range g.n {
						for i := range g.oh {
							h := i*g.stride - g.padding + ki
							if h < 0 || h >= g.h {
								continue
							}
							for j := range g.ow {
								v := j*g.stride - g.padding + kj
								if v < 0 || v >= g.w {
									continue
								}
								s += gy[((n*g.o+o)*g.oh+i)*g.ow+j] * x[((n*g.c+c)*g.h+h)*g.w+v]
							}
						}
					}
					gw[((o*g.c+c)*g.kh+ki)*g.kw+kj] = s
				}
			}
		}
	}
}

// Conv2dRef, Conv2dInputGradRef and Conv2dWeightGradRef run the reference
// loops on CPU tensors. The conformance suite compares every backend's
// convolutions with them.
func Conv2dRef(x, w, b *Tensor, p ConvParams) *Tensor {
	checkCPU("conv2d_ref", x, w, b)
	g := conv2dGeom("conv2d_ref", x, w, p)
	y := newLike(x, Shape{g.n, g.o, g.oh, g.ow})
	switch xd := x.data.(type) {
	case []float32:
		var bd []float32
		if b != nil {
			bd = b.Float32s()
		}
		conv2dRef(g, xd, w.Float32s(), bd, y.Float32s())
	case []float64:
		var bd []float64
		if b != nil {
			bd = b.Float64s()
		}
		conv2dRef(g, xd, w.Float64s(), bd, y.Float64s())
	}
	return y
}

func Conv2dInputGradRef(gy, w *Tensor, p ConvParams, h, wd int) *Tensor {
	checkCPU("conv2d_input_grad_ref", gy, w)
	g := inputGradGeom("conv2d_input_grad_ref", gy, w, p, h, wd)
	gx := newLike(gy, Shape{g.n, g.c, g.h, g.w})
	switch d := gy.data.(type) {
	case []float32:
		conv2dInputGradRef(g, d, w.Float32s(), gx.Float32s())
	case []float64:
		conv2dInputGradRef(g, d, w.Float64s(), gx.Float64s())
	}
	return gx
}

func Conv2dWeightGradRef(x, gy *Tensor, p ConvParams, kh, kw int) *Tensor {
	checkCPU("conv2d_weight_grad_ref", x, gy)
	g := weightGradGeom("conv2d_weight_grad_ref", x, gy, p, kh, kw)
	gw := newLike(x, Shape{g.o, g.c, kh, kw})
	switch d := x.data.(type) {
	case []float32:
		conv2dWeightGradRef(g, d, gy.Float32s(), gw.Float32s())
	case []float64:
		conv2dWeightGradRef(g, d, gy.Float64s(), gw.Float64s())
	}
	return gw
}
