package ops

import (
	"fmt"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/tensor"
)

// ---- Reshape ----

type reshapeOp struct{}

func (reshapeOp) Name() string { return "reshape" }

// Reshape returns x viewed with a new shape of the same size (one size may
// be −1). No shape at all gives a scalar.
func Reshape(x *Var, shape ...int) *Var {
	if tensor.Shape(shape).Equal(x.Shape()) {
		return x
	}
	return autograd.Record(reshapeOp{}, x.Value.Reshape(shape...), x)
}

// Backward: gx = reshape(g, shape of x).
func (reshapeOp) Backward(in []*Var, _, g *Var, _ []bool) []*Var {
	return []*Var{Reshape(g, in[0].Shape()...)}
}

// ---- Expand ----

type expandOp struct{}

func (expandOp) Name() string { return "expand" }

// Expand broadcasts x to shape s.
func Expand(x *Var, s tensor.Shape) *Var {
	if x.Shape().Equal(s) {
		return x
	}
	return autograd.Record(expandOp{}, be(x).Expand(x.Value, s), x)
}

// Backward: gx = SumTo(g, shape of x).
func (expandOp) Backward(in []*Var, _, g *Var, _ []bool) []*Var {
	return []*Var{SumTo(g, in[0].Shape())}
}

// ---- Permute ----

type permuteOp struct{ perm []int }

func (o permuteOp) Name() string { return fmt.Sprintf("permute%v", o.perm) }

// Permute reorders axes: axis i of the result is axis perm[i] of x.
func Permute(x *Var, perm ...int) *Var {
	return autograd.Record(permuteOp{append([]int(nil), perm...)}, be(x).Permute(x.Value, perm), x)
}

// Backward: gx = permute(g, perm⁻¹).
func (o permuteOp) Backward(_ []*Var, _, g *Var, _ []bool) []*Var {
	inv := make([]int, len(o.perm))
	for i, p := range o.perm {
		inv[p] = i
	}
	return []*Var{Permute(g, inv...)}
}

// ---- Slice and Pad (adjoints of each other) ----

type sliceOp struct{ start, end []int }

func (o sliceOp) Name() string { return fmt.Sprintf("slice%v:%v", o.start, o.end) }

// Slice returns x[start[0]:end[0], …] with every axis given.
func Slice(x *Var, start, end []int) *Var {
	o := sliceOp{append([]int(nil), start...), append([]int(nil), end...)}
	return autograd.Record(o, be(x).Slice(x.Value, start, end), x)
}

// SliceAxis returns x with axis restricted to [start, end).
func SliceAxis(x *Var, axis, start, end int) *Var {
	s := x.Shape()
	axis = tensor.NormAxis("slice", axis, len(s))
	lo := make([]int, len(s))
	hi := append([]int(nil), s...)
	lo[axis], hi[axis] = start, end
	return Slice(x, lo, hi)
}

// Backward: gx = pad(g) with zeros where the slice cut x off.
func (o sliceOp) Backward(in []*Var, _, g *Var, _ []bool) []*Var {
	s := in[0].Shape()
	after := make([]int, len(s))
	for i := range s {
		after[i] = s[i] - o.end[i]
	}
	return []*Var{Pad(g, o.start, after)}
}

type padOp struct{ before, after []int }

func (o padOp) Name() string { return fmt.Sprintf("pad%v%v", o.before, o.after) }

// Pad surrounds x with zeros: before[i] before and after[i] after axis i.
func Pad(x *Var, before, after []int) *Var {
	o := padOp{append([]int(nil), before...), append([]int(nil), after...)}
	return autograd.Record(o, be(x).Pad(x.Value, before, after), x)
}

// Backward: gx = the slice of g where x sits.
func (o padOp) Backward(in []*Var, _, g *Var, _ []bool) []*Var {
	s := in[0].Shape()
	end := make([]int, len(s))
	for i := range s {
		end[i] = o.before[i] + s[i]
	}
	return []*Var{Slice(g, o.before, end)}
}

// ---- Concat and Stack ----

type concatOp struct{ axis int }

func (o concatOp) Name() string { return fmt.Sprintf("concat(%d)", o.axis) }

// Concat joins xs along axis.
func Concat(axis int, xs ...*Var) *Var {
	if len(xs) == 0 {
		panic("concat: no inputs")
	}
	axis = tensor.NormAxis("concat", axis, len(xs[0].Shape()))
	vals := make([]*tensor.Tensor, len(xs))
	for i, x := range xs {
		vals[i] = x.Value
	}
	return autograd.Record(concatOp{axis}, be(xs[0]).Concat(axis, vals), xs...)
}

// Backward: input i gets the slice of g it occupies.
func (o concatOp) Backward(in []*Var, _, g *Var, needs []bool) []*Var {
	res := make([]*Var, len(in))
	at := 0
	for i, x := range in {
		n := x.Shape()[o.axis]
		if needs[i] {
			res[i] = SliceAxis(g, o.axis, at, at+n)
		}
		at += n
	}
	return res
}

// Stack joins equally shaped xs along a new axis (composed of Reshape and
// Concat).
func Stack(axis int, xs ...*Var) *Var {
	if len(xs) == 0 {
		panic("stack: no inputs")
	}
	s := xs[0].Shape()
	axis = tensor.NormAxis("stack", axis, len(s)+1)
	ns := append(append(append([]int(nil), s[:axis]...), 1), s[axis:]...)
	us := make([]*Var, len(xs))
	for i, x := range xs {
		if !x.Shape().Equal(s) {
			panic(fmt.Sprintf("stack: shapes %v and %v", s, x.Shape()))
		}
		us[i] = Reshape(x, ns...)
	}
	return Concat(axis, us...)
}
