package ops

import "fmt"

// InstanceNorm2d normalises each (sample, channel) plane of x (N, C, H, W)
// to zero mean and unit variance over H×W, as torch.nn.InstanceNorm2d
// (biased variance, no running statistics):
//
//	y = (x − μ) / √(σ² + eps),  μ = mean_HW(x),  σ² = mean_HW((x − μ)²)
//
// then y·weight + bias per channel when weight and bias (C) are not nil. It is
// composed of differentiable ops, so every order of derivative follows.
func InstanceNorm2d(x, weight, bias *Var, eps float64) *Var {
	s := x.Shape()
	if len(s) != 4 {
		panic(fmt.Sprintf("instance_norm2d: x %v is not (N, C, H, W)", s))
	}
	mu := Mean(x, 2, 3)
	xc := Sub(x, mu)
	v := Mean(Mul(xc, xc), 2, 3)
	y := Mul(xc, Rsqrt(AddScalar(v, eps)))
	if weight != nil {
		y = Mul(y, Reshape(weight, 1, s[1], 1, 1))
	}
	if bias != nil {
		y = Add(y, Reshape(bias, 1, s[1], 1, 1))
	}
	return y
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
