package layers_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

func init64() layers.Init { return layers.Init{Rand: tensor.NewRand(1), DType: tensor.Float64} }

// TestParamNames: modules name their parameters as PyTorch's state dict does,
// in a fixed order, and a Sequential prefixes them with the layer index.
func TestParamNames(t *testing.T) {
	in := init64()
	seq := layers.NewSequential(
		&layers.ReflectionPad2d{P: 1},
		layers.NewConv2d(in, 3, 4, 3, 1, 0),
		layers.NewInstanceNorm2d(),
		layers.ReLU{},
		layers.NewResnetBlock(in, 4),
		layers.NewConvTranspose2d(in, 4, 2, 3, 2, 1, 1),
	)
	want := []string{"1.weight", "1.bias",
		"4.conv_block.1.weight", "4.conv_block.1.bias", "4.conv_block.5.weight", "4.conv_block.5.bias",
		"5.weight", "5.bias"}
	ps := seq.Params()
	if len(ps) != len(want) {
		t.Fatalf("%d parameters, want %d", len(ps), len(want))
	}
	for i, p := range ps {
		if p.Name != want[i] {
			t.Errorf("parameter %d is %q, want %q", i, p.Name, want[i])
		}
	}
	// Conv weights are (out, in, k, k); transposed convs (in, out, k, k).
	if s := ps[0].Var.Shape(); !s.Equal(tensor.Shape{4, 3, 3, 3}) {
		t.Errorf("conv weight %v", s)
	}
	if s := ps[6].Var.Shape(); !s.Equal(tensor.Shape{4, 2, 3, 3}) {
		t.Errorf("transposed conv weight %v", s)
	}
	if n := layers.CountParams(seq); n != 4*3*9+4+2*(4*4*9+4)+4*2*9+2 {
		t.Errorf("CountParams = %d", n)
	}
}

// TestInit: weights ~ N(0, 0.02²), biases zero, and the same seed gives the
// same weights.
func TestInit(t *testing.T) {
	c := layers.NewConv2d(init64(), 64, 64, 3, 1, 1)
	w := c.Weight.Value.Values()
	var s, s2 float64
	for _, v := range w {
		s += v
		s2 += v * v
	}
	n := float64(len(w))
	mean, std := s/n, math.Sqrt(s2/n-(s/n)*(s/n))
	if math.Abs(mean) > 0.001 || math.Abs(std-0.02) > 0.001 {
		t.Errorf("weights have mean %.4g and std %.4g, want 0 and 0.02", mean, std)
	}
	for _, v := range c.Bias.Value.Values() {
		if v != 0 {
			t.Fatal("bias not zero")
		}
	}
	if d := layers.NewConv2d(init64(), 64, 64, 3, 1, 1).Weight.Value.Values(); d[17] != w[17] {
		t.Error("the same seed gave different weights")
	}
}

// TestRangeAndResidual: Range splits a Sequential anywhere without changing
// its output, and a ResnetBlock adds its input back.
func TestRangeAndResidual(t *testing.T) {
	in := init64()
	seq := layers.NewSequential(layers.NewConv2d(in, 2, 3, 3, 1, 1), layers.ReLU{}, layers.NewResnetBlock(in, 3), layers.Tanh{})
	x := autograd.Const(tensor.RandNormal(tensor.NewRand(2), tensor.Float64, 0, 1, 1, 2, 6, 5))
	whole := seq.Forward(x).Value.Values()
	for cut := 0; cut <= seq.Len(); cut++ {
		split := seq.Range(seq.Range(x, 0, cut), cut, seq.Len()).Value.Values()
		for i := range whole {
			if split[i] != whole[i] {
				t.Fatalf("cut at %d changes element %d", cut, i)
			}
		}
	}
	blk := layers.NewResnetBlock(in, 3)
	h := seq.Range(x, 0, 2)
	got, body, hv := blk.Forward(h).Value.Values(), blk.ConvBlock.Forward(h).Value.Values(), h.Value.Values()
	for i := range got {
		if math.Abs(got[i]-(hv[i]+body[i])) > 1e-12 {
			t.Fatalf("ResnetBlock element %d: %g, want %g + %g", i, got[i], hv[i], body[i])
		}
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "Range") {
			t.Errorf("Range outside the layers: recovered %v", r)
		}
	}()
	seq.Range(x, 2, 9)
}

// TestCapture: one pass gives the network's output and the outputs of the
// layers asked for, in the order asked for (repeats allowed); an index
// outside the network panics, naming it.
func TestCapture(t *testing.T) {
	in := init64()
	seq := layers.NewSequential(layers.NewConv2d(in, 2, 3, 3, 1, 1), layers.ReLU{}, layers.NewResnetBlock(in, 3), layers.Tanh{})
	x := autograd.Const(tensor.RandNormal(tensor.NewRand(3), tensor.Float64, 0, 1, 1, 2, 6, 5))
	idx := []int{2, 0, 2, 3}
	out, acts := seq.Capture(x, idx)
	if !slices.Equal(out.Value.Values(), seq.Forward(x).Value.Values()) {
		t.Error("Capture's output differs from Forward's")
	}
	for i, l := range idx {
		if want := seq.Range(x, 0, l+1); !slices.Equal(acts[i].Value.Values(), want.Value.Values()) {
			t.Errorf("activation %d is not the output of layer %d", i, l)
		}
	}
	if acts[0] != acts[2] {
		t.Error("layer 2 asked twice: two different variables, so the layers ran twice")
	}
	for _, bad := range []int{-1, 4} {
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.Contains(r, fmt.Sprintf("layer %d outside 4 layers", bad)) {
					t.Errorf("Capture(%d): recovered %q", bad, r)
				}
			}()
			seq.Capture(x, []int{bad})
		}()
	}
}

// TestMoveTo converts parameters in place and drops stale gradients.
func TestMoveTo(t *testing.T) {
	c := layers.NewConv2d(init64(), 2, 2, 1, 1, 0)
	c.Weight.Grad = tensor.New(tensor.Float64, 2, 2, 1, 1)
	want := c.Weight.Value.Values()
	layers.MoveTo(c, tensor.CPU, tensor.Float32)
	if c.Weight.DType() != tensor.Float32 || c.Weight.Grad != nil {
		t.Fatalf("after MoveTo: %v, grad %v", c.Weight, c.Weight.Grad)
	}
	for i, v := range c.Weight.Value.Values() {
		if v != float64(float32(want[i])) {
			t.Fatalf("element %d: %g, want %g", i, v, want[i])
		}
	}
}

// TestString prints layers the way PyTorch prints the modules.
func TestString(t *testing.T) {
	s := layers.NewSequential(layers.NewConv2d(init64(), 3, 64, 7, 1, 0), layers.NewResnetBlock(init64(), 8)).String()
	for _, want := range []string{
		"(0): Conv2d(3, 64, kernel_size=(7, 7), stride=(1, 1), padding=(0, 0))",
		"(1): ResnetBlock(",
		"(conv_block): Sequential(",
		"(2): InstanceNorm2d(eps=1e-05, affine=False, track_running_stats=False)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q:\n%s", want, s)
		}
	}
}
