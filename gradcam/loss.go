package gradcam

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/ops"
)

// Direction says which terms of the attention loss are used.
type Direction uint8

const (
	// Both directions (the default): MSE(cam_GA(real_A), cam_GB(fake_B)) +
	// MSE(cam_GB(real_B), cam_GA(fake_A)).
	Both Direction = iota
	// AToB keeps only the first term, A → B → A (the thesis' GradCamA2B).
	AToB
)

func (d Direction) String() string {
	switch d {
	case Both:
		return "both"
	case AToB:
		return "A2B"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Options configure the attention-consistency loss. The zero value is the
// thesis' GradCam network except for the layer, which must be given (or
// left nil for the last residual block).
type Options struct {
	// Layers are generator layer indices (SPEC §1): 18 is the last residual
	// block of a 9-block generator. Nil means the last residual block.
	// ParseLayers reads "18", "10,14,15,18" or "all".
	Layers []int
	// Weights are the relative weights of Layers, one each, non-negative.
	// They are divided by their sum, so that Σ ω_ℓ = 1 and Lambda alone sets
	// the loss' scale; nil means uniform (ω_ℓ = 1/|S|). This is also what
	// the thesis computed: it stacked the maps of its layers and took one
	// MSE, the mean of the per-layer MSEs.
	Weights []float64
	// Lambda is λ_att; 0 means the default 1. (To train without the loss,
	// leave the attention term out.)
	Lambda float64
	// Direction: Both (default) or AToB.
	Direction Direction
	// Detach makes the translation-side maps cam_GA(real_A) and
	// cam_GB(real_B) constants: only the reconstruction side is trained to
	// match them (the thesis' GradCamWithDetach).
	Detach bool
	// Order: Second (default), First or None (see Order).
	Order Order
}

// Attention is the attention-consistency loss of SPEC §3 with validated
// options. Its methods do not modify it.
type Attention struct {
	layers    []int     // ascending
	weights   []float64 // ω_ℓ for layers[ℓ], summing to 1
	lambda    float64
	direction Direction
	detach    bool
	order     Order
}

// New checks o against generator g (either generator: both have the same
// layers) and fills in the defaults. It returns an error naming the bad
// value when a layer is outside g, named twice, or the weights do not fit.
func New(o Options, g *layers.Sequential) (*Attention, error) {
	a := &Attention{lambda: o.Lambda, direction: o.Direction, detach: o.Detach, order: o.Order}
	if a.lambda == 0 {
		a.lambda = 1
	}
	if a.lambda < 0 || math.IsNaN(a.lambda) || math.IsInf(a.lambda, 0) {
		return nil, fmt.Errorf("gradcam: lambda_att %v must be a positive number", o.Lambda)
	}
	if a.direction > AToB {
		return nil, fmt.Errorf("gradcam: unknown direction %d", uint8(a.direction))
	}
	if a.order > None {
		return nil, fmt.Errorf("gradcam: unknown order %d", uint8(a.order))
	}
	idx := o.Layers
	if idx == nil {
		blocks := ResidualBlocks(g)
		if len(blocks) == 0 {
			return nil, errors.New("gradcam: no layers given and the generator has no residual block")
		}
		idx = blocks[len(blocks)-1:]
	}
	if len(idx) == 0 {
		return nil, errors.New("gradcam: no layers given")
	}
	for i, l := range idx {
		if l < 0 || l >= g.Len() {
			return nil, fmt.Errorf("gradcam: layer %d is outside the generator (indices 0…%d)", l, g.Len()-1)
		}
		if slices.Contains(idx[:i], l) {
			return nil, fmt.Errorf("gradcam: layer %d is named twice", l)
		}
	}
	w := o.Weights
	if w == nil {
		w = make([]float64, len(idx))
		for i := range w {
			w[i] = 1
		}
	}
	if len(w) != len(idx) {
		return nil, fmt.Errorf("gradcam: %d weights for %d layers %v", len(w), len(idx), idx)
	}
	sum := 0.0
	for i, v := range w {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("gradcam: weight %v of layer %d must be a non-negative number", v, idx[i])
		}
		sum += v
	}
	if sum == 0 {
		return nil, fmt.Errorf("gradcam: the layer weights %v are all zero", w)
	}
	// Keep the layers ascending (the order in which a forward pass meets
	// them), their weights alongside.
	order := make([]int, len(idx))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return idx[order[i]] < idx[order[j]] })
	for _, i := range order {
		a.layers = append(a.layers, idx[i])
		a.weights = append(a.weights, w[i]/sum)
	}
	return a, nil
}

// Layers returns the layer indices, ascending: the order of the activations
// in every Pass.
func (a *Attention) Layers() []int { return slices.Clone(a.layers) }

// CaptureLayers is Layers, under the name the training iteration asks for.
func (a *Attention) CaptureLayers() []int { return a.Layers() }

// Weights returns ω_ℓ for each of Layers (they sum to 1).
func (a *Attention) Weights() []float64 { return slices.Clone(a.weights) }

// Options returns the options in force, defaults filled in and weights
// normalised, with layers ascending.
func (a *Attention) Options() Options {
	return Options{Layers: a.Layers(), Weights: a.Weights(), Lambda: a.lambda,
		Direction: a.direction, Detach: a.detach, Order: a.order}
}

func (a *Attention) String() string {
	return fmt.Sprintf("attention(layers %v, weights %.3g, λ_att %g, %s, detach %t, %s)",
		a.layers, a.weights, a.lambda, a.direction, a.detach, a.order)
}

// Pass is one generator forward pass of the training iteration: its output
// and the outputs of the layers of Attention.Layers, in that order (Capture
// with those layers gives both).
type Pass struct {
	Out  *Var
	Acts []*Var
}

// Inputs are what the training iteration has already computed, reused by
// the loss. Field names follow the iteration: FakeB is the pass
// G_A(real_A), RecA is G_B(fake_B), FakeA is G_B(real_B) and RecB is
// G_A(fake_A). The discriminators must be frozen
// (autograd.SetRequiresGrad(false) on their parameters), as in the
// generator step.
type Inputs struct {
	// DA judges domain-B images (scores G_A's outputs); DB judges domain A.
	DA, DB layers.Module
	// The four generator passes.
	FakeB, RecA, FakeA, RecB Pass
	// PredFakeB = D_A(fake_B) and PredFakeA = D_B(fake_A), as computed for
	// the GAN loss; when nil, Loss runs the discriminator itself.
	PredFakeB, PredFakeA *Var
}

// Terms are the parts of the attention loss.
type Terms struct {
	// Total = A2B + B2A, the term to add to the generator loss (a constant
	// at order 0).
	Total *Var
	// A2B = λ_att Σ_ℓ ω_ℓ MSE(cam_GA^ℓ(real_A), cam_GB^ℓ(fake_B)).
	A2B *Var
	// B2A = λ_att Σ_ℓ ω_ℓ MSE(cam_GB^ℓ(real_B), cam_GA^ℓ(fake_A)); nil with
	// Direction AToB.
	B2A *Var
}

// Loss returns L_att (SPEC §3) for the iteration's passes.
func (a *Attention) Loss(in Inputs) *Var { return a.Terms(in).Total }

// Terms returns L_att and its two directions. It runs D_B(rec_A) and
// D_A(rec_B) (and D_A(fake_B), D_B(fake_A) when their predictions are not
// given), then one backward sweep per map set.
func (a *Attention) Terms(in Inputs) Terms {
	for _, d := range []struct {
		name, field string
		m           layers.Module
	}{{"D_A", "DA", in.DA}, {"D_B", "DB", in.DB}} {
		if d.m == nil {
			panic("gradcam: Inputs." + d.field + " is nil")
		}
		for _, p := range d.m.Params() {
			if p.Var.RequiresGrad() {
				panic(fmt.Sprintf("gradcam: %s is not frozen (%s requires a gradient): the attention loss must "+
					"not train the discriminators; freeze them with autograd.SetRequiresGrad(false)", d.name, p.Name))
			}
		}
	}
	// The translation-side maps are constants with Detach (or order 0).
	trans := a.order
	if a.detach {
		trans = None
	}
	var t Terms
	camGARealA := a.maps("FakeB", in.FakeB, in.PredFakeB, in.DA, trans)
	camGBFakeB := a.maps("RecA", in.RecA, nil, in.DB, a.order)
	t.A2B = a.consistency(camGARealA, camGBFakeB)
	t.Total = t.A2B
	if a.direction == Both {
		camGBRealB := a.maps("FakeA", in.FakeA, in.PredFakeA, in.DB, trans)
		camGAFakeA := a.maps("RecB", in.RecB, nil, in.DA, a.order)
		t.B2A = a.consistency(camGBRealB, camGAFakeA)
		t.Total = ops.Add(t.A2B, t.B2A)
	}
	return t
}

// maps returns the maps of one pass scored by d (pred = d(p.Out) unless
// given).
func (a *Attention) maps(name string, p Pass, pred *Var, d layers.Module, order Order) []*Var {
	if len(p.Acts) != len(a.layers) {
		panic(fmt.Sprintf("gradcam: pass %s has %d activations for layers %v", name, len(p.Acts), a.layers))
	}
	if pred == nil {
		if p.Out == nil {
			panic("gradcam: pass " + name + " has no output")
		}
		pred = d.Forward(p.Out)
	}
	return Maps(Score(pred), p.Acts, order)
}

// consistency returns λ_att Σ_ℓ ω_ℓ MSE(x_ℓ, y_ℓ).
func (a *Attention) consistency(x, y []*Var) *Var {
	var sum *Var
	for l := range x {
		if !x[l].Shape().Equal(y[l].Shape()) {
			panic(fmt.Sprintf("gradcam: layer %d maps of shapes %v and %v", a.layers[l], x[l].Shape(), y[l].Shape()))
		}
		term := ops.MulScalar(ops.MSELoss(x[l], y[l]), a.lambda*a.weights[l])
		if sum == nil {
			sum = term
		} else {
			sum = ops.Add(sum, term)
		}
	}
	return sum
}
