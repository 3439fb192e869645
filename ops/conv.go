package ops

import (
	"fmt"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/tensor"
)

// The three convolution kernels are linear maps, and each one's backward is
// made of the other two. Writing A_w for "correlate with w" (Conv2d):
//
//	Conv2d            y  = A_w x (+ b)
//	Conv2dInputGrad   gx = A_wᵀ gy            (also ConvTranspose2d)
//	Conv2dWeightGrad  gw = B(x, gy), with ⟨B(x, gy), v⟩ = ⟨gy, A_v x⟩
//
// so every order of derivative is again one of these three ops.

// ---- Conv2d ----

type conv2dOp struct{ p tensor.ConvParams }

func (o conv2dOp) Name() string { return fmt.Sprintf("conv2d(s%d,p%d)", o.p.Stride, o.p.Padding) }

// Conv2d correlates x (N, C, H, W) with w (O, C, KH, KW) and adds b (O)
// unless b is nil, as torch.nn.functional.conv2d. Result: (N, O, OH, OW).
func Conv2d(x, w, b *Var, p tensor.ConvParams) *Var {
	var bv *tensor.Tensor
	if b != nil {
		bv = b.Value
		if len(b.Shape()) != 1 || b.Shape()[0] != w.Shape()[0] {
			panic(fmt.Sprintf("conv2d: bias %v for weight %v", b.Shape(), w.Shape()))
		}
	}
	return autograd.Record(conv2dOp{p}, be(x).Conv2d(x.Value, w.Value, bv, p), x, w, b)
}

// Backward:
//
//	gx = Conv2dInputGrad(g, w)     (A_wᵀ g)
//	gw = Conv2dWeightGrad(x, g)
//	gb = Σ_{n,i,j} g
func (o conv2dOp) Backward(in []*Var, _, g *Var, needs []bool) []*Var {
	x, w := in[0], in[1]
	res := make([]*Var, 3)
	xs, ws := x.Shape(), w.Shape()
	if needs[0] {
		res[0] = Conv2dInputGrad(g, w, o.p, xs[2], xs[3])
	}
	if needs[1] {
		res[1] = Conv2dWeightGrad(x, g, o.p, ws[2], ws[3])
	}
	if needs[2] {
		res[2] = biasGrad(g)
	}
	return res
}

// biasGrad sums g (N, C, H, W) to (C).
func biasGrad(g *Var) *Var { return Reshape(Sum(g, 0, 2, 3), g.Shape()[1]) }

// ---- Conv2dInputGrad and ConvTranspose2d ----

type convTransposeOp struct {
	p    tensor.ConvParams
	h, w int // output size
}

func (o convTransposeOp) Name() string {
	return fmt.Sprintf("conv_transpose2d(s%d,p%d,%dx%d)", o.p.Stride, o.p.Padding, o.h, o.w)
}

// Conv2dInputGrad returns A_wᵀ gy: the gradient of Conv2d with respect to an
// input of size h×wd, given gy (N, O, OH, OW) and w (O, C, KH, KW).
func Conv2dInputGrad(gy, w *Var, p tensor.ConvParams, h, wd int) *Var {
	return autograd.Record(convTransposeOp{p, h, wd}, be(gy).Conv2dInputGrad(gy.Value, w.Value, p, h, wd), gy, w, nil)
}

// ConvTranspose2d is torch.nn.functional.conv_transpose2d: x (N, Cin, H, W),
// w (Cin, Cout, KH, KW) in PyTorch's layout, bias b (Cout) or nil. The output
// is (N, Cout, (H−1)·s − 2p + KH + outputPadding, …), outputPadding < s.
func ConvTranspose2d(x, w, b *Var, p tensor.ConvParams, outputPadding int) *Var {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 || xs[1] != ws[0] {
		panic(fmt.Sprintf("conv_transpose2d: x %v and w %v do not fit (want x (N, Cin, H, W), w (Cin, Cout, KH, KW))", xs, ws))
	}
	if outputPadding < 0 || outputPadding >= max(p.Stride, 1) {
		panic(fmt.Sprintf("conv_transpose2d: output padding %d must be in [0, stride %d)", outputPadding, p.Stride))
	}
	h := (xs[2]-1)*p.Stride - 2*p.Padding + ws[2] + outputPadding
	wd := (xs[3]-1)*p.Stride - 2*p.Padding + ws[3] + outputPadding
	var bv *tensor.Tensor
	if b != nil {
		if len(b.Shape()) != 1 || b.Shape()[0] != ws[1] {
			panic(fmt.Sprintf("conv_transpose2d: bias %v for weight %v", b.Shape(), ws))
		}
		bv = b.Value
	}
	y := be(x).Conv2dInputGrad(x.Value, w.Value, p, h, wd)
	if bv != nil {
		y = be(x).Binary(tensor.Add, y, bv.Reshape(1, -1, 1, 1))
	}
	return autograd.Record(convTransposeOp{p, h, wd}, y, x, w, b)
}

// Backward (x the small input, g the gradient of the large output):
//
//	gx = Conv2d(g, w)                 (A_w g)
//	gw = Conv2dWeightGrad(g, x)       (roles of input and output swapped)
//	gb = Σ_{n,i,j} g
func (o convTransposeOp) Backward(in []*Var, _, g *Var, needs []bool) []*Var {
	x, w := in[0], in[1]
	res := make([]*Var, 3)
	if needs[0] {
		res[0] = Conv2d(g, w, nil, o.p)
	}
	if needs[1] {
		ws := w.Shape()
		res[1] = Conv2dWeightGrad(g, x, o.p, ws[2], ws[3])
	}
	if needs[2] {
		res[2] = biasGrad(g)
	}
	return res
}

// ---- Conv2dWeightGrad ----

type convWeightGradOp struct {
	p      tensor.ConvParams
	kh, kw int
}

func (o convWeightGradOp) Name() string {
	return fmt.Sprintf("conv2d_weight_grad(s%d,p%d,%dx%d)", o.p.Stride, o.p.Padding, o.kh, o.kw)
}

// Conv2dWeightGrad returns the gradient of Conv2d with respect to a kh×kw
// weight, given its input x (N, C, H, W) and output gradient gy
// (N, O, OH, OW). Result: (O, C, kh, kw).
func Conv2dWeightGrad(x, gy *Var, p tensor.ConvParams, kh, kw int) *Var {
	return autograd.Record(convWeightGradOp{p, kh, kw}, be(x).Conv2dWeightGrad(x.Value, gy.Value, p, kh, kw), x, gy)
}

// Backward, with g shaped like the weight: the op is bilinear in (x, gy), and
// ⟨g, B(x, gy)⟩ = ⟨gy, A_g x⟩ = ⟨A_gᵀ gy, x⟩ gives
//
//	gx  = Conv2dInputGrad(gy, g)
//	ggy = Conv2d(x, g)
func (o convWeightGradOp) Backward(in []*Var, _, g *Var, needs []bool) []*Var {
	x, gy := in[0], in[1]
	res := make([]*Var, 2)
	if needs[0] {
		xs := x.Shape()
		res[0] = Conv2dInputGrad(gy, g, o.p, xs[2], xs[3])
	}
	if needs[1] {
		res[1] = Conv2d(x, g, nil, o.p)
	}
	return res
}

// ---- ReflectionPad2d and its adjoint ----

type reflectPadOp struct{ p tensor.Pad2d }

func (o reflectPadOp) Name() string { return fmt.Sprintf("reflection_pad2d%v", o.p) }

// ReflectionPad2d pads the last two axes of x by reflection, as
// torch.nn.ReflectionPad2d((left, right, top, bottom)).
func ReflectionPad2d(x *Var, p tensor.Pad2d) *Var {
	return autograd.Record(reflectPadOp{p}, be(x).ReflectPad2d(x.Value, p), x)
}

// Backward: gx = ReflectionPad2dAdjoint(g): border values fold back onto
// the elements they copied.
func (o reflectPadOp) Backward(_ []*Var, _, g *Var, _ []bool) []*Var {
	return []*Var{ReflectionPad2dAdjoint(g, o.p)}
}

type reflectPadAdjointOp struct{ p tensor.Pad2d }

func (o reflectPadAdjointOp) Name() string { return fmt.Sprintf("reflection_pad2d_adjoint%v", o.p) }

// ReflectionPad2dAdjoint is the transpose of ReflectionPad2d (its backward).
func ReflectionPad2dAdjoint(g *Var, p tensor.Pad2d) *Var {
	return autograd.Record(reflectPadAdjointOp{p}, be(g).ReflectPad2dAdjoint(g.Value, p), g)
}

// Backward: the transpose of the transpose is the pad itself.
func (o reflectPadAdjointOp) Backward(_ []*Var, _, g *Var, _ []bool) []*Var {
	return []*Var{ReflectionPad2d(g, o.p)}
}
