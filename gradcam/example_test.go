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
	out, acts := gradcam.Capture(g.Model, x, []int{10, 11})
	s := gradcam.Score(d.Forward(out)) // mean of D(G(x))
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

// Layer lists as a command line gives them, for SPEC's 9-block generator.
func ExampleParseLayers() {
	g := cyclegan.NewResnetGenerator(layers.Init{Rand: tensor.NewRand(1)}, 1, 9).Model
	for _, spec := range []string{"18", "10,14,15,18", "all", "28"} {
		idx, err := gradcam.ParseLayers(spec, g)
		fmt.Println(idx, err)
	}
	// Output:
	// [18] <nil>
	// [10 14 15 18] <nil>
	// [10 11 12 13 14 15 16 17 18] <nil>
	// [] layers "28": 28 is outside the generator (indices 0…27)
}

// The thesis' GradCamFourLayers network with more weight on the last block
// (its future work), and the options New fills in.
func ExampleNew() {
	g := cyclegan.NewResnetGenerator(layers.Init{Rand: tensor.NewRand(1)}, 1, 9).Model
	w, _ := gradcam.ParseWeights("1,1,1,3", 4)
	att, err := gradcam.New(gradcam.Options{Layers: []int{18, 10, 14, 15}, Weights: []float64{3, 1, 1, 1}}, g)
	fmt.Println(att, err)
	att, err = gradcam.New(gradcam.Options{Layers: []int{10, 14, 15, 18}, Weights: w, Order: gradcam.First}, g)
	fmt.Println(att, err)
	_, err = gradcam.New(gradcam.Options{Layers: []int{10, 14}, Weights: w}, g)
	fmt.Println(err)
	// Output:
	// attention(layers [10 14 15 18], weights [0.167 0.167 0.167 0.5], λ_att 1, both, detach false, order 2) <nil>
	// attention(layers [10 14 15 18], weights [0.167 0.167 0.167 0.5], λ_att 1, both, detach false, order 1) <nil>
	// gradcam: 4 weights for 2 layers [10 14]
}

// A picture of where a generator looks: the map of its last block for an
// image, coloured with Jet, resized to the image and blended over it.
func ExampleHeatmaps() {
	in := layers.Init{Rand: tensor.NewRand(1), DType: tensor.Float32}
	g := cyclegan.NewResnetGenerator(in, 4, 2)
	d := cyclegan.NewNLayerDiscriminator(in, 4, 2)
	x := tensor.RandUniform(tensor.NewRand(2), tensor.Float32, -1, 1, 1, 3, 32, 32)

	maps, err := gradcam.Heatmaps(g.Model, d, x, []int{11})
	if err != nil {
		fmt.Println(err)
		return
	}
	photo := image.NewRGBA(image.Rect(0, 0, 32, 32)) // the image as a picture
	pic := gradcam.Overlay(photo, maps[0], 0.5)
	fmt.Println(maps[0].Shape(), "→", pic.Bounds().Size())
	// Output:
	// (1, 8, 8) → (32,32)
}
