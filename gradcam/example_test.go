package gradcam_test

import (
	"fmt"
	"image"
	"math"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// The GradCAM maps of two residual blocks of a (small, untrained) generator
// for one image, scored by a discriminator: one forward pass, one backward
// pass. Each map has its layer's resolution and spans [0, 1].
func ExampleMaps() {
	in := layers.Init{Rand: tensor.NewRand(1), DType: tensor.Float32}
	g := cyclegan.NewResnetGenerator(in, 4, 2) // blocks at indices 10 and 11
	d := cyclegan.NewNLayerDiscriminator(in, 4, 2)
	autograd.SetRequiresGrad(layers.Vars(d), false) // D only scores

	x := autograd.Const(tensor.RandUniform(tensor.NewRand(2), tensor.Float32, -1, 1, 1, 3, 32, 32))
	out, acts := g.Model.Capture(x, []int{10, 11}) // one pass, two layers kept
	s := gradcam.Score(d.Forward(out))             // mean of D(G(x))
	maps := gradcam.Maps(s, acts, gradcam.Second)
	for i, m := range maps {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range m.Value.Values() {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		fmt.Printf("layer %d: activations %v → map %v in [%.2f, %.2f], differentiable: %t\n",
			10+i, acts[i].Shape(), m.Shape(), lo, hi, m.RequiresGrad())
	}
	// Output:
	// layer 10: activations (1, 16, 8, 8) → map (1, 8, 8) in [0.00, 1.00], differentiable: true
	// layer 11: activations (1, 16, 8, 8) → map (1, 8, 8) in [0.00, 1.00], differentiable: true
}

// Layer selections as a command line gives them (-att_layers), resolved
// for the default 9-block generator.
func ExampleLayers() {
	g := cyclegan.NewResnetGenerator(layers.Init{Rand: tensor.NewRand(1)}, 1, 9).Model
	for _, spec := range []string{"18", "10,14,15,18", "all", "28", "18,x"} {
		var l gradcam.Layers
		if err := l.Set(spec); err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(l.Resolve(g))
	}
	// Output:
	// [18] <nil>
	// [10 14 15 18] <nil>
	// [10 11 12 13 14 15 16 17 18] <nil>
	// [] layers 28: layer 28 is outside the generator (indices 0…27)
	// layers "18,x": "x" is not a layer index
}

// The thesis' GradCamFourLayers network with more weight on the last block
// (its future work), and what New makes of the options.
func ExampleNew() {
	g := cyclegan.NewResnetGenerator(layers.Init{Rand: tensor.NewRand(1)}, 1, 9).Model
	o := gradcam.DefaultOptions()
	o.Layers, o.Weights = gradcam.Indices(18, 10, 14, 15), gradcam.Weights{3, 1, 1, 1}
	att, err := gradcam.New(o, g)
	fmt.Println(att, err)
	o.Layers, o.Order = gradcam.Indices(10, 14), gradcam.First
	_, err = gradcam.New(o, g)
	fmt.Println(err)
	// Output:
	// attention(layers [10 14 15 18], weights [0.167 0.167 0.167 0.5], λ_att 1, both, detach false, order 2) <nil>
	// layer weights 3,1,1,1: 4 weights for 2 layers [10 14]
}

// A picture of where a generator looks: the map of its last block for an
// image, coloured with Jet, resized to the image and blended over it.
func ExampleHeatmaps() {
	in := layers.Init{Rand: tensor.NewRand(1), DType: tensor.Float32}
	g := cyclegan.NewResnetGenerator(in, 4, 2)
	d := cyclegan.NewNLayerDiscriminator(in, 4, 2)
	x := tensor.RandUniform(tensor.NewRand(2), tensor.Float32, -1, 1, 1, 3, 32, 32)

	maps := gradcam.Heatmaps(g.Model, d, x, []int{11})
	photo := image.NewRGBA(image.Rect(0, 0, 32, 32)) // the image as a picture
	pic := gradcam.Overlay(photo, maps[0], 0.5)
	fmt.Println(maps[0].Shape(), "→", pic.Bounds().Size())
	// Output:
	// (1, 8, 8) → (32,32)
}
