package ops

import (
	"fmt"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/tensor"
)

type Var = autograd.Var

// be returns the backend of x.
func be(x *Var) tensor.Backend { return x.Value.Backend() }

// scalarConst returns a one-element constant of x's dtype on x's backend,
// shaped () so that it broadcasts against anything.
func scalarConst(x *Var, v float64) *Var {
	return autograd.Const(be(x).Full(x.DType(), tensor.Shape{}, v))
}

// checkBroadcast panics with op's name if x and y do not broadcast.
func checkBroadcast(op string, x, y *Var) {
	if _, err := tensor.BroadcastShapes(x.Shape(), y.Shape()); err != nil {
		panic(fmt.Sprintf("%s: %v", op, err))
	}
}

// ---- Binary arithmetic with broadcasting ----

type binaryOp struct{ op tensor.BinaryOp }

func (o binaryOp) Name() string { return o.op.String() }

// Add returns x + y (broadcasting).
func Add(x, y *Var) *Var { return binary(tensor.Add, x, y) }

// Sub returns x − y (broadcasting).
func Sub(x, y *Var) *Var { return binary(tensor.Sub, x, y) }

// Mul returns x · y elementwise (broadcasting).
func Mul(x, y *Var) *Var { return binary(tensor.Mul, x, y) }

// Div returns x / y elementwise (broadcasting).
func Div(x, y *Var) *Var { return binary(tensor.Div, x, y) }

func binary(op tensor.BinaryOp, x, y *Var) *Var {
	checkBroadcast(op.String(), x, y)
	return autograd.Record(binaryOp{op}, be(x).Binary(op, x.Value, y.Value), x, y)
}

// Backward, with gradients summed back over broadcast axes (SumTo):
//
//	add: gx = g,        gy = g
//	sub: gx = g,        gy = −g
//	mul: gx = g·y,      gy = g·x
//	div: gx = g/y,      gy = −g·out/y   (out = x/y)
func (o binaryOp) Backward(in []*Var, out, g *Var, needs []bool) []*Var {
	x, y := in[0], in[1]
	var gx, gy *Var
	switch o.op {
	case tensor.Add:
		gx, gy = g, g
	case tensor.Sub:
		gx = g
		if needs[1] {
			gy = Neg(g)
		}
	case tensor.Mul:
		if needs[0] {
			gx = Mul(g, y)
		}
		if needs[1] {
			gy = Mul(g, x)
		}
	case tensor.Div:
		if needs[0] {
			gx = Div(g, y)
		}
		if needs[1] {
			gy = Neg(Div(Mul(g, out), y))
		}
	default:
		panic("binary backward: " + o.op.String())
	}
	res := []*Var{nil, nil}
	if needs[0] {
		res[0] = SumTo(gx, x.Shape())
	}
	if needs[1] {
		res[1] = SumTo(gy, y.Shape())
	}
	return res
}

// ---- Scalar forms ----

type scalarOp struct {
	op tensor.BinaryOp
	c  float64
}

func (o scalarOp) Name() string { return fmt.Sprintf("%s_scalar(%g)", o.op, o.c) }

// AddScalar returns x + c.
func AddScalar(x *Var, c float64) *Var { return scalar(tensor.Add, x, c) }

// MulScalar returns c · x.
func MulScalar(x *Var, c float64) *Var { return scalar(tensor.Mul, x, c) }

// PowScalar returns xᵖ elementwise.
func PowScalar(x *Var, p float64) *Var { return scalar(tensor.Pow, x, p) }

func scalar(op tensor.BinaryOp, x *Var, c float64) *Var {
	return autograd.Record(scalarOp{op, c}, be(x).Scalar(op, x.Value, c), x)
}

// Backward:
//
//	x + c: gx = g
//	c · x: gx = c·g
//	xᵖ:    gx = p·g·xᵖ⁻¹
func (o scalarOp) Backward(in []*Var, _, g *Var, _ []bool) []*Var {
	switch o.op {
	case tensor.Add:
		return []*Var{g}
	case tensor.Mul:
		return []*Var{MulScalar(g, o.c)}
	case tensor.Pow:
		return []*Var{MulScalar(Mul(g, PowScalar(in[0], o.c-1)), o.c)}
	}
	panic("scalar backward: " + o.op.String())
}

// ---- Unary functions ----

type unaryOp struct{ op tensor.UnaryOp }

func (o unaryOp) Name() string { return o.op.String() }

// Neg returns −x.
func Neg(x *Var) *Var { return unary(tensor.Neg, x) }

// Exp returns eˣ.
func Exp(x *Var) *Var { return unary(tensor.Exp, x) }

// Log returns ln x.
func Log(x *Var) *Var { return unary(tensor.Log, x) }

// Sqrt returns √x.
func Sqrt(x *Var) *Var { return unary(tensor.Sqrt, x) }

// Rsqrt returns 1/√x.
func Rsqrt(x *Var) *Var { return unary(tensor.Rsqrt, x) }

// Tanh returns tanh x.
func Tanh(x *Var) *Var { return unary(tensor.Tanh, x) }

// Abs returns |x|. At 0 its gradient is 0, as in PyTorch.
func Abs(x *Var) *Var { return unary(tensor.Abs, x) }

func unary(op tensor.UnaryOp, x *Var) *Var {
	return autograd.Record(unaryOp{op}, be(x).Unary(op, x.Value), x)
}

// Backward (y = out):
//
//	neg:   gx = −g
//	exp:   gx = g·y
//	log:   gx = g/x
//	sqrt:  gx = g·0.5/y
//	rsqrt: gx = −0.5·g·y³
//	tanh:  gx = g·(1 − y²)
//	abs:   gx = g·sign(x)      (sign is a constant)
func (o unaryOp) Backward(in []*Var, y, g *Var, _ []bool) []*Var {
	x := in[0]
	var gx *Var
	switch o.op {
	case tensor.Neg:
		gx = Neg(g)
	case tensor.Exp:
		gx = Mul(g, y)
	case tensor.Log:
		gx = Div(g, x)
	case tensor.Sqrt:
		gx = Div(MulScalar(g, 0.5), y)
	case tensor.Rsqrt:
		gx = MulScalar(Mul(g, Mul(y, Mul(y, y))), -0.5)
	case tensor.Tanh:
		gx = Mul(g, AddScalar(Neg(Mul(y, y)), 1))
	case tensor.Abs:
		gx = Mul(g, Sign(x))
	default:
		panic("unary backward: " + o.op.String())
	}
	return []*Var{gx}
}

// ---- Piecewise-linear activations ----

// Sign returns the sign of x (−1, 0, 1) as a constant: it has no gradient.
func Sign(x *Var) *Var { return autograd.Const(be(x).Unary(tensor.Sign, x.Value)) }

type reluOp struct{}

func (reluOp) Name() string { return "relu" }

// ReLU returns max(x, 0).
func ReLU(x *Var) *Var {
	return autograd.Record(reluOp{}, be(x).Scalar(tensor.Maximum, x.Value, 0), x)
}

// Backward: gx = g·[x > 0], the mask a constant (so ReLU's second
// derivative is zero almost everywhere, and the rule is linear in g).
func (reluOp) Backward(in []*Var, _, g *Var, _ []bool) []*Var {
	return []*Var{Mul(g, GreaterScalar(in[0], 0))}
}

type leakyReLUOp struct{ alpha float64 }

func (o leakyReLUOp) Name() string { return fmt.Sprintf("leaky_relu(%g)", o.alpha) }

// LeakyReLU returns x where x > 0 and alpha·x elsewhere, as
// torch.nn.functional.leaky_relu. It is where(x > 0, x, αx), computed as
// max(x, αx) when 0 ≤ α ≤ 1 (two passes over x instead of three), and
// recorded as one op: composed of Where and MulScalar, the graph would keep
// the mask and αx of every activation of the discriminator, and its
// backward would take four passes instead of two.
func LeakyReLU(x *Var, alpha float64) *Var {
	b := be(x)
	scaled := b.Scalar(tensor.Mul, x.Value, alpha)
	var y *tensor.Tensor
	if alpha >= 0 && alpha <= 1 {
		y = b.Binary(tensor.Maximum, x.Value, scaled)
	} else {
		y = b.Where(b.Scalar(tensor.Greater, x.Value, 0), x.Value, scaled)
	}
	return autograd.Record(leakyReLUOp{alpha}, y, x)
}

// Backward: gx = g·s with the slope s = 1 where x > 0 and α elsewhere, a
// constant, as ReLU's mask (the second derivative is zero almost
// everywhere, and the rule is linear in g).
func (o leakyReLUOp) Backward(in []*Var, _, g *Var, _ []bool) []*Var {
	x := in[0]
	slope := Where(GreaterScalar(x, 0), scalarConst(x, 1), scalarConst(x, o.alpha)) // constant: no operand needs a gradient
	return []*Var{Mul(g, slope)}
}

// ---- Comparisons and selection ----

// Greater returns the constant mask [x > y] (1 or 0, broadcasting).
func Greater(x, y *Var) *Var { return compare(tensor.Greater, x, y) }

// Equal returns the constant mask [x = y] (1 or 0, broadcasting).
func Equal(x, y *Var) *Var { return compare(tensor.Equal, x, y) }

// Less returns the constant mask [x < y] (1 or 0, broadcasting).
func Less(x, y *Var) *Var { return compare(tensor.Less, x, y) }

func compare(op tensor.BinaryOp, x, y *Var) *Var {
	checkBroadcast(op.String(), x, y)
	return autograd.Const(be(x).Binary(op, x.Value, y.Value))
}

// GreaterScalar returns the constant mask [x > c].
func GreaterScalar(x *Var, c float64) *Var {
	return autograd.Const(be(x).Scalar(tensor.Greater, x.Value, c))
}

type whereOp struct{}

func (whereOp) Name() string { return "where" }

// Where returns x where cond ≠ 0 and y elsewhere (broadcasting all three).
// cond is treated as a constant.
func Where(cond, x, y *Var) *Var {
	checkBroadcast("where", cond, x)
	checkBroadcast("where", x, y)
	return autograd.Record(whereOp{}, be(x).Where(cond.Value, x.Value, y.Value), cond, x, y)
}

// Backward: gx = where(cond, g, 0), gy = where(cond, 0, g), each summed back
// to its operand's shape; cond gets none.
func (whereOp) Backward(in []*Var, _, g *Var, needs []bool) []*Var {
	cond, x, y := in[0], in[1], in[2]
	res := make([]*Var, 3)
	zero := scalarConst(g, 0)
	if needs[1] {
		res[1] = SumTo(Where(cond, g, zero), x.Shape())
	}
	if needs[2] {
		res[2] = SumTo(Where(cond, zero, g), y.Shape())
	}
	return res
}

// constFull returns a constant of x's shape, dtype and backend filled with v.
func constFull(x *Var, v float64) *Var {
	return autograd.Const(be(x).Full(x.DType(), x.Shape(), v))
}
