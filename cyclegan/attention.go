package cyclegan

import (
	"errors"
	"fmt"

	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/layers"
)

// AttentionOptions configure the attention-consistency loss of training
// (docs/method.md §3): gradcam's options, and an optional second stage in
// which other layers take over from a given epoch on (the two-stage schedule
// of the thesis' future work, §4). Their fields are the -att_* flags of the
// command line. With no Layers the model is the standard CycleGAN.
type AttentionOptions struct {
	gradcam.Options // stage 1: -att_layers, -att_weights, -lambda_att, -att_direction, -att_detach, -att_order

	// From epoch Stage2Epoch on, Layers2 with Weights2 replace Layers and
	// Weights; λ_att, the direction, detach and the order stay. No Layers2:
	// one stage.
	Layers2     gradcam.Layers  // -att_layers2
	Weights2    gradcam.Weights // -att_weights2
	Stage2Epoch int             // -att_stage2_epoch
}

// DefaultAttention returns gradcam's defaults and no layers: no attention
// loss.
func DefaultAttention() AttentionOptions { return AttentionOptions{Options: gradcam.DefaultOptions()} }

// Enabled reports whether the options add an attention loss.
func (a AttentionOptions) Enabled() bool { return !a.Layers.IsZero() }

// Attention is a model's attention loss, built on its generator: one stage,
// or two with the epoch at which the second takes over.
type Attention struct {
	Stage1      *gradcam.Attention
	Stage2      *gradcam.Attention // nil: one stage
	Stage2Epoch int                // first epoch of stage 2
}

// build checks a against generator g and returns the loss, or nil for the
// standard CycleGAN. Errors name the stage and the bad value.
func (a AttentionOptions) build(g *layers.Sequential) (*Attention, error) {
	if !a.Enabled() {
		if a.Weights != nil || !a.Layers2.IsZero() {
			return nil, errors.New("attention loss: layer weights or a second stage given without layers")
		}
		return nil, nil
	}
	s1, err := gradcam.New(a.Options, g)
	if err != nil {
		return nil, fmt.Errorf("attention loss: %w", err)
	}
	if a.Layers2.IsZero() {
		if a.Weights2 != nil || a.Stage2Epoch != 0 {
			return nil, fmt.Errorf("attention stage 2: weights %v or first epoch %d given without its layers", a.Weights2, a.Stage2Epoch)
		}
		return &Attention{Stage1: s1}, nil
	}
	if a.Stage2Epoch < 1 {
		return nil, fmt.Errorf("attention stage 2 (layers %v): its first epoch must be at least 1, not %d", a.Layers2, a.Stage2Epoch)
	}
	o := a.Options
	o.Layers, o.Weights = a.Layers2, a.Weights2
	s2, err := gradcam.New(o, g)
	if err != nil {
		return nil, fmt.Errorf("attention stage 2: %w", err)
	}
	return &Attention{Stage1: s1, Stage2: s2, Stage2Epoch: a.Stage2Epoch}, nil
}

// At returns the loss in force during epoch (1-based); nil for a model
// without one (a nil *Attention).
func (a *Attention) At(epoch int) *gradcam.Attention {
	switch {
	case a == nil:
		return nil
	case a.Stage2 != nil && epoch >= a.Stage2Epoch:
		return a.Stage2
	}
	return a.Stage1
}

func (a *Attention) String() string {
	switch {
	case a == nil:
		return "none (the standard CycleGAN)"
	case a.Stage2 == nil:
		return a.Stage1.String()
	}
	return fmt.Sprintf("%v until epoch %d, then %v", a.Stage1, a.Stage2Epoch-1, a.Stage2)
}
