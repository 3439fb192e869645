package gradcam_test

import (
	"image"
	"image/color"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

func TestJet(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want color.RGBA
	}{
		{0, color.RGBA{0, 0, 128, 255}},     // dark blue
		{0.125, color.RGBA{0, 0, 255, 255}}, // blue
		{0.375, color.RGBA{0, 255, 255, 255}},
		{0.5, color.RGBA{128, 255, 128, 255}},
		{0.625, color.RGBA{255, 255, 0, 255}}, // yellow
		{0.875, color.RGBA{255, 0, 0, 255}},   // red
		{1, color.RGBA{128, 0, 0, 255}},       // dark red
		{-3, color.RGBA{0, 0, 128, 255}},      // clamped
		{7, color.RGBA{128, 0, 0, 255}},
	} {
		if got := gradcam.Jet(c.v); got != c.want {
			t.Errorf("Jet(%g) = %v, want %v", c.v, got, c.want)
		}
	}
}

// TestColorize: a map hot in its top-left cell and cold elsewhere, resized
// 4×, is red at the top left, blue at the bottom right, and passes through
// intermediate colours between them.
func TestColorize(t *testing.T) {
	m := tensor.FromFloat64s([]float64{1, 0, 0, 0}, 1, 2, 2)
	img := gradcam.Colorize(m, 8, 8)
	if img.Bounds() != image.Rect(0, 0, 8, 8) {
		t.Fatalf("bounds %v", img.Bounds())
	}
	if c := img.RGBAAt(0, 0); c != gradcam.Jet(1) {
		t.Errorf("top left %v, want %v", c, gradcam.Jet(1))
	}
	if c := img.RGBAAt(7, 7); c != gradcam.Jet(0) {
		t.Errorf("bottom right %v, want %v", c, gradcam.Jet(0))
	}
	if c := img.RGBAAt(3, 3); c == gradcam.Jet(0) || c == gradcam.Jet(1) {
		t.Errorf("middle %v is an end of the colour map: not interpolated", c)
	}
}

func TestOverlay(t *testing.T) {
	base := image.NewRGBA(image.Rect(10, 10, 14, 13)) // not at the origin
	for y := 10; y < 13; y++ {
		for x := 10; x < 14; x++ {
			base.SetRGBA(x, y, color.RGBA{200, 100, 50, 255})
		}
	}
	m := tensor.Full(tensor.Float64, 1, 3, 4) // all hot: Jet(1) everywhere
	for _, c := range []struct {
		alpha float64
		want  color.RGBA
	}{
		{0, color.RGBA{200, 100, 50, 255}},
		{1, gradcam.Jet(1)},
		{0.5, color.RGBA{164, 50, 25, 255}},
	} {
		out := gradcam.Overlay(base, m, c.alpha)
		if out.Bounds() != image.Rect(0, 0, 4, 3) {
			t.Fatalf("bounds %v", out.Bounds())
		}
		if got := out.RGBAAt(2, 1); got != c.want {
			t.Errorf("alpha %g: %v, want %v", c.alpha, got, c.want)
		}
	}
}

// TestHeatmaps: the maps of a picture equal those Maps gives in a training
// pass, and the networks are left as they were.
func TestHeatmaps(t *testing.T) {
	n := tinyNets(21, 2, 2, 2, 1)
	x := images(22, 1, 16)
	idx := []int{11, 6}
	hm := gradcam.Heatmaps(n.GB.Model, n.DB, x, idx)
	restore := n.freezeD()
	out, acts := n.GB.Model.Capture(autograd.Const(x), idx)
	want := gradcam.Maps(gradcam.Score(n.DB.Forward(out)), acts, gradcam.Second)
	restore()
	for i := range idx {
		if !hm[i].Shape().Equal(want[i].Shape()) || maxDiff(hm[i].Values(), want[i].Value.Values()) > 1e-12 {
			t.Errorf("layer %d: Heatmaps %v differs from Maps %v", idx[i], hm[i], want[i].Value)
		}
	}
	for _, v := range append(layers.Vars(n.GB), layers.Vars(n.DB)...) {
		if !v.RequiresGrad() || v.Grad != nil {
			t.Fatalf("Heatmaps changed a parameter: %v (grad %v)", v, v.Grad)
		}
	}
}
