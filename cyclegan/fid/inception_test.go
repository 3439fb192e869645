package fid

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/internal/fidtest"
	"github.com/camcycle/camcycle/tensor"
)

// The Inception-v3 is checked against pytorch-fid's network run by
// testdata/gen_fid_inception_golden.py on weights from a formula (the real
// ones cannot be downloaded in CI): fidtest.Tensor is the script's
// formula_tensor, value for value, so both sides hold bit-identical
// float32 weights. The script runs the network in float64 and writes its
// block outputs and features rounded to float32.

const (
	inceptionGoldenPath = testdata + "/inception_golden.json"
	legacyPath          = testdata + "/inception_part_legacy.pth"
)

// The fixture.

// goldenArray is an array as little-endian bytes.
type goldenArray struct {
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
	Data  []byte `json:"data"` // base64 in the JSON
}

func (a goldenArray) values() []float64 {
	var out []float64
	switch a.DType {
	case "uint8":
		for _, b := range a.Data {
			out = append(out, float64(b))
		}
	case "float32":
		for i := 0; i+4 <= len(a.Data); i += 4 {
			out = append(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(a.Data[i:]))))
		}
	case "float64":
		for i := 0; i+8 <= len(a.Data); i += 8 {
			out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(a.Data[i:])))
		}
	default:
		panic("golden array of dtype " + a.DType)
	}
	if len(out) != tensor.Shape(a.Shape).Numel() {
		panic(fmt.Sprintf("golden array: %d values for shape %v", len(out), a.Shape))
	}
	return out
}

type goldenBlock struct {
	Shape        []int       `json:"shape"`
	ChannelMeans goldenArray `json:"channel_means"`
	SampleIndex  []int       `json:"sample_index"`
	SampleValues goldenArray `json:"sample_values"`
}

type goldenImage struct {
	Block0, Block1, Block2 goldenBlock
	Features               goldenArray `json:"features"`
}

type inceptionGoldenFile struct {
	ConvWeights []fidtest.NamedShape `json:"conv_weights"`
	Batches     []struct {
		Pixels goldenArray   `json:"pixels"`
		Images []goldenImage `json:"images"`
	} `json:"batches"`
	TorchFloat32 map[string]float64 `json:"torch_float32"`
}

func inceptionGolden(t testing.TB) *inceptionGoldenFile {
	t.Helper()
	raw, err := os.ReadFile(inceptionGoldenPath)
	if err != nil {
		t.Fatal(err)
	}
	var g inceptionGoldenFile
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s: %v", inceptionGoldenPath, err)
	}
	return &g
}

// pixels is a batch's images as a tensor of dtype dt with values k/255.
func pixels(a goldenArray, dt tensor.DType) *tensor.Tensor {
	v := a.values()
	for i := range v {
		v[i] /= 255
	}
	return tensor.FromValues(dt, v, a.Shape...)
}

// The tests.

// TestFormulaMatchesScript reads the script's legacy .pth, written from
// its formula under the real file's names, and finds this file's formula
// in it bit for bit: the weights of the golden test are the script's.
func TestFormulaMatchesScript(t *testing.T) {
	sd, err := checkpoint.LoadPth(legacyPath)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Conv2d_1a_3x3.conv.weight", "Conv2d_1a_3x3.bn.weight", "Conv2d_1a_3x3.bn.bias",
		"Conv2d_1a_3x3.bn.running_mean", "Conv2d_1a_3x3.bn.running_var", "Conv2d_1a_3x3.bn.num_batches_tracked", "fc.bias"}
	if len(sd) != len(want) {
		t.Errorf("%s holds %d tensors, want the %d %v", legacyPath, len(sd), len(want), want)
	}
	for _, name := range want {
		got, ok := sd[name]
		if !ok {
			t.Errorf("%s: no %s", legacyPath, name)
			continue
		}
		f := fidtest.Tensor(name, got.Shape(), 3*3*3)
		for i, g := range got.Float32s() {
			if w := f.Float32s()[i]; g != w {
				t.Errorf("%s[%d] = %v in the file, %v by the formula", name, i, g, w)
				break
			}
		}
	}
}

// TestNewInceptionNamesMissing loads the part of a state dict in the legacy
// file: the error lists the missing tensors by name and counts them, and
// LoadInception's names the file.
func TestNewInceptionNamesMissing(t *testing.T) {
	sd, err := checkpoint.LoadPth(legacyPath)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewInception(sd, tensor.CPU)
	if err == nil {
		t.Fatal("NewInception of one BasicConv2d: no error")
	}
	// 94 BasicConv2d of 5 tensors each, less Conv2d_1a_3x3's 5.
	for _, s := range []string{"the state dict", "465 problems", "Conv2d_2a_3x3.conv.weight missing", "Conv2d_2a_3x3.bn.running_var missing", "… 457 more"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	if strings.Contains(err.Error(), "Conv2d_1a_3x3") {
		t.Errorf("error %q names Conv2d_1a_3x3, which the file holds", err)
	}
	_, err = LoadInception(legacyPath, tensor.CPU)
	if err == nil || !strings.Contains(err.Error(), legacyPath) || !strings.Contains(err.Error(), "Conv2d_2a_3x3.conv.weight missing") {
		t.Errorf("LoadInception(%s): error %v, want one naming the file and Conv2d_2a_3x3.conv.weight", legacyPath, err)
	}
}

// TestNewInceptionWrongShapes: a 1×7 kernel stored as 7×1 and a batch norm
// of the wrong width are reported with both shapes; torchvision's ImageNet
// weights (fc of 1000 classes) are told apart.
func TestNewInceptionWrongShapes(t *testing.T) {
	good := fidtest.StateDict(inceptionGolden(t).ConvWeights)
	if _, err := NewInception(good, tensor.CPU); err != nil {
		t.Fatalf("the formula's state dict: %v", err)
	}
	sd := maps.Clone(good)
	sd["Mixed_6b.branch7x7_2.conv.weight"] = sd["Mixed_6b.branch7x7_2.conv.weight"].Reshape(128, 128, 7, 1)
	sd["Mixed_7c.branch_pool.bn.bias"] = tensor.New(tensor.Float32, 191)
	_, err := NewInception(sd, tensor.CPU)
	for _, s := range []string{"2 problems", "Mixed_6b.branch7x7_2.conv.weight is (128, 128, 7, 1), want (128, 128, 1, 7)",
		"Mixed_7c.branch_pool.bn.bias is (191), want (192)"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("error %v does not say %q", err, s)
		}
	}

	sd = maps.Clone(good)
	sd["fc.weight"] = tensor.New(tensor.Float32, 1000, 2048)
	if _, err := NewInception(sd, tensor.CPU); err == nil || !strings.Contains(err.Error(), "torchvision's ImageNet") {
		t.Errorf("a state dict with fc.weight (1000, 2048): error %v, want one saying these are torchvision's ImageNet weights", err)
	}
	sd["fc.weight"] = tensor.New(tensor.Float32, 1008, 2048)
	if _, err := NewInception(sd, tensor.CPU); err != nil {
		t.Errorf("a state dict with fc.weight (1008, 2048): %v", err)
	}
}

// TestLoadInceptionMissingFile: the error says which file is wanted and
// where pytorch-fid gets it.
func TestLoadInceptionMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), InceptionWeightsFile)
	_, err := LoadInception(path, tensor.CPU)
	if err == nil {
		t.Fatal("LoadInception of a missing file: no error")
	}
	for _, s := range []string{path, "pytorch-fid's Inception-v3 weights", "pt_inception-2015-12-05-6726825d.pth",
		"https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
}

// goldenRun runs the network in dtype dt on the batches of the fixture
// (all of them when batches is empty) and calls check for every image with
// its block outputs (channel means, samples) and features.
func goldenRun(t *testing.T, dt tensor.DType, batches []int, check func(what string, got, want []float64)) {
	g := inceptionGolden(t)
	m, err := newInception(fidtest.StateDict(g.ConvWeights), tensor.CPU, dt, "the formula's state dict")
	if err != nil {
		t.Fatal(err)
	}
	for i, batch := range g.Batches {
		if len(batches) > 0 && !slices.Contains(batches, i) {
			continue
		}
		x := pixels(batch.Pixels, dt)
		outs := m.forward(x)
		for n, img := range batch.Images {
			id := fmt.Sprintf("image %d of %v", n, x.Shape())
			for i, want := range []goldenBlock{img.Block0, img.Block1, img.Block2} {
				y := outs[i]
				if !y.Shape()[1:].Equal(want.Shape) {
					t.Fatalf("%s: block %d is %v, want %v", id, i, y.Shape(), append(tensor.Shape{x.Dim(0)}, want.Shape...))
				}
				plane := tensor.Shape(want.Shape).Numel()
				v := y.Values()[n*plane : (n+1)*plane]
				c, hw := want.Shape[0], want.Shape[1]*want.Shape[2]
				means := make([]float64, c)
				for ch := range c {
					for _, e := range v[ch*hw : (ch+1)*hw] {
						means[ch] += e
					}
					means[ch] /= float64(hw)
				}
				check(fmt.Sprintf("%s block %d channel means", id, i), means, want.ChannelMeans.values())
				samples := make([]float64, len(want.SampleIndex))
				for k, idx := range want.SampleIndex {
					samples[k] = v[idx]
				}
				check(fmt.Sprintf("%s block %d samples", id, i), samples, want.SampleValues.values())
			}
			f := outs[3]
			if !f.Shape().Equal(tensor.Shape{x.Dim(0), FeatureDim}) {
				t.Fatalf("%s: features %v, want [%d %d]", id, f.Shape(), x.Dim(0), FeatureDim)
			}
			check(id+" features", f.Values()[n*FeatureDim:(n+1)*FeatureDim], img.Features.values())
		}
	}
}

// TestInceptionGolden64 runs the network in float64 on the 40×56 image:
// free of float32 rounding, it must give PyTorch's float64 values to within
// their rounding to float32 in the fixture, 2⁻²⁴ of each value, element by
// element (measured: up to 0.98 of that bound, as the rounding alone
// gives). Any mistake in the architecture moves the values by far more.
// The batch of two is left to the float32 test, to save 5 s.
func TestInceptionGolden64(t *testing.T) {
	if testing.Short() {
		t.Skip("an Inception-v3 forward in float64")
	}
	const slack = 1e-12 // float64 arithmetic through 94 convolutions, plus the means' summation
	goldenRun(t, tensor.Float64, []int{1}, func(what string, got, want []float64) {
		worst, at := 0.0, 0
		for i := range want {
			bound := math.Abs(want[i])*0x1p-24 + slack
			if e := math.Abs(got[i]-want[i]) / bound; e > worst {
				worst, at = e, i
			}
		}
		if worst > 1 {
			t.Errorf("%s: element %d is %.9g, PyTorch's %.9g: %.3g times the bound", what, at, got[at], want[at], worst)
		}
	})
}

// TestInceptionGolden32 runs the network in float32, as FID does. Its
// rounding differs from PyTorch's (Winograd 3×3 convolutions, other
// summation orders) and accumulates through 94 convolutions, so the bounds
// are measured. PyTorch's own float32 run is at most 1.0e-6 (blocks) and
// 2.8e-7 (features) from the float64 one in relative L2 per image, and
// 1.7e-6 at most on one feature (features reach 6); this one was measured
// at most 1.1e-6 (the blocks' samples; 1.2e-7 for their channel means) and
// 2.3e-7 (features), and 1.9e-6 on one element. The bounds are 4 to 5
// times that. The smallest effect of the breaks tried, batch norms with
// PyTorch's default eps 1e-5 instead of 0.001, moved the features by
// 2.5e-4 in relative L2 and 1.3e-3 at most: over 100 times the bounds.
func TestInceptionGolden32(t *testing.T) {
	if testing.Short() {
		t.Skip("three Inception-v3 forwards")
	}
	const (
		relBlocks   = 5e-6
		relFeatures = 1e-6
		maxAbs      = 1e-5
	)
	goldenRun(t, tensor.Float32, nil, func(what string, got, want []float64) {
		rel, worst := distance(got, want)
		t.Logf("%s: relative L2 %.2e, max abs %.2e", what, rel, worst)
		tol := relBlocks
		if strings.HasSuffix(what, "features") {
			tol = relFeatures
		}
		if rel > tol || worst > maxAbs {
			t.Errorf("%s: relative L2 %.3g (bound %g), max abs %.3g (bound %g)", what, rel, tol, worst, maxAbs)
		}
	})
}

// distance returns ‖got − want‖/‖want‖ and max |got − want|.
func distance(got, want []float64) (rel, maxAbs float64) {
	var d2, w2 float64
	for i, w := range want {
		d := got[i] - w
		d2 += d * d
		w2 += w * w
		maxAbs = max(maxAbs, math.Abs(d))
	}
	return math.Sqrt(d2 / w2), maxAbs
}

// TestFeaturesInChunks runs three images (the fixture's two 24×24 ones,
// then the second again) two at a time, so that the last chunk is shorter
// and does not start the batch: each row must be that image's features
// within TestInceptionGolden32's bound. Features itself, ten at a time,
// differs only in the constant.
func TestFeaturesInChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("three Inception-v3 forwards")
	}
	g := inceptionGolden(t)
	m, err := NewInception(fidtest.StateDict(g.ConvWeights), tensor.CPU)
	if err != nil {
		t.Fatal(err)
	}
	batch := g.Batches[0]
	pair := pixels(batch.Pixels, tensor.Float32)
	order := []int{0, 1, 1}
	xs := make([]*tensor.Tensor, len(order))
	for i, k := range order {
		xs[i] = tensor.CPU.Slice(pair, []int{k, 0, 0, 0}, []int{k + 1, 3, 24, 24})
	}
	f := m.features(tensor.CPU.Concat(0, xs), 2)
	if !f.Shape().Equal(tensor.Shape{len(order), FeatureDim}) {
		t.Fatalf("features of %d images: %v", len(order), f.Shape())
	}
	v := f.Values()
	for i, k := range order {
		want := batch.Images[k].Features.values()
		if rel, _ := distance(v[i*FeatureDim:(i+1)*FeatureDim], want); rel > 1e-6 {
			t.Errorf("row %d (fixture image %d): relative L2 %.3g from its features", i, k, rel)
		}
	}
}

// BenchmarkFeatures times the features of one batch of 50 images of
// 256×256 (pytorch-fid's default batch; the network resizes them to
// 299×299), and "fid260" the whole feature extraction of an FID between
// sets of 120 and 140 such images, in pytorch-fid's batches of 50, as
// bench/torch_fid.py times PyTorch.
func BenchmarkFeatures(b *testing.B) {
	m, err := NewInception(fidtest.StateDict(inceptionGolden(b).ConvWeights), tensor.CPU)
	if err != nil {
		b.Fatal(err)
	}
	images := func(n int) *tensor.Tensor {
		v := fidtest.Unit("images", n*3*256*256)
		for i := range v {
			v[i] = (v[i] + 1) / 2
		}
		return tensor.FromValues(tensor.Float32, v, n, 3, 256, 256)
	}
	run := func(b *testing.B, sets ...int) {
		var xs []*tensor.Tensor
		total := 0
		for _, n := range sets {
			for start := 0; start < n; start += 50 {
				xs = append(xs, images(min(50, n-start)))
			}
			total += n
		}
		m.Features(xs[0]) // warm the recycled buffers
		b.ResetTimer()
		for b.Loop() {
			for _, x := range xs {
				m.Features(x)
			}
		}
		b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "images/s")
	}
	b.Run("batch50", func(b *testing.B) { run(b, 50) })
	b.Run("fid260", func(b *testing.B) { run(b, 120, 140) })
}
