package ops_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/camcycle/camcycle/tensor"
)

// Every row of the op table on another backend or dtype, against the CPU
// in float64: the output, the VJP and the double backward that checkGolden
// compares with PyTorch (opValues), computed on be in dt from the same
// inputs. Where dt is float32 the inputs, u and w are rounded to float32
// first and the CPU reference is computed from the rounded values in
// float64, so only the computation's rounding is measured.
//
// The float64 tolerance is the golden one (goldenRtol, goldenAtol: only
// the order of summation may differ). The float32 one is f32Tol·ε₃₂
// relative to the element plus f32Tol·ε₃₂ times the tensor's largest
// element (at least 1): 256 is the conformance suite's multiple for
// convolutions (tensor/backendtest, convOf), here applied to whole chains
// of primitives. The CPU's own float32 passes it (TestOpTableFloat32),
// needing 0.0076 of it (measured: conv2d_s2_p1_k4's double backward with
// respect to u, about 2ε); f32Worst bounds that, so that the tolerance
// stays tied to a measurement.
const (
	f32Tol   = 256  // units of float32's ε = 2⁻²³: 3.05e-5
	f32Worst = 0.05 // the CPU's worst row may use this fraction of the tolerance
)

// opTableTolerance returns rtol, atol for dtype dt.
func opTableTolerance(dt tensor.DType) (rtol, atol float64) {
	if dt == tensor.Float64 {
		return goldenRtol, goldenAtol
	}
	e := f32Tol * math.Pow(2, -23)
	return e, e
}

// checkOpTableOn runs every row on be in dt and compares with the CPU in
// float64; it returns the largest error seen, as a fraction of the
// tolerance.
func checkOpTableOn(t *testing.T, be tensor.Backend, dt tensor.DType) float64 {
	rtol, atol := opTableTolerance(dt)
	worst, worstCase := 0.0, ""
	for _, c := range loadTable(t) {
		f, g, inputs, consts := loadCase(t, c)
		if dt == tensor.Float32 {
			g = roundedGolden(g)
			for i := range inputs {
				inputs[i] = g.Inputs[i].tensor()
			}
		}
		t.Run(c.Name, func(t *testing.T) {
			want := opValues(f, inputs, consts, g, tensor.CPU, tensor.Float64)
			got := opValues(f, inputs, consts, g, be, dt)
			if len(got) != len(want) {
				t.Fatalf("%d values on %s, %d on the CPU", len(got), be.Name(), len(want))
			}
			ref := "the CPU in float64"
			for k := range got {
				checkWithin(t, got[k].what, got[k].got, want[k].got, ref, rtol, atol)
				if r := relErr(got[k].got, want[k].got, rtol, atol); r > worst {
					worst, worstCase = r, fmt.Sprintf("%s, %s", c.Name, got[k].what)
				}
			}
		})
	}
	t.Logf("%s %s: largest error %.3g of the tolerance (%s)", be.Name(), dt, worst, worstCase)
	return worst
}

// relErr is the largest |a − w| / (rtol·|w| + atol·max(1, max|w|)).
func relErr(got, want *tensor.Tensor, rtol, atol float64) float64 {
	wv := want.Values()
	scale := scaleOf(wv)
	r := 0.0
	for i, a := range got.Values() {
		r = max(r, math.Abs(a-wv[i])/(rtol*math.Abs(wv[i])+atol*scale))
	}
	return r
}

// roundedGolden returns g with its inputs, u and w rounded to float32.
func roundedGolden(g *goldenCase) *goldenCase {
	round := func(x *goldenTensor) *goldenTensor {
		if x == nil {
			return nil
		}
		d := make([]float64, len(x.Data))
		for i, v := range x.Data {
			d[i] = float64(float32(v))
		}
		return &goldenTensor{Shape: x.Shape, Data: d}
	}
	r := *g
	r.Inputs = make([]*goldenTensor, len(g.Inputs))
	for i, x := range g.Inputs {
		r.Inputs[i] = round(x)
	}
	r.U = round(g.U)
	r.W = make([]*goldenTensor, len(g.W))
	for i, x := range g.W {
		r.W[i] = round(x)
	}
	return &r
}

// TestOpTableFloat32: the CPU's own float32 passes the float32 tolerance
// that the other backends are held to (optable_cuda_test.go), with room:
// a tolerance the CPU needed all of would say little.
func TestOpTableFloat32(t *testing.T) {
	if w := checkOpTableOn(t, tensor.CPU, tensor.Float32); w > f32Worst {
		t.Errorf("the CPU's float32 needs %.3g of the tolerance; f32Worst says %g: measure again and set both", w, f32Worst)
	}
}
