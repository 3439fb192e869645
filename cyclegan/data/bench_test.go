package data

import (
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoad measures reading a pair of 256×256 JPEGs (the size of the
// official data sets) with the default training preprocessing: decode,
// resize to 286, crop 256, flip, to tensor.
func BenchmarkLoad(b *testing.B) {
	root := b.TempDir()
	for _, d := range []string{"trainA", "trainB"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
		f, err := os.Create(filepath.Join(root, d, "x.jpg"))
		if err != nil {
			b.Fatal(err)
		}
		if err := jpeg.Encode(f, coordImage(256, 256, 1), &jpeg.Options{Quality: 90}); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	o := DefaultOptions()
	o.Dataroot = root
	u, err := Open(o)
	if err != nil {
		b.Fatal(err)
	}
	p := u.Epoch(0)[0]
	p.TransformA.Flip = true
	for b.Loop() {
		if _, _, err := u.Load(p); err != nil {
			b.Fatal(err)
		}
	}
}
