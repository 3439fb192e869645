package cyclegan

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

type Var = autograd.Var

// Options configure the model and its training iteration. DefaultOptions
// gives docs/method.md §1–2 (pytorch-CycleGAN-and-pix2pix's defaults).
type Options struct {
	NGF, NDF int // generator and discriminator base widths (64, 64)
	NBlocks  int // residual blocks in each ResNet generator (9)
	NLayersD int // strided convolutions in each PatchGAN discriminator (3)

	// The reference's --netG, --netD, --norm, --no_dropout and --gan_mode
	// (docs/method.md §1); "" means the default.
	NetG    string      // NetResnet (NBlocks blocks; default), NetUnet128, NetUnet256
	NetD    string      // NetNLayers (NLayersD layers; default), NetPixel
	Norm    layers.Norm // layers.Instance (default), layers.Batch, layers.NoNorm
	Dropout bool        // Dropout(0.5) in the generator (CycleGAN's default: none)
	GANMode string      // GANLSGAN (default), GANVanilla

	LambdaA        float64 // weight of the cycle loss A→B→A (10)
	LambdaB        float64 // weight of the cycle loss B→A→B (10)
	LambdaIdentity float64 // identity loss weight, relative to λ (0.5)

	PoolSize int         // image pool size (50); 0 disables it
	Adam     AdamOptions // both optimisers
	InitGain float64     // std of the normal init of new weights (init_gain 0.02); 0 means 0.02
	DType    tensor.DType
	Backend  tensor.Backend // nil means tensor.CPU

	// Attention is the attention-consistency loss (none by default).
	Attention AttentionOptions
}

// DefaultOptions returns the configuration of docs/method.md §1–2: the
// standard CycleGAN.
func DefaultOptions() Options {
	return Options{NGF: 64, NDF: 64, NBlocks: 9, NLayersD: 3,
		NetG: NetResnet, NetD: NetNLayers, Norm: layers.Instance, GANMode: GANLSGAN,
		LambdaA: 10, LambdaB: 10, LambdaIdentity: 0.5,
		PoolSize: 50, Adam: DefaultAdam(), DType: tensor.Float32,
		Attention: DefaultAttention()}
}

// Model is a CycleGAN: two generators, two discriminators, their optimisers
// and image pools. Code names vs the paper (Zhu et al. 2017): G_A = G (A→B),
// G_B = F (B→A), D_A = D_Y judges domain-B images, D_B = D_X judges domain-A
// images.
type Model struct {
	Opts           Options
	GA, GB, DA, DB *Network
	OptG, OptD     *Adam
	PoolA, PoolB   *ImagePool // generated A images for D_B, generated B images for D_A
	// Rand draws the pools' choices from src; src is part of the saved
	// state.
	Rand *rand.Rand
	src  *rand.PCG
	// Attention is the attention loss built from Opts.Attention on G_A
	// (nil: the standard CycleGAN); At(epoch) gives the one for Step.
	Attention *Attention
}

// Losses are the weighted loss terms of one iteration as they enter the
// sums, named as pytorch-CycleGAN-and-pix2pix logs them.
type Losses struct {
	GA, GB         float64 // L(D_A(fake_B), 1), L(D_B(fake_A), 1), L the GAN loss (MSE for lsgan)
	CycleA, CycleB float64 // λ_A·L1(rec_A, real_A), λ_B·L1(rec_B, real_B)
	IdtA, IdtB     float64 // λ_B·λ_idt·L1(G_A(real_B), real_B), λ_A·λ_idt·L1(G_B(real_A), real_A)
	DA, DB         float64 // 0.5·[L(D(real), 1) + L(D(pool(fake)), 0)]
	Att            float64 // L_att (0 without the attention loss)
}

// New returns a model with freshly initialised weights (N(0, InitGain²), 0.02 by default, zero
// biases) drawn from a source seeded with seed, in the order G_A, G_B, D_A,
// D_B, and its attention loss. The error, naming the bad value, is for
// attention options that do not fit the generator.
func New(o Options, seed uint64) (*Model, error) {
	if err := o.checkNets(); err != nil {
		return nil, err
	}
	if o.Attention.Enabled() && o.netG() != NetResnet {
		return nil, fmt.Errorf("attention loss (layers %v): its layers are residual blocks of the ResNet generator "+
			"(indices of the reference's ResnetGenerator, docs/method.md §1); the %s generator has none", o.Attention.Layers, o.netG())
	}
	in := layers.Init{Rand: tensor.NewRand(seed), DType: o.DType, Std: o.InitGain}
	m := &Model{
		Opts:  o,
		PoolA: NewImagePool(o.PoolSize),
		PoolB: NewImagePool(o.PoolSize),
		src:   rand.NewPCG(seed, 0x5eed),
	}
	m.Rand = rand.New(m.src)
	// Dropout draws from the model's source too, so a saved random state
	// resumes its masks exactly.
	m.GA = NewGenerator(in, o, m.Rand)
	m.GB = NewGenerator(in, o, m.Rand)
	m.DA = NewDiscriminator(in, o)
	m.DB = NewDiscriminator(in, o)
	if o.Backend != nil && o.Backend != tensor.CPU {
		for _, n := range m.Nets() {
			layers.MoveTo(n, o.Backend, o.DType)
		}
	}
	m.OptG = NewAdam(append(m.GA.Params(), m.GB.Params()...), o.Adam)
	m.OptD = NewAdam(append(m.DA.Params(), m.DB.Params()...), o.Adam)
	att, err := o.Attention.build(m.GA.Model)
	if err != nil {
		return nil, err
	}
	m.Attention = att
	return m, nil
}

// Nets returns G_A, G_B, D_A, D_B.
func (m *Model) Nets() []*Network { return []*Network{m.GA, m.GB, m.DA, m.DB} }

// NetNames are the names of Nets in checkpoints ("latest_net_G_A").
var NetNames = [4]string{"G_A", "G_B", "D_A", "D_B"}

// backend returns the backend the model computes on.
func (m *Model) backend() tensor.Backend {
	if m.Opts.Backend == nil {
		return tensor.CPU
	}
	return m.Opts.Backend
}

// Step runs one training iteration (docs/method.md §2) on a batch of real
// images realA, realB (N, 3, H, W) in [-1, 1] with learning rate lr and
// the attention loss att (nil: the standard CycleGAN; Attention.At gives the
// model's own for an epoch): the generators' update, then the
// discriminators'. It returns the losses, or an error, leaving every weight
// as it was, when a loss is not finite.
func (m *Model) Step(realA, realB *tensor.Tensor, lr float64, att *gradcam.Attention) (Losses, error) {
	o := m.Opts
	ra, rb := autograd.Const(realA), autograd.Const(realB)
	var capture []int
	if att != nil {
		capture = att.Layers()
	}

	// 1. Translations and reconstructions, each one pass that also keeps
	// the outputs of the attention layers.
	pass := func(g *Network, x *Var) gradcam.Pass {
		out, acts := g.Model.Capture(x, capture)
		return gradcam.Pass{Out: out, Acts: acts}
	}
	in := gradcam.Inputs{DA: m.DA, DB: m.DB}
	in.FakeB = pass(m.GA, ra)
	in.RecA = pass(m.GB, in.FakeB.Out)
	in.FakeA = pass(m.GB, rb)
	in.RecB = pass(m.GA, in.FakeA.Out)

	// 2. Generator step with the discriminators frozen: they record nothing
	// and receive no gradient, but gradients flow through them to the
	// generators.
	dParams := append(layers.Vars(m.DA), layers.Vars(m.DB)...)
	restore := autograd.SetRequiresGrad(dParams, false)
	var l Losses
	var terms []*Var
	add := func(dst *float64, v *Var) {
		*dst = v.Item()
		terms = append(terms, v)
	}
	if o.LambdaIdentity > 0 {
		idtA := m.GA.Forward(rb)
		idtB := m.GB.Forward(ra)
		add(&l.IdtA, ops.MulScalar(ops.L1Loss(idtA, rb), o.LambdaB*o.LambdaIdentity))
		add(&l.IdtB, ops.MulScalar(ops.L1Loss(idtB, ra), o.LambdaA*o.LambdaIdentity))
	}
	in.PredFakeB = m.DA.Forward(in.FakeB.Out)
	in.PredFakeA = m.DB.Forward(in.FakeA.Out)
	add(&l.GA, m.ganLoss(in.PredFakeB, 1))
	add(&l.GB, m.ganLoss(in.PredFakeA, 1))
	add(&l.CycleA, ops.MulScalar(ops.L1Loss(in.RecA.Out, ra), o.LambdaA))
	add(&l.CycleB, ops.MulScalar(ops.L1Loss(in.RecB.Out, rb), o.LambdaB))
	if att != nil {
		// The attention loss reuses the four passes and D_A(fake_B),
		// D_B(fake_A); at order 0 it is a constant, logged but not trained.
		add(&l.Att, att.Loss(in))
	}
	lossG := terms[0]
	for _, t := range terms[1:] {
		lossG = ops.Add(lossG, t)
	}
	if err := finite("generator", lossG.Item()); err != nil {
		restore()
		return l, err
	}
	gradsG := gradients(lossG, m.OptG.Params)
	restore()

	// 3. Discriminator step on real images and pooled, detached fakes.
	fakeB := m.PoolB.Query(in.FakeB.Out.Value, m.Rand)
	fakeA := m.PoolA.Query(in.FakeA.Out.Value, m.Rand)
	lossDA := m.discriminatorLoss(m.DA, rb, autograd.Const(fakeB))
	lossDB := m.discriminatorLoss(m.DB, ra, autograd.Const(fakeA))
	l.DA, l.DB = lossDA.Item(), lossDB.Item()
	if err := finite("discriminator", l.DA+l.DB); err != nil {
		return l, err
	}
	gradsD := gradients(ops.Add(lossDA, lossDB), m.OptD.Params)

	m.OptG.Update(gradsG, lr)
	m.OptD.Update(gradsD, lr)
	return l, nil
}

// discriminatorLoss is 0.5·[L(D(real), 1) + L(D(fake), 0)], L the GAN
// loss (ganLoss).
func (m *Model) discriminatorLoss(d *Network, real, fake *Var) *Var {
	pr := d.Forward(real)
	pf := d.Forward(fake)
	return ops.MulScalar(ops.Add(m.ganLoss(pr, 1), m.ganLoss(pf, 0)), 0.5)
}

// ganLoss is the reference's GANLoss of the discriminator's prediction
// against the target 1 (real) or 0 (fake): MSE for lsgan,
// BCEWithLogits for vanilla.
func (m *Model) ganLoss(pred *Var, target float64) *Var {
	if m.Opts.ganMode() == GANVanilla {
		return ops.BCEWithLogitsLoss(pred, ops.Full(pred, target))
	}
	return ops.MSELoss(pred, ops.Full(pred, target))
}

// SetTraining puts the four networks in training (on) or evaluation mode
// (see Network.SetTraining). A new model trains; the commands that only
// translate (test, attention, eval) evaluate.
func (m *Model) SetTraining(on bool) {
	for _, n := range m.Nets() {
		n.SetTraining(on)
	}
}

// gradients returns d loss / d p for each parameter (nil where the loss
// does not depend on it).
func gradients(loss *Var, params []layers.NamedParam) []*tensor.Tensor {
	gs := autograd.Grad([]*Var{loss}, layers.VarsOf(params), nil, false)
	out := make([]*tensor.Tensor, len(gs))
	for i, g := range gs {
		if g != nil {
			out[i] = g.Value
		}
	}
	return out
}

func finite(what string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("the %s loss is %v: training stopped", what, v)
	}
	return nil
}

// Translate runs generator g on x in evaluation mode (running statistics,
// no dropout; g's mode is restored after) without recording a graph.
func Translate(g *Network, x *tensor.Tensor) *tensor.Tensor {
	restore := autograd.SetRequiresGrad(layers.Vars(g), false)
	defer restore()
	defer g.SetTraining(g.SetTraining(false))
	return g.Forward(autograd.Const(x)).Value
}
