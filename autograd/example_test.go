package autograd_test

import (
	"fmt"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

// The gradient of a gradient: with createGraph, Grad returns variables that
// can be differentiated again. For f(x) = x³ at x = 2: f' = 3x² = 12,
// f” = 6x = 12, f”' = 6.
func ExampleGrad() {
	x := autograd.Param(tensor.FromFloat64s([]float64{2}, 1))
	f := ops.SumAll(ops.PowScalar(x, 3))

	d1 := autograd.Grad([]*autograd.Var{f}, []*autograd.Var{x}, nil, true)[0]
	d2 := autograd.Grad([]*autograd.Var{ops.SumAll(d1)}, []*autograd.Var{x}, nil, true)[0]
	d3 := autograd.Grad([]*autograd.Var{ops.SumAll(d2)}, []*autograd.Var{x}, nil, false)[0]
	fmt.Println(d1.Item(), d2.Item(), d3.Item())
	// Output: 12 12 6
}

// Backward fills the Grad of every leaf that requires one, as PyTorch's
// loss.backward(). Here L = Σ (w·x − t)², so dL/dw = 2(w·x − t)·x.
func ExampleBackward() {
	w := autograd.Param(tensor.FromFloat64s([]float64{0.5, -1}, 2))
	x := autograd.Const(tensor.FromFloat64s([]float64{2, 3}, 2))
	t := autograd.Const(tensor.FromFloat64s([]float64{0, 0}, 2))
	d := ops.Sub(ops.Mul(w, x), t)
	autograd.Backward(ops.SumAll(ops.Mul(d, d)))
	fmt.Println(w.Grad.Values())
	// Output: [4 -18]
}
