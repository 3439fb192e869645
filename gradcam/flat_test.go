package gradcam_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

// TestFlatMap: the layers FlatMap reads off the generator's structure as
// zero by construction are those whose GradCAM channel weights, computed,
// vanish (to rounding) while every other layer's do not; New refuses them,
// naming why, and Resolve still selects them for drawing.
func TestFlatMap(t *testing.T) {
	n := tinyNets(5, 2, 3, 2, 2)
	g := n.GA.Model
	var flat []int
	for i := range g.Len() {
		if gradcam.FlatMap(g, i) != "" {
			flat = append(flat, i)
		}
	}
	// The stem's padding (through the unpadded 7×7 convolution), every
	// convolution followed by an instance norm.
	if want := []int{0, 1, 4, 7, 13, 16}; !slices.Equal(flat, want) {
		t.Errorf("flat layers %v, want %v", flat, want)
	}

	checkFlatNumerically(t, g, n.DA, flat)

	_, err := gradcam.New(options(gradcam.Indices(11, 13)), g)
	for _, s := range []string{"layer 13 (ConvTranspose2d) feeds the InstanceNorm2d at layer 14", "mean_HW(∂s/∂A) are zero", "residual blocks are [10 11 12]"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("New with layer 13: error %v, want it to say %q", err, s)
		}
	}
	if _, err := gradcam.New(options(gradcam.Indices(0)), g); err == nil || !strings.Contains(err.Error(), "through the unpadded Conv2d at layer 1") {
		t.Errorf("New with layer 0: error %v", err)
	}
	if _, err := gradcam.New(options(gradcam.Indices(9, 12, 18)), g); err != nil {
		t.Errorf("New with ReLU and block layers: %v", err)
	}
	if idx, err := gradcam.EveryLayer().Resolve(g); err != nil || len(idx) != g.Len() {
		t.Errorf("Resolve every: %v, %v", idx, err)
	}
}

// checkFlatNumerically computes the GradCAM channel weights of every layer
// of g, scored by d on a random 16×16 image (batch 1, the networks in
// their current mode), and checks that they vanish (to rounding) exactly at
// the layers flat lists.
func checkFlatNumerically(t *testing.T, g *layers.Sequential, d layers.Module, flat []int) {
	t.Helper()
	defer autograd.SetRequiresGrad(layers.Vars(d), false)()
	every := make([]int, g.Len())
	for i := range every {
		every[i] = i
	}
	x := tensor.RandUniform(tensor.NewRand(6), tensor.Float64, -1, 1, 1, 3, 16, 16)
	out, acts := g.Capture(autograd.Param(x), every)
	grads := autograd.Grad([]*autograd.Var{gradcam.Score(d.Forward(out))}, acts, nil, false)
	for i, gr := range grads {
		w := ops.Mean(gr, 2, 3).Value.Values()
		scale := 0.0
		for _, v := range gr.Value.Values() {
			scale = max(scale, math.Abs(v))
		}
		wmax := 0.0
		for _, v := range w {
			wmax = max(wmax, math.Abs(v))
		}
		if isFlat := slices.Contains(flat, i); isFlat != (wmax <= 1e-9*scale) {
			t.Errorf("layer %d (%s): max |w| %.3g, max |∂s/∂A| %.3g; FlatMap says flat: %v", i, gradcam.LayerName(g.Layers[i]), wmax, scale, isFlat)
		}
	}
}

// TestFlatMapNorms: with batch norm (training mode, batch 1, as training
// runs) the flat layers are those of instance norm, and FlatMap names the
// BatchNorm2d; without a norm no layer is flat. Both checked numerically.
func TestFlatMapNorms(t *testing.T) {
	for _, c := range []struct {
		norm layers.Norm
		flat []int
	}{{layers.Batch, []int{0, 1, 4, 7, 12, 15}}, {layers.NoNorm, nil}} {
		t.Run(string(c.norm), func(t *testing.T) {
			o := cyclegan.DefaultOptions()
			o.NGF, o.NDF, o.NBlocks, o.NLayersD, o.Norm, o.DType = 2, 2, 2, 2, c.norm, tensor.Float64
			in := layers.Init{Rand: tensor.NewRand(5), DType: tensor.Float64, Std: 0.3}
			g := cyclegan.NewGenerator(in, o, nil).Model
			d := cyclegan.NewDiscriminator(in, o)
			var flat []int
			for i := range g.Len() {
				if gradcam.FlatMap(g, i) != "" {
					flat = append(flat, i)
				}
			}
			if !slices.Equal(flat, c.flat) {
				t.Errorf("flat layers %v, want %v", flat, c.flat)
			}
			checkFlatNumerically(t, g, d, flat)
			if c.norm == layers.Batch {
				if why := gradcam.FlatMap(g, 12); !strings.Contains(why, "feeds the BatchNorm2d at layer 13") {
					t.Errorf("FlatMap(12) = %q", why)
				}
			}
		})
	}
}
