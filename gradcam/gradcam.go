package gradcam

import (
	"fmt"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/ops"
)

// Var is autograd's variable.
type Var = autograd.Var

// Eps keeps the min-max normalisation finite for a flat map:
// (cam − min)/(max − min + Eps).
const Eps = 1e-8

// Score returns s, the "class score" GradCAM explains, from a
// discriminator's prediction (N, 1, h, w): for one image the mean of all
// its elements; for a batch the sum over the images of each one's mean,
// N·mean. The images of a batch do not interact in the generator or the
// discriminator (instance norm is per image), so ∂s/∂A of image n is that
// of image n's own score, and each image's map is the map it would get
// alone: the batch's maps are per image, not those of a batch-wide mean
// (whose gradient would be scaled by 1/N, which the normalisation's Eps
// would then no longer cancel exactly).
func Score(pred *Var) *Var {
	s := ops.MeanAll(pred)
	if n := pred.Shape()[0]; n > 1 {
		s = ops.MulScalar(s, float64(n))
	}
	return s
}

// Maps returns the normalised GradCAM map (N, H, W) of each activation
// (N, C, H, W) for the scalar score s, each image's map computed and
// normalised on its own (with Score's s, as if the image were alone), which must have been computed from
// them (s = Score(D(out)) with out and acts from one Sequential.Capture).
// All maps come from one autograd.Grad call:
//
//	w_k   = (1/HW) Σ_ij ∂s/∂A_kij                       (per image)
//	cam   = ReLU(Σ_k w_k A_k)
//	map   = (cam − min_ij cam) / (max_ij cam − min_ij cam + Eps)   (min, max per image)
//
// order says what stays differentiable (see Order). Ties at the minimum or
// maximum share its gradient evenly, as torch.amin/amax.
func Maps(score *Var, acts []*Var, order Order) []*Var {
	if score.Value.Numel() != 1 {
		panic(fmt.Sprintf("gradcam.Maps: score has shape %v, want a scalar", score.Shape()))
	}
	for i, a := range acts {
		if len(a.Shape()) != 4 {
			panic(fmt.Sprintf("gradcam.Maps: activation %d has shape %v, want (N, C, H, W)", i, a.Shape()))
		}
	}
	// Order 2 records the backward sweep, so that w is differentiable; the
	// others get constant gradients and record nothing here.
	grads := autograd.Grad([]*Var{score}, acts, nil, order == Second)
	maps := make([]*Var, len(acts))
	for i, a := range acts {
		if grads[i] == nil {
			panic(fmt.Sprintf("gradcam.Maps: the score does not depend on activation %d %v: capture it in the "+
				"pass that produced the score, with a graph (the input or the generator requiring a gradient)", i, a.Shape()))
		}
		if order == None {
			a = a.Detach()
		}
		maps[i] = camOf(a, grads[i])
	}
	return maps
}

// camOf combines activations a (N, C, H, W) with the gradient g = ∂s/∂a
// into the normalised map (N, H, W).
func camOf(a, g *Var) *Var {
	s := a.Shape()
	w := ops.Mean(g, 2, 3)                     // (N, C, 1, 1): the channel weights
	cam := ops.ReLU(ops.Sum(ops.Mul(w, a), 1)) // (N, 1, H, W)
	lo := ops.Min(cam, 2, 3)                   // (N, 1, 1, 1)
	hi := ops.Max(cam, 2, 3)
	cam = ops.Div(ops.Sub(cam, lo), ops.AddScalar(ops.Sub(hi, lo), Eps))
	return ops.Reshape(cam, s[0], s[2], s[3])
}
