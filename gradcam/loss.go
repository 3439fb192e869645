package gradcam

import (
	"fmt"
	"slices"

	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/ops"
)

// Attention is the attention-consistency loss (docs/method.md §3) with
// options checked against a generator. Its methods do not modify it.
type Attention struct {
	layers    []int     // ascending
	weights   []float64 // ω_ℓ for layers[ℓ], summing to 1
	lambda    float64
	direction Direction
	detach    bool
	order     Order
}

// New checks o against generator g (either generator: both have the same
// layers) and returns the loss. It returns an error naming the bad value
// when the layers select nothing or lie outside g, a layer's map is zero by
// construction (FlatMap), the weights do not fit the layers, or λ_att is
// not positive.
func New(o Options, g *layers.Sequential) (*Attention, error) {
	if err := checkLambda(o.Lambda); err != nil {
		return nil, err
	}
	if o.Direction > AToB {
		return nil, fmt.Errorf("unknown direction %d", uint8(o.Direction))
	}
	if o.Order > None {
		return nil, fmt.Errorf("unknown order %d", uint8(o.Order))
	}
	idx, err := o.Layers.Resolve(g)
	if err != nil {
		return nil, err
	}
	for _, i := range idx {
		if why := FlatMap(g, i); why != "" {
			return nil, fmt.Errorf("layers %v: %s: %s, and a loss on it trains nothing (the residual blocks are %v)",
				o.Layers, why, ZeroMapWhy, ResidualBlocks(g))
		}
	}
	w := o.Weights
	if w == nil {
		w = make(Weights, len(idx))
		for i := range w {
			w[i] = 1
		}
	}
	if len(w) != len(idx) {
		return nil, fmt.Errorf("layer weights %v: %d weights for %d layers %v", w, len(w), len(idx), idx)
	}
	if err := w.check(); err != nil {
		return nil, fmt.Errorf("layer weights %v: %w", w, err)
	}
	sum := 0.0
	for _, v := range w {
		sum += v
	}
	// Keep the layers ascending (the order in which a forward pass meets
	// them), their weights alongside.
	perm := make([]int, len(idx))
	for i := range perm {
		perm[i] = i
	}
	slices.SortFunc(perm, func(i, j int) int { return idx[i] - idx[j] })
	a := &Attention{lambda: o.Lambda, direction: o.Direction, detach: o.Detach, order: o.Order}
	for _, i := range perm {
		a.layers = append(a.layers, idx[i])
		a.weights = append(a.weights, w[i]/sum)
	}
	return a, nil
}

// Layers returns the layer indices, ascending: the order of the activations
// in every Pass.
func (a *Attention) Layers() []int { return slices.Clone(a.layers) }

// Weights returns ω_ℓ for each of Layers (they sum to 1).
func (a *Attention) Weights() []float64 { return slices.Clone(a.weights) }

// Order returns the order of the loss.
func (a *Attention) Order() Order { return a.order }

func (a *Attention) String() string {
	return fmt.Sprintf("attention(layers %v, weights %.3g, λ_att %g, %s, detach %t, order %v)",
		a.layers, a.weights, a.lambda, a.direction, a.detach, a.order)
}

// Pass is one generator forward pass of the training iteration: its output
// and the outputs of the layers of Attention.Layers, in that order
// (Sequential.Capture with those layers gives both).
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

// Loss returns L_att for the iteration's passes.
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

// consistency returns λ_att Σ_ℓ ω_ℓ MSE(x_ℓ, y_ℓ). The MSE of maps (N, h, w)
// is the mean over the batch of each image's MSE, as the reference's
// nn.MSELoss averages a batch.
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
