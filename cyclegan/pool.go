package cyclegan

import (
	"math/rand/v2"

	"github.com/camcycle/camcycle/tensor"
)

// ImagePool is the history of generated images that the discriminators
// learn from (Shrivastava et al. 2017; pytorch-CycleGAN-and-pix2pix's
// ImagePool). While the pool holds fewer than Size images, each new image is
// stored and returned; afterwards, with probability ½ a random stored image
// is returned and the new one takes its place, else the new image is
// returned. Size 0 disables the pool.
type ImagePool struct {
	Size   int
	Images []*tensor.Tensor // (1, C, H, W) each
}

// NewImagePool returns an empty pool of the given size.
func NewImagePool(size int) *ImagePool { return &ImagePool{Size: size} }

// Query returns the images for the discriminator given a batch of new ones
// (N, C, H, W), drawing from rng.
func (p *ImagePool) Query(images *tensor.Tensor, rng *rand.Rand) *tensor.Tensor {
	if p.Size == 0 {
		return images
	}
	b := images.Backend()
	n := images.Dim(0)
	s := images.Shape()
	out := make([]*tensor.Tensor, n)
	for i := range n {
		img := b.Slice(images, []int{i, 0, 0, 0}, []int{i + 1, s[1], s[2], s[3]})
		switch {
		case len(p.Images) < p.Size:
			p.Images = append(p.Images, img)
			out[i] = img
		case rng.Float64() > 0.5:
			j := rng.IntN(p.Size)
			out[i] = p.Images[j]
			p.Images[j] = img
		default:
			out[i] = img
		}
	}
	if n == 1 {
		return out[0]
	}
	return b.Concat(0, out)
}
