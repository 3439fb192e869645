package data

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteSynthetic(t *testing.T) {
	o := SynthOptions{Size: 32, Train: 6, Test: 2, StripePeriod: 6, Seed: 7}
	root := filepath.Join(t.TempDir(), "made", "synthetic") // parents made too
	if err := WriteSynthetic(root, o); err != nil {
		t.Fatal(err)
	}
	// The standard layout, readable by Open.
	for _, phase := range []struct {
		name string
		n    int
	}{{"train", 6}, {"test", 2}} {
		u, err := Open(Options{Dataroot: root, Phase: phase.name, Preprocess: "none", LoadSize: 32, CropSize: 32, NoFlip: true, SerialBatches: true})
		if err != nil {
			t.Fatal(err)
		}
		if u.SizeA() != phase.n || u.SizeB() != phase.n {
			t.Fatalf("%s: %d and %d images, want %d", phase.name, u.SizeA(), u.SizeB(), phase.n)
		}
		a, b, err := u.Load(u.Epoch(0)[0])
		if err != nil || a.Dim(3) != 32 || b.Dim(2) != 32 {
			t.Fatalf("%s: %v", phase.name, err)
		}
	}
	// B is striped, A is plain: far more change between neighbouring pixels.
	var edgesA, edgesB float64
	for i := range 6 {
		edgesA += edges(t, filepath.Join(root, "trainA", "plain_000"+string(rune('0'+i))+".png"))
		edgesB += edges(t, filepath.Join(root, "trainB", "striped_000"+string(rune('0'+i))+".png"))
	}
	if edgesB < 1.5*edgesA {
		t.Errorf("mean neighbour difference: A %.2f, B %.2f; B should be striped", edgesA/6, edgesB/6)
	}

	// Deterministic: another folder gets the same bytes.
	other := filepath.Join(t.TempDir(), "again")
	if err := WriteSynthetic(other, o); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"trainA/plain_0003.png", "testB/striped_0001.png", SynthMarker} {
		x, _ := os.ReadFile(filepath.Join(root, f))
		y, _ := os.ReadFile(filepath.Join(other, f))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs", f)
		}
	}
	// Another seed gives other images.
	o2 := o
	o2.Seed = 8
	third := filepath.Join(t.TempDir(), "seed8")
	WriteSynthetic(third, o2)
	x, _ := os.ReadFile(filepath.Join(root, "trainA/plain_0000.png"))
	y, _ := os.ReadFile(filepath.Join(third, "trainA/plain_0000.png"))
	if bytes.Equal(x, y) {
		t.Error("seeds 7 and 8 gave the same image")
	}

	// Asking again for the same set is a no-op; a different set, or a
	// folder with other files, is refused and left alone.
	if err := WriteSynthetic(root, o); err != nil {
		t.Errorf("same options again: %v", err)
	}
	if err := WriteSynthetic(root, o2); err == nil || !strings.Contains(err.Error(), root) {
		t.Errorf("other options into the same folder: %v", err)
	}
	busy := t.TempDir()
	os.WriteFile(filepath.Join(busy, "mine.txt"), []byte("keep me"), 0o644)
	if err := WriteSynthetic(busy, o); err == nil {
		t.Error("wrote into a folder holding other files")
	}
	if entries, _ := os.ReadDir(busy); len(entries) != 1 {
		t.Errorf("the busy folder now holds %d entries", len(entries))
	}
	// An existing empty folder is fine, and no temporary folder remains.
	emptyParent := t.TempDir()
	empty := filepath.Join(emptyParent, "data")
	os.Mkdir(empty, 0o755)
	if err := WriteSynthetic(empty, o); err != nil {
		t.Errorf("empty folder: %v", err)
	}
	if entries, _ := os.ReadDir(emptyParent); len(entries) != 1 {
		t.Errorf("%d entries beside the data set, want none", len(entries)-1)
	}
	if err := WriteSynthetic(filepath.Join(t.TempDir(), "x"), SynthOptions{Size: 8}); err == nil {
		t.Error("bad options accepted")
	}
}

// edges returns the mean absolute difference between horizontal
// neighbours of an image file, in levels.
func edges(t *testing.T, path string) float64 {
	t.Helper()
	img, err := ReadImage(path)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	sum, n := 0.0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X + 1; x < b.Max.X; x++ {
			p, q := img.PixOffset(x, y), img.PixOffset(x-1, y)
			for c := range 3 {
				d := int(img.Pix[p+c]) - int(img.Pix[q+c])
				sum += float64(max(d, -d))
				n++
			}
		}
	}
	return sum / float64(n)
}

// TestWriteSyntheticConcurrently: processes writing the same data set at
// once (parallel tasks of a sweep) all succeed, and leave one complete set.
func TestWriteSyntheticConcurrently(t *testing.T) {
	o := SynthOptions{Size: 16, Train: 3, Test: 1, StripePeriod: 4, Seed: 7}
	root := filepath.Join(t.TempDir(), "synthetic")
	errs := make(chan error, 8)
	for range cap(errs) {
		go func() { errs <- WriteSynthetic(root, o) }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if paths, err := ListImagesIn(filepath.Join(root, "trainB")); err != nil || len(paths) != 3 {
		t.Errorf("trainB: %v, %v", paths, err)
	}
}
