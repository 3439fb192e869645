package cyclegan

import (
	"fmt"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/layers"
)

// Network is a generator or discriminator: a Sequential stored under the
// state-dict prefix "model", as in pytorch-CycleGAN-and-pix2pix.
type Network struct {
	Model *layers.Sequential
}

// Forward applies the network.
func (n *Network) Forward(x *autograd.Var) *autograd.Var { return n.Model.Forward(x) }

// Params returns the parameters named as PyTorch's state dict ("model.1.weight").
func (n *Network) Params() []layers.NamedParam { return layers.Prefixed("model", n.Model) }

func (n *Network) String() string { return n.Model.String() }

// NewResnetGenerator returns ResnetGenerator(3, 3, ngf, norm=instance,
// use_dropout=False, n_blocks) with the layer indices of docs/method.md §1:
// 0–9 the stem and two downsamplings, FirstBlock (10) … 9+n_blocks the
// residual blocks, then two upsamplings, the output convolution (index
// 17+n_blocks: 26 for 9 blocks) and Tanh.
func NewResnetGenerator(in layers.Init, ngf, nBlocks int) *Network {
	s := []layers.Module{
		&layers.ReflectionPad2d{P: 3},
		layers.NewConv2d(in, 3, ngf, 7, 1, 0),
		layers.NewInstanceNorm2d(),
		layers.ReLU{},
	}
	for i := range 2 {
		mult := 1 << i
		s = append(s,
			layers.NewConv2d(in, ngf*mult, ngf*mult*2, 3, 2, 1),
			layers.NewInstanceNorm2d(),
			layers.ReLU{})
	}
	if len(s) != FirstBlock {
		panic(fmt.Sprintf("NewResnetGenerator: the first residual block is layer %d, not FirstBlock %d", len(s), FirstBlock))
	}
	for range nBlocks {
		s = append(s, layers.NewResnetBlock(in, ngf*4))
	}
	for i := range 2 {
		mult := 1 << (2 - i)
		s = append(s,
			layers.NewConvTranspose2d(in, ngf*mult, ngf*mult/2, 3, 2, 1, 1),
			layers.NewInstanceNorm2d(),
			layers.ReLU{})
	}
	s = append(s,
		&layers.ReflectionPad2d{P: 3},
		layers.NewConv2d(in, ngf, 3, 7, 1, 0),
		layers.Tanh{})
	return &Network{Model: layers.NewSequential(s...)}
}

// FirstBlock is the Sequential index of the ResnetGenerator's first residual
// block; block b (0-based) is at FirstBlock + b. (Code that has a generator
// finds its blocks with gradcam.ResidualBlocks.)
const FirstBlock = 10

// NewNLayerDiscriminator returns the PatchGAN NLayerDiscriminator(3, ndf,
// nLayers, norm=instance): convolutions of kernel 4 with bias, LeakyReLU(0.2),
// instance norm on all but the first and last convolution.
func NewNLayerDiscriminator(in layers.Init, ndf, nLayers int) *Network {
	lrelu := layers.LeakyReLU{Alpha: 0.2}
	s := []layers.Module{layers.NewConv2d(in, 3, ndf, 4, 2, 1), lrelu}
	mult := 1
	for n := 1; n < nLayers; n++ {
		prev := mult
		mult = min(1<<n, 8)
		s = append(s, layers.NewConv2d(in, ndf*prev, ndf*mult, 4, 2, 1), layers.NewInstanceNorm2d(), lrelu)
	}
	prev := mult
	mult = min(1<<nLayers, 8)
	s = append(s,
		layers.NewConv2d(in, ndf*prev, ndf*mult, 4, 1, 1), layers.NewInstanceNorm2d(), lrelu,
		layers.NewConv2d(in, ndf*mult, 1, 4, 1, 1))
	return &Network{Model: layers.NewSequential(s...)}
}

// CheckImageSize reports whether side×side images pass through the
// networks of o unchanged in size, and otherwise why not and the nearest
// sides that do. The generator's two stride-2 convolutions are undone by two
// transposed ones only for a side that is a multiple of 4, and its residual
// blocks pad by reflection a feature map of side/4, which must be at least
// 2. The discriminator's NLayersD stride-2 convolutions of kernel 4 leave
// ⌊side/2^NLayersD⌋, and its two last convolutions take 2 from that, which
// must leave at least 1. Every command that feeds images to the networks
// checks their size here, before it writes anything.
func (o Options) CheckImageSize(side int) error {
	if o.fitsImageSize(side) {
		return nil
	}
	if o.NLayersD < 1 || o.NLayersD > 20 {
		return fmt.Errorf("a discriminator of %d strided convolutions cannot take images (want 1 to 20)", o.NLayersD)
	}
	below := side - 1
	for below > 0 && !o.fitsImageSize(below) {
		below--
	}
	above := side + 1
	for !o.fitsImageSize(above) {
		above++
	}
	nearest := fmt.Sprintf("the nearest sizes that work are %d and %d", below, above)
	if below == 0 {
		nearest = fmt.Sprintf("the smallest size that works is %d", above)
	}
	why := "the generator needs a multiple of 4"
	if side%4 == 0 {
		why = fmt.Sprintf("too small for the generator (at least 8) or for the discriminator with -n_layers_D %d (at least %d)",
			o.NLayersD, 3<<o.NLayersD)
	}
	return fmt.Errorf("the networks cannot take %d×%d images: %s; %s", side, side, why, nearest)
}

// fitsImageSize is CheckImageSize's rule.
func (o Options) fitsImageSize(side int) bool {
	return side%4 == 0 && side >= 8 && o.NLayersD >= 1 && o.NLayersD <= 20 && side>>o.NLayersD >= 3
}
