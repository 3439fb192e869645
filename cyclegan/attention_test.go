package gradcam_test

import (
	"fmt"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/tensor"
)

// term adapts an Attention to the training iteration's GeneratorTerm: the
// iteration's passes and GAN predictions become Inputs, so nothing is run
// twice.
type term struct{ att *gradcam.Attention }

func (t term) CaptureLayers() []int { return t.att.CaptureLayers() }

func (t term) Loss(it *cyclegan.Iteration) *autograd.Var {
	p := func(q cyclegan.Pass) gradcam.Pass { return gradcam.Pass{Out: q.Out, Acts: q.Acts} }
	return t.att.Loss(gradcam.Inputs{DA: it.DA, DB: it.DB,
		FakeB: p(it.FakeB), RecA: p(it.RecA), FakeA: p(it.FakeA), RecB: p(it.RecB),
		PredFakeB: it.PredFakeB, PredFakeA: it.PredFakeA})
}

// step runs one training iteration of a tiny float64 CycleGAN, with the
// attention loss of opts unless nil, and returns the losses and the
// generators' weights afterwards.
func step(t testing.TB, opts *gradcam.Options) (cyclegan.Losses, [][]float64) {
	o := cyclegan.DefaultOptions()
	o.NGF, o.NDF, o.NBlocks, o.NLayersD, o.DType = 2, 2, 2, 1, tensor.Float64
	m := cyclegan.New(o, 1)
	if opts != nil {
		att, err := gradcam.New(*opts, m.GA.Model)
		if err != nil {
			t.Fatal(err)
		}
		m.Extra = term{att}
	}
	l, err := m.Step(images(2, 1, 16), images(3, 1, 16), 2e-4)
	if err != nil {
		t.Fatal(err)
	}
	var w [][]float64
	for _, p := range append(m.GA.Params(), m.GB.Params()...) {
		w = append(w, p.Var.Value.Values())
	}
	return l, w
}

// TestTrainingIteration: the attention loss plugs into cyclegan.Model.Step.
// At order 0 (the thesis' code) it is logged and the update is exactly the
// standard network's; at orders 1 and 2 the update changes.
func TestTrainingIteration(t *testing.T) {
	lStd, wStd := step(t, nil)
	diff := func(w [][]float64) float64 {
		d := 0.0
		for i := range w {
			d = max(d, maxDiff(w[i], wStd[i]))
		}
		return d
	}
	for _, order := range []gradcam.Order{gradcam.None, gradcam.First, gradcam.Second} {
		l, w := step(t, &gradcam.Options{Layers: []int{10, 11}, Order: order})
		if l.Att <= 0 || l.GA != lStd.GA {
			t.Errorf("%v: logged attention loss %g (want > 0), GAN loss %g (want the standard %g)", order, l.Att, l.GA, lStd.GA)
		}
		d := diff(w)
		if (order == gradcam.None) != (d == 0) {
			t.Errorf("%v: generators' weights differ from the standard update by %g", order, d)
		}
	}
}

// BenchmarkStep times one training iteration of a small CycleGAN (ngf 8,
// 9 blocks, 64×64, float32) without the attention loss, with it on the last
// block, and on all nine blocks, at orders 2 and 1: the cost the issue's
// targets speak of (≤ 1.2× and ≤ 1.8× the standard iteration).
func BenchmarkStep(b *testing.B) {
	cases := []struct {
		name  string
		opts  *gradcam.Options
		order gradcam.Order
	}{
		{"standard", nil, 0},
		{"block18/order2", &gradcam.Options{Layers: []int{18}}, gradcam.Second},
		{"block18/order1", &gradcam.Options{Layers: []int{18}}, gradcam.First},
		{"all9/order2", &gradcam.Options{Layers: []int{10, 11, 12, 13, 14, 15, 16, 17, 18}}, gradcam.Second},
		{"all9/order1", &gradcam.Options{Layers: []int{10, 11, 12, 13, 14, 15, 16, 17, 18}}, gradcam.First},
	}
	o := cyclegan.DefaultOptions()
	o.NGF, o.NDF = 8, 8
	realA := tensor.RandUniform(tensor.NewRand(1), tensor.Float32, -1, 1, 1, 3, 64, 64)
	realB := tensor.RandUniform(tensor.NewRand(2), tensor.Float32, -1, 1, 1, 3, 64, 64)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			m := cyclegan.New(o, 1)
			if c.opts != nil {
				opts := *c.opts
				opts.Order = c.order
				att, err := gradcam.New(opts, m.GA.Model)
				if err != nil {
					b.Fatal(err)
				}
				m.Extra = term{att}
			}
			for b.Loop() {
				if _, err := m.Step(realA, realB, 2e-4); err != nil {
					b.Fatal(fmt.Sprint(c.name, err))
				}
			}
		})
	}
}
