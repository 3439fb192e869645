package gradcam_test

import (
	"strings"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// nets are the four networks of a CycleGAN.
type nets struct{ GA, GB, DA, DB *cyclegan.Network }

// tinyNets returns small float64 networks with weights ~ N(0, 0.3²) and
// biases ~ N(0, 0.1²): larger than CycleGAN's init, so that every path of
// the maps carries a visible signal in a gradient check.
func tinyNets(seed uint64, ngf, nBlocks, ndf, nLayers int) nets {
	rng := tensor.NewRand(seed)
	in := layers.Init{Rand: rng, DType: tensor.Float64, Std: 0.3}
	n := nets{
		GA: cyclegan.NewResnetGenerator(in, ngf, nBlocks),
		GB: cyclegan.NewResnetGenerator(in, ngf, nBlocks),
		DA: cyclegan.NewNLayerDiscriminator(in, ndf, nLayers),
		DB: cyclegan.NewNLayerDiscriminator(in, ndf, nLayers),
	}
	for _, net := range n.all() {
		for _, p := range net.Params() {
			if strings.HasSuffix(p.Name, "bias") {
				p.Var.Value = tensor.RandNormal(rng, tensor.Float64, 0, 0.1, p.Var.Shape()...)
			}
		}
	}
	return n
}

func (n nets) all() []*cyclegan.Network { return []*cyclegan.Network{n.GA, n.GB, n.DA, n.DB} }

// freezeD freezes both discriminators, as the generator step does.
func (n nets) freezeD() (restore func()) {
	return autograd.SetRequiresGrad(append(layers.Vars(n.DA), layers.Vars(n.DB)...), false)
}

// genParams returns the parameters of G_A then G_B, named "G_A.model.1.weight".
func (n nets) genParams() []layers.NamedParam {
	var ps []layers.NamedParam
	for _, g := range []struct {
		name string
		net  *cyclegan.Network
	}{{"G_A", n.GA}, {"G_B", n.GB}} {
		for _, p := range g.net.Params() {
			ps = append(ps, layers.NamedParam{Name: g.name + "." + p.Name, Var: p.Var})
		}
	}
	return ps
}

// inputs runs the four generator passes of a training iteration, keeping
// the layers att asks for, and the two GAN predictions when withPred.
func (n nets) inputs(att *gradcam.Attention, realA, realB *tensor.Tensor, withPred bool) gradcam.Inputs {
	idx := att.Layers()
	in := gradcam.Inputs{DA: n.DA, DB: n.DB}
	in.FakeB.Out, in.FakeB.Acts = n.GA.Model.Capture(autograd.Const(realA), idx)
	in.RecA.Out, in.RecA.Acts = n.GB.Model.Capture(in.FakeB.Out, idx)
	in.FakeA.Out, in.FakeA.Acts = n.GB.Model.Capture(autograd.Const(realB), idx)
	in.RecB.Out, in.RecB.Acts = n.GA.Model.Capture(in.FakeA.Out, idx)
	if withPred {
		in.PredFakeB = n.DA.Forward(in.FakeB.Out)
		in.PredFakeA = n.DB.Forward(in.FakeA.Out)
	}
	return in
}

// options returns gradcam's default options with the given layers.
func options(l gradcam.Layers) gradcam.Options {
	o := gradcam.DefaultOptions()
	o.Layers = l
	return o
}

// images returns n random images (n, 3, size, size) in [-1, 1].
func images(seed uint64, n, size int) *tensor.Tensor {
	return tensor.RandUniform(tensor.NewRand(seed), tensor.Float64, -1, 1, n, 3, size, size)
}

// grads returns d loss/d p for each p (zeros where the loss does not
// depend on it), as value slices.
func grads(loss *autograd.Var, ps []layers.NamedParam) [][]float64 {
	vs := make([]*autograd.Var, len(ps))
	for i, p := range ps {
		vs[i] = p.Var
	}
	gs := autograd.Grad([]*autograd.Var{loss}, vs, nil, false)
	out := make([][]float64, len(ps))
	for i, g := range gs {
		if g == nil {
			out[i] = make([]float64, ps[i].Var.Value.Numel())
		} else {
			out[i] = g.Value.Values()
		}
	}
	return out
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// norm2 is the squared Euclidean norm.
func norm2(a []float64) float64 { return dot(a, a) }
