package gradcheck_test

import (
	"strings"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/autograd/gradcheck"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

func randn(seed uint64, shape ...int) *tensor.Tensor {
	return tensor.RandNormal(tensor.NewRand(seed), tensor.Float64, 0, 1, shape...)
}

// A composite of correct ops passes both checks, also with broadcasting and
// with several inputs.
func TestCorrectOpsPass(t *testing.T) {
	f := func(in []*autograd.Var) *autograd.Var {
		return ops.Mul(ops.Tanh(in[0]), ops.Exp(ops.Div(in[1], ops.AddScalar(ops.Mul(in[0], in[0]), 1))))
	}
	in := []*tensor.Tensor{randn(1, 2, 3), randn(2, 3)}
	if err := gradcheck.CheckGrad(f, in, gradcheck.Options{}); err != nil {
		t.Error(err)
	}
	if err := gradcheck.CheckGradGrad(f, in, gradcheck.Options{}); err != nil {
		t.Error(err)
	}
}

// squareOp is x² with a backward rule chosen by the test.
type squareOp struct {
	name     string
	backward func(x, g *autograd.Var) *autograd.Var
}

func (o squareOp) Name() string { return o.name }
func (o squareOp) Backward(in []*autograd.Var, _, g *autograd.Var, _ []bool) []*autograd.Var {
	return []*autograd.Var{o.backward(in[0], g)}
}

func square(o squareOp) gradcheck.Func {
	return func(in []*autograd.Var) *autograd.Var {
		x := in[0].Value
		return autograd.Record(o, x.Backend().Binary(tensor.Mul, x, x), in[0])
	}
}

// A wrong first derivative is reported with the input, the element, and
// both values.
func TestWrongGradientIsReported(t *testing.T) {
	half := squareOp{"half_square", func(x, g *autograd.Var) *autograd.Var { return ops.Mul(g, x) }} // should be 2·g·x
	err := gradcheck.CheckGrad(square(half), []*tensor.Tensor{randn(3, 2, 2)}, gradcheck.Options{})
	if err == nil {
		t.Fatal("CheckGrad accepted gx = g·x for x²")
	}
	for _, want := range []string{"input 0 (2, 2)", "element [0 0]", "analytic", "numeric", "4 elements differ"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

// A rule that is right to first order but computed on raw tensors (so the
// engine cannot differentiate it again) passes CheckGrad and fails
// CheckGradGrad: the second derivative of x² is 2, and this rule's is 0.
func TestRawTensorRuleFailsSecondOrder(t *testing.T) {
	raw := squareOp{"raw_square", func(x, g *autograd.Var) *autograd.Var {
		b := x.Value.Backend()
		return autograd.Const(b.Scalar(tensor.Mul, b.Binary(tensor.Mul, g.Value, x.Value), 2))
	}}
	right := squareOp{"square", func(x, g *autograd.Var) *autograd.Var { return ops.MulScalar(ops.Mul(g, x), 2) }}
	in := []*tensor.Tensor{randn(4, 3)}
	if err := gradcheck.CheckGrad(square(raw), in, gradcheck.Options{}); err != nil {
		t.Errorf("first order of the raw rule: %v", err)
	}
	err := gradcheck.CheckGradGrad(square(raw), in, gradcheck.Options{})
	if err == nil {
		t.Fatal("CheckGradGrad accepted a backward rule computed on raw tensors")
	}
	if !strings.Contains(err.Error(), "input 0") || !strings.Contains(err.Error(), "v (the output gradient)") {
		t.Errorf("error should name both x and v:\n%v", err)
	}
	if err := gradcheck.CheckGradGrad(square(right), in, gradcheck.Options{}); err != nil {
		t.Errorf("the differentiable rule: %v", err)
	}
}

// Constant inputs reach f as constants, are never perturbed, and are not
// checked: a 0/1 mask would otherwise be nudged off its values.
func TestConstantInputs(t *testing.T) {
	mask := tensor.FromFloat64s([]float64{1, 0, 0, 1, 1, 0}, 2, 3)
	orig := mask.Values()
	calls := 0
	f := func(in []*autograd.Var) *autograd.Var {
		calls++
		if in[0].RequiresGrad() {
			t.Fatal("the constant input arrived as a Param")
		}
		for i, v := range in[0].Value.Values() {
			if v != orig[i] {
				t.Fatalf("the constant input was perturbed: element %d is %v", i, v)
			}
		}
		return ops.Where(in[0], ops.Tanh(in[1]), ops.Exp(in[1]))
	}
	in := []*tensor.Tensor{mask, randn(5, 2, 3)}
	opts := gradcheck.Options{Constant: []bool{true}}
	if err := gradcheck.CheckGrad(f, in, opts); err != nil {
		t.Error(err)
	}
	if err := gradcheck.CheckGradGrad(f, in, opts); err != nil {
		t.Error(err)
	}
	// 1 analytic + 2 per element of the 6-element input; then 1 + 2 per
	// element of the input and of v (6 + 6).
	if want := (1 + 2*6) + (1 + 2*12); calls != want {
		t.Errorf("f was called %d times, want %d", calls, want)
	}
}

// An input that does not influence the output has a zero gradient (autograd
// returns nil for it), and the checks accept that.
func TestUnusedInput(t *testing.T) {
	f := func(in []*autograd.Var) *autograd.Var { return ops.Exp(in[0]) }
	in := []*tensor.Tensor{randn(6, 4), randn(7, 3)}
	if err := gradcheck.CheckGrad(f, in, gradcheck.Options{}); err != nil {
		t.Error(err)
	}
	if err := gradcheck.CheckGradGrad(f, in, gradcheck.Options{}); err != nil {
		t.Error(err)
	}
}

func TestFloat32IsRefused(t *testing.T) {
	f := func(in []*autograd.Var) *autograd.Var { return in[0] }
	err := gradcheck.CheckGrad(f, []*tensor.Tensor{tensor.New(tensor.Float64, 2), tensor.New(tensor.Float32, 2)}, gradcheck.Options{})
	if err == nil || !strings.Contains(err.Error(), "input 1 is float32") {
		t.Errorf("got %v, want an error naming input 1 and float32", err)
	}
}
