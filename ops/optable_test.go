package ops_test

// The three checks of every op, generated from one table
// (testdata/ops/table.json) that the PyTorch script reads too:
//
//	gradcheck  first order: Jᵀu against central differences (float64)
//	gradgrad   second order: the gradient of Σ⟨w, Jᵀv⟩ w.r.t. x and v
//	golden     forward, VJP and double-backward values against PyTorch
//
// An op added to package ops without a case fails TestOpTableCoversOps,
// one without a row in the derivative table of doc.go fails
// TestDerivativeTableCoversOps, and a case without a Go function or a
// golden file fails TestOps.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/autograd/gradcheck"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

const (
	tablePath = "../testdata/ops/table.json"
	goldenDir = "../testdata/ops/golden"
	// regenerate is the advice given when the golden files are behind.
	regenerate = "run /usr/bin/python3 testdata/gen_ops_golden.py"
)

// opCase is one row of the table.
type opCase struct {
	Name   string      `json:"name"`
	Op     string      `json:"op"` // the name of the function of package ops
	Params opParams    `json:"params"`
	Inputs []inputSpec `json:"inputs"`
	// Nonsmooth, when set, says why the case sits on a kink or a tie; the
	// central-difference checks are skipped for it.
	Nonsmooth string `json:"nonsmooth"`
}

type inputSpec struct {
	Shape  []int  `json:"shape"`
	Domain string `json:"domain"` // how the script draws the values
	Const  bool   `json:"const"`
}

// opParams holds the non-tensor arguments of every op; each op reads the
// fields it needs.
type opParams struct {
	C             float64 `json:"c"`     // AddScalar, MulScalar, PowScalar, GreaterScalar, Full
	Alpha         float64 `json:"alpha"` // LeakyReLU
	Eps           float64 `json:"eps"`   // InstanceNorm2d, BatchNorm2d
	Axes          []int   `json:"axes"`  // reductions
	Shape         []int   `json:"shape"` // Reshape, Expand, SumTo
	Perm          []int   `json:"perm"`
	Start         []int   `json:"start"` // Slice
	End           []int   `json:"end"`
	Axis          int     `json:"axis"` // SliceAxis, Concat, Stack
	From          int     `json:"from"` // SliceAxis
	To            int     `json:"to"`
	Before        []int   `json:"before"` // Pad
	After         []int   `json:"after"`
	Stride        int     `json:"stride"` // convolutions
	Padding       int     `json:"padding"`
	OutputPadding int     `json:"output_padding"`
	Size          []int   `json:"size"` // Conv2dInputGrad: (h, w); Conv2dWeightGrad: (kh, kw)
	Pad           []int   `json:"pad"`  // reflection padding: left, right, top, bottom
}

func (p opParams) conv() tensor.ConvParams {
	return tensor.ConvParams{Stride: p.Stride, Padding: p.Padding}
}

func (p opParams) pad2d() tensor.Pad2d {
	return tensor.Pad2d{Left: p.Pad[0], Right: p.Pad[1], Top: p.Pad[2], Bottom: p.Pad[3]}
}

type Var = autograd.Var

// opt returns in[i], or nil for an optional argument the case left out.
func opt(in []*Var, i int) *Var {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// opFuncs maps each op name of the table to the call of package ops.
var opFuncs = map[string]func(in []*Var, p opParams) *Var{
	"Add":           func(in []*Var, p opParams) *Var { return ops.Add(in[0], in[1]) },
	"Sub":           func(in []*Var, p opParams) *Var { return ops.Sub(in[0], in[1]) },
	"Mul":           func(in []*Var, p opParams) *Var { return ops.Mul(in[0], in[1]) },
	"Div":           func(in []*Var, p opParams) *Var { return ops.Div(in[0], in[1]) },
	"AddScalar":     func(in []*Var, p opParams) *Var { return ops.AddScalar(in[0], p.C) },
	"MulScalar":     func(in []*Var, p opParams) *Var { return ops.MulScalar(in[0], p.C) },
	"PowScalar":     func(in []*Var, p opParams) *Var { return ops.PowScalar(in[0], p.C) },
	"Neg":           func(in []*Var, p opParams) *Var { return ops.Neg(in[0]) },
	"Exp":           func(in []*Var, p opParams) *Var { return ops.Exp(in[0]) },
	"Log":           func(in []*Var, p opParams) *Var { return ops.Log(in[0]) },
	"Sqrt":          func(in []*Var, p opParams) *Var { return ops.Sqrt(in[0]) },
	"Rsqrt":         func(in []*Var, p opParams) *Var { return ops.Rsqrt(in[0]) },
	"Tanh":          func(in []*Var, p opParams) *Var { return ops.Tanh(in[0]) },
	"Abs":           func(in []*Var, p opParams) *Var { return ops.Abs(in[0]) },
	"ReLU":          func(in []*Var, p opParams) *Var { return ops.ReLU(in[0]) },
	"LeakyReLU":     func(in []*Var, p opParams) *Var { return ops.LeakyReLU(in[0], p.Alpha) },
	"Greater":       func(in []*Var, p opParams) *Var { return ops.Greater(in[0], in[1]) },
	"Equal":         func(in []*Var, p opParams) *Var { return ops.Equal(in[0], in[1]) },
	"Less":          func(in []*Var, p opParams) *Var { return ops.Less(in[0], in[1]) },
	"GreaterScalar": func(in []*Var, p opParams) *Var { return ops.GreaterScalar(in[0], p.C) },
	"Sign":          func(in []*Var, p opParams) *Var { return ops.Sign(in[0]) },
	"Full":          func(in []*Var, p opParams) *Var { return ops.Full(in[0], p.C) },
	"Where":         func(in []*Var, p opParams) *Var { return ops.Where(in[0], in[1], in[2]) },
	"Sum":           func(in []*Var, p opParams) *Var { return ops.Sum(in[0], p.Axes...) },
	"Mean":          func(in []*Var, p opParams) *Var { return ops.Mean(in[0], p.Axes...) },
	"Max":           func(in []*Var, p opParams) *Var { return ops.Max(in[0], p.Axes...) },
	"Min":           func(in []*Var, p opParams) *Var { return ops.Min(in[0], p.Axes...) },
	"SumAll":        func(in []*Var, p opParams) *Var { return ops.SumAll(in[0]) },
	"MeanAll":       func(in []*Var, p opParams) *Var { return ops.MeanAll(in[0]) },
	"SumTo":         func(in []*Var, p opParams) *Var { return ops.SumTo(in[0], p.Shape) },
	"Reshape":       func(in []*Var, p opParams) *Var { return ops.Reshape(in[0], p.Shape...) },
	"Expand":        func(in []*Var, p opParams) *Var { return ops.Expand(in[0], p.Shape) },
	"Permute":       func(in []*Var, p opParams) *Var { return ops.Permute(in[0], p.Perm...) },
	"Slice":         func(in []*Var, p opParams) *Var { return ops.Slice(in[0], p.Start, p.End) },
	"SliceAxis":     func(in []*Var, p opParams) *Var { return ops.SliceAxis(in[0], p.Axis, p.From, p.To) },
	"Pad":           func(in []*Var, p opParams) *Var { return ops.Pad(in[0], p.Before, p.After) },
	"Concat":        func(in []*Var, p opParams) *Var { return ops.Concat(p.Axis, in...) },
	"Stack":         func(in []*Var, p opParams) *Var { return ops.Stack(p.Axis, in...) },
	"Conv2d":        func(in []*Var, p opParams) *Var { return ops.Conv2d(in[0], in[1], opt(in, 2), p.conv()) },
	"Conv2dInputGrad": func(in []*Var, p opParams) *Var {
		return ops.Conv2dInputGrad(in[0], in[1], p.conv(), p.Size[0], p.Size[1])
	},
	"Conv2dWeightGrad": func(in []*Var, p opParams) *Var {
		return ops.Conv2dWeightGrad(in[0], in[1], p.conv(), p.Size[0], p.Size[1])
	},
	"ConvTranspose2d": func(in []*Var, p opParams) *Var {
		return ops.ConvTranspose2d(in[0], in[1], opt(in, 2), p.conv(), p.OutputPadding)
	},
	"ReflectionPad2d":        func(in []*Var, p opParams) *Var { return ops.ReflectionPad2d(in[0], p.pad2d()) },
	"ReflectionPad2dAdjoint": func(in []*Var, p opParams) *Var { return ops.ReflectionPad2dAdjoint(in[0], p.pad2d()) },
	"InstanceNorm2d": func(in []*Var, p opParams) *Var {
		return ops.InstanceNorm2d(in[0], opt(in, 1), opt(in, 2), p.Eps)
	},
	"InstanceNormBackward": func(in []*Var, p opParams) *Var { return ops.InstanceNormBackward(in[0], in[1], in[2]) },
	"BatchNorm2d": func(in []*Var, p opParams) *Var {
		return ops.BatchNorm2d(in[0], opt(in, 1), opt(in, 2), p.Eps)
	},
	"BCEWithLogitsLoss": func(in []*Var, p opParams) *Var { return ops.BCEWithLogitsLoss(in[0], in[1]) },
	"MSELoss":           func(in []*Var, p opParams) *Var { return ops.MSELoss(in[0], in[1]) },
	"L1Loss":            func(in []*Var, p opParams) *Var { return ops.L1Loss(in[0], in[1]) },
}

// forwardOnly is the allow-list of functions of package ops that return a
// constant, so there is no derivative to check: only their forward value is
// compared with PyTorch, and the test checks that the result records no
// graph. gen_ops_golden.py keeps the same list.
var forwardOnly = map[string]string{
	"Greater":       "comparison: a 0/1 mask",
	"Equal":         "comparison: a 0/1 mask",
	"Less":          "comparison: a 0/1 mask",
	"GreaterScalar": "comparison: a 0/1 mask",
	"Sign":          "piecewise constant (used as the constant factor of Abs's rule)",
	"Full":          "a constant target shaped like its argument",
}

func loadTable(t *testing.T) []opCase {
	t.Helper()
	b, err := os.ReadFile(tablePath)
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		About []string `json:"about"`
		Cases []opCase `json:"cases"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a misspelt parameter must not pass silently as zero
	if err := dec.Decode(&table); err != nil {
		t.Fatalf("%s: %v", tablePath, err)
	}
	if len(table.Cases) == 0 {
		t.Fatalf("%s: no cases", tablePath)
	}
	return table.Cases
}

// goldenTensor is a tensor as the script writes it.
type goldenTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func (g *goldenTensor) tensor() *tensor.Tensor {
	return tensor.FromFloat64s(append([]float64(nil), g.Data...), g.Shape...)
}

// goldenCase is PyTorch's side of a case. Per-input lists hold null for
// constant inputs; all but Inputs and Output are absent for forward-only ops.
type goldenCase struct {
	Name      string          `json:"name"`
	Op        string          `json:"op"`
	Inputs    []*goldenTensor `json:"inputs"`
	Output    *goldenTensor   `json:"output"`
	U         *goldenTensor   `json:"u"`
	VJP       []*goldenTensor `json:"vjp"`
	W         []*goldenTensor `json:"w"`
	GradGrad  []*goldenTensor `json:"gradgrad"`
	GradGradU *goldenTensor   `json:"gradgrad_u"`
}

// loadGolden reads the golden file of c and checks that it was made from
// the current row of the table.
func loadGolden(t *testing.T, c opCase) *goldenCase {
	t.Helper()
	path := filepath.Join(goldenDir, c.Name+".json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no golden values for case %s (%v): %s", c.Name, err, regenerate)
	}
	var g goldenCase
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	stale := g.Op != c.Op || len(g.Inputs) != len(c.Inputs) || g.Output == nil
	for i := 0; !stale && i < len(c.Inputs); i++ {
		stale = !slices.Equal(g.Inputs[i].Shape, c.Inputs[i].Shape)
	}
	if _, fo := forwardOnly[c.Op]; !stale && !fo {
		stale = g.U == nil || g.GradGradU == nil || len(g.VJP) != len(c.Inputs) || len(g.W) != len(c.Inputs) || len(g.GradGrad) != len(c.Inputs)
		for i := 0; !stale && i < len(c.Inputs); i++ {
			stale = (g.VJP[i] == nil) != c.Inputs[i].Const
		}
	}
	if stale {
		t.Fatalf("%s does not match the table's case (op, input shapes, constants): %s", path, regenerate)
	}
	return &g
}

// loadCase returns case c's function, its golden values, its inputs and
// which of them are constants.
func loadCase(t *testing.T, c opCase) (gradcheck.Func, *goldenCase, []*tensor.Tensor, []bool) {
	t.Helper()
	build, ok := opFuncs[c.Op]
	if !ok {
		t.Fatalf("op %q has no Go function in opFuncs", c.Op)
	}
	g := loadGolden(t, c)
	f := func(in []*Var) *Var { return build(in, c.Params) }
	inputs := make([]*tensor.Tensor, len(g.Inputs))
	consts := make([]bool, len(c.Inputs))
	for i, in := range g.Inputs {
		inputs[i] = in.tensor()
		consts[i] = c.Inputs[i].Const
	}
	return f, g, inputs, consts
}

func TestOps(t *testing.T) {
	for _, c := range loadTable(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			f, g, inputs, consts := loadCase(t, c)

			if _, ok := forwardOnly[c.Op]; ok {
				t.Run("constant", func(t *testing.T) { checkConstant(t, f, inputs) })
				t.Run("golden", func(t *testing.T) {
					checkClose(t, "output", f(makeVars(inputs, consts)).Value, g.Output)
				})
				return
			}
			opts := gradcheck.Options{Constant: consts}
			t.Run("gradcheck", func(t *testing.T) {
				if c.Nonsmooth != "" {
					t.Skip("nonsmooth: " + c.Nonsmooth)
				}
				if err := gradcheck.CheckGrad(f, inputs, opts); err != nil {
					t.Error(err)
				}
			})
			t.Run("gradgrad", func(t *testing.T) {
				if c.Nonsmooth != "" {
					t.Skip("nonsmooth: " + c.Nonsmooth)
				}
				if err := gradcheck.CheckGradGrad(f, inputs, opts); err != nil {
					t.Error(err)
				}
			})
			t.Run("golden", func(t *testing.T) { checkGolden(t, f, inputs, consts, g) })
			t.Run("records", func(t *testing.T) { checkRecords(t, f, inputs, consts) })
		})
	}
}

// checkRecords checks the engine's contract for the op's rules: without
// createGraph, a gradient — of first order, and of second order through
// the recorded first — is a constant; nothing in a rule may reach for a
// live variable other than its operands. With createGraph, the gradient
// of a differentiable input is recorded.
func checkRecords(t *testing.T, f func([]*Var) *Var, inputs []*tensor.Tensor, consts []bool) {
	xs := makeVars(inputs, consts)
	y := f(xs)
	u := autograd.Param(tensor.Full(tensor.Float64, 0.5, y.Shape()...))
	for i, gx := range autograd.Grad([]*Var{y}, xs, []*Var{u}, false) {
		if gx != nil && gx.RequiresGrad() {
			t.Errorf("first order without createGraph: the gradient of input %d records a graph", i)
		}
	}
	gs := autograd.Grad([]*Var{y}, xs, []*Var{u}, true)
	var phi *Var
	for i, gx := range gs {
		if gx == nil {
			continue
		}
		if !gx.RequiresGrad() {
			t.Errorf("with createGraph the gradient of input %d is a constant", i)
			continue
		}
		term := ops.SumAll(ops.Mul(gx, gx))
		if phi == nil {
			phi = term
		} else {
			phi = ops.Add(phi, term)
		}
	}
	if phi == nil {
		return
	}
	for i, gg := range autograd.Grad([]*Var{phi}, append(xs, u), nil, false) {
		if gg != nil && gg.RequiresGrad() {
			t.Errorf("second order without createGraph: the gradient of input %d records a graph", i)
		}
	}
}

// makeVars wraps the inputs: Params, or Consts where consts says so.
func makeVars(inputs []*tensor.Tensor, consts []bool) []*Var {
	vs := make([]*Var, len(inputs))
	for i, x := range inputs {
		if consts[i] {
			vs[i] = autograd.Const(x)
		} else {
			vs[i] = autograd.Param(x)
		}
	}
	return vs
}

// checkConstant checks that a forward-only op records nothing even when
// its inputs require gradients.
func checkConstant(t *testing.T, f gradcheck.Func, inputs []*tensor.Tensor) {
	xs := makeVars(inputs, make([]bool, len(inputs)))
	y := f(xs)
	if y.RequiresGrad() || !y.IsLeaf() {
		t.Fatalf("result %v requires a gradient; a forward-only op must return a constant", y)
	}
	for i, g := range autograd.Grad([]*Var{y}, xs, nil, false) {
		if g != nil {
			t.Errorf("input %d got a gradient through a constant", i)
		}
	}
}

// checkGolden runs the op as PyTorch did (opValues on the CPU in float64)
// and compares every value with PyTorch's.
func checkGolden(t *testing.T, f gradcheck.Func, inputs []*tensor.Tensor, consts []bool, g *goldenCase) {
	for _, v := range opValues(f, inputs, consts, g, tensor.CPU, tensor.Float64) {
		checkClose(t, v.what, v.got, v.golden)
	}
}

// opValue is one value of a case as opValues computes it, on the host in
// float64, with PyTorch's counterpart.
type opValue struct {
	what   string
	got    *tensor.Tensor
	golden *goldenTensor
}

// opValues runs the op as PyTorch did, on backend be in dtype dt (the
// inputs, u and w moved and cast there): the output, the VJP with the
// golden u (with createGraph), and the gradient of Σ⟨w, VJP⟩ with respect
// to the inputs and u. A forward-only op (g without u) gives its output
// only.
func opValues(f gradcheck.Func, inputs []*tensor.Tensor, consts []bool, g *goldenCase, be tensor.Backend, dt tensor.DType) []opValue {
	on := func(x *tensor.Tensor) *tensor.Tensor { return be.Cast(x.To(be), dt) }
	host := func(x *tensor.Tensor) *tensor.Tensor { return tensor.FromFloat64s(x.Values(), x.Shape()...) }
	dev := make([]*tensor.Tensor, len(inputs))
	for i, x := range inputs {
		dev[i] = on(x)
	}
	xs := makeVars(dev, consts)
	y := f(xs)
	out := []opValue{{"output", host(y.Value), g.Output}}
	if g.U == nil {
		return out
	}

	var diff []*Var
	var idx []int
	for i, x := range xs {
		if !consts[i] {
			diff, idx = append(diff, x), append(idx, i)
		}
	}
	u := autograd.Param(on(g.U.tensor()))
	vjp := autograd.Grad([]*Var{y}, diff, []*Var{u}, true)
	var gs, ws []*Var
	for k, i := range idx {
		out = append(out, opValue{fmt.Sprintf("vjp of input %d", i), host(valueOrZeros(vjp[k], inputs[i])), g.VJP[i]})
		if vjp[k] != nil {
			gs, ws = append(gs, vjp[k]), append(ws, autograd.Const(on(g.W[i].tensor())))
		}
	}
	gg := make([]*Var, len(diff)+1)
	if len(gs) > 0 {
		gg = autograd.Grad(gs, append(diff, u), ws, false)
	}
	for k, i := range idx {
		out = append(out, opValue{fmt.Sprintf("double backward, input %d", i), host(valueOrZeros(gg[k], inputs[i])), g.GradGrad[i]})
	}
	return append(out, opValue{"double backward, output gradient u", host(valueOrZeros(gg[len(diff)], g.U.tensor())), g.GradGradU})
}

// valueOrZeros returns v's value, or zeros shaped like like where v is nil
// (autograd's "no dependence").
func valueOrZeros(v *Var, like *tensor.Tensor) *tensor.Tensor {
	if v == nil {
		return tensor.New(tensor.Float64, like.Shape()...)
	}
	return v.Value
}

// Golden comparisons are float64 against float64: only the order of
// summation may differ.
const goldenRtol, goldenAtol = 1e-9, 1e-12

// checkClose reports the first few elements of got that differ from
// PyTorch's want by more than goldenRtol·|want| + goldenAtol·max(1, max|want|).
func checkClose(t *testing.T, what string, got *tensor.Tensor, want *goldenTensor) {
	t.Helper()
	checkCloseTo(t, what, got, want.tensor(), "PyTorch")
}

// checkCloseTo is checkClose against the float64 tensor want, computed by
// ref.
func checkCloseTo(t *testing.T, what string, got, want *tensor.Tensor, ref string) {
	t.Helper()
	checkWithin(t, what, got, want, ref, goldenRtol, goldenAtol)
}

// checkWithin is checkCloseTo with the tolerances rtol and atol.
func checkWithin(t *testing.T, what string, got, want *tensor.Tensor, ref string, rtol, atol float64) {
	t.Helper()
	if !got.Shape().Equal(want.Shape()) {
		t.Errorf("%s: shape %v, %s %v", what, got.Shape(), ref, want.Shape())
		return
	}
	wv := want.Values()
	scale := scaleOf(wv)
	bad := 0
	for i, a := range got.Values() {
		w := wv[i]
		if !(math.Abs(a-w) <= rtol*math.Abs(w)+atol*scale) {
			if bad < 5 {
				t.Errorf("%s: element %d is %.17g, %s %.17g", what, i, a, ref, w)
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d elements differ in all", what, bad)
	}
}

// scaleOf is max(1, max|v|), the scale of the absolute tolerances.
func scaleOf(v []float64) float64 {
	scale := 1.0
	for _, w := range v {
		scale = max(scale, math.Abs(w))
	}
	return scale
}

// TestGoldenFilesHaveCases fails on golden files left behind by a case that
// left the table.
func TestGoldenFilesHaveCases(t *testing.T) {
	names := make(map[string]bool)
	for _, c := range loadTable(t) {
		if names[c.Name] {
			t.Errorf("case name %s appears twice", c.Name)
		}
		names[c.Name] = true
	}
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if n := strings.TrimSuffix(filepath.Base(f), ".json"); !names[n] {
			t.Errorf("%s has no case in the table: %s", f, regenerate)
		}
	}
}

// exportedOps parses package ops (not its tests) and returns the exported
// functions that return a *Var: every differentiable operation, and the
// constant helpers.
func exportedOps(t *testing.T) []string {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !fn.Name.IsExported() || fn.Type.Results == nil {
				continue
			}
			for _, r := range fn.Type.Results.List {
				if returnsVar(r.Type) {
					names = append(names, fn.Name.Name)
					break
				}
			}
		}
	}
	slices.Sort(names)
	return names
}

// returnsVar reports whether e is *Var or *autograd.Var.
func returnsVar(e ast.Expr) bool {
	star, ok := e.(*ast.StarExpr)
	if !ok {
		return false
	}
	switch x := star.X.(type) {
	case *ast.Ident:
		return x.Name == "Var"
	case *ast.SelectorExpr:
		return x.Sel.Name == "Var"
	}
	return false
}

// TestOpTableCoversOps ties the table to package ops: every exported
// function returning *Var has a Go call in opFuncs and at least one case;
// every differentiable one has a case smooth enough for the
// central-difference checks; nothing else is in the table.
func TestOpTableCoversOps(t *testing.T) {
	exported := exportedOps(t)
	if len(exported) < 40 {
		t.Fatalf("found only %d exported ops (%v): is the parser looking at package ops?", len(exported), exported)
	}
	smooth := make(map[string]bool)
	used := make(map[string]bool)
	for _, c := range loadTable(t) {
		used[c.Op] = true
		if c.Nonsmooth == "" {
			smooth[c.Op] = true
		}
	}
	isOp := make(map[string]bool)
	for _, name := range exported {
		isOp[name] = true
		if _, ok := opFuncs[name]; !ok {
			t.Errorf("ops.%s has no entry in opFuncs", name)
		}
		if !used[name] {
			t.Errorf("ops.%s is used by no case of %s", name, tablePath)
			continue
		}
		if _, fo := forwardOnly[name]; !fo && !smooth[name] {
			t.Errorf("ops.%s has only nonsmooth cases: the central-difference checks never run on it", name)
		}
	}
	for name := range opFuncs {
		if !isOp[name] {
			t.Errorf("opFuncs has %q, which is not an exported function of package ops returning *Var", name)
		}
	}
	for name := range forwardOnly {
		if !isOp[name] {
			t.Errorf("forwardOnly lists %q, which is not an exported function of package ops returning *Var", name)
		}
	}
}

// TestDerivativeTableCoversOps ties the derivative table of the package
// document (doc.go) to package ops: every exported function returning *Var
// has a row there, a code line that starts with its call.
func TestDerivativeTableCoversOps(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	if f.Doc == nil {
		t.Fatal("doc.go has no package document")
	}
	rows := make(map[string]bool)
	for _, line := range strings.Split(f.Doc.Text(), "\n") {
		if name, _, ok := strings.Cut(line, "("); ok && strings.HasPrefix(name, "\t") {
			rows[strings.TrimPrefix(name, "\t")] = true
		}
	}
	for _, name := range exportedOps(t) {
		if !rows[name] {
			t.Errorf("ops.%s has no row in the derivative table of doc.go", name)
		}
	}
}
