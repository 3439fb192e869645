package tensor

import "fmt"

// The operand checks of the primitives, exported for the other backends
// (package cuda) so that every backend accepts the same operands and panics
// with the same messages, naming the shapes. Each returns what the
// primitive's kernel needs: the result's shape, strides, the geometry.

// BroadcastStrides returns strides that read a row-major tensor of shape s
// as if it had shape out (which s must broadcast to): stretched axes get
// stride 0.
func BroadcastStrides(s, out Shape) []int { return broadcastStrides(s, out) }

// BinaryShape is the result shape of Binary(op, x, y).
func BinaryShape(op BinaryOp, x, y Shape) Shape {
	s, err := BroadcastShapes(x, y)
	if err != nil {
		panic(fmt.Sprintf("binary %s: %v", op, err))
	}
	return s
}

// WhereShape is the result shape of Where(cond, x, y).
func WhereShape(cond, x, y Shape) Shape {
	s, err := BroadcastShapes(cond, x)
	if err == nil {
		s, err = BroadcastShapes(s, y)
	}
	if err != nil {
		panic(fmt.Sprintf("where: cond %v, x %v, y %v: %v", cond, x, y, err))
	}
	return s
}

// CheckExpand panics unless x broadcasts to s.
func CheckExpand(x, s Shape) {
	b, err := BroadcastShapes(x, s)
	if err != nil || !b.Equal(s) {
		panic(fmt.Sprintf("expand: cannot broadcast %v to %v", x, s))
	}
}

// PermuteShape returns the shape of Permute(x, perm) and the strides of x
// read in that order.
func PermuteShape(x Shape, perm []int) (Shape, []int) {
	if len(perm) != len(x) {
		panic(fmt.Sprintf("permute: perm %v for shape %v", perm, x))
	}
	xs := x.Strides()
	s := make(Shape, len(perm))
	st := make([]int, len(perm))
	seen := make([]bool, len(perm))
	for i, p := range perm {
		if p < 0 || p >= len(perm) || seen[p] {
			panic(fmt.Sprintf("permute: %v is not a permutation of %d axes", perm, len(perm)))
		}
		seen[p] = true
		s[i], st[i] = x[p], xs[p]
	}
	return s, st
}

// SliceShape returns the shape of Slice(x, start, end).
func SliceShape(x Shape, start, end []int) Shape { return checkBox("slice", x, start, end) }

// PadShape returns the shape of Pad(x, before, after).
func PadShape(x Shape, before, after []int) Shape {
	if len(before) != len(x) || len(after) != len(x) {
		panic(fmt.Sprintf("pad: before %v, after %v for shape %v", before, after, x))
	}
	s := make(Shape, len(x))
	for i := range s {
		if before[i] < 0 || after[i] < 0 {
			panic(fmt.Sprintf("pad: negative padding %v, %v", before, after))
		}
		s[i] = before[i] + x[i] + after[i]
	}
	return s
}

// ConcatShape returns the shape of Concat(axis, xs) and the axis made
// non-negative.
func ConcatShape(axis int, xs []*Tensor) (Shape, int) {
	if len(xs) == 0 {
		panic("concat: no tensors")
	}
	axis = NormAxis("concat", axis, xs[0].Rank())
	s := xs[0].shape.Clone()
	s[axis] = 0
	for _, x := range xs {
		if x.Rank() != len(s) {
			panic(fmt.Sprintf("concat: shapes %v and %v", xs[0].shape, x.shape))
		}
		for i := range s {
			if i != axis && x.shape[i] != s[i] {
				panic(fmt.Sprintf("concat: shapes %v and %v differ off axis %d", xs[0].shape, x.shape, axis))
			}
		}
		s[axis] += x.shape[axis]
	}
	return s, axis
}

// ReflectPad2dShape returns the shape of ReflectPad2d(x, p) and the size
// of x's planes.
func ReflectPad2dShape(x Shape, p Pad2d) (s Shape, h, w int) {
	h, w = checkReflect("reflect_pad2d", x, p)
	if p.Left >= w || p.Right >= w || p.Top >= h || p.Bottom >= h {
		panic(fmt.Sprintf("reflect_pad2d: padding %+v must be smaller than the input %v", p, x))
	}
	s = x.Clone()
	s[len(s)-2] += p.Top + p.Bottom
	s[len(s)-1] += p.Left + p.Right
	return s, h, w
}

// ReflectPad2dAdjointShape returns the shape of ReflectPad2dAdjoint(g, p)
// and the size of its planes.
func ReflectPad2dAdjointShape(g Shape, p Pad2d) (s Shape, h, w int) {
	ph, pw := checkReflect("reflect_pad2d_adjoint", g, p)
	s = g.Clone()
	h, w = ph-p.Top-p.Bottom, pw-p.Left-p.Right
	if p.Left >= w || p.Right >= w || p.Top >= h || p.Bottom >= h {
		panic(fmt.Sprintf("reflect_pad2d_adjoint: padding %+v too large for padded shape %v", p, g))
	}
	s[len(s)-2], s[len(s)-1] = h, w
	return s, h, w
}

// ConvGeom holds the sizes of one convolution: input (N, C, H, W), weight
// (O, C, KH, KW), output (N, O, OH, OW).
type ConvGeom struct {
	N, C, H, W, O, KH, KW, OH, OW, Stride, Padding int
}

func exportGeom(g convGeom) ConvGeom {
	return ConvGeom{N: g.n, C: g.c, H: g.h, W: g.w, O: g.o, KH: g.kh, KW: g.kw, OH: g.oh, OW: g.ow,
		Stride: g.stride, Padding: g.padding}
}

// Conv2dGeom checks the operands of Conv2d(x, w, b, p).
func Conv2dGeom(x, w, b *Tensor, p ConvParams) ConvGeom {
	g := conv2dGeom("conv2d", x, w, p)
	if b != nil && (b.Rank() != 1 || b.shape[0] != g.o) {
		panic(fmt.Sprintf("conv2d: bias %v for weight %v", b.shape, w.shape))
	}
	return exportGeom(g)
}

// Conv2dInputGradGeom checks the operands of Conv2dInputGrad.
func Conv2dInputGradGeom(gy, w *Tensor, p ConvParams, h, wd int) ConvGeom {
	return exportGeom(inputGradGeom("conv2d_input_grad", gy, w, p, h, wd))
}

// Conv2dWeightGradGeom checks the operands of Conv2dWeightGrad.
func Conv2dWeightGradGeom(x, gy *Tensor, p ConvParams, kh, kw int) ConvGeom {
	return exportGeom(weightGradGeom("conv2d_weight_grad", x, gy, p, kh, kw))
}

// Pool2dShape checks a pool (op "max_pool2d" or "avg_pool2d") of x and
// returns its output shape.
func Pool2dShape(op string, x *Tensor, p PoolParams) Shape { return poolGeom(op, x, p) }

// CheckResizeBilinear panics unless x (N, C, H, W) can be resized to h×w.
func CheckResizeBilinear(x *Tensor, h, w int) {
	if x.Rank() != 4 || x.shape[2] < 1 || x.shape[3] < 1 || h < 1 || w < 1 {
		panic(fmt.Sprintf("resize_bilinear: x %v to %d×%d (want (N, C, H, W) and sizes ≥ 1)", x.shape, h, w))
	}
}

// InstanceNormPlanes checks the operand of InstanceNorm and returns the
// number of planes and their size.
func InstanceNormPlanes(x *Tensor) (planes, hw int) { return checkPlanes("instance_norm", x) }

// InstanceNormBackwardPlanes checks the operands of InstanceNormBackward.
func InstanceNormBackwardPlanes(g, y, r *Tensor) (planes, hw int) {
	return checkInstanceNormBackward("instance_norm_backward", g, y, r)
}

// CheckAdamStep checks the operands of AdamStep.
func CheckAdamStep(p, g, m, v *Tensor) { checkAdam("adam_step", p, g, m, v) }

// OffsetOf is the element offset of the multi-index start in a tensor of
// the given strides.
func OffsetOf(start, strides []int) int { return offsetOf(start, strides) }
