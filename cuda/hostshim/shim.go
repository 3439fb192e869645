package hostshim

// #cgo CXXFLAGS: -O1 -std=c++11
// #include "shim.h"
import "C"

import (
	"github.com/camcycle/camcycle/cuda"
	"github.com/camcycle/camcycle/tensor"
)

// Each function below is one primitive of the CUDA backend on float32 CPU
// tensors, computed the way cuda/backend.go computes it (the same index
// spaces from cuda/geom.go, the same kernel bodies), with the grid and
// block a launch would use, its block shrunk to Block threads and its grid
// to at most MaxGrid blocks so that the grid-stride loops wrap.

const (
	// Block is the shim's block size: odd, to catch arithmetic that
	// assumes a power of two.
	Block = 7
	// MaxGrid caps the shim's grid.
	MaxGrid = 5
)

func geom(n int) (C.i64, C.i64) { return C.i64(min(cuda.Grid1D(n, Block), MaxGrid)), Block }

func ptr(s []float32) *C.float {
	if len(s) == 0 {
		return nil
	}
	return (*C.float)(&s[0])
}

func words(d cuda.Dims) *C.u64 {
	w := d.Words()
	return (*C.u64)(&w[0])
}

func out(s tensor.Shape) (*tensor.Tensor, []float32) {
	t := tensor.New(tensor.Float32, s...)
	return t, t.Float32s()
}

// Binary is the backend's Binary: binaryND over the broadcast shape.
func Binary(op tensor.BinaryOp, x, y *tensor.Tensor) *tensor.Tensor {
	s := tensor.BinaryShape(op, x.Shape(), y.Shape())
	d := cuda.NewDims(s, tensor.BroadcastStrides(x.Shape(), s), tensor.BroadcastStrides(y.Shape(), s))
	t, o := out(s)
	g, b := geom(len(o))
	C.shim_binaryND(ptr(o), ptr(x.Float32s()), ptr(y.Float32s()), words(d), C.i64(len(o)), C.i64(op), g, b)
	return t
}

// Permute is the backend's Permute: stridedCopy with permuted strides.
func Permute(x *tensor.Tensor, perm []int) *tensor.Tensor {
	s, st := tensor.PermuteShape(x.Shape(), perm)
	t, o := out(s)
	g, b := geom(len(o))
	C.shim_stridedCopy(ptr(o), 0, ptr(x.Float32s()), 0, words(cuda.NewDims(s, s.Strides(), st)), C.i64(len(o)), g, b)
	return t
}

// Reduce is the backend's Reduce by reduceND (a thread per output).
func Reduce(op tensor.ReduceOp, x *tensor.Tensor, axes []int) *tensor.Tensor {
	kept, over, m := cuda.ReduceDims(x.Shape(), axes)
	t, o := out(tensor.ReducedShape(x.Shape(), axes))
	g, b := geom(len(o))
	C.shim_reduceND(ptr(o), ptr(x.Float32s()), words(kept), words(over), C.i64(m), C.i64(op), C.i64(len(o)), g, b)
	return t
}

// ReflectPad2d is the backend's ReflectPad2d.
func ReflectPad2d(x *tensor.Tensor, p tensor.Pad2d) *tensor.Tensor {
	s, h, w := tensor.ReflectPad2dShape(x.Shape(), p)
	t, o := out(s)
	g, b := geom(len(o))
	C.shim_reflectPad(ptr(o), ptr(x.Float32s()), C.i64(len(o)), C.i64(h), C.i64(w), C.i64(p.Top), C.i64(p.Left),
		C.i64(s[len(s)-2]), C.i64(s[len(s)-1]), g, b)
	return t
}

// ReflectPad2dAdjoint is the backend's ReflectPad2dAdjoint.
func ReflectPad2dAdjoint(gp *tensor.Tensor, p tensor.Pad2d) *tensor.Tensor {
	s, h, w := tensor.ReflectPad2dAdjointShape(gp.Shape(), p)
	t, o := out(s)
	g, b := geom(len(o))
	C.shim_reflectPadAdjoint(ptr(gp.Float32s()), ptr(o), C.i64(len(o)), C.i64(h), C.i64(w), C.i64(p.Top), C.i64(p.Left),
		C.i64(p.Bottom), C.i64(p.Right), g, b)
	return t
}

// matmul is a plain row-major C (m×n) = A (m×k) · B (k×n), standing in
// for cuBLAS; transA reads A stored k×m, transB B stored n×k.
func matmul(transA, transB bool, m, n, k int, a, b, c []float32) {
	for i := range m {
		for j := range n {
			var s float32
			for p := range k {
				av, bv := a[i*k+p], b[p*n+j]
				if transA {
					av = a[p*m+i]
				}
				if transB {
					bv = b[j*k+p]
				}
				s += av * bv
			}
			c[i*n+j] = s
		}
	}
}

// Conv2d is the backend's Conv2d: im2col per image, the GEMM (here a
// plain product), and the bias.
func Conv2d(x, w, bias *tensor.Tensor, p tensor.ConvParams) *tensor.Tensor {
	g := tensor.Conv2dGeom(x, w, bias, p)
	rows, pix := g.C*g.KH*g.KW, g.OH*g.OW
	t, y := out(tensor.Shape{g.N, g.O, g.OH, g.OW})
	col := make([]float32, rows*pix)
	xd := x.Float32s()
	for n := range g.N {
		gr, bl := geom(len(col))
		C.shim_im2col(ptr(col), ptr(xd[n*g.C*g.H*g.W:]), C.i64(len(col)), C.i64(g.H), C.i64(g.W), C.i64(g.KH), C.i64(g.KW),
			C.i64(g.OH), C.i64(g.OW), C.i64(g.Stride), C.i64(g.Padding), gr, bl)
		yn := y[n*g.O*pix:][:g.O*pix]
		matmul(false, false, g.O, pix, rows, w.Float32s(), col, yn)
		if bias != nil {
			for o := range g.O {
				for i := range pix {
					yn[o*pix+i] += bias.Float32s()[o]
				}
			}
		}
	}
	return t
}

// Conv2dInputGrad is the backend's Conv2dInputGrad: the GEMM Wᵀ·gy per
// image, then col2imAdd.
func Conv2dInputGrad(gy, w *tensor.Tensor, p tensor.ConvParams, h, wd int) *tensor.Tensor {
	g := tensor.Conv2dInputGradGeom(gy, w, p, h, wd)
	rows, pix := g.C*g.KH*g.KW, g.OH*g.OW
	t, gx := out(tensor.Shape{g.N, g.C, g.H, g.W})
	col := make([]float32, rows*pix)
	plane := g.C * g.H * g.W
	for n := range g.N {
		matmul(true, false, rows, pix, g.O, w.Float32s(), gy.Float32s()[n*g.O*pix:], col)
		gr, bl := geom(plane)
		C.shim_col2imAdd(ptr(gx[n*plane:]), ptr(col), C.i64(plane), C.i64(g.H), C.i64(g.W), C.i64(g.KH), C.i64(g.KW),
			C.i64(g.OH), C.i64(g.OW), C.i64(g.Stride), C.i64(g.Padding), gr, bl)
	}
	return t
}

// Pool2d is the backend's MaxPool2d (isMax) or AvgPool2d.
func Pool2d(x *tensor.Tensor, p tensor.PoolParams, isMax bool) *tensor.Tensor {
	op := "avg_pool2d"
	if isMax {
		op = "max_pool2d"
	}
	s := tensor.Pool2dShape(op, x, p)
	t, y := out(s)
	in := x.Shape()
	g, b := geom(len(y))
	C.shim_poolPlanes(ptr(x.Float32s()), ptr(y), C.i64(len(y)), C.i64(in[2]), C.i64(in[3]), C.i64(s[2]), C.i64(s[3]),
		C.i64(p.Kernel), C.i64(p.Stride), C.i64(p.Padding), C.i64(b2i(isMax)), C.i64(b2i(p.CountIncludePad)), g, b)
	return t
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// ResizeBilinear is the backend's ResizeBilinear.
func ResizeBilinear(x *tensor.Tensor, h, w int) *tensor.Tensor {
	tensor.CheckResizeBilinear(x, h, w)
	in := x.Shape()
	t, y := out(tensor.Shape{in[0], in[1], h, w})
	g, b := geom(len(y))
	C.shim_resizePlanes(ptr(x.Float32s()), ptr(y), C.i64(len(y)), C.i64(in[2]), C.i64(in[3]), C.i64(h), C.i64(w), g, b)
	return t
}
