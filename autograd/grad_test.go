package autograd_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

type Var = autograd.Var

func vec(v ...float64) *tensor.Tensor { return tensor.FromFloat64s(v, len(v)) }

func param(v ...float64) *Var { return autograd.Param(vec(v...)) }

// near fails unless got holds want, elementwise, to 1e-12.
func near(t *testing.T, what string, got *tensor.Tensor, want ...float64) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil, want %v", what, want)
	}
	g := got.Values()
	if len(g) != len(want) {
		t.Fatalf("%s: %d values %v, want %v", what, len(g), g, want)
	}
	for i := range g {
		if math.Abs(g[i]-want[i]) > 1e-12*max(1, math.Abs(want[i])) {
			t.Fatalf("%s: %v, want %v", what, g, want)
		}
	}
}

// mustPanic runs f and returns its panic message, failing if it does not
// panic.
func mustPanic(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic")
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

// loss is L(a, b) = Σ a·b + Σ exp(a)·tanh(b), so ∂L/∂a = b + exp(a)·tanh(b)
// and ∂L/∂b = a + exp(a)·(1 − tanh²b).
func loss(a, b *Var) *Var {
	return ops.SumAll(ops.Add(ops.Mul(a, b), ops.Mul(ops.Exp(a), ops.Tanh(b))))
}

func lossGrads(a, b []float64) (ga, gb []float64) {
	for i := range a {
		ga = append(ga, b[i]+math.Exp(a[i])*math.Tanh(b[i]))
		th := math.Tanh(b[i])
		gb = append(gb, a[i]+math.Exp(a[i])*(1-th*th))
	}
	return ga, gb
}

func TestGradAndBackwardAgree(t *testing.T) {
	av, bv := []float64{0.5, -1, 2}, []float64{1.5, 0.25, -0.75}
	wantA, wantB := lossGrads(av, bv)

	a, b := param(av...), param(bv...)
	g := autograd.Grad([]*Var{loss(a, b)}, []*Var{a, b}, nil, false)
	near(t, "Grad a", g[0].Value, wantA...)
	near(t, "Grad b", g[1].Value, wantB...)
	if a.Grad != nil || b.Grad != nil {
		t.Error("Grad filled Var.Grad of leaves")
	}

	autograd.Backward(loss(a, b))
	near(t, "Backward a", a.Grad, wantA...)
	near(t, "Backward b", b.Grad, wantB...)

	// A second Backward adds to Grad, as loss.backward() does; ZeroGrad
	// clears it.
	autograd.Backward(loss(a, b))
	near(t, "Backward twice", a.Grad, 2*wantA[0], 2*wantA[1], 2*wantA[2])
	autograd.ZeroGrad([]*Var{a, b})
	if a.Grad != nil || b.Grad != nil {
		t.Error("ZeroGrad left a gradient")
	}
}

// Without createGraph the gradients are constants; with it they are
// variables that remember how they were computed.
func TestCreateGraph(t *testing.T) {
	x := param(1, 2, 3)
	y := ops.SumAll(ops.Mul(x, ops.Mul(x, x)))
	g := autograd.Grad([]*Var{y}, []*Var{x}, nil, false)[0]
	if g.RequiresGrad() || !g.IsLeaf() {
		t.Errorf("createGraph=false gave %v, want a constant", g)
	}
	gg := autograd.Grad([]*Var{y}, []*Var{x}, nil, true)[0]
	if !gg.RequiresGrad() || gg.IsLeaf() {
		t.Errorf("createGraph=true gave %v, want a recorded variable", gg)
	}
	near(t, "3x²", g.Value, 3, 12, 27)
	near(t, "3x² with graph", gg.Value, 3, 12, 27)
}

// Derivatives of any order: x³ → 3x² → 6x → 6 → 0.
func TestThirdOrder(t *testing.T) {
	x := param(-1, 0.5, 2)
	y := ops.SumAll(ops.PowScalar(x, 3))
	d1 := autograd.Grad([]*Var{y}, []*Var{x}, nil, true)[0]
	near(t, "d/dx x³", d1.Value, 3, 0.75, 12)
	d2 := autograd.Grad([]*Var{ops.SumAll(d1)}, []*Var{x}, nil, true)[0]
	near(t, "d²/dx² x³", d2.Value, -6, 3, 12)
	d3 := autograd.Grad([]*Var{ops.SumAll(d2)}, []*Var{x}, nil, true)[0]
	near(t, "d³/dx³ x³", d3.Value, 6, 6, 6)
	// PowScalar's rule p·g·xᵖ⁻¹ still mentions x at p = 0, so the fourth
	// derivative is a zero tensor rather than nil ("no dependence").
	if d4 := autograd.Grad([]*Var{ops.SumAll(d3)}, []*Var{x}, nil, false)[0]; d4 != nil {
		near(t, "d⁴/dx⁴ x³", d4.Value, 0, 0, 0)
	}
}

// The gradient of Σ gys[i]·ys[i]: explicit output gradients weight the
// outputs, several outputs add up, and nil stands for ones.
func TestOutputGradients(t *testing.T) {
	x := param(1, 2)
	y1 := ops.Mul(x, x)       // 2x
	y2 := ops.MulScalar(x, 3) // 3
	g := autograd.Grad([]*Var{y1, y2}, []*Var{x}, []*Var{autograd.Const(vec(10, 100)), nil}, false)[0]
	near(t, "10·2x + 3, 100·2x + 3", g.Value, 23, 403)

	msg := mustPanic(t, func() {
		autograd.Grad([]*Var{y1}, []*Var{x}, []*Var{autograd.Const(vec(1, 2, 3))}, false)
	})
	if !strings.Contains(msg, "(2)") || !strings.Contains(msg, "(3)") {
		t.Errorf("panic %q should name both shapes", msg)
	}
}

// A variable used by several consumers gets the sum of their gradients,
// also through a diamond: h = x², y = h + h² + h·x.
func TestAccumulation(t *testing.T) {
	x := param(0.5, -2)
	h := ops.Mul(x, x)
	y := ops.SumAll(ops.Add(ops.Add(h, ops.Mul(h, h)), ops.Mul(h, x)))
	// dy/dx = 2x + 4x³ + 3x²
	g := autograd.Grad([]*Var{y}, []*Var{x}, nil, true)[0]
	f := func(x float64) float64 { return 2*x + 4*x*x*x + 3*x*x }
	near(t, "diamond", g.Value, f(0.5), f(-2))
	// and the accumulated gradient is itself differentiable: 2 + 12x² + 6x
	gg := autograd.Grad([]*Var{ops.SumAll(g)}, []*Var{x}, nil, false)[0]
	near(t, "diamond, second order", gg.Value, 2+12*0.25+3, 2+12*4-12)
}

func TestUnreachableInputsGiveNil(t *testing.T) {
	x, unused := param(1, 2), param(3)
	c := autograd.Const(vec(5, 6))
	y := ops.SumAll(ops.Mul(x, c))
	g := autograd.Grad([]*Var{y}, []*Var{x, unused, c}, nil, false)
	near(t, "x", g[0].Value, 5, 6)
	if g[1] != nil || g[2] != nil {
		t.Errorf("an unused input and a constant got gradients %v, %v", g[1], g[2])
	}
}

// Grad with respect to an intermediate variable (what GradCAM asks of a
// layer's output).
func TestGradOfIntermediate(t *testing.T) {
	x := param(1, -2, 3)
	a := ops.MulScalar(x, 2)
	s := ops.SumAll(ops.Mul(a, a))
	g := autograd.Grad([]*Var{s}, []*Var{a}, nil, false)[0]
	near(t, "ds/da = 2a", g.Value, 4, -8, 12)
}

func TestRetainGrad(t *testing.T) {
	x := param(1, 2)
	h := ops.Exp(x)
	k := ops.MulScalar(x, 3)
	h.RetainGrad()
	autograd.Backward(ops.SumAll(ops.Mul(h, h)))
	near(t, "retained dL/dh = 2h", h.Grad, 2*math.E, 2*math.Exp(2))
	if k.Grad != nil {
		t.Error("an intermediate without RetainGrad got a Grad")
	}
	near(t, "leaf", x.Grad, 2*math.Exp(2), 2*math.Exp(4))
}

func TestHooks(t *testing.T) {
	x := param(1, 2)
	h := ops.MulScalar(x, 3)
	var seen []float64
	h.RegisterHook(func(g *Var) *Var { seen = g.Value.Values(); return nil }) // read
	h.RegisterHook(func(g *Var) *Var { return ops.MulScalar(g, 10) })         // replace
	var after []float64
	h.RegisterHook(func(g *Var) *Var { after = g.Value.Values(); return nil }) // sees the replacement
	y := ops.SumAll(ops.Mul(h, h))                                             // dy/dh = 2h = 6x
	g := autograd.Grad([]*Var{y}, []*Var{x}, nil, false)[0]
	near(t, "hook saw dy/dh", vec(seen...), 6, 12)
	near(t, "later hook saw the replacement", vec(after...), 60, 120)
	near(t, "replacement flowed back to x", g.Value, 180, 360)

	bad := param(1, 2)
	bad.RegisterHook(func(g *Var) *Var { return autograd.Const(vec(1)) })
	msg := mustPanic(t, func() { autograd.Backward(ops.SumAll(ops.MulScalar(bad, 2))) })
	if !strings.Contains(msg, "hook") || !strings.Contains(msg, "(1)") {
		t.Errorf("panic %q should say a hook returned the wrong shape", msg)
	}
}

// Freezing parameters: no graph is recorded through them and no gradient
// reaches them, and the restore function undoes it.
func TestSetRequiresGrad(t *testing.T) {
	w, x := param(2, 3), param(1, 1)
	restore := autograd.SetRequiresGrad([]*Var{w}, false)
	y := ops.Mul(w, ops.Exp(w))
	if y.RequiresGrad() || !y.IsLeaf() {
		t.Errorf("computing on frozen parameters recorded %v", y)
	}
	z := ops.SumAll(ops.Mul(w, x))
	autograd.Backward(z)
	if w.Grad != nil {
		t.Error("a frozen parameter got a gradient")
	}
	near(t, "the other input still gets one", x.Grad, 2, 3)
	if g := autograd.Grad([]*Var{z}, []*Var{w}, nil, false)[0]; g != nil {
		t.Errorf("Grad reached a frozen parameter: %v", g.Value)
	}
	restore()
	if !w.RequiresGrad() {
		t.Fatal("restore did not unfreeze")
	}
	near(t, "after restore", autograd.Grad([]*Var{ops.SumAll(ops.Mul(w, x))}, []*Var{w}, nil, false)[0].Value, 1, 1)

	msg := mustPanic(t, func() { z.SetRequiresGrad(false) })
	if !strings.Contains(msg, "only leaves") {
		t.Errorf("panic %q", msg)
	}
}

// Detach cuts the graph: z = detach(x²)·x has dz/dx = x², not 3x².
func TestDetach(t *testing.T) {
	x := param(2, 3)
	sq := ops.Mul(x, x)
	d := sq.Detach()
	if d.RequiresGrad() || !d.IsLeaf() || d.Value != sq.Value {
		t.Errorf("Detach gave %v, want a constant sharing the value", d)
	}
	g := autograd.Grad([]*Var{ops.SumAll(ops.Mul(d, x))}, []*Var{x}, nil, false)[0]
	near(t, "dz/dx", g.Value, 4, 9)
}

// Record keeps a graph only when an input needs a gradient.
func TestRecordOnlyWhenNeeded(t *testing.T) {
	c := autograd.Const(vec(1, 2))
	y := ops.Exp(c)
	if y.RequiresGrad() || y.Op() != nil || y.Inputs() != nil {
		t.Errorf("an op on constants kept a graph: %v", y)
	}
	p := param(1, 2)
	z := ops.Add(c, p)
	if !z.RequiresGrad() || z.Op() == nil || len(z.Inputs()) != 2 {
		t.Errorf("an op on a parameter kept no graph: %v", z)
	}
	if s := z.SetName("z").String(); !strings.Contains(s, "z = add") || !strings.Contains(s, "requires_grad=true") {
		t.Errorf("String() = %q", s)
	}
}

// badOp's backward returns a gradient of the wrong shape.
type badOp struct{}

func (badOp) Name() string { return "bad_op" }
func (badOp) Backward(in []*Var, _, g *Var, _ []bool) []*Var {
	return []*Var{autograd.Const(vec(1, 2, 3))}
}

func TestBackwardRuleShapeIsChecked(t *testing.T) {
	x := param(1, 2)
	y := autograd.Record(badOp{}, x.Value, x)
	msg := mustPanic(t, func() { autograd.Backward(y) })
	if !strings.Contains(msg, "bad_op") || !strings.Contains(msg, "(3)") || !strings.Contains(msg, "(2)") {
		t.Errorf("panic %q should name the op and both shapes", msg)
	}
}
