package gradcam

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/camcycle/camcycle/layers"
)

// ResidualBlocks returns the indices of g's residual blocks, ascending
// (10 … 9+n_blocks for SPEC's generator).
func ResidualBlocks(g *layers.Sequential) []int {
	var idx []int
	for i, l := range g.Layers {
		if _, ok := l.(*layers.ResnetBlock); ok {
			idx = append(idx, i)
		}
	}
	return idx
}

// ParseLayers reads a layer list for generator g: comma-separated indices
// ("18", "10,14,15,18"), "all" (every residual block, 10 … 9+n_blocks) or
// "last" (the last residual block). It returns an error naming the bad
// entry when an index is not a number, lies outside g or is repeated.
func ParseLayers(spec string, g *layers.Sequential) ([]int, error) {
	spec = strings.TrimSpace(spec)
	switch strings.ToLower(spec) {
	case "all", "last":
		blocks := ResidualBlocks(g)
		if len(blocks) == 0 {
			return nil, fmt.Errorf("layers %q: the generator has no residual block", spec)
		}
		if strings.ToLower(spec) == "last" {
			return blocks[len(blocks)-1:], nil
		}
		return blocks, nil
	case "":
		return nil, fmt.Errorf("layers: empty list (want e.g. 18, 10,14,15,18 or all)")
	}
	var idx []int
	seen := make(map[int]bool)
	for _, f := range strings.Split(spec, ",") {
		f = strings.TrimSpace(f)
		l, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("layers %q: %q is not a layer index", spec, f)
		}
		if l < 0 || l >= g.Len() {
			return nil, fmt.Errorf("layers %q: %d is outside the generator (indices 0…%d)", spec, l, g.Len()-1)
		}
		if seen[l] {
			return nil, fmt.Errorf("layers %q: %d is named twice", spec, l)
		}
		seen[l] = true
		idx = append(idx, l)
	}
	return idx, nil
}

// ParseWeights reads n comma-separated non-negative layer weights
// ("0.1,0.1,0.8"); an empty spec gives nil (uniform). The weights are
// relative: New divides them by their sum.
func ParseWeights(spec string, n int) ([]float64, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	fs := strings.Split(spec, ",")
	if len(fs) != n {
		return nil, fmt.Errorf("layer weights %q: %d values for %d layers", spec, len(fs), n)
	}
	w := make([]float64, n)
	sum := 0.0
	for i, f := range fs {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("layer weights %q: %q is not a non-negative number", spec, strings.TrimSpace(f))
		}
		w[i] = v
		sum += v
	}
	if sum == 0 {
		return nil, fmt.Errorf("layer weights %q: all zero", spec)
	}
	return w, nil
}

// ParseOrder reads "2", "1" or "0".
func ParseOrder(s string) (Order, error) {
	switch strings.TrimSpace(s) {
	case "2":
		return Second, nil
	case "1":
		return First, nil
	case "0":
		return None, nil
	}
	return 0, fmt.Errorf("order %q: want 2 (full), 1 (GradCAM weights constant) or 0 (no gradient)", s)
}

// ParseDirection reads "both" or "A2B" (case-insensitive).
func ParseDirection(s string) (Direction, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "both":
		return Both, nil
	case "a2b":
		return AToB, nil
	}
	return 0, fmt.Errorf("direction %q: want both or A2B", s)
}
