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
// written with ops, so every order of derivative follows. The tests check
// its value and its derivatives of orders 1 to 3 against the definition
// above composed of ops (Mean, Sub, Mul, Rsqrt; nn_test.go).
func InstanceNorm2d(x, weight, bias *Var, eps float64) *Var {
	s := x.Shape()
	if len(s) != 4 {
		panic(fmt.Sprintf("instance_norm2d: x %v is not (N, C, H, W)", s))
	}
	yv, r := be(x).InstanceNorm(x.Value, eps)
	return affine("instance_norm2d", autograd.Record(instanceNormOp{eps: eps, r: r}, yv, x), weight, bias)
}

type instanceNormOp struct {
	eps float64
	r   *tensor.Tensor // (N, C, 1, 1): 1/√(σ² + eps) from the forward pass
}

func (o instanceNormOp) Name() string { return fmt.Sprintf("instance_norm(eps=%g)", o.eps) }

// Backward: gx = r·(g − mean(g) − y·mean(g·y)) = InstanceNormBackward(g, y, r).
// When the graph of the gradient is recorded (x is live), r must be a
// differentiable function of x too: it enters as the op InstanceNormScale,
// whose value is the forward pass's r and whose derivative is that of
// 1/√(σ² + eps). So a gradient has the same value whether or not its graph
// is recorded. Otherwise the forward pass's r is a constant.
func (o instanceNormOp) Backward(in []*Var, y, g *Var, _ []bool) []*Var {
	x := in[0]
	r := autograd.Const(o.r)
	if x.RequiresGrad() {
		r = autograd.Record(instanceNormScaleOp{}, o.r, x, y)
	}
	return []*Var{InstanceNormBackward(g, y, r)}
}

// instanceNormScaleOp is r = 1/√(σ² + eps) (N, C, 1, 1) as a function of
// x, for the recorded backward of InstanceNorm2d. Its value is the forward
// pass's r, and with μ = mean_HW(x), σ² = mean_HW((x − μ)²):
//
//	∂r/∂x_ij = −½ (σ² + eps)^(−3/2) · 2(x_ij − μ)/HW = −r³ (x_ij − μ)/HW = −r² y_ij/HW
//
// (the terms through μ sum to zero). So its backward is one product with
// the normalised output y, itself a differentiable function of x; composed
// of Mean, Sub, Mul and Rsqrt, r would cost four passes over x here and
// about eight more in its own backward. The op's inputs are x and y: y
// only appears in the derivative (r's value is a function of x alone), so
// it gets no gradient, but as an input it is handed to Backward live or
// detached like any operand.
type instanceNormScaleOp struct{}

func (instanceNormScaleOp) Name() string { return "instance_norm_scale" }

// Backward: x̄ = y · (−r̄ · r² / HW), r̄ the gradient of r (N, C, 1, 1).
func (instanceNormScaleOp) Backward(in []*Var, r, g *Var, _ []bool) []*Var {
	y := in[1]
	s := y.Shape()
	return []*Var{Mul(y, MulScalar(Mul(g, Mul(r, r)), -1/float64(s[2]*s[3]))), nil}
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
		// As u·(−r·mean(g·y)) + g·(−r·mean(u·y)): the factors are
		// per-plane, so three passes over the planes instead of five.
		a := Neg(Mul(r, Mean(Mul(g, y), 2, 3)))
		b := Neg(Mul(r, Mean(Mul(u, y), 2, 3)))
		res[1] = Add(Mul(u, a), Mul(g, b))
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

// BatchNorm2d normalises each channel of x (N, C, H, W) over the batch and
// the plane (N×H×W) with the batch's statistics, as torch.nn.BatchNorm2d
// in training mode (biased variance):
//
//	y = (x − μ)·r,  μ = mean_NHW(x),  r = 1/√(σ² + eps),  σ² = mean_NHW((x − μ)²)
//
// then y·weight + bias per channel when weight and bias (C) are not nil.
// It is composed of Mean, Sub, Mul, AddScalar and Rsqrt, so every order of
// derivative follows from theirs. The running statistics of evaluation
// mode are the module's business (layers.BatchNorm2d); at N = 1 the
// result is InstanceNorm2d's.
func BatchNorm2d(x, weight, bias *Var, eps float64) *Var {
	s := x.Shape()
	if len(s) != 4 {
		panic(fmt.Sprintf("batch_norm2d: x %v is not (N, C, H, W)", s))
	}
	if s[0]*s[2]*s[3] < 2 {
		panic(fmt.Sprintf("batch_norm2d: x %v has one value per channel: no batch statistics (PyTorch refuses it too)", s))
	}
	d := Sub(x, Mean(x, 0, 2, 3))
	y := Mul(d, Rsqrt(AddScalar(Mean(Mul(d, d), 0, 2, 3), eps)))
	return affine("batch_norm2d", y, weight, bias)
}

// affine returns y·weight + bias with weight and bias (C) per channel of y
// (N, C, H, W), each left out when nil.
func affine(op string, y, weight, bias *Var) *Var {
	c := y.Shape()[1]
	for _, p := range []*Var{weight, bias} {
		if p != nil && !p.Shape().Equal(tensor.Shape{c}) {
			panic(fmt.Sprintf("%s: weight or bias %v for %d channels", op, p.Shape(), c))
		}
	}
	if weight != nil {
		y = Mul(y, Reshape(weight, 1, c, 1, 1))
	}
	if bias != nil {
		y = Add(y, Reshape(bias, 1, c, 1, 1))
	}
	return y
}

// BCEWithLogitsLoss returns mean(softplus(x) − x·t), the binary cross
// entropy of sigmoid(x) against targets t (broadcasting against x), as
// torch.nn.BCEWithLogitsLoss with reduction "mean". softplus(x) =
// log(1 + eˣ) is taken in the form that never overflows, each branch fed
// only the inputs it serves (so that no branch sees an exponent above 0,
// even where its value is discarded):
//
//	softplus(x) = x + log(1 + e⁻ˣ)  for x > 0,   log(1 + eˣ)  for x ≤ 0
//
// It is composed of GreaterScalar, Where, Exp, Log and Mul, so it can be
// differentiated to any order; at x = 0 the second branch gives the
// derivative σ(0) = ½, as PyTorch does.
func BCEWithLogitsLoss(x, t *Var) *Var {
	checkBroadcast("bce_with_logits", x, t)
	zero := scalarConst(x, 0)
	pos := GreaterScalar(x, 0)
	xp := Where(pos, x, zero) // x where x > 0, else 0
	xn := Where(pos, zero, x) // x where x ≤ 0, else 0
	sp := Where(pos,
		Add(xp, Log(AddScalar(Exp(Neg(xp)), 1))),
		Log(AddScalar(Exp(xn), 1)))
	return MeanAll(Sub(sp, Mul(x, t)))
}
