package gradcam_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// The option types are flag values.
var (
	_ flag.Value = new(gradcam.Layers)
	_ flag.Value = new(gradcam.Weights)
	_ flag.Value = new(gradcam.Order)
	_ flag.Value = new(gradcam.Direction)
)

// TestLayers: Set reads what a command line gives, String gives back what
// Set reads, and Resolve turns the selection into indices of a generator.
func TestLayers(t *testing.T) {
	// The default generator's layout (9 blocks, 28 layers), built small: ngf 1.
	g := cyclegan.NewResnetGenerator(layers.Init{Rand: tensor.NewRand(1)}, 1, 9).Model
	if got := gradcam.ResidualBlocks(g); !equalInts(got, []int{10, 11, 12, 13, 14, 15, 16, 17, 18}) {
		t.Errorf("ResidualBlocks = %v, want 10…18", got)
	}
	every := make([]int, 28)
	for i := range every {
		every[i] = i
	}
	for _, c := range []struct {
		spec, str string
		want      []int
	}{
		{"18", "18", []int{18}},
		{"10,14,15,18", "10,14,15,18", []int{10, 14, 15, 18}},
		{" 18 , 10 ", "18,10", []int{18, 10}},
		{"all", "all", []int{10, 11, 12, 13, 14, 15, 16, 17, 18}},
		{"ALL", "all", []int{10, 11, 12, 13, 14, 15, 16, 17, 18}},
		{"last", "last", []int{18}},
		{"every", "every", every},
		{"27", "27", []int{27}},
	} {
		var l gradcam.Layers
		if err := l.Set(c.spec); err != nil {
			t.Errorf("Set(%q): %v", c.spec, err)
			continue
		}
		var again gradcam.Layers
		if l.String() != c.str || again.Set(l.String()) != nil || !again.Equal(l) {
			t.Errorf("Set(%q).String() = %q (want %q), which does not read back as the same selection", c.spec, l, c.str)
		}
		got, err := l.Resolve(g)
		if err != nil || !equalInts(got, c.want) {
			t.Errorf("Resolve(%q) = %v, %v; want %v", c.spec, got, err, c.want)
		}
	}
	var none gradcam.Layers
	if err := none.Set(" "); err != nil || !none.IsZero() || none.String() != "" {
		t.Errorf("Set(\" \"): %v, %q: want no layers", err, none)
	}
	for _, c := range []struct{ spec, want string }{
		{"18,x", `"x" is not a layer index`},
		{"18,,10", `"" is not a layer index`},
		{"-1", "-1 is not a layer index"},
		{"18,18", "18 is named twice"},
	} {
		var l gradcam.Layers
		if err := l.Set(c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Set(%q): error %v, want one containing %q", c.spec, err, c.want)
		}
	}
	for _, c := range []struct {
		l    gradcam.Layers
		want string
	}{
		{gradcam.Indices(28), "layer 28 is outside the generator (indices 0…27)"},
		{gradcam.Layers{}, "no layers"},
	} {
		if _, err := c.l.Resolve(g); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Resolve(%v): error %v, want one containing %q", c.l, err, c.want)
		}
	}
	// "all" follows the number of blocks.
	g2 := cyclegan.NewResnetGenerator(layers.Init{Rand: tensor.NewRand(1)}, 1, 2).Model
	if got, _ := gradcam.AllBlocks().Resolve(g2); !equalInts(got, []int{10, 11}) {
		t.Errorf("all with 2 blocks = %v, want [10 11]", got)
	}
	if _, err := gradcam.LastBlock().Resolve(layers.NewSequential(layers.ReLU{})); err == nil {
		t.Error("last block of a network without blocks: no error")
	}
}

func TestWeights(t *testing.T) {
	var w gradcam.Weights
	if err := w.Set("0.1, 0.1,0.8"); err != nil || maxDiff(w, []float64{0.1, 0.1, 0.8}) != 0 || w.String() != "0.1,0.1,0.8" {
		t.Errorf("Set = %v (%q), %v", w, w, err)
	}
	if err := w.Set(""); w != nil || err != nil {
		t.Errorf("Set(\"\") = %v, %v; want nil (uniform)", w, err)
	}
	for _, c := range []struct{ spec, want string }{
		{"1,-2", "-2 is not a non-negative number"},
		{"1,NaN", "NaN"},
		{"1,inf", "Inf"},
		{"a", `"a" is not a number`},
		{"0,0", "all zero"},
	} {
		if err := w.Set(c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Set(%q): error %v, want one containing %q", c.spec, err, c.want)
		}
	}
}

func TestOrderDirection(t *testing.T) {
	for s, want := range map[string]gradcam.Order{"2": gradcam.Second, "1": gradcam.First, "0": gradcam.None} {
		var o gradcam.Order
		if err := o.Set(s); err != nil || o != want || o.String() != s || o.Number() != int(s[0]-'0') {
			t.Errorf("Set(%q) = %v, %v", s, o, err)
		}
	}
	var o gradcam.Order
	if err := o.Set("3"); err == nil {
		t.Error("Set(3) gave no error")
	}
	for s, want := range map[string]gradcam.Direction{"both": gradcam.Both, "A2B": gradcam.AToB, "a2b": gradcam.AToB} {
		var d gradcam.Direction
		if err := d.Set(s); err != nil || d != want || !strings.EqualFold(d.String(), s) {
			t.Errorf("Set(%q) = %v, %v", s, d, err)
		}
	}
	var d gradcam.Direction
	if err := d.Set("B2A"); err == nil {
		t.Error("Set(B2A) gave no error")
	}
}
