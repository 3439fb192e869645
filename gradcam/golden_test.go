package gradcam_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// golden is testdata/gradcam/golden.json, written by
// testdata/gen_gradcam_golden.py with PyTorch.
type golden struct {
	NGF     int                     `json:"ngf"`
	NBlocks int                     `json:"n_blocks"`
	NDF     int                     `json:"ndf"`
	NLayers int                     `json:"n_layers"`
	Tensors map[string]goldenTensor `json:"tensors"`
	Cases   []goldenCase            `json:"cases"`
}

type goldenTensor struct {
	Shape []int  `json:"shape"`
	F64   string `json:"f64"` // base64 of little-endian float64
}

type goldenCase struct {
	Name      string                  `json:"name"`
	Order     int                     `json:"order"`
	Direction string                  `json:"direction"`
	Detach    bool                    `json:"detach"`
	Lambda    float64                 `json:"lambda"`
	Weights   []float64               `json:"weights"`
	Layers    []int                   `json:"layers"`
	Loss      float64                 `json:"loss"`
	A2B       float64                 `json:"a2b"`
	B2A       *float64                `json:"b2a"`
	Grads     map[string]goldenTensor `json:"grads"`
}

func (g goldenTensor) tensor(t *testing.T) *tensor.Tensor {
	raw, err := base64.StdEncoding.DecodeString(g.F64)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float64, len(raw)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return tensor.FromFloat64s(v, g.Shape...)
}

// loadGolden reads the golden file and builds its networks and images.
func loadGolden(t *testing.T) (*golden, nets, *tensor.Tensor, *tensor.Tensor) {
	t.Helper()
	return loadGoldenOn(t, tensor.CPU)
}

// loadGoldenOn is loadGolden with the networks and images on backend be
// (float64).
func loadGoldenOn(t *testing.T, be tensor.Backend) (*golden, nets, *tensor.Tensor, *tensor.Tensor) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "gradcam", "golden.json"))
	if err != nil {
		t.Fatalf("%v (run /usr/bin/python3 testdata/gen_gradcam_golden.py)", err)
	}
	var gd golden
	if err := json.Unmarshal(b, &gd); err != nil {
		t.Fatalf("testdata/gradcam/golden.json: %v", err)
	}
	n := tinyNets(0, gd.NGF, gd.NBlocks, gd.NDF, gd.NLayers)
	for name, net := range map[string]interface{ Params() []layers.NamedParam }{
		"G_A": n.GA, "G_B": n.GB, "D_A": n.DA, "D_B": n.DB} {
		for _, p := range net.Params() {
			key := name + "." + p.Name
			gt, ok := gd.Tensors[key]
			if !ok {
				t.Fatalf("golden file has no %s", key)
			}
			v := gt.tensor(t)
			if !v.Shape().Equal(p.Var.Shape()) {
				t.Fatalf("%s: golden shape %v, network %v", key, v.Shape(), p.Var.Shape())
			}
			p.Var.Value = v
		}
	}
	for _, net := range n.all() {
		layers.MoveTo(net, be, tensor.Float64)
	}
	return &gd, n, gd.Tensors["real_A"].tensor(t).To(be), gd.Tensors["real_B"].tensor(t).To(be)
}

func (c goldenCase) options(t *testing.T) gradcam.Options {
	var order gradcam.Order
	if err := order.Set(strconv.Itoa(c.Order)); err != nil {
		t.Fatal(err)
	}
	var dir gradcam.Direction
	if err := dir.Set(c.Direction); err != nil {
		t.Fatal(err)
	}
	return gradcam.Options{Layers: gradcam.Indices(c.Layers...), Weights: c.Weights, Lambda: c.Lambda,
		Direction: dir, Detach: c.Detach, Order: order}
}

// near reports |a − b| ≤ atol + rtol·|b|.
func near(a, b, atol, rtol float64) bool { return math.Abs(a-b) <= atol+rtol*math.Abs(b) }

// TestGoldenPyTorch compares the loss, its directions and the gradients of
// both generators' parameters with PyTorch's (torch.autograd.grad with
// create_graph=True for order 2), for orders 2 and 1, with Detach and with
// direction A2B.
func TestGoldenPyTorch(t *testing.T) { goldenPyTorch(t, tensor.CPU) }

// goldenPyTorch is TestGoldenPyTorch on backend be, float64 (the same
// tolerances: only the order of summation may differ).
func goldenPyTorch(t *testing.T, be tensor.Backend) {
	gd, n, realA, realB := loadGoldenOn(t, be)
	defer n.freezeD()()
	ps := n.genParams()
	for i, c := range gd.Cases {
		t.Run(c.Name, func(t *testing.T) {
			att, err := gradcam.New(c.options(t), n.GA.Model)
			if err != nil {
				t.Fatal(err)
			}
			// Alternate between reusing the GAN predictions and letting
			// the loss run the discriminators: both must give the same.
			terms := att.Terms(n.inputs(att, realA, realB, i%2 == 0))
			if !near(terms.Total.Item(), c.Loss, 1e-13, 1e-10) || !near(terms.A2B.Item(), c.A2B, 1e-13, 1e-10) {
				t.Errorf("loss %.15g (A2B %.15g), PyTorch %.15g (A2B %.15g)", terms.Total.Item(), terms.A2B.Item(), c.Loss, c.A2B)
			}
			if (c.B2A == nil) != (terms.B2A == nil) || (c.B2A != nil && !near(terms.B2A.Item(), *c.B2A, 1e-13, 1e-10)) {
				t.Errorf("B2A term %v, PyTorch %v", terms.B2A, c.B2A)
			}
			gs := grads(terms.Total, ps)
			var worst, scale float64
			for k, p := range ps {
				gt, ok := c.Grads[p.Name]
				if !ok {
					t.Fatalf("golden case has no gradient for %s", p.Name)
				}
				want := gt.tensor(t).Values()
				bad := 0
				for e, w := range want {
					scale = max(scale, math.Abs(w))
					d := math.Abs(gs[k][e] - w)
					worst = max(worst, d)
					if !near(gs[k][e], w, 1e-12, 1e-9) {
						if bad < 3 {
							t.Errorf("%s[%d]: gradient %.12g, PyTorch %.12g", p.Name, e, gs[k][e], w)
						}
						bad++
					}
				}
			}
			t.Logf("loss %.6g: largest gradient difference %.3g (largest element %.3g)", c.Loss, worst, scale)
		})
	}
}

// TestGoldenDiscriminatorsGetNothing runs Backward on the loss as the
// generator step does: the generators' parameters get PyTorch's gradient,
// the frozen discriminators nothing, though the gradient went through them.
func TestGoldenDiscriminatorsGetNothing(t *testing.T) {
	gd, n, realA, realB := loadGolden(t)
	restore := n.freezeD()
	c := gd.Cases[0]
	att, err := gradcam.New(c.options(t), n.GA.Model)
	if err != nil {
		t.Fatal(err)
	}
	autograd.Backward(att.Loss(n.inputs(att, realA, realB, true)))
	restore()
	for _, d := range []struct {
		name string
		ps   []layers.NamedParam
	}{{"D_A", n.DA.Params()}, {"D_B", n.DB.Params()}} {
		for _, p := range d.ps {
			if p.Var.Grad != nil {
				t.Errorf("%s.%s got a gradient from the attention loss", d.name, p.Name)
			}
		}
	}
	for _, p := range n.genParams() {
		want := c.Grads[p.Name].tensor(t).Values()
		if p.Var.Grad == nil {
			if norm2(want) != 0 {
				t.Errorf("%s got no gradient", p.Name)
			}
			continue
		}
		got := p.Var.Grad.Values()
		for e := range want {
			if !near(got[e], want[e], 1e-12, 1e-9) {
				t.Errorf("%s[%d]: Backward gave %.12g, PyTorch %.12g", p.Name, e, got[e], want[e])
				break
			}
		}
	}
}

// TestGoldenOrderZero: order 0 (the thesis' code) gives the same loss value
// as PyTorch's order 2, but as a constant that trains nothing.
func TestGoldenOrderZero(t *testing.T) {
	gd, n, realA, realB := loadGolden(t)
	defer n.freezeD()()
	c := gd.Cases[0]
	o := c.options(t)
	o.Order = gradcam.None
	att, err := gradcam.New(o, n.GA.Model)
	if err != nil {
		t.Fatal(err)
	}
	l := att.Loss(n.inputs(att, realA, realB, true))
	if !near(l.Item(), c.Loss, 1e-13, 1e-10) {
		t.Errorf("order-0 loss %.15g, PyTorch's order-2 loss %.15g", l.Item(), c.Loss)
	}
	if l.RequiresGrad() || !l.IsLeaf() {
		t.Errorf("order-0 loss %v carries a graph", l)
	}
}
