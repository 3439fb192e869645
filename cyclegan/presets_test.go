package cyclegan_test

import (
	"slices"
	"testing"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// TestPresets: every preset builds on generators of 1 to 9 blocks; the
// four-layer preset is the thesis' {10, 14, 15, 18} at 9 blocks and the
// blocks at the same relative positions otherwise; FirstBlock is where
// the generator's blocks start; the six experiments of the thesis' table
// carry its horse2zebra FID, the future work none.
func TestPresets(t *testing.T) {
	for n := 1; n <= 9; n++ {
		g := cyclegan.NewResnetGenerator(layers.Init{Rand: tensor.NewRand(1)}, 1, n).Model
		blocks := gradcam.ResidualBlocks(g)
		if blocks[0] != cyclegan.FirstBlock || len(blocks) != n {
			t.Errorf("%d blocks: at %v, want %d from FirstBlock %d", n, blocks, n, cyclegan.FirstBlock)
		}
		for _, p := range cyclegan.Presets() {
			o := cyclegan.DefaultOptions()
			o.NGF, o.NDF, o.NBlocks, o.Attention = 1, 1, n, p.Options(n, 200)
			m, err := cyclegan.New(o, 1)
			if err != nil {
				t.Errorf("preset %s with %d blocks: %v", p.Name, n, err)
				continue
			}
			if p.Name == "gradcam_four" {
				got := m.Attention.At(1).Layers()
				want := map[int][]int{9: {10, 14, 15, 18}, 3: {10, 11, 12}, 1: {10}}[n]
				if want != nil && !slices.Equal(got, want) {
					t.Errorf("gradcam_four with %d blocks: layers %v, want %v", n, got, want)
				}
				for _, l := range got {
					if !slices.Contains(blocks, l) {
						t.Errorf("gradcam_four with %d blocks: layer %d is not a block", n, l)
					}
				}
			}
		}
	}
	thesis := map[string]bool{"standard": true, "gradcam": true, "gradcam_coeff": true, "gradcam_a2b": true,
		"gradcam_detach": true, "gradcam_four": true}
	for _, p := range cyclegan.Presets() {
		_, ok := p.ThesisFID["horse2zebra"]
		if ok != thesis[p.Name] {
			t.Errorf("preset %s: thesis FID on horse2zebra %v, want one only for the thesis' experiments", p.Name, p.ThesisFID)
		}
	}
	if _, err := cyclegan.LookupPreset("zebra"); err == nil {
		t.Error("LookupPreset(zebra): no error")
	}
}
