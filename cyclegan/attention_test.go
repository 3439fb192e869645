package cyclegan_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/tensor"
)

// withAttention returns the options o with the attention loss on layers l
// at order ord.
func withAttention(o cyclegan.Options, l gradcam.Layers, ord gradcam.Order) cyclegan.Options {
	o.Attention.Layers, o.Attention.Order = l, ord
	return o
}

// images returns n random images (n, 3, size, size) in [-1, 1].
func images(seed uint64, dt tensor.DType, n, size int) *tensor.Tensor {
	return tensor.RandUniform(tensor.NewRand(seed), dt, -1, 1, n, 3, size, size)
}

// step runs one training iteration of a tiny float64 CycleGAN with options
// o and returns the losses and the generators' weights afterwards.
func step(t testing.TB, o cyclegan.Options) (cyclegan.Losses, [][]float64) {
	m, err := cyclegan.New(o, 1)
	if err != nil {
		t.Fatal(err)
	}
	l, err := m.Step(images(2, o.DType, 1, 16), images(3, o.DType, 1, 16), 2e-4, m.Attention.At(1))
	if err != nil {
		t.Fatal(err)
	}
	var w [][]float64
	for _, p := range append(m.GA.Params(), m.GB.Params()...) {
		w = append(w, p.Var.Value.Values())
	}
	return l, w
}

// TestTrainingIteration: the attention loss in Model.Step. At order 0 (the
// thesis' code) it is logged and the update is exactly the standard
// network's; at orders 1 and 2 the update changes, and differently.
func TestTrainingIteration(t *testing.T) {
	o := cyclegan.DefaultOptions()
	o.NGF, o.NDF, o.NBlocks, o.NLayersD, o.DType = 2, 2, 2, 1, tensor.Float64
	lStd, wStd := step(t, o)
	diff := func(a, b [][]float64) float64 {
		d := 0.0
		for i := range a {
			for e := range a[i] {
				d = max(d, math.Abs(a[i][e]-b[i][e]))
			}
		}
		return d
	}
	updates := map[gradcam.Order][][]float64{}
	for _, order := range []gradcam.Order{gradcam.None, gradcam.First, gradcam.Second} {
		l, w := step(t, withAttention(o, gradcam.Indices(10, 11), order))
		if l.Att <= 0 || l.GA != lStd.GA {
			t.Errorf("order %v: logged attention loss %g (want > 0), GAN loss %g (want the standard %g)", order, l.Att, l.GA, lStd.GA)
		}
		d := diff(w, wStd)
		if (order == gradcam.None) != (d == 0) {
			t.Errorf("order %v: generators' weights differ from the standard update by %g", order, d)
		}
		updates[order] = w
	}
	if diff(updates[gradcam.First], updates[gradcam.Second]) == 0 {
		t.Error("orders 1 and 2 give the same update")
	}
}

// TestAttentionOptions: New builds the loss on the real generator, with the
// second stage from its epoch on, and refuses options that do not fit,
// naming the stage and the value.
func TestAttentionOptions(t *testing.T) {
	o := cyclegan.DefaultOptions()
	o.NGF, o.NDF, o.NBlocks = 1, 1, 3 // blocks 10, 11, 12
	m, err := cyclegan.New(o, 1)
	if err != nil || m.Attention != nil || m.Attention.At(1) != nil {
		t.Fatalf("default options: %v, attention %v; want the standard CycleGAN", err, m.Attention)
	}
	two := o
	two.Attention.Layers, two.Attention.Layers2, two.Attention.Stage2Epoch = gradcam.LastBlock(), gradcam.AllBlocks(), 3
	m, err = cyclegan.New(two, 1)
	if err != nil {
		t.Fatal(err)
	}
	for epoch, want := range map[int][]int{1: {12}, 2: {12}, 3: {10, 11, 12}, 9: {10, 11, 12}} {
		if got := m.Attention.At(epoch).Layers(); !slices.Equal(got, want) {
			t.Errorf("epoch %d: layers %v, want %v", epoch, got, want)
		}
	}
	for _, c := range []struct {
		name string
		f    func(a *cyclegan.AttentionOptions)
		want string
	}{
		{"outside", func(a *cyclegan.AttentionOptions) { a.Layers = gradcam.Indices(40) }, "attention loss: layers 40: layer 40 is outside"},
		{"stage 2 outside", func(a *cyclegan.AttentionOptions) {
			a.Layers, a.Layers2, a.Stage2Epoch = gradcam.LastBlock(), gradcam.Indices(40), 2
		}, "attention stage 2: layers 40"},
		{"stage 2 without epoch", func(a *cyclegan.AttentionOptions) { a.Layers, a.Layers2 = gradcam.LastBlock(), gradcam.AllBlocks() },
			"its first epoch must be at least 1"},
		{"stage 2 alone", func(a *cyclegan.AttentionOptions) { a.Layers2, a.Stage2Epoch = gradcam.AllBlocks(), 2 }, "without layers"},
		{"weights alone", func(a *cyclegan.AttentionOptions) { a.Weights = gradcam.Weights{1} }, "without layers"},
		{"epoch without stage 2", func(a *cyclegan.AttentionOptions) { a.Layers, a.Stage2Epoch = gradcam.LastBlock(), 2 }, "given without its layers"},
		{"lambda 0", func(a *cyclegan.AttentionOptions) { a.Layers, a.Lambda = gradcam.LastBlock(), 0 }, "λ_att 0 must be a positive number"},
	} {
		bad := o
		c.f(&bad.Attention)
		if _, err := cyclegan.New(bad, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// BenchmarkStep times one training iteration of a small CycleGAN (ngf 8,
// 9 blocks, 64×64, float32) without the attention loss, with it on the last
// block, and on all nine blocks, at orders 2 and 1.
func BenchmarkStep(b *testing.B) {
	cases := []struct {
		name   string
		layers gradcam.Layers
		order  gradcam.Order
	}{
		{"standard", gradcam.Layers{}, 0},
		{"block18/order2", gradcam.LastBlock(), gradcam.Second},
		{"block18/order1", gradcam.LastBlock(), gradcam.First},
		{"all9/order2", gradcam.AllBlocks(), gradcam.Second},
		{"all9/order1", gradcam.AllBlocks(), gradcam.First},
	}
	o := cyclegan.DefaultOptions()
	o.NGF, o.NDF = 8, 8
	realA, realB := images(1, tensor.Float32, 1, 64), images(2, tensor.Float32, 1, 64)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			m, err := cyclegan.New(withAttention(o, c.layers, c.order), 1)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := m.Step(realA, realB, 2e-4, m.Attention.At(1)); err != nil {
					b.Fatal(c.name, err)
				}
			}
		})
	}
}
