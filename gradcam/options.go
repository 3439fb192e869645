package gradcam

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/camcycle/camcycle/layers"
)

// The options of the attention loss are typed values. Each one that a
// command line sets is a flag.Value: Set parses the flag's text once, with
// every check that needs no generator, and String gives it back, so that a
// run's saved options are what it ran with. The checks that need the
// generator (is layer 40 inside it? as many weights as layers?) are made
// once, by New.

// Order says how much of the GradCAM map's dependence on the parameters is
// differentiated. The zero value is the full second order.
type Order uint8

const (
	// Second (order 2) keeps the channel weights w = mean_HW(∂s/∂A) as
	// differentiable functions: the loss's gradient includes the gradient
	// of a gradient.
	Second Order = iota
	// First (order 1) treats w as constants; the map is still a function
	// of the activations A.
	First
	// None (order 0) builds the maps from detached activations and constant
	// weights, as the thesis' code did: the maps and any loss on them are
	// constants.
	None
)

// Number returns 2, 1 or 0.
func (o Order) Number() int {
	switch o {
	case Second:
		return 2
	case First:
		return 1
	case None:
		return 0
	}
	panic(fmt.Sprintf("gradcam: unknown order %d", uint8(o)))
}

// String returns "2", "1" or "0", as Set reads them.
func (o Order) String() string { return strconv.Itoa(o.Number()) }

// Set reads "2", "1" or "0".
func (o *Order) Set(s string) error {
	switch strings.TrimSpace(s) {
	case "2":
		*o = Second
	case "1":
		*o = First
	case "0":
		*o = None
	default:
		return fmt.Errorf("order %q: want 2 (full), 1 (GradCAM weights constant) or 0 (no gradient)", s)
	}
	return nil
}

// Direction says which terms of the attention loss are used.
type Direction uint8

const (
	// Both directions (the default): MSE(cam_GA(real_A), cam_GB(fake_B)) +
	// MSE(cam_GB(real_B), cam_GA(fake_A)).
	Both Direction = iota
	// AToB keeps only the first term, A → B → A (the thesis' GradCamA2B).
	AToB
)

// String returns "both" or "A2B", as Set reads them.
func (d Direction) String() string {
	switch d {
	case Both:
		return "both"
	case AToB:
		return "A2B"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Set reads "both" or "A2B" (in any case).
func (d *Direction) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "both":
		*d = Both
	case "a2b":
		*d = AToB
	default:
		return fmt.Errorf("direction %q: want both or A2B", s)
	}
	return nil
}

// Layers selects layers of a generator by their index in its Sequential
// (18 is the last residual block of a 9-block generator, docs/method.md
// §1): a list of indices, or a keyword that Resolve turns into indices for a
// given generator. The zero value selects nothing.
//
//	"18", "10,14,15,18"   those layers
//	"all"                 every residual block
//	"last"                the last residual block
//	"every"               every layer
type Layers struct {
	keyword string // "all", "last", "every"; "" for the indices idx
	idx     []int
}

// Indices selects the layers at the given indices.
func Indices(idx ...int) Layers { return Layers{idx: slices.Clone(idx)} }

// AllBlocks selects every residual block.
func AllBlocks() Layers { return Layers{keyword: "all"} }

// LastBlock selects the last residual block, the thesis' layer.
func LastBlock() Layers { return Layers{keyword: "last"} }

// EveryLayer selects every layer of the generator.
func EveryLayer() Layers { return Layers{keyword: "every"} }

// IsZero reports whether l selects nothing.
func (l Layers) IsZero() bool { return l.keyword == "" && len(l.idx) == 0 }

// Equal reports whether l and m make the same selection.
func (l Layers) Equal(m Layers) bool { return l.keyword == m.keyword && slices.Equal(l.idx, m.idx) }

// String returns the selection as Set reads it: "18,10", "all", … ("" for
// none).
func (l Layers) String() string {
	if l.keyword != "" {
		return l.keyword
	}
	s := make([]string, len(l.idx))
	for i, v := range l.idx {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

// Set reads comma-separated indices ("18", "10,14,15,18"), a keyword (all,
// last, every, in any case) or "" (none). An error names the bad entry.
func (l *Layers) Set(s string) error {
	spec := strings.TrimSpace(s)
	switch k := strings.ToLower(spec); k {
	case "all", "last", "every":
		*l = Layers{keyword: k}
		return nil
	case "":
		*l = Layers{}
		return nil
	}
	var idx []int
	for _, f := range strings.Split(spec, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("layers %q: %q is not a layer index", s, strings.TrimSpace(f))
		}
		idx = append(idx, v)
	}
	m := Layers{idx: idx}
	if err := m.check(); err != nil {
		return fmt.Errorf("layers %q: %w", s, err)
	}
	*l = m
	return nil
}

// check is what can be said of a list of indices without a generator.
func (l Layers) check() error {
	for i, v := range l.idx {
		if v < 0 {
			return fmt.Errorf("%d is not a layer index (they start at 0)", v)
		}
		if slices.Contains(l.idx[:i], v) {
			return fmt.Errorf("%d is named twice", v)
		}
	}
	return nil
}

// Resolve returns the indices l selects in generator g, in the order
// given (keywords: ascending). It is an error when l selects nothing, an
// index lies outside g, or g has no residual block for "all" or "last".
func (l Layers) Resolve(g *layers.Sequential) ([]int, error) {
	switch l.keyword {
	case "all", "last":
		blocks := ResidualBlocks(g)
		if len(blocks) == 0 {
			return nil, fmt.Errorf("layers %s: the generator has no residual block", l.keyword)
		}
		if l.keyword == "last" {
			return blocks[len(blocks)-1:], nil
		}
		return blocks, nil
	case "every":
		idx := make([]int, g.Len())
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	}
	if len(l.idx) == 0 {
		return nil, errors.New("no layers selected (want e.g. 18, 10,14,15,18 or all)")
	}
	if err := l.check(); err != nil {
		return nil, fmt.Errorf("layers %v: %w", l, err)
	}
	for _, v := range l.idx {
		if v >= g.Len() {
			return nil, fmt.Errorf("layers %v: layer %d is outside the generator (indices 0…%d)", l, v, g.Len()-1)
		}
	}
	return slices.Clone(l.idx), nil
}

// ResidualBlocks returns the indices of g's residual blocks, ascending
// (10 … 9+n_blocks for the ResnetGenerator, docs/method.md §1).
func ResidualBlocks(g *layers.Sequential) []int {
	var idx []int
	for i, l := range g.Layers {
		if _, ok := l.(*layers.ResnetBlock); ok {
			idx = append(idx, i)
		}
	}
	return idx
}

// ZeroMapWhy says why the maps FlatMap finds are zero.
const ZeroMapWhy = "an instance norm's backward (and a training batch norm's, at batch size 1) removes each plane's mean from the gradient, " +
	"so the channel weights w = mean_HW(∂s/∂A) are zero and the map is zero by construction"

// FlatMap returns, when the GradCAM map of layer i of g is zero by
// construction, how the layer's output reaches an instance norm ("layer 13
// (ConvTranspose2d) feeds the InstanceNorm2d at layer 14"), and "" when it
// is not. The output of such a layer is normalised per channel plane before
// anything else uses it, so ∂s/∂A has zero mean over every plane (see
// ZeroMapWhy). A BatchNorm2d counts as such a norm: in training mode at
// batch size 1, as training runs, it normalises each channel over its one
// plane, exactly as InstanceNorm2d (over a batch of N > 1 it removes only
// the mean over all N planes, so the maps are not zero, but the attention
// loss is computed at batch size 1). Reflection padding and convolutions without zero padding
// between the layer and the norm keep that (the gradient of each input
// plane sums the output planes' sums, each weighted), so they are followed
// through; anything else stops the search. The answer is read from g's
// structure alone.
func FlatMap(g *layers.Sequential, i int) string {
	var via []string
	for j := i + 1; j < g.Len(); j++ {
		switch l := g.Layers[j].(type) {
		case *layers.InstanceNorm2d, *layers.BatchNorm2d:
			through := " "
			if len(via) > 0 {
				through = ", through " + strings.Join(via, " and ") + ", "
			}
			return fmt.Sprintf("layer %d (%s) feeds%sthe %s at layer %d", i, LayerName(g.Layers[i]), through, LayerName(l), j)
		case *layers.ReflectionPad2d:
			via = append(via, fmt.Sprintf("the ReflectionPad2d at layer %d", j))
		case *layers.Conv2d:
			if l.Padding != 0 {
				return ""
			}
			via = append(via, fmt.Sprintf("the unpadded Conv2d at layer %d", j))
		default:
			return ""
		}
	}
	return ""
}

// LayerName is a layer's type without its package ("ResnetBlock").
func LayerName(m layers.Module) string {
	s := fmt.Sprintf("%T", m)
	return s[strings.LastIndex(s, ".")+1:]
}

// Weights are the relative weights of the selected layers, one each,
// non-negative and not all zero. New divides them by their sum, so that
// Σ ω_ℓ = 1 and λ_att alone sets the loss' scale. Nil means uniform
// (ω_ℓ = 1/|S|), which is also what the thesis computed: it stacked the
// maps of its layers and took one MSE, the mean of the per-layer MSEs.
type Weights []float64

// String returns the weights as Set reads them ("1,1,3"; "" for uniform).
func (w Weights) String() string {
	s := make([]string, len(w))
	for i, v := range w {
		s[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

// Set reads comma-separated weights ("0.1,0.1,0.8"); "" means uniform.
func (w *Weights) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		*w = nil
		return nil
	}
	var v Weights
	for _, f := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return fmt.Errorf("layer weights %q: %q is not a number", s, strings.TrimSpace(f))
		}
		v = append(v, x)
	}
	if err := v.check(); err != nil {
		return fmt.Errorf("layer weights %q: %w", s, err)
	}
	*w = v
	return nil
}

// check is what can be said of the weights without the layers.
func (w Weights) check() error {
	sum := 0.0
	for _, v := range w {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%v is not a non-negative number", v)
		}
		sum += v
	}
	if len(w) > 0 && sum == 0 {
		return errors.New("all zero")
	}
	return nil
}

// Options configure the attention-consistency loss (docs/method.md §3).
// DefaultOptions gives the thesis' settings; the layers are to be chosen.
type Options struct {
	// Layers are the generator layers S whose maps are compared.
	Layers Layers
	// Weights are their relative weights (nil: uniform).
	Weights Weights
	// Lambda is λ_att, a positive number (to compute and log the loss
	// without training on it, use Order None).
	Lambda float64
	// Direction: Both (default) or AToB.
	Direction Direction
	// Detach makes the translation-side maps cam_GA(real_A) and
	// cam_GB(real_B) constants: only the reconstruction side is trained to
	// match them (the thesis' GradCamWithDetach).
	Detach bool
	// Order: Second (default), First or None (see Order).
	Order Order
}

// DefaultOptions returns λ_att 1, both directions, no detach, order 2, and
// no layers.
func DefaultOptions() Options { return Options{Lambda: 1} }

// checkLambda is the rule for λ_att.
func checkLambda(v float64) error {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("λ_att %v must be a positive number (order 0 computes and logs the loss without training on it)", v)
	}
	return nil
}
