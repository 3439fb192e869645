//go:build !cuda

package cuda

import (
	"errors"

	"github.com/camcycle/camcycle/tensor"
)

// ErrNotBuilt is returned by New in a program built without the cuda tag.
var ErrNotBuilt = errors.New("this program was built without CUDA support: rebuild it with -tags cuda " +
	"(CGO_LDFLAGS=\"-L$PWD/.cudastub -Wl,-rpath,/usr/local/cuda/lib64\" go build -tags cuda ./cmd/cyclegan; see cuda/doc.go), or use -device cpu")

// Available reports whether a CUDA device can be used: never without the
// cuda build tag.
func Available() bool { return false }

// New returns the CUDA backend on device 0, or ErrNotBuilt.
func New() (tensor.Backend, error) { return NewWith(Options{}) }

// NewWith returns the CUDA backend with options o, or ErrNotBuilt.
func NewWith(o Options) (tensor.Backend, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	return nil, ErrNotBuilt
}

// DeviceMemory reports no device memory: there is no CUDA backend without
// the cuda build tag.
func DeviceMemory(be tensor.Backend) (s AllocStats, device int, ok bool) {
	return AllocStats{}, 0, false
}
