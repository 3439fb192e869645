package ops

import (
	"fmt"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/tensor"
)

// InstanceNorm2d normalises each (sample, channel) plane of x (N, C, H, W)
// to zero mean and unit variance over H×W, as torch.nn.InstanceNorm2d
// (biased variance, no running statistics):
//
//	y = (x − μ)·r,  μ = mean_HW(x),  r = 1/√(σ² + eps),  σ² = mean_HW((x − μ)²)
//
// then y·weight + bias per channel when weight and bias (C) are not nil.
// The normalisation is one fused kernel (Backend.InstanceNorm); its
// backward is the fused op InstanceNormBackward, whose own derivatives are
// written with ops, so every order of derivative follows.
func InstanceNorm2d(x, weight, bias *Var, eps float64) *Var {
	s := x.Shape()
	if len(s) != 4 {
		panic(fmt.Sprintf("instance_norm2d: x %v is not (N, C, H, W)", s))
	}
	yv, r := be(x).InstanceNorm(x.Value, eps)
	y := autograd.Record(instanceNormOp{eps: eps, r: r}, yv, x)
	if weight != nil {
		y = Mul(y, Reshape(weight, 1, s[1], 1, 1))
	}
	if bias != nil {
		y = Add(y, Reshape(bias, 1, s[1], 1, 1))
	}
	return y
}

type instanceNormOp struct {
	eps float64
	r   *tensor.Tensor // (N, C, 1, 1): 1/√(σ² + eps) from the forward pass
}

func (o instanceNormOp) Name() string { return fmt.Sprintf("instance_norm(eps=%g)", o.eps) }

// Backward: gx = r·(g − mean(g) − y·mean(g·y)) = InstanceNormBackward(g, y, r).
// When the graph of the gradient is recorded (x is live), r must be a
// differentiable function of x too, so it is recomputed with ops
// (instanceNormScale) as r̃; it enters as r + (r̃ − r̃ᵥ), r̃ᵥ the constant
// value of r̃, which is exactly the forward pass's r in value and r̃ in
// derivative. So a gradient has the same value whether or not its graph is
// recorded. Otherwise the forward pass's r is a constant.
func (o instanceNormOp) Backward(in []*Var, y, g *Var, _ []bool) []*Var {
	x := in[0]
	r := autograd.Const(o.r)
	if x.RequiresGrad() {
		rt := instanceNormScale(x, o.eps)
		r = Add(r, Sub(rt, rt.Detach()))
	}
	return []*Var{InstanceNormBackward(g, y, r)}
}

// instanceNormScale returns r = 1/√(mean_HW((x − μ)²) + eps) (N, C, 1, 1)
// composed of ops.
func instanceNormScale(x *Var, eps float64) *Var {
	xc := Sub(x, Mean(x, 2, 3))
	return Rsqrt(AddScalar(Mean(Mul(xc, xc), 2, 3), eps))
}

type instanceNormBackwardOp struct{}

func (instanceNormBackwardOp) Name() string { return "instance_norm_backward" }

// InstanceNormBackward returns gx = r·(g − mean(g) − y·mean(g·y)), means
// over each H×W plane: InstanceNorm2d's input gradient given its output y
// (N, C, H, W), scale r (N, C, 1, 1) and output gradient g (N, C, H, W).
// It is a fused op with derivatives of its own.
func InstanceNormBackward(g, y, r *Var) *Var {
	return autograd.Record(instanceNormBackwardOp{}, be(g).InstanceNormBackward(g.Value, y.Value, r.Value), g, y, r)
}

// Backward, with u the gradient of gx and P(g) = g − mean(g) − y·mean(g·y)
// (so gx = r·P(g); P is symmetric):
//
//	ḡ = r·P(u)                              = InstanceNormBackward(u, y, r)
//	ȳ = −r·(u·mean(g·y) + g·mean(u·y))
//	r̄ = Σ_HW u·P(g)                         = Σ_HW u·gx / r
func (instanceNormBackwardOp) Backward(in []*Var, gx, u *Var, needs []bool) []*Var {
	g, y, r := in[0], in[1], in[2]
	res := make([]*Var, 3)
	if needs[0] {
		res[0] = InstanceNormBackward(u, y, r)
	}
	if needs[1] {
		res[1] = Neg(Mul(r, Add(Mul(u, Mean(Mul(g, y), 2, 3)), Mul(g, Mean(Mul(u, y), 2, 3)))))
	}
	if needs[2] {
		res[2] = Div(Sum(Mul(u, gx), 2, 3), r)
	}
	return res
}

// MSELoss returns mean((x − y)²) as a scalar (reduction "mean"). y may
// broadcast against x (a constant target such as 1 for "real").
func MSELoss(x, y *Var) *Var {
	d := Sub(x, y)
	return MeanAll(Mul(d, d))
}

// L1Loss returns mean(|x − y|) as a scalar (reduction "mean").
func L1Loss(x, y *Var) *Var { return MeanAll(Abs(Sub(x, y))) }

// Full returns a constant shaped like x with every element v (a loss
// target such as 1 for "real" or 0 for "fake").
func Full(x *Var, v float64) *Var { return constFull(x, v) }
