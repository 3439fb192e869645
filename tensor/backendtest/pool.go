package backendtest

import (
	"fmt"
	"math"

	"github.com/camcycle/camcycle/tensor"
)

// ---- Pooling and resampling, against their definitions in float64 ----

// poolCases cover the FID network's pools (3×3 stride 2 unpadded, 3×3
// stride 1 padded by 1), a 2×2 stride-2 pool, a window larger than the
// stride, odd and non-square planes, and planes large enough for a
// backend's parallel paths.
var poolCases = []struct {
	shape tensor.Shape
	p     tensor.PoolParams
}{
	{tensor.Shape{1, 1, 5, 5}, tensor.PoolParams{Kernel: 3, Stride: 2}},
	{tensor.Shape{2, 3, 7, 6}, tensor.PoolParams{Kernel: 3, Stride: 1, Padding: 1}},
	{tensor.Shape{1, 2, 6, 9}, tensor.PoolParams{Kernel: 2, Stride: 2}},
	{tensor.Shape{2, 2, 8, 7}, tensor.PoolParams{Kernel: 4, Stride: 3, Padding: 2}},
	{tensor.Shape{1, 1, 1, 1}, tensor.PoolParams{Kernel: 1, Stride: 1}},
	{tensor.Shape{2, 32, 35, 35}, tensor.PoolParams{Kernel: 3, Stride: 1, Padding: 1}},
	{tensor.Shape{1, 16, 73, 71}, tensor.PoolParams{Kernel: 3, Stride: 2}},
}

// poolRef visits the window of every output element of a pool of x (shape
// s) and returns the output shape and, per element, the values inside x
// and the number of positions of the padded window.
func poolRef(x []float64, s tensor.Shape, p tensor.PoolParams, fn func(i int, inside []float64, window int)) tensor.Shape {
	oh, ow := (s[2]+2*p.Padding-p.Kernel)/p.Stride+1, (s[3]+2*p.Padding-p.Kernel)/p.Stride+1
	out := tensor.Shape{s[0], s[1], oh, ow}
	forEach(out, func(idx []int, i int) {
		var inside []float64
		for ki := range p.Kernel {
			for kj := range p.Kernel {
				r, c := idx[2]*p.Stride-p.Padding+ki, idx[3]*p.Stride-p.Padding+kj
				if r >= 0 && r < s[2] && c >= 0 && c < s[3] {
					inside = append(inside, x[((idx[0]*s[1]+idx[1])*s[2]+r)*s[3]+c])
				}
			}
		}
		fn(i, inside, p.Kernel*p.Kernel)
	})
	return out
}

func checkMaxPool2d(s *suite) {
	for _, c := range poolCases {
		x := s.rand(ints, c.shape...) // ties
		var want []float64
		out := poolRef(x.values, c.shape, c.p, func(_ int, inside []float64, _ int) {
			m := math.Inf(-1)
			for _, v := range inside {
				m = math.Max(m, v)
			}
			want = append(want, m)
		})
		s.expect(fmt.Sprintf("max pool %v %+v", c.shape, c.p), s.b.MaxPool2d(x.dev, c.p), out, want, exact, x)
		// Negative planes: a padded position must not win as a zero.
		neg := s.operand(s.b.ToHost(s.b.Scalar(tensor.Sub, s.b.Unary(tensor.Abs, x.dev), 3)))
		want = want[:0]
		poolRef(neg.values, c.shape, c.p, func(_ int, inside []float64, _ int) {
			m := math.Inf(-1)
			for _, v := range inside {
				m = math.Max(m, v)
			}
			want = append(want, m)
		})
		s.expect(fmt.Sprintf("max pool of negatives %v %+v", c.shape, c.p), s.b.MaxPool2d(neg.dev, c.p), out, want, exact, neg)
	}
}

func checkAvgPool2d(s *suite) {
	for _, c := range poolCases {
		x := s.rand(normal, c.shape...)
		for _, include := range []bool{false, true} {
			p := c.p
			p.CountIncludePad = include
			var want, abs []float64
			out := poolRef(x.values, c.shape, p, func(_ int, inside []float64, window int) {
				var sum, a float64
				for _, v := range inside {
					sum += v
					a += math.Abs(v)
				}
				n := float64(len(inside))
				if include {
					n = float64(window)
				}
				want, abs = append(want, sum/n), append(abs, a/n)
			})
			s.expect(fmt.Sprintf("avg pool %v %+v", c.shape, p), s.b.AvgPool2d(x.dev, p), out, want, sumOf(abs), x)
		}
	}
}

// resizeCases cover up- and downsampling, by integer and fractional
// factors, to and from one pixel, and the FID network's 256 → 299 on a
// few channels.
var resizeCases = []struct {
	shape tensor.Shape
	h, w  int
}{
	{tensor.Shape{1, 1, 2, 2}, 4, 4},
	{tensor.Shape{2, 3, 5, 6}, 13, 7},
	{tensor.Shape{1, 2, 9, 8}, 4, 3},
	{tensor.Shape{1, 1, 1, 5}, 3, 9},
	{tensor.Shape{1, 2, 7, 7}, 1, 1},
	{tensor.Shape{1, 3, 6, 6}, 6, 6},
	{tensor.Shape{1, 3, 256, 256}, 299, 299},
}

func checkResizeBilinear(s *suite) {
	for _, c := range resizeCases {
		x := s.rand(normal, c.shape...)
		hIn, wIn := c.shape[2], c.shape[3]
		// The source of output index o along an axis of n inputs resized to
		// m, align_corners false: (o + ½)·n/m − ½, not below 0, with the
		// scale n/m rounded first as PyTorch computes it (so that the
		// fractional part agrees); between its floor and the next index,
		// which stops at the last.
		src := func(o, n, m int) (i0, i1 int, l1 float64) {
			scale := float64(n) / float64(m)
			f := math.Max(scale*(float64(o)+0.5)-0.5, 0)
			i0 = int(math.Floor(f))
			return i0, min(i0+1, n-1), f - float64(i0)
		}
		out := tensor.Shape{c.shape[0], c.shape[1], c.h, c.w}
		want, abs := make([]float64, out.Numel()), make([]float64, out.Numel())
		forEach(out, func(idx []int, i int) {
			r0, r1, lr := src(idx[2], hIn, c.h)
			c0, c1, lc := src(idx[3], wIn, c.w)
			plane := x.values[(idx[0]*c.shape[1]+idx[1])*hIn*wIn:]
			for _, t := range []struct {
				r, c int
				wt   float64
			}{{r0, c0, (1 - lr) * (1 - lc)}, {r0, c1, (1 - lr) * lc}, {r1, c0, lr * (1 - lc)}, {r1, c1, lr * lc}} {
				v := plane[t.r*wIn+t.c]
				want[i] += t.wt * v
				abs[i] += math.Abs(t.wt * v)
			}
		})
		s.expect(fmt.Sprintf("resize bilinear %v to %d×%d", c.shape, c.h, c.w), s.b.ResizeBilinear(x.dev, c.h, c.w),
			out, want, sumOf(abs), x)
	}
}
