package tensor

import (
	"fmt"
	"math"

	"golang.org/x/exp/constraints"
)

// The CPU backend's pooling and bilinear resizing: plain loops over the
// planes, in parallel. They are the reference the conformance suite and
// PyTorch's golden values check.

// poolGeom checks a pool of x and returns its output shape.
func poolGeom(op string, x *Tensor, p PoolParams) Shape {
	if x.Rank() != 4 {
		panic(fmt.Sprintf("%s: x %v is not (N, C, H, W)", op, x.shape))
	}
	if p.Kernel < 1 || p.Stride < 1 || p.Padding < 0 || 2*p.Padding > p.Kernel {
		panic(fmt.Sprintf("%s: kernel %d, stride %d, padding %d (want kernel, stride ≥ 1 and 0 ≤ padding ≤ kernel/2) for x %v",
			op, p.Kernel, p.Stride, p.Padding, x.shape))
	}
	oh, ow := p.OutSize(x.shape[2]), p.OutSize(x.shape[3])
	if oh < 1 || ow < 1 {
		panic(fmt.Sprintf("%s: a %d×%d window does not fit x %v padded by %d", op, p.Kernel, p.Kernel, x.shape, p.Padding))
	}
	return Shape{x.shape[0], x.shape[1], oh, ow}
}

func (cpuBackend) MaxPool2d(x *Tensor, p PoolParams) *Tensor {
	checkCPU("max_pool2d", x)
	return pool2d(x, poolGeom("max_pool2d", x, p), p, true)
}

func (cpuBackend) AvgPool2d(x *Tensor, p PoolParams) *Tensor {
	checkCPU("avg_pool2d", x)
	return pool2d(x, poolGeom("avg_pool2d", x, p), p, false)
}

func pool2d(x *Tensor, out Shape, p PoolParams, isMax bool) *Tensor {
	y := newUninit(x, out)
	defer keepAlive(x)
	switch d := x.data.(type) {
	case []float32:
		poolPlanes(d, y.Float32s(), x.shape, out, p, isMax)
	case []float64:
		poolPlanes(d, y.Float64s(), x.shape, out, p, isMax)
	}
	return y
}

// poolPlanes pools each H×W plane of x into an OH×OW plane of y: the
// window of output (i, j) covers rows i·s − p … i·s − p + k − 1 and the
// same columns, clipped to the plane.
func poolPlanes[T constraints.Float](x, y []T, in, out Shape, p PoolParams, isMax bool) {
	h, w, oh, ow := in[2], in[3], out[2], out[3]
	parallelFor(in[0]*in[1], max(1, elementwiseGrain/(h*w)), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp, yp := x[pl*h*w:][:h*w], y[pl*oh*ow:][:oh*ow]
			for i := range oh {
				r0, r1 := max(i*p.Stride-p.Padding, 0), min(i*p.Stride-p.Padding+p.Kernel, h)
				for j := range ow {
					c0, c1 := max(j*p.Stride-p.Padding, 0), min(j*p.Stride-p.Padding+p.Kernel, w)
					if isMax {
						m := T(math.Inf(-1))
						for r := r0; r < r1; r++ {
							for _, v := range xp[r*w+c0 : r*w+c1] {
								m = max(m, v)
							}
						}
						yp[i*ow+j] = m
						continue
					}
					var sum float64
					for r := r0; r < r1; r++ {
						for _, v := range xp[r*w+c0 : r*w+c1] {
							sum += float64(v)
						}
					}
					n := (r1 - r0) * (c1 - c0)
					if p.CountIncludePad {
						n = p.Kernel * p.Kernel
					}
					yp[i*ow+j] = T(sum / float64(n))
				}
			}
		}
	})
}

func (cpuBackend) ResizeBilinear(x *Tensor, h, w int) *Tensor {
	checkCPU("resize_bilinear", x)
	CheckResizeBilinear(x, h, w)
	y := newUninit(x, Shape{x.shape[0], x.shape[1], h, w})
	defer keepAlive(x)
	rows, cols := bilinearTaps(x.shape[2], h), bilinearTaps(x.shape[3], w)
	switch d := x.data.(type) {
	case []float32:
		resizePlanes(d, y.Float32s(), x.shape, rows, cols)
	case []float64:
		resizePlanes(d, y.Float64s(), x.shape, rows, cols)
	}
	return y
}

// tap is where one output index samples the input: between i0 and i1 with
// weights w0 and w1 = 1 − w0.
type tap struct {
	i0, i1 int
	w0, w1 float64
}

// bilinearTaps returns the taps of the out output indices along an axis of
// n input indices, align_corners false: source (o + ½)·n/out − ½, clamped
// at 0.
func bilinearTaps(n, out int) []tap {
	taps := make([]tap, out)
	scale := float64(n) / float64(out)
	for o := range taps {
		src := max(scale*(float64(o)+0.5)-0.5, 0)
		i0 := min(int(src), n-1)
		i1 := min(i0+1, n-1)
		l1 := src - float64(i0)
		taps[o] = tap{i0: i0, i1: i1, w0: 1 - l1, w1: l1}
	}
	return taps
}

// resizePlanes interpolates each plane of x into y: along the rows first
// (two input rows blended into a row of the output width), then between
// them.
func resizePlanes[T constraints.Float](x, y []T, in Shape, rows, cols []tap) {
	h, w, oh, ow := in[2], in[3], len(rows), len(cols)
	parallelFor(in[0]*in[1], max(1, elementwiseGrain/(oh*ow)), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp, yp := x[pl*h*w:][:h*w], y[pl*oh*ow:][:oh*ow]
			for i, r := range rows {
				a, b := xp[r.i0*w:][:w], xp[r.i1*w:][:w]
				out := yp[i*ow:][:ow]
				for j, c := range cols {
					top := c.w0*float64(a[c.i0]) + c.w1*float64(a[c.i1])
					bot := c.w0*float64(b[c.i0]) + c.w1*float64(b[c.i1])
					out[j] = T(r.w0*top + r.w1*bot)
				}
			}
		}
	})
}
