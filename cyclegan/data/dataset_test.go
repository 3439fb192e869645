package data

import (
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/camcycle/camcycle/tensor"
)

// coordImage returns a w×h image whose pixels tell where they are and which
// file they come from: R = 10·x, G = 10·y, B = id.
func coordImage(w, h int, id uint8) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(10*x), uint8(10*y), id, 255
		}
	}
	return img
}

// makeDataset writes nA and nB coordinate images of w×h into
// root/trainA, root/trainB; the file of A index i has id i, of B 100+i.
// The names are written in reverse order, to check the sort.
func makeDataset(t *testing.T, nA, nB, w, h int) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []struct {
		folder string
		n      int
		id0    int
	}{{"trainA", nA, 0}, {"trainB", nB, 100}} {
		for i := d.n - 1; i >= 0; i-- {
			path := filepath.Join(root, d.folder, "img_"+string(rune('a'+i/26))+string(rune('a'+i%26))+".png")
			if err := writePNG(path, coordImage(w, h, uint8(d.id0+i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func opts(root string) Options {
	o := DefaultOptions()
	o.Dataroot = root
	return o
}

// pixel returns the 8-bit RGB value at (x, y) of a (1, 3, H, W) tensor.
func pixel(x *tensor.Tensor, px, py int) [3]int {
	h, w := x.Dim(2), x.Dim(3)
	v := x.Float32s()
	var out [3]int
	for c := range 3 {
		out[c] = int((v[(c*h+py)*w+px]+1)/2*255 + 0.5)
	}
	return out
}

func TestOpenListsSortedImages(t *testing.T) {
	root := makeDataset(t, 3, 5, 4, 4)
	// Other files: capitalised extensions count, the rest do not.
	extra := map[string]string{
		"trainA/Z.PNG":              "png",
		"trainA/sub/deeper.JPeG":    "jpg",
		"trainA/readme.txt":         "",
		"trainA/.hidden.png":        "",
		"trainA/._img_aa.png":       "",
		"trainA/.thumbs/x.png":      "",
		"trainB/photo.gif":          "",
		"trainB/archive.png.tar.gz": "",
	}
	for name := range extra {
		path := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte("x"), 0o644)
	}
	u, err := Open(opts(root))
	if err != nil {
		t.Fatal(err)
	}
	rel := func(ps []string) []string {
		for i, p := range ps {
			ps[i], _ = filepath.Rel(root, p)
		}
		return ps
	}
	wantA := []string{"trainA/Z.PNG", "trainA/img_aa.png", "trainA/img_ab.png", "trainA/img_ac.png", "trainA/sub/deeper.JPeG"}
	if got := rel(u.PathsA()); !slices.Equal(got, wantA) {
		t.Errorf("PathsA %v, want %v", got, wantA)
	}
	if got := rel(u.PathsB()); len(got) != 5 || got[0] != "trainB/img_aa.png" || got[4] != "trainB/img_ae.png" {
		t.Errorf("PathsB %v", got)
	}
	if u.SizeA() != 5 || u.SizeB() != 5 || u.Len() != 5 {
		t.Errorf("sizes %d, %d, len %d", u.SizeA(), u.SizeB(), u.Len())
	}
	o := opts(root)
	o.MaxDatasetSize = 2
	u, err = Open(o)
	if err != nil || u.SizeA() != 2 || u.SizeB() != 2 || rel(u.PathsA())[1] != "trainA/img_aa.png" {
		t.Errorf("MaxDatasetSize 2: %v %v", err, u.PathsA())
	}
}

func TestOpenErrors(t *testing.T) {
	root := makeDataset(t, 2, 2, 4, 4)
	empty := t.TempDir()
	os.MkdirAll(filepath.Join(empty, "trainA"), 0o755)
	os.WriteFile(filepath.Join(empty, "trainA", "notes.txt"), []byte("no images"), 0o644)
	os.MkdirAll(filepath.Join(empty, "trainB"), 0o755)
	os.WriteFile(filepath.Join(root, "testA"), []byte("a file, not a folder"), 0o644)
	cases := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"missing root", func(o *Options) { o.Dataroot = filepath.Join(root, "nope") }, filepath.Join(root, "nope", "trainA") + " does not exist"},
		{"missing B", func(o *Options) { o.Phase = "val" }, "valA does not exist"},
		{"empty A", func(o *Options) { o.Dataroot = empty }, filepath.Join(empty, "trainA") + " holds no images"},
		{"file", func(o *Options) { o.Phase = "test" }, "testA is not a folder"},
		{"no root", func(o *Options) { o.Dataroot = "" }, "no dataroot"},
		{"preprocess", func(o *Options) { o.Preprocess = "zoom" }, `"zoom"`},
		{"crop > load", func(o *Options) { o.CropSize = 300 }, "crop size 300 is larger than load size 286"},
	}
	for _, c := range cases {
		o := opts(root)
		c.edit(&o)
		_, err := Open(o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
	os.RemoveAll(filepath.Join(empty, "trainA"))
	os.WriteFile(filepath.Join(empty, "trainA.png"), []byte("x"), 0o644)
	if _, err := Open(opts(empty)); err == nil || !strings.Contains(err.Error(), "trainA does not exist") {
		t.Errorf("missing trainA: %v", err)
	}
}

// TestEpochIsAPureFunction: the visiting order depends on (Seed, epoch)
// only, A is shuffled, B random, and the transforms are in range.
func TestEpochIsAPureFunction(t *testing.T) {
	root := makeDataset(t, 7, 4, 4, 4)
	u, err := Open(opts(root))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Open(opts(root))
	e3 := u.Epoch(3)
	if d := cmp.Diff(e3, again.Epoch(3)); d != "" {
		t.Fatalf("Epoch(3) of another Open differs (-first +second):\n%s", d)
	}
	if d := cmp.Diff(e3, u.Epoch(3)); d != "" {
		t.Fatalf("Epoch(3) differs between calls (-first +second):\n%s", d)
	}
	if cmp.Equal(e3, u.Epoch(4)) {
		t.Errorf("epochs 3 and 4 are the same: %+v", e3)
	}
	o := opts(root)
	o.Seed = 1
	other, _ := Open(o)
	if cmp.Equal(e3, other.Epoch(3)) {
		t.Errorf("seeds 0 and 1 give the same epoch: %+v", e3)
	}
	// |A| = 7 = Len: every A exactly once per epoch, not in order.
	var as []int
	for i, p := range e3 {
		if p.Index != i || p.B < 0 || p.B >= 4 {
			t.Fatalf("pair %d: %+v", i, p)
		}
		for _, tr := range []Transform{p.TransformA, p.TransformB} {
			if tr.CropX < 0 || tr.CropX >= 1 || tr.CropY < 0 || tr.CropY >= 1 {
				t.Fatalf("pair %d: crop position %+v outside [0, 1)", i, tr)
			}
		}
		as = append(as, p.A)
	}
	sorted := slices.Sorted(slices.Values(as))
	if !slices.Equal(sorted, []int{0, 1, 2, 3, 4, 5, 6}) || slices.Equal(as, sorted) {
		t.Errorf("A order %v: want a shuffled permutation", as)
	}
	// Over many epochs, every B and both flips turn up.
	seenB := map[int]bool{}
	flips := 0
	for e := range 20 {
		for _, p := range u.Epoch(e) {
			seenB[p.B] = true
			if p.TransformA.Flip {
				flips++
			}
		}
	}
	if len(seenB) != 4 || flips < 30 || flips > 110 {
		t.Errorf("B values %v, %d flips of 140", seenB, flips)
	}
}

// TestSerialOrder: with -preprocess none -no_flip -serial_batches, item i
// is A[i mod |A|] and B[i mod |B|], loaded unchanged.
func TestSerialOrder(t *testing.T) {
	root := makeDataset(t, 3, 5, 8, 4)
	o := opts(root)
	o.Preprocess, o.NoFlip, o.SerialBatches = "none", true, true
	u, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, epoch := range []int{1, 2} {
		pairs := u.Epoch(epoch)
		if len(pairs) != 5 {
			t.Fatalf("%d pairs, want 5", len(pairs))
		}
		for i, p := range pairs {
			if p.A != i%3 || p.B != i%5 || p.TransformA != (Transform{}) || p.TransformB != (Transform{}) {
				t.Errorf("epoch %d item %d: %+v", epoch, i, p)
			}
			a, b, err := u.Load(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				x    *tensor.Tensor
				path string
			}{{a, u.PathsA()[p.A]}, {b, u.PathsB()[p.B]}} {
				img, _ := ReadImage(c.path)
				if !slices.Equal(c.x.Float32s(), ImageToTensor(img).Float32s()) {
					t.Errorf("item %d: %s not loaded unchanged", i, c.path)
				}
			}
			if got := pixel(a, 0, 0)[2]; got != i%3 {
				t.Errorf("item %d: A is file %d", i, got)
			}
			if got := pixel(b, 0, 0)[2]; got != 100+i%5 {
				t.Errorf("item %d: B is file %d", i, got-100)
			}
		}
	}
}

// TestCropAndFlip: crops lie inside the image, where the Pair says, and
// flips mirror.
func TestCropAndFlip(t *testing.T) {
	const w, h, size = 20, 14, 8
	root := makeDataset(t, 40, 1, w, h)
	o := opts(root)
	o.Preprocess, o.CropSize = "crop", size
	u, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	lefts, tops := map[int]bool{}, map[int]bool{}
	flipped := 0
	for e := range 5 {
		for _, p := range u.Epoch(e) {
			a, _, err := u.Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if !a.Shape().Equal(tensor.Shape{1, 3, size, size}) {
				t.Fatalf("crop %v", a.Shape())
			}
			tr := p.TransformA
			left, top := int(tr.CropX*float64(w-size+1)), int(tr.CropY*float64(h-size+1))
			lefts[left], tops[top] = true, true
			x0, x1 := 0, size-1 // image columns holding the crop's left and right ends
			if tr.Flip {
				x0, x1 = x1, x0
				flipped++
			}
			if got := pixel(a, x0, 0); got[0] != 10*left || got[1] != 10*top {
				t.Fatalf("%+v: top-left pixel comes from (%d, %d), want (%d, %d)", tr, got[0]/10, got[1]/10, left, top)
			}
			if got := pixel(a, x1, size-1); got[0] != 10*(left+size-1) || got[1] != 10*(top+size-1) {
				t.Fatalf("%+v: bottom-right pixel comes from (%d, %d)", tr, got[0]/10, got[1]/10)
			}
		}
	}
	// 200 crops reach every position, including both edges.
	if len(lefts) != w-size+1 || len(tops) != h-size+1 || flipped == 0 || flipped == 200 {
		t.Errorf("%d left positions, %d top positions, %d flips", len(lefts), len(tops), flipped)
	}
}

func TestPreprocessSizes(t *testing.T) {
	img := coordImage(30, 22, 0)
	cases := []struct {
		pre        string
		load, crop int
		w, h       int
	}{
		{"resize_and_crop", 20, 16, 16, 16},
		{"resize", 20, 16, 20, 20},
		{"crop", 20, 16, 16, 16},
		{"scale_width", 20, 12, 20, 14},          // 20·22/30 = 14.67 → 14
		{"scale_width", 20, 16, 20, 16},          // at least the crop size
		{"scale_width_and_crop", 20, 12, 12, 12}, //
		{"none", 20, 16, 32, 24},                 // 7.5 → 8 and 5.5 → 6, half to even as Python
	}
	for _, c := range cases {
		o := Options{Preprocess: c.pre, LoadSize: c.load, CropSize: c.crop}
		out, err := o.Apply(img, Transform{CropX: 0.5, CropY: 0.99})
		if err != nil {
			t.Fatal(err)
		}
		if out.Bounds() != image.Rect(0, 0, c.w, c.h) {
			t.Errorf("%s %d/%d: %v, want %d×%d", c.pre, c.load, c.crop, out.Bounds().Size(), c.w, c.h)
		}
	}
	if _, err := (Options{Preprocess: "crop", CropSize: 24}).Apply(img, Transform{}); err == nil || !strings.Contains(err.Error(), "smaller than the crop size 24") {
		t.Errorf("crop larger than the image: %v", err)
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	root := makeDataset(t, 2, 2, 6, 6)
	bad := filepath.Join(root, "trainB", "img_ab.png")
	os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\n"), 0o644) // truncated after the signature
	o := opts(root)
	o.Preprocess, o.CropSize = "crop", 5
	u, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := u.Load(Pair{A: 0, B: 1}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("corrupt B: %v", err)
	}
	o.CropSize = 7
	u, _ = Open(o)
	if _, _, err := u.Load(Pair{A: 1, B: 0}); err == nil || !strings.Contains(err.Error(), "img_ab.png") || !strings.Contains(err.Error(), "smaller than the crop") {
		t.Errorf("image smaller than the crop: %v", err)
	}
	if _, _, err := u.Load(Pair{A: 2}); err == nil {
		t.Error("pair outside the data set accepted")
	}
}
