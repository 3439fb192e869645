package tensor

import (
	"math"

	"golang.org/x/exp/constraints"
)

// The fused kernels of the CPU backend. Each makes one to three passes over
// the data, where its composed twin in fused.go (InstanceNormComposed,
// InstanceNormBackwardComposed, AdamStepComposed: the definition, written
// with the elementary primitives) calls nine primitives (AdamStep's,
// thirteen), each writing a tensor of its own. The conformance suite checks
// every backend's fused kernels against their twins on the same backend,
// and against float64 loops.

func (cpuBackend) InstanceNorm(x *Tensor, eps float64) (y, r *Tensor) {
	checkCPU("instance_norm", x)
	planes, hw := checkPlanes("instance_norm", x)
	y = newUninit(x, x.shape)
	r = newUninit(x, Shape{x.shape[0], x.shape[1], 1, 1})
	defer keepAlive(x)
	switch d := x.data.(type) {
	case []float32:
		instanceNorm(d, y.Float32s(), r.Float32s(), planes, hw, eps)
	case []float64:
		instanceNorm(d, y.Float64s(), r.Float64s(), planes, hw, eps)
	}
	return y, r
}

// instanceNorm normalises each plane of hw elements: a pass for the mean,
// one for the variance about it (both summed in float64), one to write y.
func instanceNorm[T constraints.Float](x, y, r []T, planes, hw int, eps float64) {
	parallelFor(planes, max(1, elementwiseGrain/hw), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xp, yp := x[p*hw:(p+1)*hw], y[p*hw:(p+1)*hw]
			var s float64
			for _, v := range xp {
				s += float64(v)
			}
			mu := s / float64(hw)
			var q float64
			for _, v := range xp {
				d := float64(v) - mu
				q += d * d
			}
			rs := 1 / math.Sqrt(q/float64(hw)+eps)
			r[p] = T(rs)
			m, rt := T(mu), T(rs)
			for i, v := range xp {
				yp[i] = (v - m) * rt
			}
		}
	})
}

func (cpuBackend) InstanceNormBackward(g, y, r *Tensor) *Tensor {
	checkCPU("instance_norm_backward", g, y, r)
	planes, hw := checkInstanceNormBackward("instance_norm_backward", g, y, r)
	gx := newUninit(g, g.shape)
	defer keepAlive(g, y, r)
	switch d := g.data.(type) {
	case []float32:
		instanceNormBackward(d, y.Float32s(), r.Float32s(), gx.Float32s(), planes, hw)
	case []float64:
		instanceNormBackward(d, y.Float64s(), r.Float64s(), gx.Float64s(), planes, hw)
	}
	return gx
}

// instanceNormBackward: per plane, the means of g and g·y in one pass, then
// gx = r·(g − mean(g) − y·mean(g·y)).
func instanceNormBackward[T constraints.Float](g, y, r, gx []T, planes, hw int) {
	parallelFor(planes, max(1, elementwiseGrain/hw), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			gp, yp, op := g[p*hw:(p+1)*hw], y[p*hw:(p+1)*hw], gx[p*hw:(p+1)*hw]
			var sg, sgy float64
			for i, v := range gp {
				sg += float64(v)
				sgy += float64(v) * float64(yp[i])
			}
			mg, mgy, rp := T(sg/float64(hw)), T(sgy/float64(hw)), r[p]
			for i, v := range gp {
				op[i] = rp * (v - mg - yp[i]*mgy)
			}
		}
	})
}

func (cpuBackend) AdamStep(p, g, m, v *Tensor, h AdamHyper) (p2, m2, v2 *Tensor) {
	checkCPU("adam_step", p, g, m, v)
	checkAdam("adam_step", p, g, m, v)
	p2, m2, v2 = newUninit(p, p.shape), newUninit(p, p.shape), newUninit(p, p.shape)
	defer keepAlive(p, g, m, v)
	switch d := p.data.(type) {
	case []float32:
		adamStep(d, g.Float32s(), m.Float32s(), v.Float32s(), p2.Float32s(), m2.Float32s(), v2.Float32s(), h)
	case []float64:
		adamStep(d, g.Float64s(), m.Float64s(), v.Float64s(), p2.Float64s(), m2.Float64s(), v2.Float64s(), h)
	}
	return p2, m2, v2
}

// adamStep rounds after every operation as PyTorch's float32 kernels do, so
// that the two agree step for step.
func adamStep[T constraints.Float](p, g, m, v, p2, m2, v2 []T, h AdamHyper) {
	b1, c1 := T(h.Beta1), T(1-h.Beta1)
	b2, c2 := T(h.Beta2), T(1-h.Beta2)
	eps, step, bc2 := T(h.Eps), T(h.StepSize), T(h.SqrtBC2)
	parallelFor(len(p), elementwiseGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			gi := g[i]
			mi := m[i]*b1 + c1*gi
			vi := v[i]*b2 + c2*gi*gi
			denom := T(math.Sqrt(float64(vi)))/bc2 + eps
			p2[i] = p[i] - step*(mi/denom)
			m2[i], v2[i] = mi, vi
		}
	})
}
