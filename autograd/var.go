package autograd

import (
	"fmt"

	"github.com/camcycle/camcycle/tensor"
)

// Op is the backward rule of one differentiable operation. Package ops
// implements it for every operation; autograd knows none of them.
type Op interface {
	// Name names the operation in panics and graph dumps ("conv2d").
	Name() string
	// Backward returns the gradient of the loss with respect to each input,
	// given gy, the gradient with respect to the output out. The rule must
	// compute with differentiable operations (package ops) only, never on
	// raw tensors: when the caller asked for a graph of the gradient, in,
	// out and gy are the live variables and everything Backward computes is
	// recorded, so the result can be differentiated again; otherwise they
	// are detached and nothing is recorded. needs[i] reports whether input
	// i's gradient is wanted; the rule may return nil for the others.
	Backward(in []*Var, out, gy *Var, needs []bool) []*Var
}

// Var is a node of the computation graph: a value, and how it was made.
// Leaves are made by Param (trainable, gradient wanted) or Const (no
// gradient); every other Var is the output of an Op recorded by Record.
type Var struct {
	// Value is the tensor this variable holds.
	Value *tensor.Tensor
	// Grad is filled by Backward for leaves that require a gradient, and for
	// intermediate variables that called RetainGrad. Backward adds to it.
	Grad *tensor.Tensor

	requiresGrad bool
	op           Op     // nil for leaves
	inputs       []*Var // the op's inputs
	retain       bool
	hooks        []func(g *Var) *Var
	name         string
}

// Param returns a leaf that requires a gradient: a trainable parameter or an
// input to differentiate with respect to.
func Param(t *tensor.Tensor) *Var { return &Var{Value: t, requiresGrad: true} }

// Const returns a leaf that needs no gradient.
func Const(t *tensor.Tensor) *Var { return &Var{Value: t} }

// Record returns the output of op applied to inputs, with value already
// computed. If any input requires a gradient, the output remembers op and
// its inputs; otherwise it is a constant and nothing is kept. This is how a
// graph is built, and why computing with constants costs no memory.
func Record(op Op, value *tensor.Tensor, inputs ...*Var) *Var {
	v := &Var{Value: value}
	for _, in := range inputs {
		if in != nil && in.requiresGrad {
			v.requiresGrad = true
			v.op = op
			v.inputs = inputs
			break
		}
	}
	return v
}

// RequiresGrad reports whether gradients flow to or through v.
func (v *Var) RequiresGrad() bool { return v.requiresGrad }

// SetRequiresGrad turns gradient tracking on or off for a leaf. Turning a
// network's parameters off freezes it (pytorch-CycleGAN's set_requires_grad):
// computations on it then record nothing and no gradient reaches it.
func (v *Var) SetRequiresGrad(on bool) {
	if v.op != nil {
		panic("SetRequiresGrad on the output of " + v.op.Name() + ": only leaves can change")
	}
	v.requiresGrad = on
}

// IsLeaf reports whether v was made by Param or Const rather than an Op.
func (v *Var) IsLeaf() bool { return v.op == nil }

// Op returns the operation that produced v (nil for leaves).
func (v *Var) Op() Op { return v.op }

// Inputs returns the operands of the operation that produced v.
func (v *Var) Inputs() []*Var { return v.inputs }

// Detach returns a constant holding the same value (shared, not copied): the
// graph stops there.
func (v *Var) Detach() *Var { return &Var{Value: v.Value, name: v.name} }

// Shape is a shortcut for v.Value.Shape().
func (v *Var) Shape() tensor.Shape { return v.Value.Shape() }

// DType is a shortcut for v.Value.DType().
func (v *Var) DType() tensor.DType { return v.Value.DType() }

// Backend is a shortcut for v.Value.Backend().
func (v *Var) Backend() tensor.Backend { return v.Value.Backend() }

// Item returns the value of a one-element variable.
func (v *Var) Item() float64 { return v.Value.Item() }

// SetName attaches a name used in error messages and graph dumps; it
// returns v.
func (v *Var) SetName(name string) *Var { v.name = name; return v }

// Name returns the name given by SetName, or "".
func (v *Var) Name() string { return v.name }

// RetainGrad asks Backward and Grad to store this intermediate variable's
// gradient in v.Grad (leaves always get theirs from Backward).
func (v *Var) RetainGrad() { v.retain = true }

// RegisterHook adds fn, called with the gradient of v when it is complete,
// before it flows further back. If fn returns a non-nil variable, that
// replaces the gradient. Hooks run in the order they were added.
func (v *Var) RegisterHook(fn func(g *Var) *Var) { v.hooks = append(v.hooks, fn) }

func (v *Var) String() string {
	what := "leaf"
	if v.op != nil {
		what = v.op.Name()
	}
	if v.name != "" {
		what = v.name + " = " + what
	}
	return fmt.Sprintf("Var(%s %v %s, requires_grad=%t)", what, v.Value.Shape(), v.Value.DType(), v.requiresGrad)
}
