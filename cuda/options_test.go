package cuda_test

import (
	"strings"
	"testing"

	"github.com/camcycle/camcycle/cuda"
)

// A negative device ordinal is refused in every build, naming it, before
// any device (or the lack of a CUDA build) is looked at.
func TestOptionsCheck(t *testing.T) {
	if err := (cuda.Options{Device: 2, TF32: true}).Check(); err != nil {
		t.Errorf("device 2, TF32: %v", err)
	}
	_, err := cuda.NewWith(cuda.Options{Device: -1})
	if err == nil || !strings.Contains(err.Error(), "device -1") {
		t.Errorf("device -1: error %v, want one naming the device", err)
	}
}
