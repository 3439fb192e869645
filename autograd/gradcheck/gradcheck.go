package gradcheck

import (
	"fmt"
	"math"
	"strings"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/tensor"
)

// Func is the function under test: it receives one variable per input (a
// Param, or a Const for inputs marked constant) and returns one output.
type Func func(in []*autograd.Var) *autograd.Var

// Options tune a check. The zero value gives the defaults.
type Options struct {
	// Eps is the step h of the central differences. Default 1e-6.
	Eps float64
	// Atol and Rtol bound the mismatch: an analytic value a passes against
	// the numeric value n when |a − n| ≤ Atol + Rtol·|n|. Defaults 1e-5 and
	// 1e-4.
	Atol, Rtol float64
	// Seed seeds the random projections (u, v, w). Zero is a valid seed.
	Seed uint64
	// Constant[i] marks input i as a constant: it is given to f as
	// autograd.Const and is neither perturbed nor checked. It may be shorter
	// than the inputs (missing entries are false).
	Constant []bool
	// MaxReported is how many mismatching elements the error lists.
	// Default 5.
	MaxReported int
}

func (o Options) withDefaults() Options {
	if o.Eps == 0 {
		o.Eps = 1e-6
	}
	if o.Atol == 0 {
		o.Atol = 1e-5
	}
	if o.Rtol == 0 {
		o.Rtol = 1e-4
	}
	if o.MaxReported == 0 {
		o.MaxReported = 5
	}
	return o
}

// point is the state of one check: the input values and which of them are
// constants.
type point struct {
	opts     Options
	values   [][]float64 // the elements of each input (float64, row-major)
	shapes   []tensor.Shape
	constant []bool
	names    []string // for error messages: "input 0", …
}

func newPoint(inputs []*tensor.Tensor, opts Options) (*point, error) {
	p := &point{opts: opts.withDefaults()}
	for i, t := range inputs {
		if t == nil {
			return nil, fmt.Errorf("gradcheck: input %d is nil", i)
		}
		if t.DType() != tensor.Float64 {
			return nil, fmt.Errorf("gradcheck: input %d is %s; central differences need float64", i, t.DType())
		}
		p.values = append(p.values, t.Values())
		p.shapes = append(p.shapes, t.Shape().Clone())
		p.constant = append(p.constant, i < len(opts.Constant) && opts.Constant[i])
		p.names = append(p.names, fmt.Sprintf("input %d", i))
	}
	return p, nil
}

// vars returns fresh variables holding copies of the current values (so
// that perturbing the values later cannot reach a tensor f has kept):
// Params for the inputs that vary, Consts for the constants. With
// allConst, every input is a Const.
func (p *point) vars(allConst bool) []*autograd.Var {
	vs := make([]*autograd.Var, len(p.values))
	for i, v := range p.values {
		t := tensor.FromFloat64s(append([]float64(nil), v...), p.shapes[i]...)
		if allConst || p.constant[i] {
			vs[i] = autograd.Const(t)
		} else {
			vs[i] = autograd.Param(t)
		}
	}
	return vs
}

// varying lists the indices of the inputs that are not constant.
func (p *point) varying() []int {
	var idx []int
	for i := range p.values {
		if !p.constant[i] {
			idx = append(idx, i)
		}
	}
	return idx
}

// CheckGrad compares the vector-Jacobian product Jᵀu that autograd computes
// for f at inputs with central differences of ⟨u, f(x)⟩, for a random u.
// It returns nil when every element of every non-constant input agrees, and
// otherwise an error naming the input, the elements, and the analytic and
// numeric values.
func CheckGrad(f Func, inputs []*tensor.Tensor, opts Options) error {
	p, err := newPoint(inputs, opts)
	if err != nil {
		return err
	}
	vs := p.vars(false)
	y := f(vs)
	rng := tensor.NewRand(p.opts.Seed)
	u := tensor.RandNormal(rng, tensor.Float64, 0, 1, y.Shape()...)
	uv := u.Values()

	idx := p.varying()
	xs := pick(vs, idx)
	analytic := autograd.Grad([]*autograd.Var{y}, xs, []*autograd.Var{autograd.Const(u)}, false)

	// ⟨u, f(x)⟩, evaluated without recording a graph.
	objective := func() float64 { return dot(uv, f(p.vars(true)).Value.Values()) }
	return p.compare("gradient of ⟨u, f⟩", idx, analytic, objective)
}

// CheckGradGrad checks the derivatives of the backward pass itself. With
// random v shaped like f's output and w_k shaped like each input, it
// compares the gradient of φ(x, v) = Σ_k ⟨w_k, (J(x)ᵀv)_k⟩ that autograd
// computes (differentiating the createGraph result of autograd.Grad) with
// central differences of φ, with respect to every element of every
// non-constant input and of v.
func CheckGradGrad(f Func, inputs []*tensor.Tensor, opts Options) error {
	p, err := newPoint(inputs, opts)
	if err != nil {
		return err
	}
	idx := p.varying()
	vs := p.vars(false)
	y := f(vs)
	rng := tensor.NewRand(p.opts.Seed)
	v := tensor.RandNormal(rng, tensor.Float64, 0, 1, y.Shape()...)
	ws := make([]*tensor.Tensor, len(idx))
	wvals := make([][]float64, len(idx))
	for k, i := range idx {
		ws[k] = tensor.RandNormal(rng, tensor.Float64, 0, 1, p.shapes[i]...)
		wvals[k] = ws[k].Values()
	}

	// The analytic side: g = Jᵀv as a graph, then ∇φ = the VJP of g with
	// cotangents w, taken with respect to x and v.
	vv := autograd.Param(v)
	xs := pick(vs, idx)
	g := autograd.Grad([]*autograd.Var{y}, xs, []*autograd.Var{vv}, true)
	var gs, gws []*autograd.Var
	for k, gk := range g {
		if gk != nil {
			gs = append(gs, gk)
			gws = append(gws, autograd.Const(ws[k]))
		}
	}
	analytic := make([]*autograd.Var, len(idx)+1)
	if len(gs) > 0 {
		analytic = autograd.Grad(gs, append(xs, vv), gws, false)
	}

	// The numeric side: φ from a first-order Grad without a graph. v is
	// perturbed as one more "input", after the real ones.
	vIndex := len(p.values)
	p.values = append(p.values, v.Values())
	p.shapes = append(p.shapes, y.Shape().Clone())
	p.constant = append(p.constant, true) // v is not an argument of f
	p.names = append(p.names, "v (the output gradient)")
	phi := func() float64 {
		in := p.vars(false)
		ys := []*autograd.Var{f(in[:vIndex])}
		g := autograd.Grad(ys, pick(in, idx), []*autograd.Var{in[vIndex]}, false)
		s := 0.0
		for k, gk := range g {
			if gk != nil {
				s += dot(wvals[k], gk.Value.Values())
			}
		}
		return s
	}
	return p.compare("gradient of φ = Σ⟨w, Jᵀv⟩", append(idx, vIndex), analytic, phi)
}

// compare checks analytic[k] (the gradient with respect to input idx[k];
// nil means zero) element by element against central differences of
// objective, perturbing p.values[idx[k]].
func (p *point) compare(what string, idx []int, analytic []*autograd.Var, objective func() float64) error {
	h := p.opts.Eps
	var errs []string
	bad := 0
	for k, i := range idx {
		var a []float64
		if analytic[k] != nil {
			if !analytic[k].Shape().Equal(p.shapes[i]) {
				return fmt.Errorf("gradcheck: %s: the gradient of %s has shape %v, want %v", what, p.names[i], analytic[k].Shape(), p.shapes[i])
			}
			a = analytic[k].Value.Values()
		}
		x := p.values[i]
		for e := range x {
			orig := x[e]
			x[e] = orig + h
			fp := objective()
			x[e] = orig - h
			fm := objective()
			x[e] = orig
			num := (fp - fm) / (2 * h)
			an := 0.0
			if a != nil {
				an = a[e]
			}
			if diff := math.Abs(an - num); !(diff <= p.opts.Atol+p.opts.Rtol*math.Abs(num)) {
				bad++
				if len(errs) < p.opts.MaxReported {
					errs = append(errs, fmt.Sprintf("%s %v, element %v (flat %d): analytic %.10g, numeric %.10g (diff %.3g)",
						p.names[i], p.shapes[i], unravel(e, p.shapes[i]), e, an, num, diff))
				}
			}
		}
	}
	if bad == 0 {
		return nil
	}
	return fmt.Errorf("gradcheck: %s: %d elements differ (atol %g, rtol %g, h %g):\n\t%s",
		what, bad, p.opts.Atol, p.opts.Rtol, h, strings.Join(errs, "\n\t"))
}

// pick returns vs[i] for each i in idx.
func pick(vs []*autograd.Var, idx []int) []*autograd.Var {
	out := make([]*autograd.Var, len(idx))
	for k, i := range idx {
		out[k] = vs[i]
	}
	return out
}

func dot(a, b []float64) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("gradcheck: dot of %d and %d elements", len(a), len(b)))
	}
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// unravel turns a flat row-major index into a multi-index of shape s.
func unravel(flat int, s tensor.Shape) []int {
	idx := make([]int, len(s))
	for ax := len(s) - 1; ax >= 0; ax-- {
		idx[ax] = flat % s[ax]
		flat /= s[ax]
	}
	return idx
}
