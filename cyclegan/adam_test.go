package cyclegan_test

import (
	"math"
	"testing"

	"github.com/camcycle/camcycle/cyclegan"
)

// lambdaRule is the 'linear' policy of pytorch-CycleGAN-and-pix2pix
// (models/networks.py, get_scheduler):
//
//	def lambda_rule(epoch):
//	    lr_l = 1.0 - max(0, epoch + opt.epoch_count - opt.n_epochs) / float(opt.n_epochs_decay + 1)
//	    return lr_l
//	scheduler = lr_scheduler.LambdaLR(optimizer, lr_lambda=lambda_rule)
//
// LambdaLR calls it with k, the number of scheduler steps taken so far
// (0 when it is made), and the rate is the initial one times its value.
func lambdaRule(k, epochCount, nEpochs, nEpochsDecay int) float64 {
	return 1 - float64(max(0, k+epochCount-nEpochs))/float64(nEpochsDecay+1)
}

// referenceRates runs the training loop of the CycleGAN paper's code from
// epoch epochCount to the last, with a scheduler made at the start of the
// run, and returns the rate each epoch trains at, from epochCount on. The
// scheduler steps at the END of each epoch (update_learning_rate after
// the epoch's iterations), so epoch e trains after e − epochCount steps.
//
// The reference's current master calls update_learning_rate at the START
// of each epoch instead: its decay begins one epoch earlier and its last
// epoch (200) trains at lr 0. This project follows the published schedule
// (constant for epochs 1–100, then lr·(1 − (epoch − 100)/101)).
func referenceRates(lr float64, epochCount, nEpochs, nEpochsDecay int) []float64 {
	var rates []float64
	k := 0 // scheduler steps taken
	for epoch := epochCount; epoch <= nEpochs+nEpochsDecay; epoch++ {
		rates = append(rates, lr*lambdaRule(k, epochCount, nEpochs, nEpochsDecay))
		// ... the epoch's iterations at this rate ...
		k++ // update_learning_rate()
	}
	return rates
}

func closeTo(got, want float64) bool { return math.Abs(got-want) <= 1e-12*math.Abs(want) }

// TestLinearDecayMatchesReference: with LR 2e-4 and 100 + 100 epochs the
// rate is 2e-4 up to epoch 100, 2e-4·100/101 at 101 and 2e-4/101 at 200,
// and At agrees with the reference at every epoch, also for a run
// continued from epoch 51 (-epoch_count 51), whose scheduler starts anew.
func TestLinearDecayMatchesReference(t *testing.T) {
	const lr = 2e-4
	s := cyclegan.LinearDecay{LR: lr, NEpochs: 100, NEpochsDecay: 100}
	for _, c := range []struct {
		epoch int
		want  float64
	}{{1, lr}, {100, lr}, {101, lr * 100 / 101}, {200, lr / 101}} {
		if got := s.At(c.epoch); !closeTo(got, c.want) {
			t.Errorf("At(%d) = %.17g, want %.17g", c.epoch, got, c.want)
		}
	}
	for _, epochCount := range []int{1, 51} {
		rates := referenceRates(lr, epochCount, 100, 100)
		if len(rates) != 201-epochCount {
			t.Fatalf("epoch_count %d: the reference ran %d epochs", epochCount, len(rates))
		}
		for i, want := range rates {
			epoch := epochCount + i
			if got := s.At(epoch); !closeTo(got, want) {
				t.Errorf("epoch_count %d: At(%d) = %.17g, the reference trains at %.17g", epochCount, epoch, got, want)
			}
		}
	}
}
