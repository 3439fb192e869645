package checkpoint_test

import (
	"archive/zip"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/tensor"
)

// pthSample is sampleTensors in float32 (LoadPth reads float32), with
// tensors of rank 1 to 4, an empty one, a scalar and special values.
func pthSample() []checkpoint.Named {
	ts := slices.Clone(sampleTensors())
	ts[2].T = tensor.FromFloat32s([]float32{float32(math.Inf(1)), float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, math.MaxFloat32}, 2, 2)
	return ts
}

// TestWritePthRoundTrip: LoadPth reads what WritePth wrote bit for bit,
// the names in order (as an OrderedDict), the shapes and strides of
// contiguous tensors.
func TestWritePthRoundTrip(t *testing.T) {
	in := pthSample()
	path := filepath.Join(t.TempDir(), "latest_net_G_A.pth")
	if err := checkpoint.WritePth(path, in); err != nil {
		t.Fatal(err)
	}
	m, err := checkpoint.LoadPth(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != len(in) {
		t.Fatalf("read %d tensors, wrote %d", len(m), len(in))
	}
	for _, nt := range in {
		got, ok := m[nt.Name]
		if !ok {
			t.Errorf("%s is missing", nt.Name)
			continue
		}
		if !got.Shape().Equal(nt.T.Shape()) {
			t.Errorf("%s: shape %v, wrote %v", nt.Name, got.Shape(), nt.T.Shape())
			continue
		}
		a, b := nt.T.Float32s(), got.Float32s()
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Errorf("%s[%d] = %v (bits %08x), wrote %v (bits %08x)", nt.Name, i, b[i], math.Float32bits(b[i]), a[i], math.Float32bits(a[i]))
				break
			}
		}
	}

	// The pickle holds an OrderedDict in the order given.
	obj, err := pytorch.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	od, ok := obj.(*types.OrderedDict)
	if !ok {
		t.Fatalf("the file holds a %T, want an OrderedDict", obj)
	}
	var names []string
	for el := od.List.Front(); el != nil; el = el.Next() {
		e := el.Value.(*types.OrderedDictEntry)
		names = append(names, e.Key.(string))
		pt := e.Value.(*pytorch.Tensor)
		if pt.RequiresGrad || pt.StorageOffset != 0 {
			t.Errorf("%v: requires_grad %v, offset %d", e.Key, pt.RequiresGrad, pt.StorageOffset)
		}
	}
	var want []string
	for _, nt := range in {
		want = append(want, nt.Name)
	}
	if !slices.Equal(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
}

// TestWritePthFollowsTheFormat reads the archive as torch's reader does: a
// zip of stored records under one folder named after the file, each
// record's data at a multiple of 64 bytes, data.pkl, byteorder, version
// and one data/k per tensor with its raw bytes.
func TestWritePthFollowsTheFormat(t *testing.T) {
	in := pthSample()
	path := filepath.Join(t.TempDir(), "5_net_D_B.pth")
	if err := checkpoint.WritePth(path, in); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	want := []string{"5_net_D_B/data.pkl", "5_net_D_B/byteorder"}
	for i := range in {
		want = append(want, "5_net_D_B/data/"+string(rune('0'+i)))
	}
	want = append(want, "5_net_D_B/version")
	var names []string
	content := map[string][]byte{}
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Method != zip.Store {
			t.Errorf("%s: method %d, want stored (0)", f.Name, f.Method)
		}
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		if off%64 != 0 {
			t.Errorf("%s: data at byte %d, not a multiple of 64", f.Name, off)
		}
		r, err := f.Open() // checks the CRC-32 at EOF
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
		content[f.Name] = b
	}
	if !slices.Equal(names, want) {
		t.Fatalf("records %v, want %v", names, want)
	}
	if s := string(content["5_net_D_B/version"]); s != "3\n" {
		t.Errorf("version %q, want \"3\\n\"", s)
	}
	if s := string(content["5_net_D_B/byteorder"]); s != "little" {
		t.Errorf("byteorder %q, want \"little\"", s)
	}
	if b := content["5_net_D_B/data/0"]; len(b) != 4*in[0].T.Numel() || math.Float32frombits(uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16|uint32(b[3])<<24) != in[0].T.Float32s()[0] {
		t.Errorf("data/0: %d bytes, not the first tensor's little-endian elements", len(b))
	}
	pkl := string(content["5_net_D_B/data.pkl"])
	for _, s := range []string{"\x80\x02", "ccollections\nOrderedDict\n", "ctorch._utils\n_rebuild_tensor_v2\n", "ctorch\nFloatStorage\n", "model.1.weight"} {
		if !strings.Contains(pkl, s) {
			t.Errorf("data.pkl lacks %q", s)
		}
	}
}

// TestForPyTorch: a state dict of parameters then buffers is laid out as
// torch's state_dict() — each module's buffers after its parameters — and
// its num_batches_tracked counters are written as int64 storages, read
// back by value; a counter that is not integral is refused.
func TestForPyTorch(t *testing.T) {
	f := func(v ...float32) *tensor.Tensor { return tensor.FromFloat32s(v, len(v)) }
	sd := checkpoint.ForPyTorch([]checkpoint.Named{
		{Name: "model.1.weight", T: f(1, 2)}, {Name: "model.2.weight", T: f(3)}, {Name: "model.2.bias", T: f(4)},
		{Name: "model.4.weight", T: f(5)},
		{Name: "model.2.running_mean", T: f(6)}, {Name: "model.2.running_var", T: f(7)}, {Name: "model.2.num_batches_tracked", T: f(12)},
	})
	var names []string
	for _, nt := range sd {
		names = append(names, nt.Name)
		if nt.Int64 != strings.HasSuffix(nt.Name, "num_batches_tracked") {
			t.Errorf("%s: Int64 %v", nt.Name, nt.Int64)
		}
	}
	want := []string{"model.1.weight", "model.2.weight", "model.2.bias", "model.2.running_mean", "model.2.running_var",
		"model.2.num_batches_tracked", "model.4.weight"}
	if !slices.Equal(names, want) {
		t.Errorf("order %v, want %v", names, want)
	}
	path := filepath.Join(t.TempDir(), "bn.pth")
	if err := checkpoint.WritePth(path, sd); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		r, _ := zf.Open()
		b, _ := io.ReadAll(r)
		switch zf.Name {
		case "bn/data.pkl":
			if !strings.Contains(string(b), "ctorch\nLongStorage\n") {
				t.Error("data.pkl has no LongStorage")
			}
		case "bn/data/5": // the counter
			if len(b) != 8 || b[0] != 12 || strings.Trim(string(b[1:]), "\x00") != "" {
				t.Errorf("the counter's storage is % x, want 12 as 8 little-endian bytes", b)
			}
		}
	}
	got, err := checkpoint.LoadPth(path)
	if err != nil {
		t.Fatal(err)
	}
	if c := got["model.2.num_batches_tracked"]; c == nil || c.Item() != 12 {
		t.Errorf("num_batches_tracked read back as %v", c)
	}
	sd[5].T = f(1.5)
	if err := checkpoint.WritePth(filepath.Join(t.TempDir(), "bad.pth"), sd); err == nil || !strings.Contains(err.Error(), "num_batches_tracked") {
		t.Errorf("a counter of 1.5: %v", err)
	}
}
