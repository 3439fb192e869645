package cyclegan

import (
	"fmt"
	"math"
	"strings"
)

// Schedule gives the learning rate each epoch (1-based) trains at.
type Schedule interface {
	At(epoch int) float64
}

// LRPolicies are the values of TrainOptions.LRPolicy (--lr_policy), as
// pytorch-CycleGAN-and-pix2pix's networks.get_scheduler names them.
var LRPolicies = []string{"linear", "step", "plateau", "cosine"}

// The reference makes its scheduler when training starts and steps it at
// the end of every epoch, so epoch e trains after k = e − 1 steps (a run
// started at epoch 1). Every policy here is a function of the epoch, so a
// continued run trains at the rates of the uninterrupted one; the
// reference's step, plateau and cosine schedulers instead start again from
// k = 0 on each call of train.py (only the linear rule reads
// --epoch_count).

// StepDecay is the "step" policy: StepLR(step_size=LRDecayIters,
// gamma=0.1), the rate multiplied by 0.1 every StepSize epochs:
//
//	lr(epoch) = LR · 0.1^⌊(epoch − 1)/StepSize⌋
type StepDecay struct {
	LR       float64
	StepSize int
}

// At returns the learning rate during epoch (1-based).
func (s StepDecay) At(epoch int) float64 {
	return s.LR * math.Pow(0.1, float64((epoch-1)/s.StepSize))
}

// Cosine is the "cosine" policy: CosineAnnealingLR(T_max=n_epochs,
// eta_min=0):
//
//	lr(epoch) = LR · (1 + cos(π·(epoch − 1)/TMax)) / 2
//
// It reaches 0 at epoch TMax + 1 and, as PyTorch's, rises again after it
// (with n_epochs_decay > 0 the reference's run goes past T_max).
type Cosine struct {
	LR   float64
	TMax int
}

// At returns the learning rate during epoch (1-based).
func (s Cosine) At(epoch int) float64 {
	return s.LR * (1 + math.Cos(math.Pi*float64(epoch-1)/float64(s.TMax))) / 2
}

// Plateau is the "plateau" policy: ReduceLROnPlateau(mode='min',
// factor=0.2, threshold=0.01, patience=5) as the reference steps it, with
// the metric 0 at the end of every epoch (BaseModel.metric is never set for
// CycleGAN). The first step improves on the initial best (∞); every later
// one does not (0 is not below 0·(1 − 0.01)), so after 5 + 1 bad steps the
// rate is multiplied by 0.2 and the count starts again: the rate falls at
// the ends of epochs 7, 13, 19, … — unless the fall would be 1e-8 or less
// (PyTorch's eps), after which it stays. The scheduler's state (best, bad
// steps, rate) is therefore a function of the number of steps, and At
// replays them: nothing needs saving for -continue_train.
type Plateau struct {
	LR float64
}

// The reference's ReduceLROnPlateau arguments, and PyTorch's defaults.
const (
	plateauFactor    = 0.2
	plateauThreshold = 0.01
	plateauPatience  = 5
	plateauEps       = 1e-8
)

// At returns the learning rate during epoch (1-based).
func (s Plateau) At(epoch int) float64 {
	lr, best, bad := s.LR, math.Inf(1), 0
	const metric = 0.0
	for range epoch - 1 {
		if metric < best*(1-plateauThreshold) { // mode min, threshold_mode rel
			best, bad = metric, 0
		} else {
			bad++
		}
		if bad > plateauPatience {
			if next := lr * plateauFactor; lr-next > plateauEps {
				lr = next
			}
			bad = 0
		}
	}
	return lr
}

// NewSchedule returns the schedule of policy (one of LRPolicies) for a run
// of nEpochs + nEpochsDecay epochs at rate lr; decayIters is the step
// policy's period in epochs (--lr_decay_iters).
func NewSchedule(policy string, lr float64, nEpochs, nEpochsDecay, decayIters int) (Schedule, error) {
	switch policy {
	case "linear", "":
		return LinearDecay{LR: lr, NEpochs: nEpochs, NEpochsDecay: nEpochsDecay}, nil
	case "step":
		if decayIters < 1 {
			return nil, fmt.Errorf("lr_decay_iters %d: the step policy needs at least 1", decayIters)
		}
		return StepDecay{LR: lr, StepSize: decayIters}, nil
	case "plateau":
		return Plateau{LR: lr}, nil
	case "cosine":
		if nEpochs < 1 {
			return nil, fmt.Errorf("n_epochs %d: the cosine policy anneals over n_epochs, which must be at least 1", nEpochs)
		}
		return Cosine{LR: lr, TMax: nEpochs}, nil
	}
	return nil, fmt.Errorf("lr_policy %q: want %s", policy, strings.Join(LRPolicies, ", "))
}
