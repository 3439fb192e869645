// Package attention puts the attention-consistency loss of package gradcam
// into the CycleGAN training iteration of package cyclegan, and names the
// experiments of the thesis (SPEC §4) as presets.
//
// gradcam and cyclegan do not import each other: cyclegan's iteration
// accepts any cyclegan.GeneratorTerm, and Term is the one that computes
// gradcam's loss from the iteration's own forward passes (the generators'
// captured layer outputs and the discriminators' predictions), so the
// attention loss repeats no generator pass.
package attention

import (
	"fmt"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/gradcam"
)

// Term is a cyclegan.GeneratorTerm computing L_att. It has one or two
// stages: the loss of Stage1 until epoch Stage2From, then Stage2's (the
// two-stage schedule of the thesis' future work). The trainer tells it the
// epoch through StartEpoch.
type Term struct {
	Stage1     *gradcam.Attention
	Stage2     *gradcam.Attention // nil: one stage
	Stage2From int                // first epoch of stage 2

	epoch int
}

// NewTerm returns a one-stage term.
func NewTerm(a *gradcam.Attention) *Term { return &Term{Stage1: a} }

// StartEpoch is called by cyclegan.Trainer before each epoch.
func (t *Term) StartEpoch(epoch int) { t.epoch = epoch }

// Current returns the loss in force for the current epoch.
func (t *Term) Current() *gradcam.Attention {
	if t.Stage2 != nil && t.epoch >= t.Stage2From {
		return t.Stage2
	}
	return t.Stage1
}

// CaptureLayers implements cyclegan.GeneratorTerm.
func (t *Term) CaptureLayers() []int { return t.Current().CaptureLayers() }

// Loss implements cyclegan.GeneratorTerm: the iteration's passes and GAN
// predictions become gradcam.Inputs, field for field.
func (t *Term) Loss(it *cyclegan.Iteration) *autograd.Var {
	p := func(q cyclegan.Pass) gradcam.Pass { return gradcam.Pass{Out: q.Out, Acts: q.Acts} }
	return t.Current().Loss(gradcam.Inputs{DA: it.DA, DB: it.DB,
		FakeB: p(it.FakeB), RecA: p(it.RecA), FakeA: p(it.FakeA), RecB: p(it.RecB),
		PredFakeB: it.PredFakeB, PredFakeA: it.PredFakeA})
}

func (t *Term) String() string {
	if t.Stage2 == nil {
		return t.Stage1.String()
	}
	return fmt.Sprintf("%v until epoch %d, then %v", t.Stage1, t.Stage2From-1, t.Stage2)
}
