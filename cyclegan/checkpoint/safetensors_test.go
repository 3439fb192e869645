package checkpoint_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/tensor"
)

func sampleTensors() []checkpoint.Named {
	rng := tensor.NewRand(1)
	return []checkpoint.Named{
		{Name: "model.1.weight", T: tensor.RandNormal(rng, tensor.Float32, 0, 1, 4, 3, 2, 2)},
		{Name: "model.1.bias", T: tensor.RandNormal(rng, tensor.Float32, 0, 1, 4)},
		{Name: "a.double", T: tensor.RandNormal(rng, tensor.Float64, 0, 1, 2, 5)},
		{Name: "empty", T: tensor.New(tensor.Float32, 0, 3)},
		{Name: "scalar", T: tensor.Full(tensor.Float32, -1.5)},
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "net.safetensors")
	in := sampleTensors()
	meta := map[string]string{"epoch": "3", "note": `quotes " and \ survive`}
	if err := checkpoint.Save(path, in, meta); err != nil {
		t.Fatal(err)
	}
	out, gotMeta, err := checkpoint.LoadOrdered(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("loaded %d tensors, saved %d", len(out), len(in))
	}
	for i := range in {
		a, b := in[i], out[i]
		if a.Name != b.Name || a.T.DType() != b.T.DType() || !a.T.Shape().Equal(b.T.Shape()) {
			t.Fatalf("tensor %d: saved %s %v %s, loaded %s %v %s", i, a.Name, a.T.Shape(), a.T.DType(), b.Name, b.T.Shape(), b.T.DType())
		}
		if !slices.Equal(a.T.Values(), b.T.Values()) {
			t.Errorf("%s: values differ", a.Name)
		}
	}
	if len(gotMeta) != len(meta) || gotMeta["epoch"] != "3" || gotMeta["note"] != meta["note"] {
		t.Errorf("metadata %v, want %v", gotMeta, meta)
	}
	m, _, err := checkpoint.Load(path)
	if err != nil || len(m) != len(in) || m["model.1.bias"] == nil {
		t.Fatalf("Load: %v, %d tensors", err, len(m))
	}
	if hm, err := checkpoint.ReadMetadata(path); err != nil || len(hm) != len(meta) || hm["note"] != meta["note"] {
		t.Errorf("ReadMetadata: %v, %v; want %v", err, hm, meta)
	}
	short := filepath.Join(t.TempDir(), "short.safetensors")
	os.WriteFile(short, []byte{1, 2, 3}, 0o644)
	if _, err := checkpoint.ReadMetadata(short); err == nil || !strings.Contains(err.Error(), short) {
		t.Errorf("ReadMetadata of a 3-byte file: %v", err)
	}
}

// TestSaveFollowsTheFormat reads a saved file by hand, as the safetensors
// specification describes it, rather than with Load.
func TestSaveFollowsTheFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.safetensors")
	w := tensor.FromFloat32s([]float32{1, -2, 0.5, 3}, 2, 2)
	b := tensor.FromFloat64s([]float64{math.Pi}, 1)
	if err := checkpoint.Save(path, []checkpoint.Named{{Name: "w", T: w}, {Name: "b", T: b}}, nil); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw)
	if (8+n)%8 != 0 {
		t.Errorf("data starts at byte %d, not 8-aligned", 8+n)
	}
	var hdr map[string]struct {
		DType       string `json:"dtype"`
		Shape       []int  `json:"shape"`
		DataOffsets []int  `json:"data_offsets"`
	}
	if err := json.Unmarshal(raw[8:8+n], &hdr); err != nil {
		t.Fatalf("header is not JSON: %v", err)
	}
	if _, ok := hdr["__metadata__"]; ok {
		t.Error("empty metadata written")
	}
	data := raw[8+n:]
	if len(data) != 4*4+8 {
		t.Fatalf("%d data bytes, want 24", len(data))
	}
	hw, hb := hdr["w"], hdr["b"]
	if hw.DType != "F32" || !slices.Equal(hw.Shape, []int{2, 2}) || !slices.Equal(hw.DataOffsets, []int{0, 16}) {
		t.Errorf("header of w: %+v", hw)
	}
	if hb.DType != "F64" || !slices.Equal(hb.Shape, []int{1}) || !slices.Equal(hb.DataOffsets, []int{16, 24}) {
		t.Errorf("header of b: %+v", hb)
	}
	if got := math.Float32frombits(binary.LittleEndian.Uint32(data[4:])); got != -2 {
		t.Errorf("w[0,1] stored as %g", got)
	}
	if got := math.Float64frombits(binary.LittleEndian.Uint64(data[16:])); got != math.Pi {
		t.Errorf("b[0] stored as %g", got)
	}
}

// file builds a safetensors file from a header and data.
func file(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

// TestLoadHandMadeFile reads files written by hand from the specification:
// unpadded header, metadata last, F16 and BF16 data.
func TestLoadHandMadeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hand.safetensors")
	data := []byte{
		0x00, 0x3c, 0x00, 0xc0, // F16: 1, -2
		0x80, 0x3f, // BF16: 1 (0x3f80)
		0, 0, 0x20, 0x41, // F32: 10
	}
	hdr := `{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},` +
		`"bf":{"dtype":"BF16","shape":[1,1],"data_offsets":[4,6]},` +
		`"s":{"dtype":"F32","shape":[],"data_offsets":[6,10]},"__metadata__":{"format":"pt"}}`
	if err := os.WriteFile(path, file(hdr, data), 0o644); err != nil {
		t.Fatal(err)
	}
	m, meta, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" {
		t.Errorf("metadata %v", meta)
	}
	if v := m["h"].Values(); !slices.Equal(v, []float64{1, -2}) {
		t.Errorf("F16 values %v", v)
	}
	if v := m["bf"].Values(); !slices.Equal(v, []float64{1}) || !m["bf"].Shape().Equal(tensor.Shape{1, 1}) {
		t.Errorf("BF16 %v", m["bf"])
	}
	if m["s"].Rank() != 0 || m["s"].Item() != 10 {
		t.Errorf("scalar %v", m["s"])
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	if err := checkpoint.Save(good, sampleTensors(), map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(good)
	f32 := func(h string, n int) []byte { return file(h, make([]byte, n)) }
	cases := []struct {
		name, want string
		raw        []byte
	}{
		{"empty", "empty file", nil},
		{"short", "truncated", raw[:5]},
		{"cut_header", "truncated", raw[:20]},
		{"cut_data", "truncated", raw[:len(raw)-3]},
		{"huge_header", "implausible", append([]byte{0, 0, 0, 0, 0, 0, 0, 1}, raw[8:]...)},
		{"not_json", "bad header", file("[1, 2, 3]", nil)},
		{"broken_json", "bad header", file(`{"a": {"dtype": "F32"`, nil)},
		{"bad_entry", `tensor "a"`, f32(`{"a":{"dtype":"F32","shape":[1],"offsets":[0,4]}}`, 4)},
		{"dtype", "dtype I32", f32(`{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, 4)},
		{"past_end", "past the end", f32(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, 8)},
		{"size", "needs 8 bytes", f32(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}}`, 12)},
		{"overlap", "overlap", f32(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8)},
		{"hole", "hole", f32(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8)},
		{"trailing", "after the last tensor", f32(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 12)},
		{"negative_shape", "bad shape", f32(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4)},
		{"metadata", "__metadata__", f32(`{"__metadata__":{"n":1},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4)},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name+".safetensors")
		if err := os.WriteFile(path, c.raw, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := checkpoint.Load(path)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q should name the file and say %q", c.name, err, c.want)
		}
	}
	if _, _, err := checkpoint.Load(filepath.Join(dir, "missing.safetensors")); err == nil || !strings.Contains(err.Error(), "missing.safetensors") {
		t.Errorf("missing file: %v", err)
	}
}

// TestSaveRejectsDuplicateNames: Save and WritePth refuse a name given
// twice, naming the file and the name, and write nothing.
func TestSaveRejectsDuplicateNames(t *testing.T) {
	x := tensor.New(tensor.Float32, 1)
	dup := []checkpoint.Named{{Name: "a", T: x}, {Name: "a", T: x}}
	for file, save := range map[string]func(string) error{
		"dup.safetensors": func(p string) error { return checkpoint.Save(p, dup, nil) },
		"dup.pth":         func(p string) error { return checkpoint.WritePth(p, dup) },
	} {
		path := filepath.Join(t.TempDir(), file)
		err := save(path)
		if err == nil || !strings.Contains(err.Error(), `"a"`) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: duplicate names: %v", file, err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: a file was written: %v", file, err)
		}
	}
}

// TestWriteFileAtomic: a writer that fails or panics half-way leaves the
// previous file as it was and no temporary file behind.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "latest_net_G_A.safetensors")
	if err := os.WriteFile(path, []byte("old complete checkpoint"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk on fire")
	err := checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		w.Write(bytes.Repeat([]byte("new"), 1<<20)) // more than the buffer: reaches the temp file
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v should wrap the writer's error and name the file", err)
	}
	func() {
		defer func() { recover() }()
		checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
			w.Write([]byte("half"))
			panic("writer bug")
		})
	}()
	check := func(want string) {
		t.Helper()
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("file holds %.30q (%v), want %q", got, err, want)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("folder holds %v, want only the checkpoint", names)
		}
	}
	check("old complete checkpoint")

	if err := checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "new checkpoint")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	check("new checkpoint")
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the old file's 0600", st.Mode().Perm())
	}

	bad := filepath.Join(dir, "no", "such", "folder", "x")
	if err := checkpoint.WriteFileAtomic(bad, func(io.Writer) error { return nil }); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("missing folder: %v", err)
	}
}
