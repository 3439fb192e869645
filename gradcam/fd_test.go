package gradcam_test

import (
	"math"
	"testing"

	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/tensor"
)

// TestLossGradientFiniteDifferences checks d L_att / dθ for the parameters
// of both generators against central differences in float64, one random
// direction per parameter tensor: ⟨∇_θ L, u⟩ ≈ (L(θ + hu) − L(θ − hu))/2h.
// Order 2 must agree; order 1, which drops the dependence of the GradCAM
// weights on θ, must not (and must still be a nonzero gradient).
func TestLossGradientFiniteDifferences(t *testing.T) {
	n := tinyNets(1, 2, 2, 2, 2) // ngf 2, 2 blocks, ndf 2, 2 layers
	defer n.freezeD()()
	realA, realB := images(2, 1, 16), images(3, 1, 16)
	opts := options(gradcam.AllBlocks())
	opts.Weights = gradcam.Weights{1, 2}
	loss := func(order gradcam.Order) *gradcam.Var {
		o := opts
		o.Order = order
		att, err := gradcam.New(o, n.GA.Model)
		if err != nil {
			t.Fatal(err)
		}
		return att.Loss(n.inputs(att, realA, realB, true))
	}

	ps := n.genParams()
	g2 := grads(loss(gradcam.Second), ps)
	g1 := grads(loss(gradcam.First), ps)

	const h = 1e-6
	rng := tensor.NewRand(4)
	var worst, sumDiff1, sumNum float64
	for i, p := range ps {
		theta := p.Var.Value
		u := tensor.RandNormal(rng, tensor.Float64, 0, 1, theta.Shape()...).Values()
		at := func(step float64) float64 {
			v := theta.Values()
			for e := range v {
				v[e] += step * u[e]
			}
			p.Var.Value = tensor.FromFloat64s(v, theta.Shape()...)
			defer func() { p.Var.Value = theta }()
			return loss(gradcam.None).Item() // the value is the same at every order
		}
		num := (at(h) - at(-h)) / (2 * h)
		an2, an1 := dot(g2[i], u), dot(g1[i], u)
		diff := math.Abs(an2 - num)
		if diff > 1e-6+1e-5*math.Abs(num) {
			t.Errorf("%s: order-2 directional derivative %.10g, central difference %.10g (diff %.3g)", p.Name, an2, num, diff)
		}
		worst = max(worst, diff)
		sumDiff1 += math.Abs(an1 - num)
		sumNum += math.Abs(num)
	}
	t.Logf("order 2: largest difference %.3g; order 1: Σ|diff| / Σ|numeric| = %.3g", worst, sumDiff1/sumNum)

	// Both generators get a gradient, at both orders.
	half := len(ps) / 2
	for _, c := range []struct {
		name string
		g    [][]float64
	}{{"order 2", g2}, {"order 1", g1}} {
		var a, b float64
		for i := range ps {
			if i < half {
				a += norm2(c.g[i])
			} else {
				b += norm2(c.g[i])
			}
		}
		if a == 0 || b == 0 {
			t.Errorf("%s: |∇_G_A|² = %g, |∇_G_B|² = %g: both generators must get a gradient", c.name, a, b)
		}
	}
	if sumDiff1 < 0.05*sumNum {
		t.Errorf("order 1 agrees with the full derivative (relative difference %.3g): the second-order term is missing from order 2 or order 1 is not first order", sumDiff1/sumNum)
	}
}
