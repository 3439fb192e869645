package fid

import (
	"errors"
	"image"
	"path/filepath"
	"testing"

	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/internal/fidtest"
	"github.com/camcycle/camcycle/tensor"
)

// TestFeaturesOf: images loaded one at a time, in batches of equal sizes
// (a change of size starts a new batch), give each image's own features,
// as Features of that image alone; progress counts them; a load error
// stops it. And weights saved as .safetensors load as the .pth do.
func TestFeaturesOf(t *testing.T) {
	if testing.Short() {
		t.Skip("Inception-v3 forwards")
	}
	path := filepath.Join(t.TempDir(), "weights.safetensors")
	if err := fidtest.SaveWeights(filepath.Join("..", "..", fidtest.GoldenFile), path); err != nil {
		t.Fatal(err)
	}
	m, err := LoadInception(path, tensor.CPU)
	if err != nil {
		t.Fatal(err)
	}
	sizes := [][2]int{{20, 20}, {20, 20}, {28, 16}, {20, 20}}
	imgs := make([]*image.RGBA, len(sizes))
	for i, s := range sizes {
		imgs[i] = image.NewRGBA(image.Rect(0, 0, s[0], s[1]))
		for j, u := range fidtest.Unit("image", len(imgs[i].Pix)) {
			imgs[i].Pix[j] = uint8(128 + 127*u)
		}
	}
	var calls []int
	f, err := m.FeaturesOf(len(imgs), func(i int) (*image.RGBA, error) { return imgs[i], nil }, 3, func(done int) { calls = append(calls, done) })
	if err != nil {
		t.Fatal(err)
	}
	if r, c := f.Dims(); r != len(imgs) || c != FeatureDim {
		t.Fatalf("features %d×%d", r, c)
	}
	// Batches: the two 20×20 images, then the 28×16 one, then the last.
	if want := []int{2, 3, 4}; len(calls) != 3 || calls[0] != want[0] || calls[1] != want[1] || calls[2] != want[2] {
		t.Errorf("progress after each batch: %v, want %v", calls, want)
	}
	for i, img := range imgs {
		alone := m.Features(data.ImageToUnitTensor(img)).Values()
		if rel, _ := distance(f.RawRowView(i), alone); rel > 1e-6 {
			t.Errorf("image %d: relative L2 %.3g from its features alone", i, rel)
		}
	}
	if _, err := m.FeaturesOf(2, func(i int) (*image.RGBA, error) { return nil, errTest }, 2, nil); err != errTest {
		t.Errorf("a load error: %v", err)
	}
}

var errTest = errors.New("cannot read")
