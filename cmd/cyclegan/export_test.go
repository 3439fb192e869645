package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// TestExportRoundTrip: a trained run exported at latest and at an epoch
// snapshot gives the four {epoch}_net_*.pth files of the reference's
// save_networks, which hold exactly the run's weights (LoadPth, bit for
// bit) under the same names; by default beside the run's checkpoints.
func TestExportRoundTrip(t *testing.T) {
	w := trained(t, "-save_epoch_freq", "1", "-max_iters", "4")
	out := filepath.Join(t.TempDir(), "exported")
	for _, c := range []struct {
		epoch string
		args  []string
		dir   string
	}{
		{"latest", []string{"-out", out}, out},
		{"1", []string{"--epoch", "1", "-out", out}, out},
		{"latest", nil, w.dir("r")},
	} {
		args := append([]string{"export", "-checkpoints_dir", w.checkpoints, "-name", "r"}, c.args...)
		stdout := mustCLI(t, args...)
		for _, n := range cyclegan.NetNames {
			pth := filepath.Join(c.dir, c.epoch+"_net_"+n+".pth")
			if !strings.Contains(stdout, pth) {
				t.Errorf("the output does not name %s:\n%s", pth, stdout)
			}
			checkExported(t, pth, filepath.Join(w.dir("r"), c.epoch+"_net_"+n+".safetensors"))
		}
	}
}

// TestExportBatchNorm: a network with batch norms is exported with its
// running statistics, num_batches_tracked as PyTorch's int64 (read back by
// value: a G_A forward in training mode counts three batches per
// iteration, as the reference's).
func TestExportBatchNorm(t *testing.T) {
	w := trained(t, "-norm", "batch", "-max_iters", "2")
	out := filepath.Join(t.TempDir(), "exported")
	mustCLI(t, "export", "-checkpoints_dir", w.checkpoints, "-name", "r", "-out", out)
	for _, n := range cyclegan.NetNames {
		checkExported(t, filepath.Join(out, "latest_net_"+n+".pth"), filepath.Join(w.dir("r"), "latest_net_"+n+".safetensors"))
	}
	got, err := checkpoint.LoadPth(filepath.Join(out, "latest_net_G_A.pth"))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := got["model.2.num_batches_tracked"]; !ok || c.Item() != 6 {
		t.Errorf("model.2.num_batches_tracked: %v, %v; want 6 (3 forwards in each of 2 iterations)", c, ok)
	}
}

// checkExported checks that the .pth file holds exactly the tensors of
// the safetensors checkpoint, bit for bit.
func checkExported(t *testing.T, pth, safetensors string) {
	t.Helper()
	got, err := checkpoint.LoadPth(pth)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := checkpoint.Load(safetensors)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d tensors, the checkpoint has %d", pth, len(got), len(want))
	}
	for name, wt := range want {
		g, ok := got[name]
		if !ok || !g.Shape().Equal(wt.Shape()) {
			t.Errorf("%s: %s missing or of another shape", pth, name)
			continue
		}
		gv, wv := g.Values(), wt.Values() // float32 parameters, the int64 counter of a batch norm
		for i := range wv {
			if math.Float64bits(gv[i]) != math.Float64bits(wv[i]) {
				t.Errorf("%s: %s[%d] = %v, the checkpoint has %v", pth, name, i, gv[i], wv[i])
				break
			}
		}
	}
}

// TestExportRefuses: no such run, no such epoch, a network that does not fit
// the run's options: an error naming what is wrong, and nothing written.
func TestExportRefuses(t *testing.T) {
	w := trained(t)
	out := filepath.Join(t.TempDir(), "out")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-name", "nope"}, "no run named nope"},
		{[]string{"-name", "r", "-epoch", "7"}, "7_net_G_A.safetensors"},
		{[]string{"-name", "r", "-ngf", "8"}, "does not fit"},
	} {
		args := append([]string{"export", "-checkpoints_dir", w.checkpoints, "-out", out}, c.args...)
		code, _, errOut := cli(t, args...)
		if code != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", c.args, code, errOut, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was created by a refused export", out)
	}
}

// exportFixture is a tiny run (ngf 4, ndf 4, one block; made with
// `cyclegan train -ngf 4 -ndf 4 -n_blocks 1 -crop_size 32 -load_size 36
// -max_iters 3 -lr 0.01 -seed 5`: its latest networks and options), and
// exportGolden the same weights as this program exported them, checked by
// PyTorch: `python3 testdata/check_export.py testdata/export/pth` loaded
// each file with torch.load(weights_only=True) into the reference's
// networks, strictly, and recorded their outputs on a fixed input in
// torch_check.json.
const (
	exportFixture = "../../testdata/export/run"
	exportGolden  = "../../testdata/export/pth"
)

type torchCheck struct {
	Torch string `json:"torch"`
	Files map[string]struct {
		SHA256 string   `json:"sha256"`
		Keys   []string `json:"keys"`
	} `json:"files"`
	Input recorded `json:"input"`
	GA    recorded `json:"G_A"`
	GB    recorded `json:"G_B"`
	DA    recorded `json:"D_A"`
	DB    recorded `json:"D_B"`
}

// recorded is a tensor as check_export.py records it.
type recorded struct {
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
}

// TestExportPyTorchGolden: exporting the fixture run gives, byte for byte,
// the files PyTorch loaded into the reference's networks (so a change of
// the writer that PyTorch has not seen fails here), whose keys PyTorch
// listed in the reference's order; and the run's networks here compute
// what PyTorch computed with those files, to float32 rounding.
func TestExportPyTorchGolden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(exportGolden, "torch_check.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tc torchCheck
	if err := json.Unmarshal(raw, &tc); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	mustCLI(t, "export", "-checkpoints_dir", exportFixture, "-name", "tiny", "-out", out)
	for _, n := range cyclegan.NetNames {
		file := "latest_net_" + n + ".pth"
		got, err := os.ReadFile(filepath.Join(out, file))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(exportGolden, file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the export differs from the file PyTorch checked (%d bytes, want %d)", file, len(got), len(want))
		}
		sum := sha256.Sum256(want)
		rec, ok := tc.Files[file]
		if !ok || rec.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: torch_check.json was not written for this file (sha256 %q)", file, rec.SHA256)
		}
		m, err := checkpoint.LoadPth(filepath.Join(out, file))
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Keys) != len(m) {
			t.Errorf("%s: PyTorch read %d keys, the file has %d", file, len(rec.Keys), len(m))
		}
		for _, k := range rec.Keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: PyTorch's key %s is not in the export", file, k)
			}
		}
	}

	// The same weights here compute what PyTorch computed.
	in := layers.Init{Rand: tensor.NewRand(0)}
	x := tensor.FromValues(tensor.Float32, tc.Input.Values, tc.Input.Shape...)
	for i, want := range []recorded{tc.GA, tc.GB, tc.DA, tc.DB} {
		n := cyclegan.NetNames[i]
		var net *cyclegan.Network
		if n[0] == 'G' {
			net = cyclegan.NewResnetGenerator(in, 4, 1)
		} else {
			net = cyclegan.NewNLayerDiscriminator(in, 4, 3)
		}
		if err := checkpoint.LoadNetwork(filepath.Join(exportGolden, "latest_net_"+n+".pth"), net.Params()); err != nil {
			t.Fatal(err)
		}
		restore := autograd.SetRequiresGrad(layers.Vars(net), false)
		y := net.Forward(autograd.Const(x)).Value
		restore()
		if !y.Shape().Equal(tensor.Shape(want.Shape)) {
			t.Fatalf("%s: output %v, PyTorch's %v", n, y.Shape(), want.Shape)
		}
		worst := 0.0
		for j, v := range y.Values() {
			worst = max(worst, math.Abs(v-want.Values[j]))
		}
		if worst > 2e-5 {
			t.Errorf("%s: output differs from PyTorch's (torch %s) by up to %.3g", n, tc.Torch, worst)
		}
	}
}
