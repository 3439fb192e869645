package checkpoint_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// tinyGenerator is the network of testdata/gen_pth_fixtures.py: a
// ResnetGenerator with ngf 2, one down- and up-sampling and one block,
// under the state-dict prefix "model".
type tinyGenerator struct{ model *layers.Sequential }

func newTinyGenerator(seed uint64, dt tensor.DType) *tinyGenerator {
	in := layers.Init{Rand: tensor.NewRand(seed), DType: dt}
	return &tinyGenerator{layers.NewSequential(
		&layers.ReflectionPad2d{P: 3}, layers.NewConv2d(in, 3, 2, 7, 1, 0), layers.NewInstanceNorm2d(), layers.ReLU{},
		layers.NewConv2d(in, 2, 4, 3, 2, 1), layers.NewInstanceNorm2d(), layers.ReLU{},
		layers.NewResnetBlock(in, 4),
		layers.NewConvTranspose2d(in, 4, 2, 3, 2, 1, 1), layers.NewInstanceNorm2d(), layers.ReLU{},
		&layers.ReflectionPad2d{P: 3}, layers.NewConv2d(in, 2, 3, 7, 1, 0), layers.Tanh{},
	)}
}

func (g *tinyGenerator) params() []layers.NamedParam { return layers.Prefixed("model", g.model) }

// snapshot copies every parameter's values.
func snapshot(ps []layers.NamedParam) [][]float64 {
	out := make([][]float64, len(ps))
	for i, p := range ps {
		out[i] = p.Var.Value.Values()
	}
	return out
}

func TestStateDictSaveLoadParams(t *testing.T) {
	src := newTinyGenerator(1, tensor.Float32)
	path := filepath.Join(t.TempDir(), "g.safetensors")
	if err := checkpoint.Save(path, checkpoint.StateDict(src.params()), nil); err != nil {
		t.Fatal(err)
	}
	m, _, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		dst := newTinyGenerator(2, dt)
		if slices.Equal(snapshot(dst.params())[0], snapshot(src.params())[0]) {
			t.Fatal("different seeds gave the same weights")
		}
		if err := checkpoint.LoadParams(dst.params(), m, path); err != nil {
			t.Fatal(err)
		}
		want, got := snapshot(src.params()), snapshot(dst.params())
		for i, p := range dst.params() {
			if p.Var.DType() != dt {
				t.Errorf("%s became %s, want %s", p.Name, p.Var.DType(), dt)
			}
			if !slices.Equal(want[i], got[i]) {
				t.Errorf("%s (%s): values differ after the round trip", p.Name, dt)
			}
		}
	}
	// The loaded parameters own their storage: changing one leaves the map alone.
	dst := newTinyGenerator(3, tensor.Float32)
	checkpoint.LoadParams(dst.params(), m, path)
	dst.params()[0].Var.Value.Float32s()[0] = 42
	if m["model.1.weight"].Float32s()[0] == 42 {
		t.Error("a parameter shares storage with the loaded tensor")
	}
}

func TestLoadParamsRefusesWhatDoesNotFit(t *testing.T) {
	src := newTinyGenerator(1, tensor.Float32)
	good := map[string]*tensor.Tensor{}
	for _, nt := range checkpoint.StateDict(src.params()) {
		good[nt.Name] = nt.T
	}
	edit := func(f func(m map[string]*tensor.Tensor)) map[string]*tensor.Tensor {
		m := make(map[string]*tensor.Tensor, len(good))
		for k, v := range good {
			m[k] = v
		}
		f(m)
		return m
	}
	cases := []struct {
		name string
		m    map[string]*tensor.Tensor
		want []string
	}{
		{"missing", edit(func(m map[string]*tensor.Tensor) { delete(m, "model.7.conv_block.5.bias") }),
			[]string{"missing (1): model.7.conv_block.5.bias"}},
		{"unexpected", edit(func(m map[string]*tensor.Tensor) { m["model.99.weight"] = tensor.New(tensor.Float32, 1) }),
			[]string{"unexpected (1): model.99.weight"}},
		{"shape", edit(func(m map[string]*tensor.Tensor) { m["model.12.bias"] = tensor.New(tensor.Float32, 4) }),
			[]string{"model.12.bias: file has (4), model wants (3)"}},
		{"all at once", edit(func(m map[string]*tensor.Tensor) {
			delete(m, "model.1.bias")
			m["model.1.weight"] = tensor.New(tensor.Float32, 2, 3, 3, 3)
			m["extra"] = tensor.New(tensor.Float32, 1)
		}), []string{"missing (1): model.1.bias", "unexpected (1): extra", "model.1.weight: file has (2, 3, 3, 3)"}},
	}
	for _, c := range cases {
		dst := newTinyGenerator(2, tensor.Float32)
		before := snapshot(dst.params())
		err := checkpoint.LoadParams(dst.params(), c.m, "some/file.pth")
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range append(c.want, "some/file.pth") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
		for i, v := range snapshot(dst.params()) {
			if !slices.Equal(v, before[i]) {
				t.Errorf("%s: %s changed although the load failed", c.name, dst.params()[i].Name)
			}
		}
	}
	// Running statistics of old InstanceNorm layers are ignored.
	m := edit(func(m map[string]*tensor.Tensor) { m["model.2.running_mean"] = tensor.New(tensor.Float32, 2) })
	if err := checkpoint.LoadParams(newTinyGenerator(2, tensor.Float32).params(), m, "x"); err != nil {
		t.Errorf("running_mean not ignored: %v", err)
	}
}

type described struct {
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
}

type expectedPth struct {
	Input, Output described
	Net           map[string]described
	Tensors       map[string]described
}

func readExpected(t *testing.T) expectedPth {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/pth/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e expectedPth
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// sameTensors checks that got holds exactly the tensors of want, with their
// shapes and (float32-rounded) values.
func sameTensors(t *testing.T, file string, got map[string]*tensor.Tensor, want map[string]described) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d tensors, want %d", file, len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: %s missing", file, name)
		case g.DType() != tensor.Float32 || !g.Shape().Equal(w.Shape):
			t.Errorf("%s: %s is %s %v, want float32 %v", file, name, g.DType(), g.Shape(), tensor.Shape(w.Shape))
		default:
			for i, v := range g.Values() {
				if float32(v) != float32(w.Values[i]) {
					t.Errorf("%s: %s[%d] = %g, want %g", file, name, i, v, w.Values[i])
					break
				}
			}
		}
	}
}

func TestLoadPth(t *testing.T) {
	e := readExpected(t)
	for _, f := range []string{"net_zip.pth", "net_legacy.pth", "net_wrapped.pth"} {
		path := filepath.Join("../../testdata/pth", f)
		m, err := checkpoint.LoadPth(path)
		if err != nil {
			t.Fatal(err)
		}
		sameTensors(t, f, m, e.Net)

		// The imported weights compute what PyTorch computed.
		g := newTinyGenerator(5, tensor.Float32)
		if err := checkpoint.LoadParams(g.params(), m, path); err != nil {
			t.Fatal(err)
		}
		x := tensor.FromValues(tensor.Float32, e.Input.Values, e.Input.Shape...)
		y := g.model.Forward(autograd.Const(x)).Value
		if !y.Shape().Equal(e.Output.Shape) {
			t.Fatalf("%s: output %v, want %v", f, y.Shape(), e.Output.Shape)
		}
		worst := 0.0
		for i, v := range y.Values() {
			worst = math.Max(worst, math.Abs(v-e.Output.Values[i]))
		}
		if worst > 1e-5 {
			t.Errorf("%s: output differs from PyTorch's by up to %g", f, worst)
		}
	}
	for _, f := range []string{"tensors_zip.pth", "tensors_legacy.pth"} {
		m, err := checkpoint.LoadPth(filepath.Join("../../testdata/pth", f))
		if err != nil {
			t.Fatal(err)
		}
		sameTensors(t, f, m, e.Tensors)
	}
}

func TestLoadPthRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	zipped, _ := os.ReadFile("../../testdata/pth/net_zip.pth")
	legacy, _ := os.ReadFile("../../testdata/pth/net_legacy.pth")
	safet := filepath.Join(dir, "weights.safetensors")
	checkpoint.Save(safet, sampleTensors(), nil)
	st, _ := os.ReadFile(safet)
	cases := map[string][]byte{
		"empty.pth":       nil,
		"text.pth":        []byte("this is not a checkpoint\n"),
		"cut_zip.pth":     zipped[:len(zipped)/2],
		"cut_legacy.pth":  legacy[:len(legacy)/2],
		"safetensors.pth": st,
	}
	for name, raw := range cases {
		path := filepath.Join(dir, name)
		os.WriteFile(path, raw, 0o644)
		if _, err := checkpoint.LoadPth(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v should name the file", name, err)
		}
	}
	missing := filepath.Join(dir, "missing.pth")
	if _, err := checkpoint.LoadPth(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
}

// TestLoadNetwork reads both formats into a network, telling them apart by
// content.
func TestLoadNetwork(t *testing.T) {
	e := readExpected(t)
	st := filepath.Join(t.TempDir(), "net.pth") // a safetensors file, misleadingly named
	from := newTinyGenerator(9, tensor.Float32)
	if err := checkpoint.Save(st, checkpoint.StateDict(from.params()), nil); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"../../testdata/pth/net_zip.pth", "../../testdata/pth/net_legacy.pth", st} {
		g := newTinyGenerator(5, tensor.Float32)
		if err := checkpoint.LoadNetwork(path, g.params()); err != nil {
			t.Fatal(err)
		}
		want := e.Net["model.12.bias"].Values
		if path == st {
			want = from.params()[len(from.params())-1].Var.Value.Values()
		}
		if got := g.params()[len(g.params())-1].Var.Value.Values(); !slices.Equal(got, want) {
			t.Errorf("%s: model.12.bias = %v, want %v", path, got, want)
		}
	}
	if err := checkpoint.LoadNetwork(filepath.Join(t.TempDir(), "none.pth"), nil); err == nil || !strings.Contains(err.Error(), "none.pth") {
		t.Errorf("missing file: %v", err)
	}
}
