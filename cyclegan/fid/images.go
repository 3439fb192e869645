package fid

import (
	"fmt"
	"image"
	"os"
	"path/filepath"

	"gonum.org/v1/gonum/mat"

	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/tensor"
)

// FeaturesOf returns the features (n × FeatureDim, float64) of n images,
// which load returns one at a time (so that only a batch is in memory), as
// pytorch-fid's get_activations computes them: in batches of at most batch
// images, each converted to [0, 1] by data.ImageToUnitTensor (ToTensor). pytorch-fid stacks a batch and so
// needs one size for all images; here consecutive images of one size share
// a batch and a change of size starts a new one, which gives the same
// features (each image's features depend on that image alone). progress,
// when not nil, is called after each batch with the number of images done.
// An error from load stops it.
func (m *Inception) FeaturesOf(n int, load func(i int) (*image.RGBA, error), batch int, progress func(done int)) (*mat.Dense, error) {
	if batch < 1 {
		return nil, fmt.Errorf("fid: batch size %d must be at least 1", batch)
	}
	if n < 1 {
		return nil, fmt.Errorf("fid: no images")
	}
	feats := mat.NewDense(n, FeatureDim, nil)
	var pending []*tensor.Tensor
	done := 0
	flush := func() {
		if len(pending) == 0 {
			return
		}
		x := pending[0]
		if len(pending) > 1 {
			x = tensor.CPU.Concat(0, pending)
		}
		f := m.be.ToHost(m.Features(m.be.Cast(m.be.FromHost(x), m.dt))).Values()
		for i := range pending {
			copy(feats.RawRowView(done+i), f[i*FeatureDim:(i+1)*FeatureDim])
		}
		done += len(pending)
		pending = pending[:0]
		if progress != nil {
			progress(done)
		}
	}
	for i := range n {
		img, err := load(i)
		if err != nil {
			return nil, err
		}
		x := data.ImageToUnitTensor(img)
		if len(pending) == batch || (len(pending) > 0 && !pending[0].Shape().Equal(x.Shape())) {
			flush()
		}
		pending = append(pending, x)
	}
	flush()
	return feats, nil
}

// DefaultWeightsPath is where pytorch-fid keeps its Inception weights once
// it has downloaded them, torch.hub's cache: $TORCH_HOME/hub/checkpoints,
// TORCH_HOME being $XDG_CACHE_HOME/torch or ~/.cache/torch when unset. A
// machine that has run pytorch-fid has the file there already.
func DefaultWeightsPath() string {
	home := os.Getenv("TORCH_HOME")
	if home == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			if h, err := os.UserHomeDir(); err == nil {
				cache = filepath.Join(h, ".cache")
			}
		}
		home = filepath.Join(cache, "torch")
	}
	return filepath.Join(home, "hub", "checkpoints", InceptionWeightsFile)
}
