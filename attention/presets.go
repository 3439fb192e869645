package attention

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/layers"
)

// Settings are the attention options as the command line names them. The
// zero value is the standard CycleGAN (no attention loss).
type Settings struct {
	Layers    string  // -att_layers: "" (none), "18", "10,14,15,18", "all", "last"
	Weights   string  // -att_weights: per-layer relative weights, "" for uniform
	Lambda    float64 // -lambda_att: λ_att (0 means 1)
	Direction string  // -att_direction: "both" (default) or "A2B"
	Detach    bool    // -att_detach: translation-side maps detached
	Order     string  // -att_order: "2" (default, also ""), "1" or "0"

	// The two-stage schedule: from epoch Stage2Epoch on, the layers
	// Stage2Layers (weights Stage2Weights) replace Layers. Stage2Layers ""
	// means one stage.
	Stage2Layers  string // -att_layers2
	Stage2Weights string // -att_weights2
	Stage2Epoch   int    // -att_stage2_epoch
}

// Enabled reports whether the settings add an attention loss.
func (s Settings) Enabled() bool { return strings.TrimSpace(s.Layers) != "" }

// Build checks the settings against generator g and returns the term for
// cyclegan.Model.Extra, or nil for the standard network. Errors name the
// bad option and value.
func (s Settings) Build(g *layers.Sequential) (*Term, error) {
	if !s.Enabled() {
		if s.Stage2Layers != "" {
			return nil, fmt.Errorf("-att_layers2 %q needs -att_layers for the first stage", s.Stage2Layers)
		}
		return nil, nil
	}
	order := gradcam.Second
	var err error
	if s.Order != "" {
		if order, err = gradcam.ParseOrder(s.Order); err != nil {
			return nil, fmt.Errorf("-att_order: %w", err)
		}
	}
	dir := gradcam.Both
	if s.Direction != "" {
		if dir, err = gradcam.ParseDirection(s.Direction); err != nil {
			return nil, fmt.Errorf("-att_direction: %w", err)
		}
	}
	build := func(layersSpec, weightsSpec, flag string) (*gradcam.Attention, error) {
		idx, err := gradcam.ParseLayers(layersSpec, g)
		if err != nil {
			return nil, fmt.Errorf("-%s: %w", flag, err)
		}
		var w []float64
		if strings.TrimSpace(weightsSpec) != "" {
			if w, err = gradcam.ParseWeights(weightsSpec, len(idx)); err != nil {
				return nil, fmt.Errorf("-%s: %w", strings.Replace(flag, "layers", "weights", 1), err)
			}
		}
		return gradcam.New(gradcam.Options{Layers: idx, Weights: w, Lambda: s.Lambda, Direction: dir,
			Detach: s.Detach, Order: order}, g)
	}
	a1, err := build(s.Layers, s.Weights, "att_layers")
	if err != nil {
		return nil, err
	}
	t := NewTerm(a1)
	if strings.TrimSpace(s.Stage2Layers) != "" {
		if s.Stage2Epoch < 1 {
			return nil, fmt.Errorf("-att_stage2_epoch %d: the two-stage schedule needs the first epoch of stage 2 (≥ 1)", s.Stage2Epoch)
		}
		if t.Stage2, err = build(s.Stage2Layers, s.Stage2Weights, "att_layers2"); err != nil {
			return nil, err
		}
		t.Stage2From = s.Stage2Epoch
	}
	return t, nil
}

// Preset is a named experiment: the settings it implies for a generator of
// nBlocks residual blocks and a run whose last epoch is lastEpoch.
type Preset struct {
	Name string
	Doc  string
	Set  func(nBlocks, lastEpoch int) Settings
}

// blockIndex returns the Sequential index of residual block b (0-based).
func blockIndex(b int) int { return 10 + b }

// fourBlocks returns the thesis' four layers {10, 14, 15, 18} for 9 blocks:
// blocks 0, 4, 5 and 8; for other depths the same relative positions
// (b·(n−1)/8 rounded), without repeats.
func fourBlocks(n int) string {
	var idx []string
	for _, b := range []int{0, 4, 5, 8} {
		s := strconv.Itoa(blockIndex(int(math.Round(float64(b*(n-1)) / 8))))
		if !slices.Contains(idx, s) {
			idx = append(idx, s)
		}
	}
	return strings.Join(idx, ",")
}

// weightedAll gives every block weight 1 and the last block n−1, so the
// last block carries half the loss and the others share the rest.
func weightedAll(n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = "1"
	}
	w[n-1] = strconv.Itoa(max(n-1, 1))
	return strings.Join(w, ",")
}

// Presets returns the experiments of the thesis (SPEC §4), in its table's
// order, then its future work.
func Presets() []Preset {
	return []Preset{
		{"standard", "the standard CycleGAN: no attention loss",
			func(int, int) Settings { return Settings{} }},
		{"gradcam", "GradCam: the last residual block (18 of a 9-block generator), λ_att 1, both directions, order 2",
			func(int, int) Settings { return Settings{Layers: "last", Lambda: 1} }},
		{"gradcam_coeff", "GradCamWithCoeff: as gradcam with λ_att 0.1",
			func(int, int) Settings { return Settings{Layers: "last", Lambda: 0.1} }},
		{"gradcam_a2b", "GradCamA2B: as gradcam with only the A→B→A term (MSE(cam_GA(real_A), cam_GB(fake_B)))",
			func(int, int) Settings { return Settings{Layers: "last", Lambda: 1, Direction: "A2B"} }},
		{"gradcam_detach", "GradCamWithDetach: as gradcam with the translation-side maps cam_GA(real_A), cam_GB(real_B) detached",
			func(int, int) Settings { return Settings{Layers: "last", Lambda: 1, Detach: true} }},
		{"gradcam_four", "GradCamFourLayers: blocks 10, 14, 15, 18 (the same relative positions for other depths), uniform weights",
			func(n, _ int) Settings { return Settings{Layers: fourBlocks(n), Lambda: 1} }},
		{"gradcam_all", "future work: every residual block (10…18), uniform weights",
			func(int, int) Settings { return Settings{Layers: "all", Lambda: 1} }},
		{"gradcam_weighted", "future work: every residual block, the last weighted as all the others together (weights 1,…,1,n−1)",
			func(n, _ int) Settings { return Settings{Layers: "all", Weights: weightedAll(n), Lambda: 1} }},
		{"two_stage", "future work: the last block for the first half of the epochs, then every block",
			func(_, last int) Settings {
				return Settings{Layers: "last", Lambda: 1, Stage2Layers: "all", Stage2Epoch: last/2 + 1}
			}},
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
