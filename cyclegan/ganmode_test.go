package cyclegan_test

import (
	"math"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

// TestGANMode: the logged GAN terms of a step are the reference's GANLoss
// of the discriminators' predictions, computed here before the step:
// MSE against 1 and 0 for lsgan, BCEWithLogits for vanilla.
func TestGANMode(t *testing.T) {
	for _, mode := range []string{cyclegan.GANLSGAN, cyclegan.GANVanilla} {
		o := cyclegan.DefaultOptions()
		o.NGF, o.NDF, o.NBlocks, o.NLayersD, o.PoolSize, o.DType, o.GANMode = 2, 2, 1, 2, 0, tensor.Float64, mode
		m, err := cyclegan.New(o, 4)
		if err != nil {
			t.Fatal(err)
		}
		a := tensor.RandUniform(tensor.NewRand(1), tensor.Float64, -1, 1, 1, 3, 16, 16)
		b := tensor.RandUniform(tensor.NewRand(2), tensor.Float64, -1, 1, 1, 3, 16, 16)
		loss := ops.MSELoss
		if mode == cyclegan.GANVanilla {
			loss = ops.BCEWithLogitsLoss
		}
		at := func(p *autograd.Var, v float64) float64 { return loss(p, ops.Full(p, v)).Item() }
		fakeB := m.GA.Forward(autograd.Const(a))
		pf, pr := m.DA.Forward(fakeB), m.DA.Forward(autograd.Const(b))
		wantG, wantD := at(pf, 1), 0.5*(at(pr, 1)+at(pf, 0))
		l, err := m.Step(a, b, 2e-4, nil)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(l.GA-wantG) > 1e-12 || math.Abs(l.DA-wantD) > 1e-12 {
			t.Errorf("%s: G_A %.15g, D_A %.15g; want %.15g, %.15g", mode, l.GA, l.DA, wantG, wantD)
		}
	}
	o := cyclegan.DefaultOptions()
	o.GANMode = "wgangp"
	if _, err := cyclegan.New(o, 1); err == nil {
		t.Error("New accepted GAN mode wgangp")
	}
}
