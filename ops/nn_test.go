package ops_test

import (
	"fmt"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

// instanceNormComposed is InstanceNorm2d's normalisation (no weight, no
// bias) as its definition, composed of ops:
//
//	μ = Mean(x, 2, 3),  d = Sub(x, μ),  r = Rsqrt(AddScalar(Mean(Mul(d, d), 2, 3), eps)),  y = Mul(d, r)
//
// Its derivatives of every order follow from the rules of those ops;
// InstanceNorm2d's come from the fused kernels and their own rules
// (instance_norm, instance_norm_scale, InstanceNormBackward).
func instanceNormComposed(x *Var, eps float64) *Var {
	d := ops.Sub(x, ops.Mean(x, 2, 3))
	r := ops.Rsqrt(ops.AddScalar(ops.Mean(ops.Mul(d, d), 2, 3), eps))
	return ops.Mul(d, r)
}

// derivative is one result of derivatives.
type derivative struct {
	what  string
	value *tensor.Tensor
}

// derivatives returns f at x and its derivatives of orders 1 to 3, each
// projected on the given directions: the value y = f(x); the first-order
// gradient Jᵀu; the second-order gradients of ⟨w, Jᵀu⟩ with respect to x
// and u; and the third-order gradients of ⟨vx, ·⟩ + ⟨vu, ·⟩ of those two,
// with respect to x and u.
func derivatives(f func(*Var) *Var, x, u, w, vx, vu *tensor.Tensor) []derivative {
	xv, uv := autograd.Param(x), autograd.Param(u)
	y := f(xv)
	g1 := autograd.Grad([]*Var{y}, []*Var{xv}, []*Var{uv}, true)
	g2 := autograd.Grad(g1, []*Var{xv, uv}, []*Var{autograd.Const(w)}, true)
	g3 := autograd.Grad(g2, []*Var{xv, uv}, []*Var{autograd.Const(vx), autograd.Const(vu)}, false)
	return []derivative{
		{"value", y.Value},
		{"first order", valueOrZeros(g1[0], x)},
		{"second order in x", valueOrZeros(g2[0], x)},
		{"second order in u", valueOrZeros(g2[1], u)},
		{"third order in x", valueOrZeros(g3[0], x)},
		{"third order in u", valueOrZeros(g3[1], u)},
	}
}

// The fused InstanceNorm2d agrees with its composed definition in float64,
// in value and in derivatives of orders 1 to 3 (the second is what the
// GradCAM loss' training differentiates; the third checks the rules of the
// ops the second records), up to the order of summation.
func TestInstanceNorm2dMatchesComposedTwin(t *testing.T) {
	for i, c := range []struct {
		shape []int
		eps   float64
		// flat makes plane 0 constant: σ² = 0 and r = 1/√eps. Its value
		// 0.25 makes μ exact, so that x − μ is exactly 0 in both; a μ off
		// by a rounding would reach the higher derivatives amplified by
		// up to r³ ≈ 3·10⁷.
		flat bool
	}{
		{[]int{2, 3, 4, 5}, 1e-5, false},
		{[]int{1, 2, 7, 3}, 0.1, false},
		{[]int{2, 3, 1, 1}, 1e-5, false}, // one element a plane: y ≡ 0
		{[]int{1, 2, 3, 3}, 1e-5, true},
	} {
		t.Run(fmt.Sprint(c.shape, c.eps, c.flat), func(t *testing.T) {
			rng := tensor.NewRand(uint64(i))
			x := tensor.RandNormal(rng, tensor.Float64, 0, 1, c.shape...)
			if c.flat {
				for j := range c.shape[2] * c.shape[3] {
					x.Float64s()[j] = 0.25
				}
			}
			dirs := make([]*tensor.Tensor, 4) // u, w, vx, vu
			for k := range dirs {
				dirs[k] = tensor.RandNormal(rng, tensor.Float64, 0, 1, c.shape...)
			}
			fused := derivatives(func(x *Var) *Var { return ops.InstanceNorm2d(x, nil, nil, c.eps) }, x, dirs[0], dirs[1], dirs[2], dirs[3])
			twin := derivatives(func(x *Var) *Var { return instanceNormComposed(x, c.eps) }, x, dirs[0], dirs[1], dirs[2], dirs[3])
			for k, d := range fused {
				checkCloseTo(t, d.what, d.value, twin[k].value, "composed")
			}
		})
	}
}
