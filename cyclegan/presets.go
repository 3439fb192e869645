package cyclegan

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/camcycle/camcycle/gradcam"
)

// Preset is a named experiment of the thesis (docs/method.md §4): the
// attention options it implies for a generator of nBlocks residual blocks
// and a run whose last epoch is lastEpoch.
type Preset struct {
	Name    string
	Doc     string
	Options func(nBlocks, lastEpoch int) AttentionOptions
	// ThesisFID is the FID the thesis reports for the experiment (its
	// tables 3.1 and 3.2), by data set: A→B, B→A (horse2zebra: horse →
	// zebra, zebra → horse). Nil for the future work.
	ThesisFID map[string][2]float64
}

// Presets returns the experiments of the thesis, in its table's order, then
// its future work.
func Presets() []Preset {
	with := func(f func(a *AttentionOptions)) func(int, int) AttentionOptions {
		return func(int, int) AttentionOptions {
			a := DefaultAttention()
			f(&a)
			return a
		}
	}
	return []Preset{
		{"standard", "the standard CycleGAN: no attention loss",
			with(func(a *AttentionOptions) {}),
			map[string][2]float64{"horse2zebra": {33.66, 64.57}, "apple2orange": {105.15, 81.05}}},
		{"gradcam", "GradCam: the last residual block (18 of a 9-block generator), λ_att 1, both directions, order 2",
			with(func(a *AttentionOptions) { a.Layers = gradcam.LastBlock() }),
			map[string][2]float64{"horse2zebra": {27.94, 61.54}, "apple2orange": {103.89, 75.79}}},
		{"gradcam_coeff", "GradCamWithCoeff: as gradcam with λ_att 0.1",
			with(func(a *AttentionOptions) { a.Layers, a.Lambda = gradcam.LastBlock(), 0.1 }),
			map[string][2]float64{"horse2zebra": {31.90, 66.01}}},
		{"gradcam_a2b", "GradCamA2B: as gradcam with only the A→B→A term (MSE(cam_GA(real_A), cam_GB(fake_B)))",
			with(func(a *AttentionOptions) { a.Layers, a.Direction = gradcam.LastBlock(), gradcam.AToB }),
			map[string][2]float64{"horse2zebra": {30.60, 65.32}}},
		{"gradcam_detach", "GradCamWithDetach: as gradcam with the translation-side maps cam_GA(real_A), cam_GB(real_B) detached",
			with(func(a *AttentionOptions) { a.Layers, a.Detach = gradcam.LastBlock(), true }),
			map[string][2]float64{"horse2zebra": {32.74, 62.71}}},
		{"gradcam_four", "GradCamFourLayers: blocks 10, 14, 15, 18 (the same relative positions for other depths), uniform weights",
			func(n, _ int) AttentionOptions {
				a := DefaultAttention()
				a.Layers = fourBlocks(n)
				return a
			},
			map[string][2]float64{"horse2zebra": {33.18, 61.77}}},
		{"gradcam_all", "future work: every residual block (10…18), uniform weights",
			with(func(a *AttentionOptions) { a.Layers = gradcam.AllBlocks() }), nil},
		{"gradcam_weighted", "future work: every residual block, the last weighted as all the others together (weights 1,…,1,n−1)",
			func(n, _ int) AttentionOptions {
				a := DefaultAttention()
				a.Layers, a.Weights = gradcam.AllBlocks(), weightedAll(n)
				return a
			}, nil},
		{"two_stage", "future work: the last block for the first half of the epochs, then every block",
			func(_, last int) AttentionOptions {
				a := DefaultAttention()
				a.Layers, a.Layers2, a.Stage2Epoch = gradcam.LastBlock(), gradcam.AllBlocks(), last/2+1
				return a
			}, nil},
	}
}

// LookupPreset returns the preset called name, or an error listing them.
func LookupPreset(name string) (Preset, error) {
	var names []string
	for _, p := range Presets() {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Preset{}, fmt.Errorf("-preset %q: unknown (want one of %s)", name, strings.Join(names, ", "))
}

// fourBlocks returns the thesis' four layers {10, 14, 15, 18} for 9 blocks:
// blocks 0, 4, 5 and 8; for other depths the same relative positions
// (b·(n−1)/8 rounded), without repeats.
func fourBlocks(n int) gradcam.Layers {
	var idx []int
	for _, b := range []int{0, 4, 5, 8} {
		i := FirstBlock + int(math.Round(float64(b*(n-1))/8))
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	return gradcam.Indices(idx...)
}

// weightedAll gives every block weight 1 and the last block n−1, so the
// last block carries half the loss and the others share the rest.
func weightedAll(n int) gradcam.Weights {
	w := make(gradcam.Weights, n)
	for i := range w {
		w[i] = 1
	}
	w[n-1] = float64(max(n-1, 1))
	return w
}
