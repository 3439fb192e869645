package layers

import (
	"fmt"
	"math/rand/v2"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

type Var = autograd.Var

// Module is a layer or a network of layers.
type Module interface {
	// Forward applies the module to x.
	Forward(x *Var) *Var
	// Params lists the trainable parameters with their PyTorch state-dict
	// names relative to the module ("weight", "conv_block.1.bias", …), in a
	// fixed order.
	Params() []NamedParam
}

// NamedParam is a parameter with its state-dict name.
type NamedParam struct {
	Name string
	Var  *Var
}

// Init says how new parameters are made.
type Init struct {
	// Rand draws the initial weights. Required.
	Rand *rand.Rand
	// DType of the parameters (Float32 unless gradient checking).
	DType tensor.DType
	// Std is the standard deviation of the normal weight init; the CycleGAN
	// default (init_type "normal", init_gain 0.02) when 0.
	Std float64
}

func (in Init) std() float64 {
	if in.Std == 0 {
		return 0.02
	}
	return in.Std
}

// weight returns a parameter of the given shape drawn from N(0, std²).
func (in Init) weight(shape ...int) *Var {
	return autograd.Param(tensor.RandNormal(in.Rand, in.DType, 0, in.std(), shape...))
}

// zeros returns a parameter of zeros.
func (in Init) zeros(n int) *Var { return autograd.Param(tensor.New(in.DType, n)) }

// ---- Conv2d ----

// Conv2d is torch.nn.Conv2d with a bias: weight (Out, In, K, K), bias (Out).
type Conv2d struct {
	Weight, Bias *Var
	Stride       int
	Padding      int
}

// NewConv2d returns a k×k convolution from cin to cout channels with
// weights ~ N(0, std²) and zero bias.
func NewConv2d(in Init, cin, cout, k, stride, padding int) *Conv2d {
	return NewConv2dBias(in, cin, cout, k, stride, padding, true)
}

// NewConv2dBias is NewConv2d with a bias only when bias is set (PyTorch's
// bias=False leaves Bias nil, and the state dict has no "bias").
func NewConv2dBias(in Init, cin, cout, k, stride, padding int, bias bool) *Conv2d {
	c := &Conv2d{Weight: in.weight(cout, cin, k, k), Stride: stride, Padding: padding}
	if bias {
		c.Bias = in.zeros(cout)
	}
	return c
}

// Forward: x (N, In, H, W) → (N, Out, OH, OW).
func (c *Conv2d) Forward(x *Var) *Var {
	return ops.Conv2d(x, c.Weight, c.Bias, tensor.ConvParams{Stride: c.Stride, Padding: c.Padding})
}

func (c *Conv2d) Params() []NamedParam { return weightBias(c.Weight, c.Bias) }

// weightBias names a layer's weight and, when it has one, its bias.
func weightBias(w, b *Var) []NamedParam {
	if b == nil {
		return []NamedParam{{"weight", w}}
	}
	return []NamedParam{{"weight", w}, {"bias", b}}
}

func (c *Conv2d) String() string {
	s := c.Weight.Shape()
	return fmt.Sprintf("Conv2d(%d, %d, kernel_size=(%d, %d), stride=(%d, %d), padding=(%d, %d))",
		s[1], s[0], s[2], s[3], c.Stride, c.Stride, c.Padding, c.Padding)
}

// ---- ConvTranspose2d ----

// ConvTranspose2d is torch.nn.ConvTranspose2d with a bias: weight
// (In, Out, K, K) in PyTorch's layout, bias (Out).
type ConvTranspose2d struct {
	Weight, Bias  *Var
	Stride        int
	Padding       int
	OutputPadding int
}

// NewConvTranspose2d returns a k×k transposed convolution from cin to cout
// channels with weights ~ N(0, std²) and zero bias.
func NewConvTranspose2d(in Init, cin, cout, k, stride, padding, outputPadding int) *ConvTranspose2d {
	return NewConvTranspose2dBias(in, cin, cout, k, stride, padding, outputPadding, true)
}

// NewConvTranspose2dBias is NewConvTranspose2d with a bias only when bias
// is set.
func NewConvTranspose2dBias(in Init, cin, cout, k, stride, padding, outputPadding int, bias bool) *ConvTranspose2d {
	c := &ConvTranspose2d{Weight: in.weight(cin, cout, k, k), Stride: stride, Padding: padding, OutputPadding: outputPadding}
	if bias {
		c.Bias = in.zeros(cout)
	}
	return c
}

// Forward: x (N, In, H, W) → (N, Out, (H−1)·s − 2p + K + op, …).
func (c *ConvTranspose2d) Forward(x *Var) *Var {
	return ops.ConvTranspose2d(x, c.Weight, c.Bias, tensor.ConvParams{Stride: c.Stride, Padding: c.Padding}, c.OutputPadding)
}

func (c *ConvTranspose2d) Params() []NamedParam { return weightBias(c.Weight, c.Bias) }

func (c *ConvTranspose2d) String() string {
	s := c.Weight.Shape()
	return fmt.Sprintf("ConvTranspose2d(%d, %d, kernel_size=(%d, %d), stride=(%d, %d), padding=(%d, %d), output_padding=(%d, %d))",
		s[0], s[1], s[2], s[3], c.Stride, c.Stride, c.Padding, c.Padding, c.OutputPadding, c.OutputPadding)
}

// ---- InstanceNorm2d ----

// InstanceNorm2d is torch.nn.InstanceNorm2d(affine=False,
// track_running_stats=False): each (sample, channel) plane normalised to
// zero mean and unit (biased) variance.
type InstanceNorm2d struct {
	Eps float64
}

// NewInstanceNorm2d returns an instance norm with PyTorch's eps 1e-5.
func NewInstanceNorm2d() *InstanceNorm2d { return &InstanceNorm2d{Eps: 1e-5} }

func (n *InstanceNorm2d) Forward(x *Var) *Var { return ops.InstanceNorm2d(x, nil, nil, n.Eps) }

func (n *InstanceNorm2d) Params() []NamedParam { return nil }

func (n *InstanceNorm2d) String() string {
	return fmt.Sprintf("InstanceNorm2d(eps=%g, affine=False, track_running_stats=False)", n.Eps)
}

// ---- ReflectionPad2d ----

// ReflectionPad2d pads the last two axes by P on every side by reflection.
type ReflectionPad2d struct{ P int }

func (r *ReflectionPad2d) Forward(x *Var) *Var {
	return ops.ReflectionPad2d(x, tensor.Pad2d{Left: r.P, Right: r.P, Top: r.P, Bottom: r.P})
}

func (r *ReflectionPad2d) Params() []NamedParam { return nil }

func (r *ReflectionPad2d) String() string {
	return fmt.Sprintf("ReflectionPad2d((%d, %d, %d, %d))", r.P, r.P, r.P, r.P)
}

// ---- Activations ----

// ReLU is max(x, 0).
type ReLU struct{}

func (ReLU) Forward(x *Var) *Var  { return ops.ReLU(x) }
func (ReLU) Params() []NamedParam { return nil }
func (ReLU) String() string       { return "ReLU(inplace=True)" }

// LeakyReLU is x for x > 0 and Alpha·x otherwise.
type LeakyReLU struct{ Alpha float64 }

func (l LeakyReLU) Forward(x *Var) *Var { return ops.LeakyReLU(x, l.Alpha) }
func (LeakyReLU) Params() []NamedParam  { return nil }
func (l LeakyReLU) String() string {
	return fmt.Sprintf("LeakyReLU(negative_slope=%g, inplace=True)", l.Alpha)
}

// Tanh is the hyperbolic tangent.
type Tanh struct{}

func (Tanh) Forward(x *Var) *Var  { return ops.Tanh(x) }
func (Tanh) Params() []NamedParam { return nil }
func (Tanh) String() string       { return "Tanh()" }
