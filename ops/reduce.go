package ops

import (
	"fmt"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/tensor"
)

// Reductions keep the reduced axes with size 1 (PyTorch's keepdim=True), so
// that the result broadcasts against the input. With no axes, every axis is
// reduced. SumAll and MeanAll give a scalar (shape ()).

type reduceOp struct {
	op   tensor.ReduceOp
	axes []int
}

func (o reduceOp) Name() string { return fmt.Sprintf("%s%v", o.op, o.axes) }

// Sum returns Σ over axes.
func Sum(x *Var, axes ...int) *Var { return reduce(tensor.Sum, x, axes) }

// Max returns the largest element over axes. Where several elements tie,
// the gradient is shared evenly among them (as torch.amax).
func Max(x *Var, axes ...int) *Var { return reduce(tensor.Max, x, axes) }

// Min returns the smallest element over axes, ties sharing the gradient
// evenly (as torch.amin).
func Min(x *Var, axes ...int) *Var { return reduce(tensor.Min, x, axes) }

func reduce(op tensor.ReduceOp, x *Var, axes []int) *Var {
	norm := make([]int, len(axes))
	for i, a := range axes {
		norm[i] = tensor.NormAxis(op.String(), a, len(x.Shape()))
	}
	return autograd.Record(reduceOp{op, norm}, be(x).Reduce(op, x.Value, norm), x)
}

// Backward:
//
//	sum:     gx = expand(g)
//	max/min: gx = expand(g / n)·m,  m = [x = out] (constant), n = Σ m over axes
func (o reduceOp) Backward(in []*Var, out, g *Var, _ []bool) []*Var {
	x := in[0]
	if o.op == tensor.Sum {
		return []*Var{Expand(g, x.Shape())}
	}
	m := Equal(x, out)
	n := autograd.Const(be(m).Reduce(tensor.Sum, m.Value, o.axes))
	return []*Var{Mul(Div(g, n), m)}
}

// Mean returns the average over axes.
func Mean(x *Var, axes ...int) *Var {
	s := Sum(x, axes...)
	return MulScalar(s, float64(s.Value.Numel())/float64(x.Value.Numel()))
}

// SumAll returns the sum of all elements as a scalar.
func SumAll(x *Var) *Var { return Reshape(Sum(x)) }

// MeanAll returns the mean of all elements as a scalar.
func MeanAll(x *Var) *Var { return Reshape(Mean(x)) }

// SumTo sums g over the axes along which shape s was broadcast to g's shape,
// giving a result of shape s: the adjoint of broadcasting, used by every
// broadcasting op's backward.
func SumTo(g *Var, s tensor.Shape) *Var {
	gs := g.Shape()
	if gs.Equal(s) {
		return g
	}
	lead := len(gs) - len(s)
	if lead < 0 {
		panic(fmt.Sprintf("sum_to: cannot reduce %v to %v", gs, s))
	}
	var axes []int
	for i := range gs {
		if i < lead || (s[i-lead] == 1 && gs[i] != 1) {
			axes = append(axes, i)
		} else if s[i-lead] != gs[i] {
			panic(fmt.Sprintf("sum_to: cannot reduce %v to %v", gs, s))
		}
	}
	r := g
	if len(axes) > 0 {
		r = Sum(g, axes...)
	}
	return Reshape(r, s...)
}
