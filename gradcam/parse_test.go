package gradcam_test

import (
	"strings"
	"testing"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

func TestParseLayers(t *testing.T) {
	// SPEC's generator shape (9 blocks, 28 layers), built small: ngf 1.
	g := cyclegan.NewResnetGenerator(layers.Init{Rand: tensor.NewRand(1)}, 1, 9).Model
	if got := gradcam.ResidualBlocks(g); !equalInts(got, []int{10, 11, 12, 13, 14, 15, 16, 17, 18}) {
		t.Errorf("ResidualBlocks = %v, want 10…18", got)
	}
	for _, c := range []struct {
		spec string
		want []int
	}{
		{"18", []int{18}},
		{"10,14,15,18", []int{10, 14, 15, 18}},
		{" 18 , 10 ", []int{18, 10}},
		{"all", []int{10, 11, 12, 13, 14, 15, 16, 17, 18}},
		{"ALL", []int{10, 11, 12, 13, 14, 15, 16, 17, 18}},
		{"last", []int{18}},
		{"27", []int{27}},
	} {
		got, err := gradcam.ParseLayers(c.spec, g)
		if err != nil || !equalInts(got, c.want) {
			t.Errorf("ParseLayers(%q) = %v, %v; want %v", c.spec, got, err, c.want)
		}
	}
	for _, c := range []struct{ spec, want string }{
		{"", "empty"},
		{"28", "28 is outside the generator (indices 0…27)"},
		{"-1", "-1 is outside"},
		{"18,x", `"x" is not a layer index`},
		{"18,,10", `"" is not a layer index`},
		{"18,18", "18 is named twice"},
	} {
		_, err := gradcam.ParseLayers(c.spec, g)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseLayers(%q): error %v, want one containing %q", c.spec, err, c.want)
		}
	}
	// "all" follows the number of blocks.
	g2 := cyclegan.NewResnetGenerator(layers.Init{Rand: tensor.NewRand(1)}, 1, 2).Model
	if got, _ := gradcam.ParseLayers("all", g2); !equalInts(got, []int{10, 11}) {
		t.Errorf("ParseLayers(all) with 2 blocks = %v, want [10 11]", got)
	}
}

func TestParseWeights(t *testing.T) {
	w, err := gradcam.ParseWeights("0.1, 0.1,0.8", 3)
	if err != nil || maxDiff(w, []float64{0.1, 0.1, 0.8}) != 0 {
		t.Errorf("ParseWeights = %v, %v", w, err)
	}
	if w, err := gradcam.ParseWeights("", 4); w != nil || err != nil {
		t.Errorf("ParseWeights(\"\") = %v, %v; want nil (uniform)", w, err)
	}
	for _, c := range []struct {
		spec string
		n    int
		want string
	}{
		{"1,2", 3, "2 values for 3 layers"},
		{"1,-2", 2, `"-2" is not a non-negative number`},
		{"1,NaN", 2, "NaN"},
		{"1,inf", 2, "inf"},
		{"a", 1, `"a"`},
		{"0,0", 2, "all zero"},
	} {
		_, err := gradcam.ParseWeights(c.spec, c.n)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseWeights(%q, %d): error %v, want one containing %q", c.spec, c.n, err, c.want)
		}
	}
}

func TestParseOrderDirection(t *testing.T) {
	for s, want := range map[string]gradcam.Order{"2": gradcam.Second, "1": gradcam.First, "0": gradcam.None} {
		o, err := gradcam.ParseOrder(s)
		if err != nil || o != want || o.String() != "order "+s {
			t.Errorf("ParseOrder(%q) = %v, %v", s, o, err)
		}
	}
	if _, err := gradcam.ParseOrder("3"); err == nil {
		t.Error("ParseOrder(3) gave no error")
	}
	for s, want := range map[string]gradcam.Direction{"both": gradcam.Both, "A2B": gradcam.AToB, "a2b": gradcam.AToB} {
		d, err := gradcam.ParseDirection(s)
		if err != nil || d != want {
			t.Errorf("ParseDirection(%q) = %v, %v", s, d, err)
		}
	}
	if _, err := gradcam.ParseDirection("B2A"); err == nil {
		t.Error("ParseDirection(B2A) gave no error")
	}
}
