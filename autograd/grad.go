package autograd

import (
	"fmt"

	"github.com/camcycle/camcycle/tensor"
)

// Grad returns the gradient of Σᵢ ⟨gys[i], ys[i]⟩ with respect to each of
// xs, as new variables: the vector-Jacobian product. A nil gys (or a nil
// entry) stands for ones of ys[i]'s shape, the gradient of the sum of its
// elements, which for a scalar loss is the usual dL/dx.
//
// With createGraph, every backward rule runs on the live graph, so the
// returned gradients are differentiable functions of everything they depend
// on (the inputs, the parameters, gys): Grad can be applied to them again,
// to any depth. Without it, the rules run on detached values and the results
// are constants; nothing is recorded.
//
// xs may be leaves or intermediate variables (the gradient with respect to
// an activation, as GradCAM needs). An entry of the result is nil when the
// corresponding x does not influence ys. Grad does not touch any Var.Grad
// except for variables that asked for RetainGrad.
func Grad(ys, xs, gys []*Var, createGraph bool) []*Var {
	want := make(map[*Var]bool, len(xs))
	for _, x := range xs {
		want[x] = true
	}
	grads := backprop(ys, gys, func(v *Var) bool { return want[v] }, createGraph)
	out := make([]*Var, len(xs))
	for i, x := range xs {
		out[i] = grads[x]
	}
	return out
}

// Backward computes the gradient of the sum of the elements of y (for a
// scalar loss, dL/dθ) with respect to every leaf that requires one and adds
// it to that leaf's Grad, as PyTorch's loss.backward() does.
func Backward(y *Var) {
	grads := backprop([]*Var{y}, nil, func(v *Var) bool { return v.op == nil && v.requiresGrad }, false)
	for v, g := range grads {
		if v.Grad == nil {
			v.Grad = g.Value
		} else {
			v.Grad = v.Grad.Backend().Binary(tensor.Add, v.Grad, g.Value)
		}
	}
}

// ZeroGrad clears the Grad of each variable.
func ZeroGrad(vs []*Var) {
	for _, v := range vs {
		v.Grad = nil
	}
}

// backprop runs the backward rules from ys towards the variables for which
// target is true and returns their gradients.
func backprop(ys, gys []*Var, target func(*Var) bool, createGraph bool) map[*Var]*Var {
	if gys != nil && len(gys) != len(ys) {
		panic(fmt.Sprintf("autograd: %d outputs but %d output gradients", len(ys), len(gys)))
	}
	order, relevant := topoOrder(ys, target)

	// grads holds the gradient accumulated so far for each variable.
	grads := make(map[*Var]*Var)
	for i, y := range ys {
		if !relevant[y] {
			continue
		}
		var g *Var
		if gys != nil && gys[i] != nil {
			g = gys[i]
			if !g.Value.Shape().Equal(y.Value.Shape()) {
				panic(fmt.Sprintf("autograd: output %d has shape %v but its gradient %v", i, y.Value.Shape(), g.Value.Shape()))
			}
		} else {
			g = Const(y.Value.Backend().Full(y.Value.DType(), y.Value.Shape(), 1))
		}
		if !createGraph {
			g = g.Detach()
		}
		grads[y] = accumulate(grads[y], g)
	}

	results := make(map[*Var]*Var)
	// Walk from the outputs towards the inputs: when v's turn comes, every
	// consumer of v has already added its share, so grads[v] is complete.
	for i := len(order) - 1; i >= 0; i-- {
		v := order[i]
		g := grads[v]
		delete(grads, v) // free it once it has flowed on
		if g == nil {
			continue
		}
		for _, h := range v.hooks {
			if r := h(g); r != nil {
				if !r.Value.Shape().Equal(g.Value.Shape()) {
					panic(fmt.Sprintf("autograd: hook on %v returned shape %v", v, r.Value.Shape()))
				}
				g = r
				if !createGraph {
					g = g.Detach()
				}
			}
		}
		if v.retain {
			v.Grad = g.Value
		}
		if target(v) {
			results[v] = g
		}
		if v.op == nil {
			continue
		}
		needs := make([]bool, len(v.inputs))
		any := false
		for k, in := range v.inputs {
			needs[k] = in != nil && in.requiresGrad && relevant[in]
			any = any || needs[k]
		}
		if !any {
			continue
		}
		in, out := v.inputs, v
		if !createGraph {
			in = make([]*Var, len(v.inputs))
			for k, x := range v.inputs {
				if x != nil {
					in[k] = x.Detach()
				}
			}
			out = v.Detach()
		}
		gin := v.op.Backward(in, out, g, needs)
		if len(gin) != len(v.inputs) {
			panic(fmt.Sprintf("autograd: %s backward returned %d gradients for %d inputs", v.op.Name(), len(gin), len(v.inputs)))
		}
		for k, x := range v.inputs {
			if !needs[k] || gin[k] == nil {
				continue
			}
			if !gin[k].Value.Shape().Equal(x.Value.Shape()) {
				panic(fmt.Sprintf("autograd: %s backward gave input %d a gradient of shape %v, want %v",
					v.op.Name(), k, gin[k].Value.Shape(), x.Value.Shape()))
			}
			grads[x] = accumulate(grads[x], gin[k])
		}
	}
	return results
}

// topoOrder returns the variables that lie on a path from ys to a target,
// ordered so that every variable comes after its inputs, and the set of
// them ("relevant"): only these need a gradient.
func topoOrder(ys []*Var, target func(*Var) bool) ([]*Var, map[*Var]bool) {
	relevant := make(map[*Var]bool)
	visited := make(map[*Var]bool)
	var order []*Var
	// Iterative post-order depth-first search: graphs of second-order
	// GradCAM are deep enough that recursion would be wasteful.
	type frame struct {
		v    *Var
		next int
	}
	for _, y := range ys {
		if y == nil || visited[y] {
			continue
		}
		visited[y] = true
		stack := []frame{{v: y}}
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next < len(f.v.inputs) {
				in := f.v.inputs[f.next]
				f.next++
				if in != nil && in.requiresGrad && !visited[in] {
					visited[in] = true
					stack = append(stack, frame{v: in})
				}
				continue
			}
			v := f.v
			stack = stack[:len(stack)-1]
			r := target(v)
			for _, in := range v.inputs {
				if in != nil && relevant[in] {
					r = true
				}
			}
			if r {
				relevant[v] = true
				order = append(order, v)
			}
		}
	}
	return order, relevant
}

// accumulate returns a + b, recorded when either needs a gradient (a nil a
// is zero). Gradients of one variable from several consumers are summed
// here; the sum is an operation like any other so that gradients of
// gradients see it.
func accumulate(a, b *Var) *Var {
	if a == nil {
		return b
	}
	if !a.Value.Shape().Equal(b.Value.Shape()) {
		panic(fmt.Sprintf("autograd: accumulating gradients of shapes %v and %v", a.Value.Shape(), b.Value.Shape()))
	}
	return Record(accumulateOp{}, a.Value.Backend().Binary(tensor.Add, a.Value, b.Value), a, b)
}

// accumulateOp is a + b for two gradients of the same shape. It is the one
// operation autograd defines itself; its backward needs no other op.
type accumulateOp struct{}

func (accumulateOp) Name() string { return "accumulate" }

// Backward: ∂(a+b)/∂a = ∂(a+b)/∂b = 1, so both get gy.
func (accumulateOp) Backward(_ []*Var, _, gy *Var, _ []bool) []*Var { return []*Var{gy, gy} }

// SetRequiresGrad turns gradient tracking on or off for each leaf (for
// example to freeze a network), and returns a function that restores the
// previous settings.
func SetRequiresGrad(vs []*Var, on bool) (restore func()) {
	old := make([]bool, len(vs))
	for i, v := range vs {
		old[i] = v.requiresGrad
		v.SetRequiresGrad(on)
	}
	return func() {
		for i, v := range vs {
			v.requiresGrad = old[i]
		}
	}
}
