package cyclegan

import (
	"fmt"
	"math"

	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// AdamOptions are Adam's hyper-parameters; DefaultAdam gives CycleGAN's.
type AdamOptions struct {
	LR    float64 // learning rate (2e-4)
	Beta1 float64 // first-moment decay (0.5)
	Beta2 float64 // second-moment decay (0.999)
	Eps   float64 // added to the denominator (1e-8)
}

// DefaultAdam returns lr 2e-4, β = (0.5, 0.999), eps 1e-8.
func DefaultAdam() AdamOptions { return AdamOptions{LR: 2e-4, Beta1: 0.5, Beta2: 0.999, Eps: 1e-8} }

// Adam is torch.optim.Adam (no weight decay, no amsgrad) over a fixed list
// of parameters. For each parameter p with gradient g, at step t:
//
//	m ← β₁m + (1−β₁)g
//	v ← β₂v + (1−β₂)g²
//	p ← p − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + eps)
//
// in PyTorch's order of operations, so that float32 results agree (one fused
// backend kernel, Backend.AdamStep, per parameter).
type Adam struct {
	Opts   AdamOptions
	Params []layers.NamedParam
	// M and V are the moment estimates, one per parameter (nil before the
	// first step); Step is t, the number of updates made.
	M, V []*tensor.Tensor
	Step int
}

// NewAdam returns an optimiser over params.
func NewAdam(params []layers.NamedParam, o AdamOptions) *Adam {
	return &Adam{Opts: o, Params: params, M: make([]*tensor.Tensor, len(params)), V: make([]*tensor.Tensor, len(params))}
}

// Update applies one step with the given gradients (one per parameter, in
// order; a nil gradient leaves its parameter and moments untouched, as
// PyTorch skips parameters whose .grad is None). lr overrides Opts.LR (the
// schedule's current value).
func (a *Adam) Update(grads []*tensor.Tensor, lr float64) {
	if len(grads) != len(a.Params) {
		panic(fmt.Sprintf("adam: %d gradients for %d parameters", len(grads), len(a.Params)))
	}
	a.Step++
	o := a.Opts
	bc1 := 1 - math.Pow(o.Beta1, float64(a.Step))
	bc2 := 1 - math.Pow(o.Beta2, float64(a.Step))
	for i, p := range a.Params {
		g := grads[i]
		if g == nil {
			continue
		}
		x := p.Var.Value
		if !g.Shape().Equal(x.Shape()) {
			panic(fmt.Sprintf("adam: gradient %v for parameter %s %v", g.Shape(), p.Name, x.Shape()))
		}
		b := x.Backend()
		if a.M[i] == nil {
			a.M[i] = b.Full(x.DType(), x.Shape(), 0)
			a.V[i] = b.Full(x.DType(), x.Shape(), 0)
		}
		h := tensor.AdamHyper{Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, StepSize: lr / bc1, SqrtBC2: math.Sqrt(bc2)}
		var m, v *tensor.Tensor
		p.Var.Value, m, v = b.AdamStep(x, g, a.M[i], a.V[i], h)
		a.M[i], a.V[i] = m, v
	}
}

// LinearDecay is the "linear" learning-rate policy of
// pytorch-CycleGAN-and-pix2pix: the rate stays at LR for epochs 1…NEpochs,
// then falls linearly over NEpochsDecay more epochs:
//
//	lr(epoch) = LR · (1 − max(0, epoch − NEpochs) / (NEpochsDecay + 1))
//
// with epoch counted from 1 (docs/method.md §2: 200 epochs, 100 + 100).
type LinearDecay struct {
	LR           float64
	NEpochs      int
	NEpochsDecay int
}

// At returns the learning rate during epoch (1-based).
func (s LinearDecay) At(epoch int) float64 {
	return s.LR * (1 - float64(max(0, epoch-s.NEpochs))/float64(s.NEpochsDecay+1))
}
