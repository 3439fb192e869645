//go:build cgo

package hostshim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/camcycle/camcycle/tensor"
)

func randn(rng *rand.Rand, s ...int) *tensor.Tensor {
	v := make([]float32, tensor.Shape(s).Numel())
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return tensor.FromFloat32s(v, s...)
}

// ints gives ties and zeros, for comparisons and max/min.
func ints(rng *rand.Rand, s ...int) *tensor.Tensor {
	v := make([]float32, tensor.Shape(s).Numel())
	for i := range v {
		v[i] = float32(rng.IntN(5) - 2)
	}
	return tensor.FromFloat32s(v, s...)
}

// near fails unless got and want agree within tol·(1 + |want|) per element.
func near(t *testing.T, what string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if !got.Shape().Equal(want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	g, w := got.Values(), want.Values()
	for i := range w {
		if d := math.Abs(g[i] - w[i]); d > tol*(1+math.Abs(w[i])) || math.IsNaN(g[i]) != math.IsNaN(w[i]) {
			t.Fatalf("%s: element %d is %g, want %g", what, i, g[i], w[i])
		}
	}
}

func TestBinaryBroadcasts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	shapes := [][2][]int{{{3, 1, 5}, {4, 1}}, {{2, 3, 4, 5}, {3, 1, 5}}, {{7}, {}}, {{1, 6, 1}, {5, 1, 3}}, {{2, 3}, {2, 3}}}
	for op := tensor.Add; op <= tensor.Equal; op++ {
		for _, sh := range shapes {
			x, y := ints(rng, sh[0]...), ints(rng, sh[1]...)
			if op == tensor.Div || op == tensor.Pow {
				x, y = randn(rng, sh[0]...), randn(rng, sh[1]...)
			}
			near(t, fmt.Sprintf("%v %v %v", op, sh[0], sh[1]), Binary(op, x, y), tensor.CPU.Binary(op, x, y), 1e-6)
		}
	}
}

func TestPermute(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, c := range []struct {
		s    []int
		perm []int
	}{{[]int{3, 5}, []int{1, 0}}, {[]int{2, 3, 4}, []int{2, 0, 1}}, {[]int{2, 1, 3, 5}, []int{3, 1, 0, 2}}, {[]int{7}, []int{0}}} {
		x := randn(rng, c.s...)
		near(t, fmt.Sprintf("permute %v by %v", c.s, c.perm), Permute(x, c.perm), tensor.CPU.Permute(x, c.perm), 0)
	}
}

func TestReduce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, op := range []tensor.ReduceOp{tensor.Sum, tensor.Max, tensor.Min} {
		for _, axes := range [][]int{nil, {0}, {1}, {2}, {0, 2}, {1, 2}, {-1}} {
			x := randn(rng, 3, 5, 7)
			near(t, fmt.Sprintf("%v over %v", op, axes), Reduce(op, x, axes), tensor.CPU.Reduce(op, x, axes), 1e-6)
		}
	}
}

func TestReflectPad(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, c := range []struct {
		s []int
		p tensor.Pad2d
	}{{[]int{1, 2, 5, 6}, tensor.Pad2d{Left: 1, Right: 2, Top: 3, Bottom: 1}}, {[]int{2, 4, 4}, tensor.Pad2d{Left: 3, Right: 3, Top: 3, Bottom: 3}},
		{[]int{2, 3}, tensor.Pad2d{Left: 2, Right: 0, Top: 1, Bottom: 1}}, {[]int{1, 1, 9, 7}, tensor.Pad2d{Left: 3, Right: 3, Top: 3, Bottom: 3}}} {
		x := randn(rng, c.s...)
		near(t, fmt.Sprintf("reflect pad %v by %+v", c.s, c.p), ReflectPad2d(x, c.p), tensor.CPU.ReflectPad2d(x, c.p), 0)
		g := randn(rng, tensor.CPU.ReflectPad2d(x, c.p).Shape()...)
		// The gather adds in the CPU's order, so the two agree exactly.
		near(t, fmt.Sprintf("reflect pad adjoint %v by %+v", c.s, c.p), ReflectPad2dAdjoint(g, c.p), tensor.CPU.ReflectPad2dAdjoint(g, c.p), 0)
	}
}

var convCases = []struct{ n, c, h, w, o, k, stride, pad int }{
	{1, 3, 7, 9, 4, 3, 1, 1}, {2, 2, 8, 5, 3, 3, 2, 1}, {1, 3, 11, 11, 2, 7, 1, 3}, {2, 4, 6, 6, 5, 4, 2, 1},
	{1, 1, 5, 7, 1, 1, 1, 0}, {1, 2, 9, 8, 3, 3, 3, 2},
}

func TestConv2d(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, c := range convCases {
		x, w, b := randn(rng, c.n, c.c, c.h, c.w), randn(rng, c.o, c.c, c.k, c.k), randn(rng, c.o)
		p := tensor.ConvParams{Stride: c.stride, Padding: c.pad}
		near(t, fmt.Sprintf("conv2d %+v", c), Conv2d(x, w, b, p), tensor.Conv2dRef(x, w, b, p), 1e-4)
	}
}

func TestConv2dInputGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, c := range convCases {
		p := tensor.ConvParams{Stride: c.stride, Padding: c.pad}
		oh, ow := p.OutSize(c.h, c.k), p.OutSize(c.w, c.k)
		gy, w := randn(rng, c.n, c.o, oh, ow), randn(rng, c.o, c.c, c.k, c.k)
		near(t, fmt.Sprintf("conv2d input grad %+v", c), Conv2dInputGrad(gy, w, p, c.h, c.w),
			tensor.Conv2dInputGradRef(gy, w, p, c.h, c.w), 1e-4)
	}
}

func TestPoolAndResize(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	x := randn(rng, 2, 3, 9, 7)
	for _, p := range []tensor.PoolParams{{Kernel: 3, Stride: 2, Padding: 1}, {Kernel: 2, Stride: 2}, {Kernel: 3, Stride: 1, Padding: 1, CountIncludePad: true}} {
		near(t, fmt.Sprintf("max pool %+v", p), Pool2d(x, p, true), tensor.CPU.MaxPool2d(x, p), 0)
		near(t, fmt.Sprintf("avg pool %+v", p), Pool2d(x, p, false), tensor.CPU.AvgPool2d(x, p), 0)
	}
	for _, hw := range [][2]int{{5, 4}, {17, 13}, {9, 7}, {1, 1}} {
		near(t, fmt.Sprintf("resize to %v", hw), ResizeBilinear(x, hw[0], hw[1]), tensor.CPU.ResizeBilinear(x, hw[0], hw[1]), 0)
	}
}
