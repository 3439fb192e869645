package tensor

import "fmt"

// The definitions of the fused kernels of Backend (InstanceNorm,
// InstanceNormBackward, AdamStep), each written with the elementary
// primitives of the same backend: Reduce, Binary, Scalar, Unary. A fused
// kernel must agree with its composed twin on every backend, up to
// rounding; the conformance suite (tensor/backendtest) checks that, and
// checks the kernel against float64 loops too. The twins are slow (each
// pass over the data is a primitive of its own, with a tensor for its
// result): they are definitions to check against, not what training runs.
//
// The checks of the operands are shared with the CPU's fused kernels
// (cpu_fused.go), so a twin panics where its kernel does.

// InstanceNormComposed is Backend.InstanceNorm written with b's elementary
// primitives: per (n, c) plane of x (N, C, H, W),
//
//	μ = Σ_HW x / HW,  d = x − μ,  σ² = Σ_HW d² / HW,  r = 1/√(σ² + eps),  y = d·r
//
// It returns y and r (N, C, 1, 1).
func InstanceNormComposed(b Backend, x *Tensor, eps float64) (y, r *Tensor) {
	_, hw := checkPlanes("instance_norm_composed", x)
	d := b.Binary(Sub, x, planeMean(b, x, hw))
	r = b.Unary(Rsqrt, b.Scalar(Add, planeMean(b, b.Binary(Mul, d, d), hw), eps))
	return b.Binary(Mul, d, r), r
}

// InstanceNormBackwardComposed is Backend.InstanceNormBackward written with
// b's elementary primitives: gx = r·((g − mean(g)) − y·mean(g·y)), means
// over each H×W plane.
func InstanceNormBackwardComposed(b Backend, g, y, r *Tensor) *Tensor {
	_, hw := checkInstanceNormBackward("instance_norm_backward_composed", g, y, r)
	p := b.Binary(Sub, b.Binary(Sub, g, planeMean(b, g, hw)), b.Binary(Mul, y, planeMean(b, b.Binary(Mul, g, y), hw)))
	return b.Binary(Mul, r, p)
}

// planeMean returns the mean of each H×W plane of t (N, C, H, W), hw = H·W,
// as (N, C, 1, 1).
func planeMean(b Backend, t *Tensor, hw int) *Tensor {
	return b.Scalar(Div, b.Reduce(Sum, t, []int{2, 3}), float64(hw))
}

// AdamStepComposed is Backend.AdamStep written with b's elementary
// primitives, one per operation of the formula and in its order (PyTorch's):
//
//	m' = m·β₁ + (1−β₁)·g
//	v' = v·β₂ + ((1−β₂)·g)·g
//	p' = p − StepSize·(m' / (√v'/SqrtBC2 + Eps))
func AdamStepComposed(b Backend, p, g, m, v *Tensor, h AdamHyper) (p2, m2, v2 *Tensor) {
	checkAdam("adam_step_composed", p, g, m, v)
	m2 = b.Binary(Add, b.Scalar(Mul, m, h.Beta1), b.Scalar(Mul, g, 1-h.Beta1))
	v2 = b.Binary(Add, b.Scalar(Mul, v, h.Beta2), b.Binary(Mul, b.Scalar(Mul, g, 1-h.Beta2), g))
	denom := b.Scalar(Add, b.Scalar(Div, b.Unary(Sqrt, v2), h.SqrtBC2), h.Eps)
	p2 = b.Binary(Sub, p, b.Scalar(Mul, b.Binary(Div, m2, denom), h.StepSize))
	return p2, m2, v2
}

// checkPlanes panics unless x is (N, C, H, W) with a non-empty plane.
func checkPlanes(op string, x *Tensor) (planes, hw int) {
	if x.Rank() != 4 || x.shape[2]*x.shape[3] == 0 {
		panic(fmt.Sprintf("%s: x %v is not (N, C, H, W) with H, W ≥ 1", op, x.shape))
	}
	return x.shape[0] * x.shape[1], x.shape[2] * x.shape[3]
}

// checkInstanceNormBackward panics unless g and y are one (N, C, H, W)
// shape and r is (N, C, 1, 1).
func checkInstanceNormBackward(op string, g, y, r *Tensor) (planes, hw int) {
	planes, hw = checkPlanes(op, g)
	if !g.shape.Equal(y.shape) || !r.shape.Equal(Shape{g.shape[0], g.shape[1], 1, 1}) {
		panic(fmt.Sprintf("%s: g %v, y %v, r %v (want r (N, C, 1, 1))", op, g.shape, y.shape, r.shape))
	}
	return planes, hw
}

// checkAdam panics unless p, g, m and v have one shape.
func checkAdam(op string, p, g, m, v *Tensor) {
	for _, t := range []*Tensor{g, m, v} {
		if !t.shape.Equal(p.shape) {
			panic(fmt.Sprintf("%s: p %v, g %v, m %v, v %v differ", op, p.shape, g.shape, m.shape, v.shape))
		}
	}
}
