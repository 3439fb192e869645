package cyclegan_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/camcycle/camcycle/cyclegan"
)

// TestSchedulesMatchPyTorch checks every -lr_policy's rate at every epoch
// against torch.optim.lr_scheduler stepped as the reference steps it
// (testdata/lr/golden.json, written by testdata/gen_lr_golden.py).
func TestSchedulesMatchPyTorch(t *testing.T) {
	raw, err := os.ReadFile("../testdata/lr/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []map[string]json.RawMessage `json:"cases"`
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	for _, c := range golden.Cases {
		var lr float64
		var nEpochs, nDecay, decayIters int
		for k, p := range map[string]any{"lr": &lr, "n_epochs": &nEpochs, "n_epochs_decay": &nDecay, "lr_decay_iters": &decayIters} {
			if err := json.Unmarshal(c[k], p); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
		}
		for _, policy := range cyclegan.LRPolicies {
			var want []float64
			if err := json.Unmarshal(c[policy], &want); err != nil {
				t.Fatalf("%s: %v", policy, err)
			}
			if len(want) != nEpochs+nDecay {
				t.Fatalf("%s: %d rates for %d epochs", policy, len(want), nEpochs+nDecay)
			}
			s, err := cyclegan.NewSchedule(policy, lr, nEpochs, nDecay, decayIters)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range want {
				// PyTorch's cosine is a recurrence; the closed form agrees
				// to rounding (and is exactly 0 where it is 0).
				if got := s.At(i + 1); math.Abs(got-w) > 1e-12*lr {
					t.Errorf("lr %g, %d + %d epochs, %s: epoch %d trains at %.17g, PyTorch at %.17g", lr, nEpochs, nDecay, policy, i+1, got, w)
				}
			}
		}
	}
}

// TestScheduleErrors: an unknown policy and a step policy of period 0 are
// errors naming the option.
func TestScheduleErrors(t *testing.T) {
	if _, err := cyclegan.NewSchedule("exponential", 1, 1, 1, 1); err == nil {
		t.Error("lr_policy exponential accepted")
	}
	if _, err := cyclegan.NewSchedule("step", 1, 1, 1, 0); err == nil {
		t.Error("lr_decay_iters 0 accepted")
	}
}
