package layers

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

// Norm names the normalisation layers of a network, as the reference's
// get_norm_layer and its -norm flag: "instance" (InstanceNorm2d,
// affine=False, track_running_stats=False), "batch" (BatchNorm2d,
// affine=True, track_running_stats=True) or "none" (Identity).
type Norm string

// The norms of -norm.
const (
	Instance Norm = "instance"
	Batch    Norm = "batch"
	NoNorm   Norm = "none"
)

// Norms lists the valid values of -norm.
var Norms = []Norm{Instance, Batch, NoNorm}

// Check returns an error naming the valid norms when n is not one.
func (n Norm) Check() error {
	for _, v := range Norms {
		if n == v {
			return nil
		}
	}
	names := make([]string, len(Norms))
	for i, v := range Norms {
		names[i] = string(v)
	}
	return fmt.Errorf("norm %q: want %s", string(n), strings.Join(names, ", "))
}

// New returns a normalisation layer of c channels. It panics on a norm
// Check refuses.
func (n Norm) New(in Init, c int) Module {
	switch n {
	case Instance:
		return NewInstanceNorm2d()
	case Batch:
		return NewBatchNorm2d(in, c)
	case NoNorm:
		return Identity{}
	}
	panic(fmt.Sprintf("layers: Norm.New: %v", n.Check()))
}

// Bias reports whether the convolutions before this norm have a bias: the
// reference's use_bias = norm_layer == nn.InstanceNorm2d (so neither
// batch norm, which has its own, nor none has one).
func (n Norm) Bias() bool { return n == Instance }

// ---- Identity ----

// Identity is torch.nn.Identity, the reference's norm "none".
type Identity struct{}

func (Identity) Forward(x *Var) *Var  { return x }
func (Identity) Params() []NamedParam { return nil }
func (Identity) String() string       { return "Identity()" }

// ---- BatchNorm2d ----

// BatchNorm2d is torch.nn.BatchNorm2d(c, eps=1e-5, momentum=0.1,
// affine=True, track_running_stats=True). In training mode (the default,
// as a new PyTorch module) it normalises with the batch's statistics
// (ops.BatchNorm2d) and updates the running ones,
//
//	running_mean ← (1 − momentum)·running_mean + momentum·mean
//	running_var  ← (1 − momentum)·running_var  + momentum·var_unbiased
//
// counting the batches in num_batches_tracked; in evaluation mode it
// normalises with the running statistics. The statistics are buffers
// (Buffers), saved with the weights under PyTorch's names.
type BatchNorm2d struct {
	Weight, Bias *Var // (C): γ, β
	// RunningMean, RunningVar (C) and NumBatchesTracked (a scalar) are
	// constants: state, not parameters.
	RunningMean, RunningVar, NumBatchesTracked *Var
	Eps, Momentum                              float64
	Eval                                       bool // evaluation mode (SetTraining(false))
}

// NewBatchNorm2d returns a batch norm of c channels with the reference's
// init_weights: weight ~ N(1, std²), bias 0; running mean 0, variance 1.
func NewBatchNorm2d(in Init, c int) *BatchNorm2d {
	return &BatchNorm2d{
		Weight:            autograd.Param(tensor.RandNormal(in.Rand, in.DType, 1, in.std(), c)),
		Bias:              in.zeros(c),
		RunningMean:       autograd.Const(tensor.New(in.DType, c)),
		RunningVar:        autograd.Const(tensor.Full(in.DType, 1, c)),
		NumBatchesTracked: autograd.Const(tensor.New(tensor.Float64)),
		Eps:               1e-5, Momentum: 0.1,
	}
}

// Forward: x (N, C, H, W) → same shape.
func (b *BatchNorm2d) Forward(x *Var) *Var {
	s := x.Shape()
	if len(s) != 4 || s[1] != b.Weight.Shape()[0] {
		panic(fmt.Sprintf("BatchNorm2d: x %v for %d channels", s, b.Weight.Shape()[0]))
	}
	c := s[1]
	if b.Eval {
		rm := autograd.Const(b.RunningMean.Value)
		r := ops.Rsqrt(ops.AddScalar(autograd.Const(b.RunningVar.Value), b.Eps))
		y := ops.Mul(ops.Sub(x, ops.Reshape(rm, 1, c, 1, 1)), ops.Reshape(r, 1, c, 1, 1))
		return ops.Add(ops.Mul(y, ops.Reshape(b.Weight, 1, c, 1, 1)), ops.Reshape(b.Bias, 1, c, 1, 1))
	}
	y := ops.BatchNorm2d(x, b.Weight, b.Bias, b.Eps)
	// The running statistics, from the values alone (no graph).
	xv := autograd.Const(x.Value)
	n := float64(s[0] * s[2] * s[3])
	mean := ops.Mean(xv, 0, 2, 3)
	d := ops.Sub(xv, mean)
	unbiased := ops.MulScalar(ops.Sum(ops.Mul(d, d), 0, 2, 3), 1/(n-1))
	b.RunningMean.Value = b.update(b.RunningMean, mean, c)
	b.RunningVar.Value = b.update(b.RunningVar, unbiased, c)
	b.NumBatchesTracked.Value = ops.AddScalar(b.NumBatchesTracked, 1).Value
	return y
}

// update returns (1 − momentum)·running + momentum·stat, stat (1, C, 1, 1).
func (b *BatchNorm2d) update(running, stat *Var, c int) *tensor.Tensor {
	return ops.Add(ops.MulScalar(running, 1-b.Momentum), ops.MulScalar(ops.Reshape(stat, c), b.Momentum)).Value
}

func (b *BatchNorm2d) Params() []NamedParam {
	return []NamedParam{{"weight", b.Weight}, {"bias", b.Bias}}
}

// Buffers returns the running statistics under PyTorch's names.
func (b *BatchNorm2d) Buffers() []NamedParam {
	return []NamedParam{{"running_mean", b.RunningMean}, {"running_var", b.RunningVar}, {"num_batches_tracked", b.NumBatchesTracked}}
}

// SetTraining switches between training and evaluation mode.
func (b *BatchNorm2d) SetTraining(on bool) { b.Eval = !on }

func (b *BatchNorm2d) String() string {
	return fmt.Sprintf("BatchNorm2d(%d, eps=%g, momentum=%g, affine=True, track_running_stats=True)", b.Weight.Shape()[0], b.Eps, b.Momentum)
}

// ---- Dropout ----

// Dropout is torch.nn.Dropout(p): in training mode each element is kept
// with probability 1 − p and scaled by 1/(1 − p), a constant mask drawn
// from Rand, so the layer is a product with a constant and differentiable
// to any order; in evaluation mode it is the identity.
type Dropout struct {
	P    float64
	Rand *rand.Rand // the model's seeded source; required in training mode
	Eval bool
}

// NewDropout returns a dropout of probability p drawing its masks from r.
func NewDropout(p float64, r *rand.Rand) *Dropout {
	if p < 0 || p >= 1 || r == nil {
		panic(fmt.Sprintf("NewDropout: p %g (want 0 ≤ p < 1), random source %v", p, r))
	}
	return &Dropout{P: p, Rand: r}
}

func (d *Dropout) Forward(x *Var) *Var {
	if d.Eval || d.P == 0 {
		return x
	}
	m := make([]float64, x.Value.Numel())
	keep := 1 / (1 - d.P)
	for i := range m {
		if d.Rand.Float64() >= d.P {
			m[i] = keep
		}
	}
	mask := tensor.FromFloat64s(m, x.Shape()...).To(x.Value.Backend())
	if x.DType() != tensor.Float64 {
		mask = x.Value.Backend().Cast(mask, x.DType())
	}
	return ops.Mul(x, autograd.Const(mask))
}

func (d *Dropout) Params() []NamedParam { return nil }

// SetTraining switches between training and evaluation mode.
func (d *Dropout) SetTraining(on bool) { d.Eval = !on }

func (d *Dropout) String() string { return fmt.Sprintf("Dropout(p=%g, inplace=False)", d.P) }

// ---- Modes and buffers ----

// Buffered is a module with state that is not trained (BatchNorm2d's
// running statistics), saved with its parameters.
type Buffered interface {
	Buffers() []NamedParam
}

// Modal is a module that behaves differently in training and evaluation
// mode (BatchNorm2d, Dropout), as torch.nn.Module.train/eval.
type Modal interface {
	SetTraining(on bool)
}

// Container is a module made of other modules, which Buffers and
// SetTraining look into.
type Container interface {
	Children() (names []string, mods []Module)
}

// Buffers returns the buffers of m and of the modules inside it, named as
// PyTorch's state dict names them (relative to m).
func Buffers(m Module) []NamedParam {
	if b, ok := m.(Buffered); ok {
		return b.Buffers()
	}
	c, ok := m.(Container)
	if !ok {
		return nil
	}
	var out []NamedParam
	names, mods := c.Children()
	for i, sub := range mods {
		for _, b := range Buffers(sub) {
			out = append(out, NamedParam{names[i] + "." + b.Name, b.Var})
		}
	}
	return out
}

// State returns m's parameters then its buffers: its whole state dict.
func State(m Module) []NamedParam { return append(m.Params(), Buffers(m)...) }

// SetTraining puts m and every module inside it in training (on) or
// evaluation mode.
func SetTraining(m Module, on bool) {
	if t, ok := m.(Modal); ok {
		t.SetTraining(on)
	}
	if c, ok := m.(Container); ok {
		_, mods := c.Children()
		for _, sub := range mods {
			SetTraining(sub, on)
		}
	}
}
