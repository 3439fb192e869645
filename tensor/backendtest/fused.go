package backendtest

import (
	"fmt"
	"math"

	"github.com/camcycle/camcycle/tensor"
)

// ---- Fused kernels ----

// Each fused kernel is checked against its definition written out in
// float64 loops, and against its composed twin (tensor.InstanceNormComposed,
// InstanceNormBackwardComposed, AdamStepComposed) computed on the same
// backend from its elementary primitives.

// expectTwin checks got, a fused kernel's result, against twin, its
// composed twin's: each may be tol off the exact value, so the two may
// differ by twice that.
func (s *suite) expectTwin(what string, got, twin *tensor.Tensor, tol tolerance, in ...operand) {
	s.t.Helper()
	tol.scale *= 2
	s.expect(what+" against its composed twin", got, twin.Shape(), s.b.ToHost(twin).Values(), tol, in...)
}

func checkInstanceNorm(s *suite) {
	for _, sh := range []tensor.Shape{{1, 1, 1, 1}, {2, 3, 4, 5}, {1, 4, 17, 9}, {2, 64, 33, 33}} {
		x := s.rand(normal, sh...)
		hw := sh[2] * sh[3]
		want := make([]float64, sh.Numel())
		r := make([]float64, sh[0]*sh[1])
		abs := make([]float64, sh.Numel())
		rabs := make([]float64, len(r))
		for p := range r {
			xp := x.values[p*hw : (p+1)*hw]
			var mu, q float64
			for _, v := range xp {
				mu += v
			}
			mu /= float64(hw)
			for _, v := range xp {
				q += (v - mu) * (v - mu)
			}
			r[p] = 1 / math.Sqrt(q/float64(hw)+1e-5)
			rabs[p] = float64(hw) * r[p]
			for i, v := range xp {
				want[p*hw+i] = (v - mu) * r[p]
				// The mean is a sum of hw terms; y's error scales with it.
				abs[p*hw+i] = float64(hw) * (math.Abs(v) + math.Abs(mu)) * r[p]
			}
		}
		y, rs := s.b.InstanceNorm(x.dev, 1e-5)
		s.expect(fmt.Sprintf("instance_norm %v: y", sh), y, sh, want, sumOf(abs), x)
		s.expect(fmt.Sprintf("instance_norm %v: r", sh), rs, tensor.Shape{sh[0], sh[1], 1, 1}, r, sumOf(rabs), x)
		ty, tr := tensor.InstanceNormComposed(s.b, x.dev, 1e-5)
		s.expectTwin(fmt.Sprintf("instance_norm %v: y", sh), y, ty, sumOf(abs), x)
		s.expectTwin(fmt.Sprintf("instance_norm %v: r", sh), rs, tr, sumOf(rabs), x)
	}
}

func checkInstanceNormBackward(s *suite) {
	for _, sh := range []tensor.Shape{{1, 1, 1, 1}, {2, 3, 4, 5}, {2, 64, 33, 33}} {
		g, y := s.rand(normal, sh...), s.rand(normal, sh...)
		r := s.rand(positive, sh[0], sh[1], 1, 1)
		hw := sh[2] * sh[3]
		want := make([]float64, sh.Numel())
		abs := make([]float64, sh.Numel())
		for p := range sh[0] * sh[1] {
			gp, yp := g.values[p*hw:(p+1)*hw], y.values[p*hw:(p+1)*hw]
			var mg, mgy, ag, agy float64
			for i, v := range gp {
				mg += v
				mgy += v * yp[i]
				ag += math.Abs(v)
				agy += math.Abs(v * yp[i])
			}
			mg /= float64(hw)
			mgy /= float64(hw)
			rp := r.values[p]
			for i, v := range gp {
				want[p*hw+i] = rp * (v - mg - yp[i]*mgy)
				abs[p*hw+i] = rp * (math.Abs(v) + ag + math.Abs(yp[i])*agy)
			}
		}
		what := fmt.Sprintf("instance_norm_backward %v", sh)
		gx := s.b.InstanceNormBackward(g.dev, y.dev, r.dev)
		s.expect(what, gx, sh, want, sumOf(abs), g, y, r)
		s.expectTwin(what, gx, tensor.InstanceNormBackwardComposed(s.b, g.dev, y.dev, r.dev), sumOf(abs), g, y, r)
	}
}

// adamHyper are CycleGAN's constants at step 2.
func adamHyper() tensor.AdamHyper {
	return tensor.AdamHyper{Beta1: 0.5, Beta2: 0.999, Eps: 1e-8, StepSize: 2e-4 / (1 - 0.25), SqrtBC2: math.Sqrt(1 - 0.999*0.999)}
}

func checkAdamStep(s *suite) {
	sh := tensor.Shape{3, 1000}
	p, g, m := s.rand(normal, sh...), s.rand(normal, sh...), s.rand(normal, sh...)
	v := s.rand(positive, sh...)
	h := adamHyper()
	wp, wm, wv := make([]float64, sh.Numel()), make([]float64, sh.Numel()), make([]float64, sh.Numel())
	for i := range wp {
		wm[i] = h.Beta1*m.values[i] + (1-h.Beta1)*g.values[i]
		wv[i] = h.Beta2*v.values[i] + (1-h.Beta2)*g.values[i]*g.values[i]
		wp[i] = p.values[i] - h.StepSize*wm[i]/(math.Sqrt(wv[i])/h.SqrtBC2+h.Eps)
	}
	p2, m2, v2 := s.b.AdamStep(p.dev, g.dev, m.dev, v.dev, h)
	s.expect("adam_step m", m2, sh, wm, ulps, p, g, m, v)
	s.expect("adam_step v", v2, sh, wv, ulps, p, g, m, v)
	s.expect("adam_step p", p2, sh, wp, ulps, p, g, m, v)
	tp, tm, tv := tensor.AdamStepComposed(s.b, p.dev, g.dev, m.dev, v.dev, h)
	s.expectTwin("adam_step m", m2, tm, ulps, p, g, m, v)
	s.expectTwin("adam_step v", v2, tv, ulps, p, g, m, v)
	s.expectTwin("adam_step p", p2, tp, ulps, p, g, m, v)
}
