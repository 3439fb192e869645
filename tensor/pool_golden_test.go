package tensor_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/camcycle/camcycle/tensor"
)

// poolGolden is testdata/pool/golden.json, written by
// testdata/gen_pool_golden.py with PyTorch.
type poolGolden struct {
	Cases []struct {
		Name            string
		Op              string
		Shape           []int
		Kernel          int
		Stride          int
		Padding         int
		CountIncludePad bool `json:"count_include_pad"`
		Size            []int
		Input           []float64
		OutShape        []int `json:"out_shape"`
		Float64         []float64
		Float32         []float64
	}
}

// TestPoolResizeGolden: the CPU backend's MaxPool2d, AvgPool2d and
// ResizeBilinear against F.max_pool2d, F.avg_pool2d and
// F.interpolate(mode="bilinear", align_corners=False) — in float64 to
// rounding (1e-12), in float32 to a few units in the last place of the
// largest input (the two accumulate in different orders).
func TestPoolResizeGolden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "pool", "golden.json"))
	if err != nil {
		t.Fatalf("%v (run /usr/bin/python3 testdata/gen_pool_golden.py)", err)
	}
	var g poolGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range g.Cases {
		for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
			x := tensor.FromValues(dt, c.Input, c.Shape...)
			p := tensor.PoolParams{Kernel: c.Kernel, Stride: c.Stride, Padding: c.Padding, CountIncludePad: c.CountIncludePad}
			var y *tensor.Tensor
			switch c.Op {
			case "max":
				y = tensor.CPU.MaxPool2d(x, p)
			case "avg":
				y = tensor.CPU.AvgPool2d(x, p)
			case "resize":
				y = tensor.CPU.ResizeBilinear(x, c.Size[0], c.Size[1])
			default:
				t.Fatalf("%s: unknown op %q", c.Name, c.Op)
			}
			want, tol := c.Float64, 1e-12
			if dt == tensor.Float32 {
				want, tol = c.Float32, 8*math.Pow(2, -23)*maxAbs(c.Input)
			}
			if !y.Shape().Equal(tensor.Shape(c.OutShape)) {
				t.Errorf("%s %s: shape %v, PyTorch %v", c.Name, dt, y.Shape(), c.OutShape)
				continue
			}
			worst := 0.0
			for i, v := range y.Values() {
				worst = max(worst, math.Abs(v-want[i]))
			}
			if worst > tol {
				t.Errorf("%s %s: differs from PyTorch by up to %.3g (allowed %.3g)", c.Name, dt, worst, tol)
			}
		}
	}
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}
