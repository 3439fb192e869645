package gradcam_test

import (
	"math"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

// byHand computes the normalised GradCAM map of one image with plain loops,
// from the activations a (C, H, W) and the gradient g = ∂s/∂a.
func byHand(a, g []float64, c, h, w int) []float64 {
	cam := make([]float64, h*w)
	for k := range c {
		wk := 0.0
		for e := range h * w {
			wk += g[k*h*w+e]
		}
		wk /= float64(h * w)
		for e := range h * w {
			cam[e] += wk * a[k*h*w+e]
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for e := range cam {
		cam[e] = math.Max(cam[e], 0)
		lo, hi = math.Min(lo, cam[e]), math.Max(hi, cam[e])
	}
	for e := range cam {
		cam[e] = (cam[e] - lo) / (hi - lo + gradcam.Eps)
	}
	return cam
}

func maxDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// TestMapsByHand checks Maps against the GradCAM formula written as loops,
// for a batch of two images and two layers of different sizes, and that
// every map spans [0, 1].
func TestMapsByHand(t *testing.T) {
	n := tinyNets(5, 2, 1, 2, 1)
	defer n.freezeD()()
	x := images(6, 2, 16)
	idx := []int{10, 6} // any order; 10 is the block (8×4×4), 6 a ReLU (4×8×8)
	out, acts := n.GA.Model.Capture(autograd.Const(x), idx)
	s := gradcam.Score(n.DA.Forward(out))
	maps := gradcam.Maps(s, acts, gradcam.First)
	gs := autograd.Grad([]*autograd.Var{s}, acts, nil, false)
	for i, a := range acts {
		sh := a.Shape()
		nn, c, h, w := sh[0], sh[1], sh[2], sh[3]
		if want := (tensor.Shape{nn, h, w}); !maps[i].Shape().Equal(want) {
			t.Fatalf("layer %d: map shape %v, want %v", idx[i], maps[i].Shape(), want)
		}
		av, gv, mv := a.Value.Values(), gs[i].Value.Values(), maps[i].Value.Values()
		for b := range nn {
			per := c * h * w
			want := byHand(av[b*per:(b+1)*per], gv[b*per:(b+1)*per], c, h, w)
			got := mv[b*h*w : (b+1)*h*w]
			if d := maxDiff(got, want); d > 1e-12 {
				t.Errorf("layer %d image %d: Maps differs from the formula by %.3g", idx[i], b, d)
			}
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, v := range got {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
			if lo != 0 || math.Abs(hi-1) > 1e-4 { // Eps/(max − min) short of 1
				t.Errorf("layer %d image %d: map spans [%g, %g], want [0, 1]", idx[i], b, lo, hi)
			}
		}
	}
}

// TestMapsOnePassEqualsSeparate: the maps of several layers from one
// Grad call equal the maps of each layer computed alone, and each image's
// map in a batch equals its map computed alone (normalisation is per image).
func TestMapsOnePassEqualsSeparate(t *testing.T) {
	n := tinyNets(7, 2, 2, 2, 1)
	defer n.freezeD()()
	x := images(8, 2, 16)
	idx := []int{6, 10, 11}
	out, acts := n.GB.Model.Capture(autograd.Const(x), idx)
	s := gradcam.Score(n.DB.Forward(out))
	together := gradcam.Maps(s, acts, gradcam.Second)
	for i := range acts {
		alone := gradcam.Maps(s, acts[i:i+1], gradcam.Second)[0]
		if d := maxDiff(together[i].Value.Values(), alone.Value.Values()); d > 1e-12 {
			t.Errorf("layer %d: maps from one pass and alone differ by %.3g", idx[i], d)
		}
	}
	for b := range 2 {
		xb := x.Reshape(2, -1).Values()[b*3*16*16 : (b+1)*3*16*16]
		out1, acts1 := n.GB.Model.Capture(autograd.Const(tensor.FromFloat64s(xb, 1, 3, 16, 16)), idx)
		single := gradcam.Maps(gradcam.Score(n.DB.Forward(out1)), acts1, gradcam.Second)
		for i := range idx {
			hw := single[i].Value.Numel()
			batch := together[i].Value.Values()[b*hw : (b+1)*hw]
			// Alone, the score is not averaged over the other image, so w
			// and cam double: equal up to Eps/(max − min) of the normalisation.
			if d := maxDiff(batch, single[i].Value.Values()); d > 1e-4 {
				t.Errorf("layer %d image %d: map in the batch and alone differ by %.3g", idx[i], b, d)
			}
		}
	}
}

// TestMapsOrders: order 2 maps carry a graph to the parameters through the
// gradient, order 1 only through A, order 0 none; values are equal.
func TestMapsOrders(t *testing.T) {
	n := tinyNets(9, 2, 1, 2, 1)
	defer n.freezeD()()
	out, acts := n.GA.Model.Capture(autograd.Const(images(10, 1, 16)), []int{10})
	s := gradcam.Score(n.DA.Forward(out))
	m2 := gradcam.Maps(s, acts, gradcam.Second)[0]
	m1 := gradcam.Maps(s, acts, gradcam.First)[0]
	m0 := gradcam.Maps(s, acts, gradcam.None)[0]
	if d := maxDiff(m2.Value.Values(), m1.Value.Values()); d != 0 {
		t.Errorf("order 1 and 2 maps differ by %g", d)
	}
	if d := maxDiff(m2.Value.Values(), m0.Value.Values()); d != 0 {
		t.Errorf("order 0 and 2 maps differ by %g", d)
	}
	if !m2.RequiresGrad() || !m1.RequiresGrad() || m0.RequiresGrad() {
		t.Errorf("requires grad: order 2 %t, order 1 %t, order 0 %t; want true, true, false",
			m2.RequiresGrad(), m1.RequiresGrad(), m0.RequiresGrad())
	}
	// The last convolution (index 19) comes after layer 10: the map depends
	// on it only through w, so order 1 gives it no gradient and order 2 does.
	last := n.GA.Model.Layers[len(n.GA.Model.Layers)-2].Params()[0].Var
	for _, c := range []struct {
		m    *autograd.Var
		want bool
	}{{m2, true}, {m1, false}} {
		target := ops.Full(c.m, 0.5)
		g := autograd.Grad([]*autograd.Var{ops.MSELoss(c.m, target)}, []*autograd.Var{last}, nil, false)[0]
		if got := g != nil && norm2(g.Value.Values()) > 0; got != c.want {
			t.Errorf("map of %v: gradient reaches the output convolution: %t, want %t", c.m, got, c.want)
		}
	}
}

// TestNew: New resolves and sorts the layers, normalises the weights, and
// refuses, naming the value, what does not fit the generator.
func TestNew(t *testing.T) {
	n := tinyNets(13, 2, 3, 2, 1) // blocks 10, 11, 12; 22 layers
	g := n.GA.Model
	att, err := gradcam.New(options(gradcam.LastBlock()), g)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := att.String(), "attention(layers [12], weights [1], λ_att 1, both, detach false, order 2)"; got != want {
		t.Errorf("defaults with the last block: %s, want %s", got, want)
	}
	o := options(gradcam.Indices(12, 10, 6))
	o.Weights, o.Lambda, o.Order = gradcam.Weights{2, 1, 1}, 0.1, gradcam.First
	att, err = gradcam.New(o, g)
	if err != nil {
		t.Fatal(err)
	}
	if l, w := att.Layers(), att.Weights(); !equalInts(l, []int{6, 10, 12}) || maxDiff(w, []float64{0.25, 0.25, 0.5}) > 1e-15 {
		t.Errorf("layers %v weights %v, want [6 10 12] [0.25 0.25 0.5] (sorted, normalised)", l, w)
	}
	if att.Order() != gradcam.First {
		t.Errorf("order %v, want 1", att.Order())
	}
	with := func(l gradcam.Layers, f func(o *gradcam.Options)) gradcam.Options {
		o := options(l)
		f(&o)
		return o
	}
	for _, c := range []struct {
		o    gradcam.Options
		want string
	}{
		{options(gradcam.Indices(22)), "layer 22 is outside the generator (indices 0…21)"},
		{options(gradcam.Indices(-1)), "-1 is not a layer index"},
		{options(gradcam.Indices(10, 10)), "10 is named twice"},
		{options(gradcam.Layers{}), "no layers"},
		{with(gradcam.Indices(10, 11), func(o *gradcam.Options) { o.Weights = gradcam.Weights{1} }), "1 weights for 2 layers"},
		{with(gradcam.AllBlocks(), func(o *gradcam.Options) { o.Weights = gradcam.Weights{1, 2} }), "2 weights for 3 layers [10 11 12]"},
		{with(gradcam.Indices(10), func(o *gradcam.Options) { o.Weights = gradcam.Weights{-1} }), "-1 is not a non-negative number"},
		{with(gradcam.Indices(10, 11), func(o *gradcam.Options) { o.Weights = gradcam.Weights{0, 0} }), "all zero"},
		{with(gradcam.LastBlock(), func(o *gradcam.Options) { o.Lambda = 0 }), "λ_att 0 must be a positive number"},
		{with(gradcam.LastBlock(), func(o *gradcam.Options) { o.Lambda = -1 }), "λ_att -1"},
		{with(gradcam.LastBlock(), func(o *gradcam.Options) { o.Order = 7 }), "unknown order"},
		{with(gradcam.LastBlock(), func(o *gradcam.Options) { o.Direction = 7 }), "unknown direction"},
	} {
		_, err := gradcam.New(c.o, g)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v): error %v, want one containing %q", c.o, err, c.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLossChecksInputs: unfrozen discriminators (which the loss would
// train) and activations that do not fit the layers are programmer errors.
func TestLossChecksInputs(t *testing.T) {
	n := tinyNets(14, 2, 1, 2, 1)
	att, err := gradcam.New(options(gradcam.LastBlock()), n.GA.Model)
	if err != nil {
		t.Fatal(err)
	}
	x := images(15, 1, 16)
	in := n.inputs(att, x, x, false)
	wantPanic := func(name, want string, in gradcam.Inputs) {
		t.Helper()
		defer func() {
			r := recover()
			if s, _ := r.(string); !strings.Contains(s, want) {
				t.Errorf("%s: panic %v, want one containing %q", name, r, want)
			}
		}()
		att.Loss(in)
	}
	wantPanic("unfrozen D_A", "D_A is not frozen", in)
	restore := n.freezeD()
	defer restore()
	short := in
	short.RecB.Acts = nil
	wantPanic("missing activations", "pass RecB has 0 activations", short)
	noD := in
	noD.DB = nil
	wantPanic("nil D_B", "Inputs.DB is nil", noD)
	if l := att.Loss(in); !l.RequiresGrad() {
		t.Errorf("order-2 loss %v has no graph", l)
	}
}

// TestDirectionAndDetach: A2B is the first term alone; Detach changes the
// gradient but not the value; order 0 is a constant.
func TestDirectionAndDetach(t *testing.T) {
	n := tinyNets(16, 2, 1, 2, 1)
	defer n.freezeD()()
	realA, realB := images(17, 1, 16), images(18, 1, 16)
	run := func(o gradcam.Options) (gradcam.Terms, [][]float64) {
		att, err := gradcam.New(o, n.GA.Model)
		if err != nil {
			t.Fatal(err)
		}
		tm := att.Terms(n.inputs(att, realA, realB, true))
		if !tm.Total.RequiresGrad() {
			return tm, nil
		}
		return tm, grads(tm.Total, n.genParams())
	}
	o := options(gradcam.LastBlock())
	o.Lambda = 2
	both, gBoth := run(o)
	a2b, _ := run(gradcam.Options{Layers: o.Layers, Lambda: 2, Direction: gradcam.AToB})
	det, gDet := run(gradcam.Options{Layers: o.Layers, Lambda: 2, Detach: true})
	zero, _ := run(gradcam.Options{Layers: o.Layers, Lambda: 2, Order: gradcam.None})
	if a2b.B2A != nil || a2b.Total.Item() != both.A2B.Item() {
		t.Errorf("A2B: total %g, B2A %v; want the first term %g alone", a2b.Total.Item(), a2b.B2A, both.A2B.Item())
	}
	if math.Abs(both.Total.Item()-(both.A2B.Item()+both.B2A.Item())) > 1e-15 || both.B2A.Item() <= 0 {
		t.Errorf("total %g ≠ A2B %g + B2A %g", both.Total.Item(), both.A2B.Item(), both.B2A.Item())
	}
	if det.Total.Item() != both.Total.Item() || zero.Total.Item() != both.Total.Item() {
		t.Errorf("values: detach %g, order 0 %g, want %g", det.Total.Item(), zero.Total.Item(), both.Total.Item())
	}
	d := 0.0
	for i := range gBoth {
		for e := range gBoth[i] {
			d += math.Abs(gBoth[i][e] - gDet[i][e])
		}
	}
	if d == 0 {
		t.Errorf("Detach did not change the gradient")
	}
	if zero.Total.RequiresGrad() {
		t.Errorf("order-0 loss has a graph")
	}
}
