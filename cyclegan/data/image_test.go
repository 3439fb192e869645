package data

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/tensor"
)

const fixtures = "../../testdata/images"

func readFixture(t *testing.T, name string) *image.RGBA {
	t.Helper()
	img, err := ReadImage(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// diff returns the largest and the mean absolute difference of two
// images' RGB values, in 8-bit levels.
func diff(t *testing.T, a, b *image.RGBA) (worst int, mean float64) {
	t.Helper()
	if a.Bounds() != b.Bounds() {
		t.Fatalf("sizes differ: %v and %v", a.Bounds(), b.Bounds())
	}
	n := 0
	for i := range a.Pix {
		if i%4 == 3 {
			continue
		}
		d := int(a.Pix[i]) - int(b.Pix[i])
		d = max(d, -d)
		worst = max(worst, d)
		mean += float64(d)
		n++
	}
	return worst, mean / float64(n)
}

// TestReadImageConvertsToRGB compares each stored mode (gray, gray+alpha,
// RGBA, palette, CMYK, JPEG, BMP, TIFF) with PIL's convert('RGB') of it.
func TestReadImageConvertsToRGB(t *testing.T) {
	cases := []struct {
		name  string
		worst int     // largest difference allowed, in levels
		mean  float64 // mean difference allowed
	}{
		{"gray.png", 0, 0},
		{"gray_alpha.png", 0, 0},
		{"rgba.png", 0, 0}, // alpha 0 in the first column: the colour must survive
		{"palette.png", 0, 0},
		{"palette_trns.png", 0, 0},
		{"rgb.bmp", 0, 0},
		{"rgb.tif", 0, 0},
		// Go's and libjpeg's inverse DCTs round differently: a level or
		// two here and there. (Without ycbcrToRGB's libjpeg-style chroma
		// interpolation, rgb420.jpg differs by up to 25 levels, 1.9 on
		// average.)
		{"gray.jpg", 2, 0.1},
		{"cmyk.jpg", 2, 0.1},
		{"rgb444.jpg", 3, 0.1},
		{"rgb420.jpg", 3, 0.1},
		{"rgb422.jpg", 3, 0.1},
	}
	for _, c := range cases {
		got := readFixture(t, c.name)
		want := readFixture(t, c.name+".rgb.png")
		if !got.Opaque() {
			t.Errorf("%s: not opaque", c.name)
		}
		worst, mean := diff(t, got, want)
		t.Logf("%s: differs from PIL by at most %d levels, %.3f on average", c.name, worst, mean)
		if worst > c.worst || mean > c.mean {
			t.Errorf("%s: differs from PIL by up to %d levels (mean %.3f), allowed %d (%.3f)", c.name, worst, mean, c.worst, c.mean)
		}
	}
}

// TestResizeMatchesPIL compares Resize with PIL's Image.resize(BICUBIC),
// up and down.
func TestResizeMatchesPIL(t *testing.T) {
	src := readFixture(t, "src.png")
	for _, c := range []struct {
		name string
		w, h int
	}{{"src_up.png", 37, 29}, {"src_down.png", 9, 7}} {
		want := readFixture(t, c.name)
		got := Resize(src, c.w, c.h)
		worst, mean := diff(t, got, want)
		t.Logf("%s: differs from PIL by at most %d levels, %.3f on average", c.name, worst, mean)
		if worst > 1 || mean > 0.01 {
			t.Errorf("%s: differs from PIL by up to %d levels (mean %.3f)", c.name, worst, mean)
		}
	}
	if Resize(src, 23, 19) != src {
		t.Error("resizing to the same size made a new image")
	}
}

// TestTensorRoundTripMatchesReference: ImageToTensor followed by
// TensorToImage gives what ToTensor, Normalize and util.tensor2im give
// (some levels come back one lower, as in the reference).
func TestTensorRoundTripMatchesReference(t *testing.T) {
	img := readFixture(t, "ramp.png")
	x := ImageToTensor(img)
	if !x.Shape().Equal(tensor.Shape{1, 3, 16, 16}) || x.DType() != tensor.Float32 {
		t.Fatalf("tensor %v %s", x.Shape(), x.DType())
	}
	v := x.Float32s()
	// ramp.png: R = level y·16+x, G = 255 − level, B = level of the transpose.
	for _, c := range []struct {
		ch, y, x int
		want     float32
	}{{0, 0, 0, -1}, {0, 15, 15, 1}, {1, 0, 0, 1}, {2, 0, 1, float32(16)/255/0.5 - 1}, {0, 8, 0, (float32(128)/255 - 0.5) / 0.5}} {
		if got := v[(c.ch*16+c.y)*16+c.x]; got != c.want {
			t.Errorf("x[0, %d, %d, %d] = %v, want %v", c.ch, c.y, c.x, got, c.want)
		}
	}
	worst, _ := diff(t, TensorToImage(x), readFixture(t, "ramp.t2i.png"))
	if worst != 0 {
		t.Errorf("tensor2im differs from the reference by up to %d levels", worst)
	}
}

func TestSavePNGAndLoadImage(t *testing.T) {
	dir := t.TempDir()
	x := tensor.RandUniform(tensor.NewRand(3), tensor.Float32, -1, 1, 1, 3, 5, 7)
	path := filepath.Join(dir, "results", "images", "fake_B.png") // folders made by SavePNG
	if err := SavePNG(path, x); err != nil {
		t.Fatal(err)
	}
	back, err := ReadImage(path)
	if err != nil {
		t.Fatal(err)
	}
	if worst, _ := diff(t, back, TensorToImage(x)); worst != 0 {
		t.Errorf("PNG differs from TensorToImage by %d levels", worst)
	}
	y, err := LoadImage(path, 7) // 7×5 → 7×7: a resize
	if err != nil || !y.Shape().Equal(tensor.Shape{1, 3, 7, 7}) {
		t.Fatalf("LoadImage: %v %v", y, err)
	}
	same, err := LoadImage(path, 0)
	if err == nil {
		t.Errorf("size 0 accepted: %v", same)
	}
	// Without a resize, the 8-bit round trip loses at most one level
	// (2/255 in [−1, 1]) and the truncation makes it never gain.
	z := ImageToTensor(back).Values()
	for i, v := range x.Values() {
		if d := v - z[i]; d < -1e-6 || d > 2.0/255+1e-6 {
			t.Fatalf("element %d: %v came back as %v", i, v, z[i])
		}
	}
	// Gray (1, 1, H, W) and unbatched (3, H, W) tensors are accepted too.
	g := TensorToImage(tensor.Full(tensor.Float64, 0, 1, 1, 2, 2))
	if c := g.RGBAAt(1, 1); c.R != 127 || c.G != 127 || c.B != 127 {
		t.Errorf("gray 0 became %v", c)
	}
	if r := TensorToImage(tensor.Full(tensor.Float32, 1, 3, 2, 4)); r.Bounds().Dx() != 4 || r.RGBAAt(0, 0).R != 255 {
		t.Errorf("(3, H, W): %v", r.Bounds())
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "(2, 3, 4)") {
				t.Errorf("bad shape: panic %v", r)
			}
		}()
		TensorToImage(tensor.New(tensor.Float32, 2, 3, 4))
	}()
}

func TestReadImageRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	png, _ := os.ReadFile(filepath.Join(fixtures, "src.png"))
	jpg, _ := os.ReadFile(filepath.Join(fixtures, "rgb444.jpg"))
	var gifData bytes.Buffer
	gif.Encode(&gifData, image.NewPaletted(image.Rect(0, 0, 4, 4), []color.Color{color.Black, color.White}), nil)
	cases := []struct{ name, want string }{
		{"empty.png", "empty file"},
		{"cut.png", "PNG"}, // "corrupt PNG: … not enough pixel data"
		{"cut.jpg", "truncated JPEG"},
		{"garbage.jpg", "JPEG"},
		{"bad_crc.png", "corrupt PNG"},
		{"anim.gif", "GIF"},
		{"gif_named.jpg", "GIF"},
		{"notes.jpg", "text"},
		{"photo.webp", "WebP"},
	}
	contents := map[string][]byte{
		"empty.png":     nil,
		"cut.png":       png[:len(png)/2],
		"cut.jpg":       jpg[:len(jpg)/2],
		"garbage.jpg":   append([]byte("\xff\xd8\xff\xe0"), bytes.Repeat([]byte{0x55}, 200)...),
		"bad_crc.png":   append(append([]byte{}, png[:40]...), append([]byte{png[40] ^ 0xff}, png[41:]...)...),
		"anim.gif":      gifData.Bytes(),
		"gif_named.jpg": gifData.Bytes(),
		"notes.jpg":     []byte("these are my notes, not a photo\n"),
		"photo.webp":    []byte("RIFF\x10\x00\x00\x00WEBPVP8 "),
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		os.WriteFile(path, contents[c.name], 0o644)
		_, err := ReadImage(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v should name the file and say %q", c.name, err, c.want)
		}
		if _, err := LoadImage(path, 8); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: LoadImage error %v should name the file", c.name, err)
		}
	}
	if _, err := ReadImage(filepath.Join(dir, "missing.png")); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("missing file: %v", err)
	}
}

func TestImageToTensorConvertsAnyImage(t *testing.T) {
	gray := image.NewGray(image.Rect(2, 3, 5, 5)) // not at the origin
	for i := range gray.Pix {
		gray.Pix[i] = uint8(40 * i)
	}
	x := ImageToTensor(gray)
	if !x.Shape().Equal(tensor.Shape{1, 3, 2, 3}) {
		t.Fatalf("shape %v", x.Shape())
	}
	v := x.Float32s()
	for i, g := range gray.Pix {
		want := (float32(g)/255 - 0.5) / 0.5
		for c := range 3 {
			if v[c*6+i] != want {
				t.Fatalf("channel %d pixel %d: %v, want %v", c, i, v[c*6+i], want)
			}
		}
	}
	sub := readFixture(t, "src.png").SubImage(image.Rect(3, 4, 9, 8))
	y := ImageToTensor(sub)
	full := ImageToTensor(readFixture(t, "src.png")).Float32s()
	if y.Float32s()[0] != full[4*23+3] || y.Float32s()[2*24+23] != full[2*19*23+7*23+8] {
		t.Error("sub-image read from the wrong place")
	}
}

// TestImageToUnitTensor: pixel values v become v/255, channel-major.
// (Images with transparency go through toRGB first, as for ImageToTensor.)
func TestImageToUnitTensor(t *testing.T) {
	img := image.NewRGBA(image.Rect(3, 5, 5, 6)) // 2×1, not at the origin
	copy(img.Pix, []uint8{255, 0, 51, 255, 0, 102, 255, 255})
	got := ImageToUnitTensor(img)
	want := []float64{1, 0, 0, 102.0 / 255, 51.0 / 255, 1}
	if !got.Shape().Equal(tensor.Shape{1, 3, 1, 2}) {
		t.Fatalf("shape %v", got.Shape())
	}
	for i, v := range got.Values() {
		if v != float64(float32(want[i])) {
			t.Errorf("element %d = %v, want %v", i, v, want[i])
		}
	}
}
