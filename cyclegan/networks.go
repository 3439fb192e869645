package cyclegan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/layers"
)

// Network is a generator or discriminator: a Sequential stored under the
// state-dict prefix "model", as in pytorch-CycleGAN-and-pix2pix (the
// U-Net's under "model.model": its outermost UnetSkipConnectionBlock,
// whose Sequential this is).
type Network struct {
	Model *layers.Sequential
	// Prefix is the state-dict name of Model; "" means "model".
	Prefix string
	// eval is set in evaluation mode (SetTraining(false)); a new network
	// trains, as a new PyTorch module does.
	eval bool
}

// Forward applies the network.
func (n *Network) Forward(x *autograd.Var) *autograd.Var { return n.Model.Forward(x) }

func (n *Network) prefix() string {
	if n.Prefix == "" {
		return "model"
	}
	return n.Prefix
}

// Params returns the parameters named as PyTorch's state dict ("model.1.weight").
func (n *Network) Params() []layers.NamedParam { return layers.Prefixed(n.prefix(), n.Model) }

// Buffers returns the batch norms' running statistics, named as PyTorch's
// state dict ("model.2.running_mean"); none for the other norms.
func (n *Network) Buffers() []layers.NamedParam {
	bs := layers.Buffers(n.Model)
	for i := range bs {
		bs[i].Name = n.prefix() + "." + bs[i].Name
	}
	return bs
}

// State returns the parameters then the buffers: the network's state dict,
// what checkpoints save and load.
func (n *Network) State() []layers.NamedParam { return append(n.Params(), n.Buffers()...) }

// Children is the network's Sequential.
func (n *Network) Children() ([]string, []layers.Module) {
	return []string{n.prefix()}, []layers.Module{n.Model}
}

// SetTraining puts the network in training (on) or evaluation mode, as
// torch.nn.Module.train and eval: batch norm then normalises with the
// batch's or the running statistics, dropout drops or passes everything.
// It returns the mode the network was in.
func (n *Network) SetTraining(on bool) (was bool) {
	was = !n.eval
	layers.SetTraining(n.Model, on)
	n.eval = !on
	return was
}

func (n *Network) String() string { return n.Model.String() }

// NewGenerator returns the generator -netG of o: ResnetGenerator(3, 3,
// NGF, Norm, Dropout, NBlocks) for "resnet", UnetGenerator(3, 3, 7 or 8,
// NGF, Norm, Dropout) for "unet_128" and "unet_256". Dropout layers draw
// their masks from drop (required when o.Dropout is set).
func NewGenerator(in layers.Init, o Options, drop *rand.Rand) *Network {
	if !o.Dropout {
		drop = nil
	} else if drop == nil {
		panic("cyclegan.NewGenerator: dropout without a random source")
	}
	norm := o.norm()
	switch o.netG() {
	case NetResnet:
		return resnetGenerator(in, o.NGF, o.NBlocks, norm, drop)
	case NetUnet128:
		return unetGenerator(in, 7, o.NGF, norm, drop)
	case NetUnet256:
		return unetGenerator(in, 8, o.NGF, norm, drop)
	}
	panic(fmt.Sprintf("cyclegan.NewGenerator: %v", o.checkNets()))
}

// NewDiscriminator returns the discriminator -netD of o: the PatchGAN
// NLayerDiscriminator(3, NDF, NLayersD, Norm) for "n_layers", the
// PixelDiscriminator(3, NDF, Norm) for "pixel".
func NewDiscriminator(in layers.Init, o Options) *Network {
	switch o.netD() {
	case NetNLayers:
		return nLayerDiscriminator(in, o.NDF, o.NLayersD, o.norm())
	case NetPixel:
		return pixelDiscriminator(in, o.NDF, o.norm())
	}
	panic(fmt.Sprintf("cyclegan.NewDiscriminator: %v", o.checkNets()))
}

// NewResnetGenerator returns ResnetGenerator(3, 3, ngf, norm=instance,
// use_dropout=False, n_blocks) with the layer indices of docs/method.md §1:
// 0–9 the stem and two downsamplings, FirstBlock (10) … 9+n_blocks the
// residual blocks, then two upsamplings, the output convolution (index
// 17+n_blocks: 26 for 9 blocks) and Tanh. Other norms and dropout keep
// these indices (dropout sits inside the blocks).
func NewResnetGenerator(in layers.Init, ngf, nBlocks int) *Network {
	return resnetGenerator(in, ngf, nBlocks, layers.Instance, nil)
}

func resnetGenerator(in layers.Init, ngf, nBlocks int, norm layers.Norm, drop *rand.Rand) *Network {
	bias := norm.Bias()
	s := []layers.Module{
		&layers.ReflectionPad2d{P: 3},
		layers.NewConv2dBias(in, 3, ngf, 7, 1, 0, bias),
		norm.New(in, ngf),
		layers.ReLU{},
	}
	for i := range 2 {
		mult := 1 << i
		s = append(s,
			layers.NewConv2dBias(in, ngf*mult, ngf*mult*2, 3, 2, 1, bias),
			norm.New(in, ngf*mult*2),
			layers.ReLU{})
	}
	if len(s) != FirstBlock {
		panic(fmt.Sprintf("NewResnetGenerator: the first residual block is layer %d, not FirstBlock %d", len(s), FirstBlock))
	}
	for range nBlocks {
		s = append(s, layers.NewResnetBlockWith(in, ngf*4, norm, drop))
	}
	for i := range 2 {
		mult := 1 << (2 - i)
		s = append(s,
			layers.NewConvTranspose2dBias(in, ngf*mult, ngf*mult/2, 3, 2, 1, 1, bias),
			norm.New(in, ngf*mult/2),
			layers.ReLU{})
	}
	s = append(s,
		&layers.ReflectionPad2d{P: 3},
		layers.NewConv2d(in, ngf, 3, 7, 1, 0),
		layers.Tanh{})
	return &Network{Model: layers.NewSequential(s...)}
}

// unetGenerator is the reference's UnetGenerator(3, 3, numDowns, ngf,
// norm, use_dropout): numDowns halvings of the image (a side of 2^numDowns
// becomes 1×1 in the innermost block), built from the innermost block out;
// the numDowns − 5 blocks of ngf·8 channels after the innermost have the
// dropout. The Network is the outermost block's Sequential, stored under
// "model.model" as UnetGenerator.model.model.
func unetGenerator(in layers.Init, numDowns, ngf int, norm layers.Norm, drop *rand.Rand) *Network {
	blk := layers.NewUnetSkipConnectionBlock(in, ngf*8, ngf*8, 0, nil, layers.UnetInnermost, norm, nil)
	for range numDowns - 5 {
		blk = layers.NewUnetSkipConnectionBlock(in, ngf*8, ngf*8, 0, blk, layers.UnetMiddle, norm, drop)
	}
	blk = layers.NewUnetSkipConnectionBlock(in, ngf*4, ngf*8, 0, blk, layers.UnetMiddle, norm, nil)
	blk = layers.NewUnetSkipConnectionBlock(in, ngf*2, ngf*4, 0, blk, layers.UnetMiddle, norm, nil)
	blk = layers.NewUnetSkipConnectionBlock(in, ngf, ngf*2, 0, blk, layers.UnetMiddle, norm, nil)
	out := layers.NewUnetSkipConnectionBlock(in, 3, ngf, 3, blk, layers.UnetOutermost, norm, nil)
	return &Network{Model: out.Model, Prefix: "model.model"}
}

// FirstBlock is the Sequential index of the ResnetGenerator's first residual
// block; block b (0-based) is at FirstBlock + b. (Code that has a generator
// finds its blocks with gradcam.ResidualBlocks.)
const FirstBlock = 10

// NewNLayerDiscriminator returns the PatchGAN NLayerDiscriminator(3, ndf,
// nLayers, norm=instance): convolutions of kernel 4, LeakyReLU(0.2), the
// norm on all but the first and last convolution. The first and last
// convolutions have a bias; the others only with instance norm.
func NewNLayerDiscriminator(in layers.Init, ndf, nLayers int) *Network {
	return nLayerDiscriminator(in, ndf, nLayers, layers.Instance)
}

func nLayerDiscriminator(in layers.Init, ndf, nLayers int, norm layers.Norm) *Network {
	lrelu := layers.LeakyReLU{Alpha: 0.2}
	bias := norm.Bias()
	s := []layers.Module{layers.NewConv2d(in, 3, ndf, 4, 2, 1), lrelu}
	mult := 1
	for n := 1; n < nLayers; n++ {
		prev := mult
		mult = min(1<<n, 8)
		s = append(s, layers.NewConv2dBias(in, ndf*prev, ndf*mult, 4, 2, 1, bias), norm.New(in, ndf*mult), lrelu)
	}
	prev := mult
	mult = min(1<<nLayers, 8)
	s = append(s,
		layers.NewConv2dBias(in, ndf*prev, ndf*mult, 4, 1, 1, bias), norm.New(in, ndf*mult), lrelu,
		layers.NewConv2d(in, ndf*mult, 1, 4, 1, 1))
	return &Network{Model: layers.NewSequential(s...)}
}

// pixelDiscriminator is the reference's PixelDiscriminator(3, ndf, norm):
// a 1×1 PatchGAN, [Conv2d(3→ndf, 1), LeakyReLU(0.2), Conv2d(ndf→2ndf, 1),
// norm, LeakyReLU(0.2), Conv2d(2ndf→1, 1)], stored under "net"; the second
// and third convolutions have a bias only with instance norm.
func pixelDiscriminator(in layers.Init, ndf int, norm layers.Norm) *Network {
	lrelu := layers.LeakyReLU{Alpha: 0.2}
	bias := norm.Bias()
	return &Network{Prefix: "net", Model: layers.NewSequential(
		layers.NewConv2d(in, 3, ndf, 1, 1, 0), lrelu,
		layers.NewConv2dBias(in, ndf, ndf*2, 1, 1, 0, bias), norm.New(in, ndf*2), lrelu,
		layers.NewConv2dBias(in, ndf*2, 1, 1, 1, 0, bias))}
}

// CheckImageSize reports whether side×side images pass through the
// networks of o unchanged in size, and otherwise why not and the nearest
// sides that do. The ResNet generator's two stride-2 convolutions are
// undone by two transposed ones only for a side that is a multiple of 4,
// and its residual blocks pad by reflection a feature map of side/4, which
// must be at least 2; the U-Net's n halvings (7 for unet_128, 8 for
// unet_256) need a multiple of 2ⁿ for its skip connections to meet. The
// PatchGAN discriminator's NLayersD stride-2 convolutions of kernel 4
// leave ⌊side/2^NLayersD⌋, and its two last convolutions take 2 from that,
// which must leave at least 1; the pixel discriminator takes any size.
// Every command that feeds images to the networks checks their size here,
// before it writes anything.
func (o Options) CheckImageSize(side int) error {
	if o.fitsImageSize(side) {
		return nil
	}
	patch := o.netD() == NetNLayers
	if patch && (o.NLayersD < 1 || o.NLayersD > 20) {
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
	var why string
	switch g := o.genMultiple(); {
	case o.unetDowns() > 0 && side%g != 0:
		why = fmt.Sprintf("the %s generator needs a multiple of %d", o.netG(), g)
	case side%g != 0:
		why = "the generator needs a multiple of 4"
	case patch:
		why = fmt.Sprintf("too small for the generator (at least 8) or for the discriminator with -n_layers_D %d (at least %d)",
			o.NLayersD, 3<<o.NLayersD)
	default:
		why = "too small for the generator (at least 8)"
	}
	return fmt.Errorf("the networks cannot take %d×%d images: %s; %s", side, side, why, nearest)
}

// genMultiple is the number the generator needs the side to be a multiple
// of.
func (o Options) genMultiple() int {
	if n := o.unetDowns(); n > 0 {
		return 1 << n
	}
	return 4
}

// fitsImageSize is CheckImageSize's rule.
func (o Options) fitsImageSize(side int) bool {
	if side <= 0 || side%o.genMultiple() != 0 || side < 8 {
		return false
	}
	if o.netD() != NetNLayers {
		return true
	}
	return o.NLayersD >= 1 && o.NLayersD <= 20 && side>>o.NLayersD >= 3
}

// The generators, discriminators and GAN losses of Options (the
// reference's --netG, --netD, --gan_mode; the command line's resnet_9blocks,
// resnet_6blocks and basic are NetResnet and NetNLayers with NBlocks 9 or 6
// and NLayersD 3).
const (
	NetResnet  = "resnet"
	NetUnet128 = "unet_128"
	NetUnet256 = "unet_256"
	NetNLayers = "n_layers"
	NetPixel   = "pixel"
	GANLSGAN   = "lsgan"
	GANVanilla = "vanilla"
)

func (o Options) netG() string { return orDefault(o.NetG, NetResnet) }
func (o Options) netD() string { return orDefault(o.NetD, NetNLayers) }
func (o Options) ganMode() string {
	return orDefault(o.GANMode, GANLSGAN)
}
func (o Options) norm() layers.Norm {
	return layers.Norm(orDefault(string(o.Norm), string(layers.Instance)))
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// checkNets returns an error naming the bad value and the valid ones when
// NetG, NetD, Norm or GANMode is not one of them.
func (o Options) checkNets() error {
	if err := o.norm().Check(); err != nil {
		return err
	}
	for _, c := range []struct {
		what, v string
		valid   []string
	}{
		{"generator", o.netG(), []string{NetResnet, NetUnet128, NetUnet256}},
		{"discriminator", o.netD(), []string{NetNLayers, NetPixel}},
		{"GAN mode", o.ganMode(), []string{GANLSGAN, GANVanilla}},
	} {
		if !slices.Contains(c.valid, c.v) {
			return fmt.Errorf("%s %q: want %s", c.what, c.v, strings.Join(c.valid, ", "))
		}
	}
	return nil
}

// unetDowns is the number of halvings of the U-Net generator (0 for the
// ResNet).
func (o Options) unetDowns() int {
	switch o.netG() {
	case NetUnet128:
		return 7
	case NetUnet256:
		return 8
	}
	return 0
}
