// Package steptest replays the PyTorch golden training run of
// testdata/cyclegan (written by testdata/gen_cyclegan_golden.py) and compares
// losses and weights. The CycleGAN step test and the attention step test
// share it.
package steptest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// Dir is the golden folder, relative to the repository root.
const Dir = "testdata/cyclegan"

// Config is the golden run's model: ngf 8, ndf 8, 2 blocks, 32×32 images,
// no image pool, in dtype dt.
func Config(dt tensor.DType) cyclegan.Options {
	o := cyclegan.DefaultOptions()
	o.NGF, o.NDF, o.NBlocks = 8, 8, 2
	o.PoolSize = 0
	o.DType = dt
	return o
}

// tolerance is the agreement expected in dtype dt. The figures behind the
// float32 ones are in CompareWeights' and checkNormedGradients' comments.
type tolerance struct {
	loss   float64 // relative, for each logged loss
	update float64 // ‖Δw − Δw_torch‖ / ‖Δw_torch‖ per tensor, Δw = the weights' change
	// elem is the |Δw − Δw_torch| of one element, in units of lr·iters,
	// beyond which the element counts as off; off is the fraction of a
	// tensor's elements that may be off (rounded down: none in a tensor of
	// fewer than 1/off elements).
	elem, off float64
	// normedElem is elem for the normed biases, 0 where their updates are
	// not compared (float32: there they are rounding noise).
	normedElem float64
	// normedGrad bounds the normed biases' Adam first moment, largest
	// |m|, relative to the root mean square of the other parameters' m in
	// the same network.
	normedGrad float64
}

func tol(dt tensor.DType) tolerance {
	if dt == tensor.Float64 {
		return tolerance{loss: 1e-8, update: 1e-6, elem: 1e-6, off: 0, normedElem: 1e-4, normedGrad: 1e-10}
	}
	return tolerance{loss: 1e-4, update: 0.01, elem: 0.1, off: 1e-3, normedGrad: 1e-3}
}

// Root finds the repository root (the folder holding go.mod) above the
// test's working directory.
func Root(t testing.TB) string {
	d, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		up := filepath.Dir(d)
		if up == d {
			t.Fatal("no go.mod above the working directory")
		}
		d = up
	}
}

// Run loads the initial weights, trains two iterations with
// "-preprocess none -no_flip -serial_batches -pool_size 0" on the golden
// images, with the attention loss att (cyclegan.DefaultAttention() for none),
// and compares with the golden variant: every logged loss (within 1e-4
// relative in float32, 1e-8 in float64), the weights after the updates (see
// CompareWeights) and the gradients of the normed biases (see
// checkNormedGradients). The run is in dtype dt, the golden variant's own,
// on the CPU.
func Run(t *testing.T, variant string, dt tensor.DType, att cyclegan.AttentionOptions) {
	RunOn(t, tensor.CPU, variant, dt, att)
}

// RunOn is Run on backend be, against the same golden files and within
// the same tolerances.
func RunOn(t *testing.T, be tensor.Backend, variant string, dt tensor.DType, att cyclegan.AttentionOptions) {
	root := filepath.Join(Root(t), Dir)
	d, err := data.Open(data.Options{Dataroot: filepath.Join(root, "data"), Phase: "train", Preprocess: "none", LoadSize: 32, CropSize: 32,
		NoFlip: true, SerialBatches: true})
	if err != nil {
		t.Fatal(err)
	}
	o := Config(dt)
	o.Attention = att
	o.Backend = be
	m, err := cyclegan.New(o, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadNets(root, "init"); err != nil {
		t.Fatal(err)
	}
	init := make([]map[string][]float64, 4)
	for i, n := range m.Nets() {
		init[i] = map[string][]float64{}
		for _, p := range n.Params() {
			init[i][p.Name] = p.Var.Value.Values()
		}
	}
	var want []map[string]float64
	raw, err := os.ReadFile(filepath.Join(root, variant, "losses.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	pairs := d.Epoch(1)
	for i, w := range want {
		a, b, err := d.Load(pairs[i])
		if err != nil {
			t.Fatal(err)
		}
		l, err := m.Step(tensor.CPU.Cast(a, dt).To(be), tensor.CPU.Cast(b, dt).To(be), cyclegan.DefaultAdam().LR, m.Attention.At(1))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{"G_A": l.GA, "G_B": l.GB, "cycle_A": l.CycleA, "cycle_B": l.CycleB,
			"idt_A": l.IdtA, "idt_B": l.IdtB, "D_A": l.DA, "D_B": l.DB, "att": l.Att}
		for k, v := range w {
			if k == "iter" {
				continue
			}
			if math.Abs(got[k]-v) > tol(dt).loss*math.Abs(v) {
				t.Errorf("iteration %d: %s = %.8g, PyTorch %.8g (rel. diff %.2g)", i+1, k, got[k], v, math.Abs(got[k]-v)/math.Abs(v))
			}
		}
	}
	for i, n := range m.Nets() {
		path := filepath.Join(root, variant, fmt.Sprintf("final_net_%s.safetensors", cyclegan.NetNames[i]))
		ts, _, err := checkpoint.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		CompareWeights(t, cyclegan.NetNames[i], n, init[i], ts, len(want), tol(dt))
	}
	checkNormedGradients(t, m, tol(dt))
}

// CompareWeights checks the weights after `iters` Adam steps against
// PyTorch's, given the weights before, in two ways.
//
// The update of each tensor as a whole: ‖Δw − Δw_torch‖ ≤ tl.update·‖Δw_torch‖.
//
// And element by element, in units of lr·iters. Each Adam step moves an
// element by about lr at most, so two runs can never differ by much more
// than 2·lr·iters, and a bound of that size (this used to be 2.5·lr·iters)
// could never fail. Adam divides each gradient element by its own
// running magnitude, so every element with a gradient of consistent sign
// steps by about lr whatever its gradient's size, and an element whose
// gradient is small next to the rest of its tensor carries that
// gradient's larger relative rounding error into a step of ordinary size.
// Measured in float32 against the golden runs (Go against PyTorch):
//
//	variant    net   largest |Δw − Δw_torch|   elements beyond 0.01
//	standard   G_A   0.0086                    0 of 50739
//	standard   G_B   0.0143                    4 of 50739
//	standard   D_*   0.0003                    0 of 44425
//	att        G_*   0.0065                    0
//	att        D_*   0.0002                    0
//
// and every element beyond 0.003 has a root-mean-square gradient (√v) of
// 0.3–12% of its tensor's. Two PyTorch builds on different machines (the
// golden files before and after they were regenerated) differ by at most
// 0.0012. So an element is "off" beyond tl.elem = 0.1·lr·iters
// (seven times the worst seen) and at most a fraction tl.off = 0.1% of a
// tensor's elements may be off (none seen; the allowance is for the rare
// element whose gradient is below rounding, where two correct programs
// take steps of opposite sign). A wrong update moves most elements of the
// tensors it touches by a good part of lr·iters: a negated update by twice
// the update, a learning rate 1.5 times too large by half of it.
// In float64 both bounds are tight: tl.update 1e-6 (measured 2e-13) and
// no element off beyond 1e-6·lr·iters (measured 1e-11).
//
// The biases of convolutions that feed an InstanceNorm (NormedBiases) have
// a gradient of exactly zero in exact arithmetic (the norm subtracts the
// plane mean, bias included); what is computed is rounding noise, which
// Adam in float32 scales to steps of about lr in random directions
// (measured: the two programs differ there by a median of 0.30–0.63 and up
// to 2.0·lr·iters). Their float32 updates are not compared: their
// gradient is checked instead (checkNormedGradients). In float64 the noise
// (|g| ≈ 1e-14) is far below Adam's eps 1e-8, so both programs hardly move
// them (steps ≈ lr·|g|/eps): they must agree within tl.normedElem =
// 1e-4·lr·iters (measured 1.4e-6), which a gradient that is not zero fails
// by four orders of magnitude.
func CompareWeights(t *testing.T, net string, n *cyclegan.Network, before map[string][]float64, want map[string]*tensor.Tensor, iters int, tl tolerance) {
	t.Helper()
	step := cyclegan.DefaultAdam().LR * float64(iters)
	normed := NormedBiases("model", n.Model)
	worst, worstName := 0.0, ""
	worstElem, worstElemName := 0.0, ""
	for _, p := range n.Params() {
		w, ok := want[p.Name]
		if !ok {
			t.Errorf("%s: %s missing from the golden file", net, p.Name)
			continue
		}
		got, exp, w0 := p.Var.Value.Values(), w.Values(), before[p.Name]
		if len(got) != len(exp) {
			t.Errorf("%s: %s has %d values, golden %d", net, p.Name, len(got), len(exp))
			continue
		}
		elem, allowed := tl.elem, int(tl.off*float64(len(got)))
		if normed[p.Name] {
			if tl.normedElem == 0 {
				continue
			}
			elem, allowed = tl.normedElem, 0
		}
		var diff2, upd2, maxd float64
		off := 0
		for i := range got {
			d := got[i] - exp[i]
			diff2 += d * d
			upd2 += (exp[i] - w0[i]) * (exp[i] - w0[i])
			if math.Abs(d) > elem*step {
				off++
			}
			maxd = max(maxd, math.Abs(d)/step)
		}
		if off > allowed {
			t.Errorf("%s: %s: %d of %d elements differ from PyTorch by more than %.2g·lr·iters (%d may), up to %.3g·lr·iters",
				net, p.Name, off, len(got), elem, allowed, maxd)
		}
		if normed[p.Name] || upd2 == 0 {
			continue
		}
		if maxd > worstElem {
			worstElem, worstElemName = maxd, p.Name
		}
		r := math.Sqrt(diff2 / upd2)
		if r > tl.update {
			t.Errorf("%s: %s: ‖Δw − Δw_torch‖/‖Δw_torch‖ = %.3g (> %.3g)", net, p.Name, r, tl.update)
		}
		if r > worst {
			worst, worstName = r, p.Name
		}
	}
	t.Logf("%s: largest relative update difference %.2g (%s), largest element difference %.2g·lr·iters (%s)",
		net, worst, worstName, worstElem, worstElemName)
}

// checkNormedGradients checks that the gradient of every normed bias
// (NormedBiases) is zero up to rounding. Their float32 updates are noise
// and say nothing (CompareWeights), so the gradient is looked at directly,
// through Adam's first moment after the run, m = (1−β₁)(β₁g₁ + g₂): the
// largest |m| of each normed bias must be below tl.normedGrad times the
// root mean square of m over the other parameters of the same network.
// Measured on the golden runs, that ratio is at most 9.3e-6 in float32
// (D_B; G_* up to 5.2e-6) and 4.9e-14 in float64, so tl.normedGrad is 1e-3
// and 1e-10. A gradient that does not vanish — an InstanceNorm backward
// that forgets to subtract the plane mean of its output gradient, a bias
// gradient that is not the plane sum of the output gradient — is of the
// order of the others (ratio 0.16–216).
func checkNormedGradients(t *testing.T, m *cyclegan.Model, tl tolerance) {
	t.Helper()
	moment := map[*cyclegan.Var]*tensor.Tensor{}
	for _, o := range []*cyclegan.Adam{m.OptG, m.OptD} {
		for i, p := range o.Params {
			moment[p.Var] = o.M[i]
		}
	}
	for i, n := range m.Nets() {
		net := cyclegan.NetNames[i]
		normed := NormedBiases("model", n.Model)
		var sum2 float64
		count := 0
		var names []string
		var largest []float64
		for _, p := range n.Params() {
			mt := moment[p.Var]
			if mt == nil {
				t.Errorf("%s: %s has no Adam moment", net, p.Name)
				continue
			}
			var l, s2 float64
			for _, v := range mt.Values() {
				l, s2 = max(l, math.Abs(v)), s2+v*v
			}
			if normed[p.Name] {
				names, largest = append(names, p.Name), append(largest, l)
			} else {
				sum2, count = sum2+s2, count+mt.Numel()
			}
		}
		rms := math.Sqrt(sum2 / float64(count))
		worst, worstName := 0.0, ""
		for j, name := range names {
			r := largest[j] / rms
			if r > tl.normedGrad {
				t.Errorf("%s: %s: Adam's first moment up to %.3g, %.3g of the other parameters' root mean square (> %.3g): its gradient is not zero",
					net, name, largest[j], r, tl.normedGrad)
			}
			if r > worst {
				worst, worstName = r, name
			}
		}
		t.Logf("%s: normed biases' largest first moment %.2g of the others' root mean square (%s)", net, worst, worstName)
	}
}

// NormedBiases returns the names of the biases of convolutions directly
// followed by an InstanceNorm2d in seq (and in its residual blocks), under
// the state-dict prefix.
func NormedBiases(prefix string, seq *layers.Sequential) map[string]bool {
	out := map[string]bool{}
	for i, l := range seq.Layers {
		name := fmt.Sprintf("%s.%d", prefix, i)
		if b, ok := l.(*layers.ResnetBlock); ok {
			for k := range NormedBiases(name+".conv_block", b.ConvBlock) {
				out[k] = true
			}
			continue
		}
		if i+1 < len(seq.Layers) {
			if _, ok := seq.Layers[i+1].(*layers.InstanceNorm2d); ok {
				out[name+".bias"] = true
			}
		}
	}
	return out
}
