package gradcam

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"golang.org/x/image/draw"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// Heatmaps returns the GradCAM map of each layer idx[i] of generator g for
// images x (N, 3, H, W), scored by discriminator d: constants (N, h, w) with
// values in [0, 1], at each layer's resolution. The indices are those of a
// Layers.Resolve on g. g and d are not modified (their parameters are
// frozen while it runs).
func Heatmaps(g *layers.Sequential, d layers.Module, x *tensor.Tensor, idx []int) []*tensor.Tensor {
	if len(idx) == 0 {
		return nil
	}
	restore := autograd.SetRequiresGrad(append(layers.Vars(g), layers.Vars(d)...), false)
	defer restore()
	// With the networks frozen, the graph GradCAM needs starts at the image.
	out, acts := g.Capture(autograd.Param(x), idx)
	maps := Maps(Score(d.Forward(out)), acts, None)
	res := make([]*tensor.Tensor, len(maps))
	for i, m := range maps {
		res[i] = m.Value
	}
	return res
}

// Jet maps v in [0, 1] to the jet colour map (dark blue, blue, cyan,
// yellow, red, dark red), as OpenCV's COLORMAP_JET that GradCAM pictures
// use. Values outside [0, 1] are clamped.
func Jet(v float64) color.RGBA {
	v = math.Max(0, math.Min(1, v))
	ch := func(c float64) uint8 { // 1.5 − |4v − c|, clamped to [0, 1]
		return uint8(math.Round(255 * math.Max(0, math.Min(1, 1.5-math.Abs(4*v-c)))))
	}
	return color.RGBA{R: ch(3), G: ch(2), B: ch(1), A: 255}
}

// Colorize returns map m (h, w), or (1, h, w), with values in [0, 1]
// bilinearly resized to width×height and coloured with Jet. The values
// are resized before colouring, as pytorch-grad-cam does, so that the
// colours between two cells pass through the colour map.
func Colorize(m *tensor.Tensor, width, height int) *image.RGBA {
	s := m.Shape()
	if len(s) == 3 && s[0] == 1 {
		s = s[1:]
	}
	if len(s) != 2 {
		panic(fmt.Sprintf("gradcam.Colorize: map of shape %v, want (h, w)", m.Shape()))
	}
	h, w := s[0], s[1]
	v := m.Values()
	gray := image.NewGray16(image.Rect(0, 0, w, h))
	for i := range h {
		for j := range w {
			gray.SetGray16(j, i, color.Gray16{Y: uint16(math.Round(65535 * math.Max(0, math.Min(1, v[i*w+j]))))})
		}
	}
	big := image.NewGray16(image.Rect(0, 0, width, height))
	draw.BiLinear.Scale(big, big.Bounds(), gray, gray.Bounds(), draw.Src, nil)
	out := image.NewRGBA(big.Bounds())
	for y := range height {
		for x := range width {
			out.SetRGBA(x, y, Jet(float64(big.Gray16At(x, y).Y)/65535))
		}
	}
	return out
}

// Overlay blends map m (h, w) in [0, 1], coloured and resized to base's
// size, over base: (1 − alpha)·base + alpha·heat, alpha clamped to [0, 1]
// (0.5 is usual).
func Overlay(base image.Image, m *tensor.Tensor, alpha float64) *image.RGBA {
	alpha = math.Max(0, math.Min(1, alpha))
	b := base.Bounds()
	heat := Colorize(m, b.Dx(), b.Dy())
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	mix := func(p uint32, q uint8) uint8 { // p is 16-bit, q 8-bit
		return uint8(math.Round((1-alpha)*float64(p>>8) + alpha*float64(q)))
	}
	for y := range b.Dy() {
		for x := range b.Dx() {
			r, g, bl, _ := base.At(b.Min.X+x, b.Min.Y+y).RGBA()
			c := heat.RGBAAt(x, y)
			out.SetRGBA(x, y, color.RGBA{R: mix(r, c.R), G: mix(g, c.G), B: mix(bl, c.B), A: 255})
		}
	}
	return out
}
