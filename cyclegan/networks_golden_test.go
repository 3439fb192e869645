package cyclegan_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/internal/steptest"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

// netGolden is one case of testdata/networks (gen_networks_golden.py).
type netGolden struct {
	Kind   string `json:"kind"`
	Config struct {
		NetG     string `json:"netG"`
		NetD     string `json:"netD"`
		NGF      int    `json:"ngf"`
		NDF      int    `json:"ndf"`
		NBlocks  int    `json:"n_blocks"`
		NLayersD int    `json:"n_layers_D"`
		Norm     string `json:"norm"`
		Dropout  bool   `json:"dropout"`
	} `json:"config"`
	Batch, Side, Stride int
	Eval, Train, Grad   *goldenValues
	Running             map[string][]float64 `json:"running"`
}

type goldenValues struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

// wave is the scripts' input: sin or cos(a + b·i) over the flat index.
func wave(f func(float64) float64, a, b float64, shape ...int) *tensor.Tensor {
	n := 1
	for _, s := range shape {
		n *= s
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = f(a + b*float64(i))
	}
	return tensor.FromFloat64s(v, shape...)
}

// TestNetworksGolden builds each network of testdata/networks as
// gen_networks_golden.py built it with the reference's classes: the
// reference's state dict loads with every name (weights, running
// statistics) matched and none left over, and the outputs in evaluation
// mode, in training mode, the input gradient and the running statistics
// after one training forward agree with PyTorch's in float64.
func TestNetworksGolden(t *testing.T) {
	dir := filepath.Join(steptest.Root(t), "testdata", "networks")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) < 10 {
		t.Fatalf("golden cases %v (%v): run /usr/bin/python3 testdata/gen_networks_golden.py", files, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var g netGolden
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			c := g.Config
			o := cyclegan.DefaultOptions()
			o.DType, o.Norm, o.Dropout = tensor.Float64, layers.Norm(c.Norm), c.Dropout
			o.NGF, o.NDF, o.NBlocks, o.NLayersD = c.NGF, c.NDF, c.NBlocks, c.NLayersD
			o.NetG, o.NetD = c.NetG, c.NetD
			in := layers.Init{Rand: tensor.NewRand(1), DType: tensor.Float64}
			var n *cyclegan.Network
			if g.Kind == "G" {
				n = cyclegan.NewGenerator(in, o, tensor.NewRand(2))
			} else {
				n = cyclegan.NewDiscriminator(in, o)
			}
			if err := checkpoint.LoadNetwork(filepath.Join(dir, name+".safetensors"), n.State()); err != nil {
				t.Fatal(err)
			}
			x := wave(math.Sin, 0.5, 0.731, g.Batch, 3, g.Side, g.Side)
			n.SetTraining(false)
			compareGolden(t, "eval output", n.Forward(autograd.Const(x)).Value, g.Eval, g.Stride)
			if g.Train == nil {
				return
			}
			n.SetTraining(true)
			xv := autograd.Param(x)
			y := n.Forward(xv)
			compareGolden(t, "train output", y.Value, g.Train, g.Stride)
			u := autograd.Const(wave(math.Cos, 0.3, 0.417, y.Shape()...))
			gx := autograd.Grad([]*autograd.Var{ops.SumAll(ops.Mul(y, u))}, []*autograd.Var{xv}, nil, false)[0]
			compareGolden(t, "input gradient", gx.Value, g.Grad, g.Stride)
			bufs := n.Buffers()
			if len(bufs) != len(g.Running) {
				t.Errorf("%d buffers, PyTorch %d", len(bufs), len(g.Running))
			}
			for _, b := range bufs {
				want, ok := g.Running[b.Name]
				if !ok {
					t.Errorf("buffer %s: not in PyTorch's state dict", b.Name)
					continue
				}
				compareGolden(t, b.Name, b.Var.Value, &goldenValues{Shape: b.Var.Shape(), Data: want}, 0)
			}
		})
	}
}

// compareGolden compares got[:, :, ::stride, ::stride] (all of got when
// stride is 0) with PyTorch's values, within 1e-9 relative to their
// largest magnitude.
func compareGolden(t *testing.T, what string, got *tensor.Tensor, want *goldenValues, stride int) {
	t.Helper()
	if want == nil {
		t.Fatalf("%s: no golden values", what)
	}
	if stride > 0 {
		s := got.Shape()
		var v []float64
		all := got.Values()
		for i := 0; i < s[0]*s[1]; i++ {
			for h := 0; h < s[2]; h += stride {
				for w := 0; w < s[3]; w += stride {
					v = append(v, all[(i*s[2]+h)*s[3]+w])
				}
			}
		}
		got = tensor.FromFloat64s(v, s[0], s[1], (s[2]+stride-1)/stride, (s[3]+stride-1)/stride)
	}
	if fmt.Sprint(got.Shape()) != fmt.Sprint(tensor.Shape(want.Shape)) {
		t.Errorf("%s: shape %v, PyTorch %v", what, got.Shape(), want.Shape)
		return
	}
	scale := 1e-300
	for _, w := range want.Data {
		scale = max(scale, math.Abs(w))
	}
	bad := 0
	for i, v := range got.Values() {
		if d := math.Abs(v - want.Data[i]); d > 1e-9*scale {
			if bad < 3 {
				t.Errorf("%s: element %d is %.15g, PyTorch %.15g", what, i, v, want.Data[i])
			}
			bad++
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d of %d elements differ", what, bad, len(want.Data))
	}
}
