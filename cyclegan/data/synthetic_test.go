package data

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/tensor"
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
	for _, f := range []string{"trainA/plain_0003.png", "testB/striped_0001.png", "testA_truth/plain_0001.png",
		"testB_truth/striped_0000.png", "testA_mask/plain_0000.png", "testB_mask/striped_0001.png", SynthMarker} {
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

	// Asking again for the same set is a no-op; a set of other options is
	// replaced whole; a folder with other files is refused and left alone.
	if err := WriteSynthetic(root, o); err != nil {
		t.Errorf("same options again: %v", err)
	}
	if err := WriteSynthetic(third, o); err != nil {
		t.Errorf("other options into the same folder: %v", err)
	}
	for _, f := range []string{"trainA/plain_0000.png", "testA_truth/plain_0001.png", SynthMarker} {
		x, _ := os.ReadFile(filepath.Join(root, f))
		y, _ := os.ReadFile(filepath.Join(third, f))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s: the set of seed 8 was not replaced by that of seed 7", f)
		}
	}
	busy := t.TempDir()
	os.WriteFile(filepath.Join(busy, "mine.txt"), []byte("keep me"), 0o644)
	if err := WriteSynthetic(busy, o); err == nil {
		t.Error("wrote into a folder holding other files")
	}
	if entries, _ := os.ReadDir(busy); len(entries) != 1 {
		t.Errorf("the busy folder now holds %d entries", len(entries))
	}
	// Nor is a synthetic set to which other files were added.
	os.WriteFile(filepath.Join(third, "notes.txt"), []byte("mine"), 0o644)
	if err := WriteSynthetic(third, o2); err == nil || !strings.Contains(err.Error(), third) {
		t.Errorf("a synthetic set with a file added was replaced: %v", err)
	}
	if _, err := os.Stat(filepath.Join(third, "notes.txt")); err != nil {
		t.Error(err)
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

// TestSyntheticTruth: each test image's truth is its shape in the other
// domain's style and its mask the shape's coverage, as drawn from the same
// stream as the image; ReadSynthetic reads the options back.
func TestSyntheticTruth(t *testing.T) {
	o := SynthOptions{Size: 32, Train: 1, Test: 3, StripePeriod: 4, Seed: 5}
	root := filepath.Join(t.TempDir(), "s")
	if err := WriteSynthetic(root, o); err != nil {
		t.Fatal(err)
	}
	got, ok, err := ReadSynthetic(root)
	if err != nil || !ok || got != o {
		t.Errorf("ReadSynthetic: %+v, %v, %v; want %+v", got, ok, err, o)
	}
	for k, d := range []struct {
		dom, name string
		striped   bool
	}{{"A", "plain", false}, {"B", "striped", true}} {
		rng := tensor.NewRand(splitmix64(o.Seed ^ uint64(k+3)*0x632be59bd9b4e019)) // testA's, testB's stream
		files, err := TruthFiles(root, Direction(k))
		if err != nil || len(files) != o.Test {
			t.Fatalf("test%s: %d files, %v", d.dom, len(files), err)
		}
		for i, f := range files {
			sh := randomShape(rng, o.Size)
			in, _ := ReadImage(f.Input)
			truth, _ := ReadImage(f.Truth)
			mask, err := ReadMask(f.Mask)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(in.Pix, sh.render(o.Size, d.striped, o.StripePeriod, 0).Pix) {
				t.Fatalf("%s is not the %d-th shape of its stream", f.Input, i)
			}
			if !bytes.Equal(truth.Pix, sh.render(o.Size, !d.striped, o.StripePeriod, 0).Pix) {
				t.Errorf("%s is not %s's shape in the other style", f.Truth, f.Input)
			}
			if !bytes.Equal(mask.Pix, sh.coverage(o.Size).Pix) {
				t.Errorf("%s is not %s's coverage", f.Mask, f.Input)
			}
			// The mask is the shape: full inside, empty outside, where
			// the image is the shape's colour, or the background's.
			var inside, outside int
			for p, m := range mask.Pix {
				c := [3]uint8{in.Pix[4*p], in.Pix[4*p+1], in.Pix[4*p+2]}
				bg := [3]uint8{level(sh.bg[0]), level(sh.bg[1]), level(sh.bg[2])}
				switch {
				case m == 0 && c != bg:
					t.Fatalf("%s: pixel %d outside the mask is %v, not the background %v", f.Input, p, c, bg)
				case m == 0:
					outside++
				case m == 255 && c == bg:
					t.Fatalf("%s: pixel %d inside the mask is the background", f.Input, p)
				case m == 255:
					inside++
				}
			}
			if inside == 0 || outside == 0 {
				t.Errorf("%s: %d pixels inside, %d outside", f.Mask, inside, outside)
			}
			name := filepath.Base(f.Input)
			if !strings.HasPrefix(name, d.name+"_") || filepath.Base(f.Truth) != name || filepath.Base(f.Mask) != name {
				t.Errorf("names %s, %s, %s", f.Input, f.Truth, f.Mask)
			}
		}
	}
	// A missing truth file is named.
	os.Remove(filepath.Join(root, "testB_truth", "striped_0002.png"))
	if _, err := TruthFiles(root, BToA); err == nil || !strings.Contains(err.Error(), "striped_0002.png") {
		t.Errorf("missing truth: %v", err)
	}
	if _, ok, err := ReadSynthetic(t.TempDir()); ok || err != nil {
		t.Errorf("ReadSynthetic of an empty folder: %v, %v", ok, err)
	}
}

// TestSyntheticOldVersion: a set written before the truth existed (its
// marker's text differs) is replaced by the current one, images included.
func TestSyntheticOldVersion(t *testing.T) {
	o := SynthOptions{Size: 16, Train: 2, Test: 1, StripePeriod: 4, Seed: 3}
	old := filepath.Join(t.TempDir(), "old")
	for _, d := range []string{"trainA", "trainB", "testA", "testB"} {
		os.MkdirAll(filepath.Join(old, d), 0o755)
		os.WriteFile(filepath.Join(old, d, "plain_0000.png"), []byte("stale"), 0o644)
	}
	os.WriteFile(filepath.Join(old, SynthMarker), []byte("camcycle synthetic data set\nA: plain shapes, B: striped shapes\n"+
		"size 16, train 2, test 1 per domain, stripe period 4, seed 3\n"), 0o644)
	if _, ok, err := ReadSynthetic(old); ok || err != nil {
		t.Errorf("ReadSynthetic of the old set: %v, %v", ok, err)
	}
	if err := WriteSynthetic(old, o); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	if err := WriteSynthetic(fresh, o); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"trainA/plain_0000.png", "trainA/plain_0001.png", "testA_mask/plain_0000.png", SynthMarker} {
		x, _ := os.ReadFile(filepath.Join(old, f))
		y, _ := os.ReadFile(filepath.Join(fresh, f))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s of the replaced set differs from a fresh one", f)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(old)); len(entries) != 1 {
		t.Errorf("%d entries beside the replaced set, want none", len(entries)-1)
	}
	if _, ok, _ := ReadSynthetic(old); !ok {
		t.Error("the replaced set is not read as current")
	}
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
