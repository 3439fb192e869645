//go:build !cuda

package cuda_test

import (
	"errors"
	"testing"

	"github.com/camcycle/camcycle/cuda"
)

// Without the cuda tag every constructor says so, whatever the options.
func TestNotBuilt(t *testing.T) {
	if cuda.Available() {
		t.Error("Available in a build without the cuda tag")
	}
	for _, o := range []cuda.Options{{}, {Device: 1}, {TF32: true}} {
		if _, err := cuda.NewWith(o); !errors.Is(err, cuda.ErrNotBuilt) {
			t.Errorf("NewWith(%+v): %v, want ErrNotBuilt", o, err)
		}
	}
	if _, err := cuda.New(); !errors.Is(err, cuda.ErrNotBuilt) {
		t.Errorf("New: %v, want ErrNotBuilt", err)
	}
}
