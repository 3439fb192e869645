package data

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/camcycle/camcycle/tensor"
)

// SynthOptions sets the size of the synthetic data set; DefaultSynthOptions
// gives a set a small CycleGAN learns from in minutes on a CPU.
type SynthOptions struct {
	// Size is the side of the square images in pixels (64).
	Size int
	// Train and Test are the numbers of images per domain in trainA, trainB
	// and in testA, testB (100 and 20).
	Train, Test int
	// StripePeriod is the period of domain B's stripes in pixels, one dark
	// and one light band (8).
	StripePeriod int
	// Seed makes the set: the same options give the same files, byte for
	// byte.
	Seed uint64
}

// DefaultSynthOptions returns 64×64 images, 100 training and 20 test images
// per domain, stripes of period 8, seed 1.
func DefaultSynthOptions() SynthOptions {
	return SynthOptions{Size: 64, Train: 100, Test: 20, StripePeriod: 8, Seed: 1}
}

func (o SynthOptions) check() error {
	if o.Size < 16 || o.Train < 1 || o.Test < 1 || o.StripePeriod < 2 || o.StripePeriod > o.Size/2 {
		return fmt.Errorf("data: synthetic data set: want Size ≥ 16, Train ≥ 1, Test ≥ 1 and 2 ≤ StripePeriod ≤ Size/2, got %+v", o)
	}
	return nil
}

// SynthMarker is the file WriteSynthetic leaves in the data set's folder; it
// records the options the set was made with.
const SynthMarker = "SYNTHETIC.txt"

func (o SynthOptions) describe() string {
	return fmt.Sprintf("camcycle synthetic data set\nA: plain shapes, B: striped shapes\n"+
		"size %d, train %d, test %d per domain, stripe period %d, seed %d\n", o.Size, o.Train, o.Test, o.StripePeriod, o.Seed)
}

// WriteSynthetic writes a small unpaired data set into dir in the standard
// layout: trainA, trainB, testA, testB of PNG images. Domain A holds plain
// coloured shapes (discs, squares, triangles, of random size, position,
// rotation and colour) on plain muted backgrounds; domain B holds shapes
// drawn from the same distribution but filled with diagonal stripes of the
// shape's colour and a dark shade of it, like a zebra's. The two domains are
// drawn independently, so no image of A has a partner in B.
//
// The set is a pure function of o. If dir already holds the set made with
// the same options, WriteSynthetic does nothing; if dir holds anything else,
// it fails rather than mixing files. The set is written into a temporary
// folder beside dir and renamed into place, so dir is complete or absent.
func WriteSynthetic(dir string, o SynthOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	desc := o.describe()
	if b, err := os.ReadFile(filepath.Join(dir, SynthMarker)); err == nil && string(b) == desc {
		return nil
	}
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return fmt.Errorf("data: %s is not empty and is not a synthetic data set made with these options; give a new or empty folder", dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("data: %w", err)
	}

	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	splits := []struct {
		folder, name string
		n            int
		striped      bool
	}{
		{"trainA", "plain", o.Train, false},
		{"trainB", "striped", o.Train, true},
		{"testA", "plain", o.Test, false},
		{"testB", "striped", o.Test, true},
	}
	for k, s := range splits {
		// Each folder has its own stream, so the four are unrelated.
		rng := tensor.NewRand(splitmix64(o.Seed ^ uint64(k+1)*0x632be59bd9b4e019))
		for i := range s.n {
			img := randomShape(rng, o.Size).render(o.Size, s.striped, o.StripePeriod)
			path := filepath.Join(tmp, s.folder, fmt.Sprintf("%s_%04d.png", s.name, i))
			if err := createPNG(path, img); err != nil {
				return err
			}
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, SynthMarker), []byte(desc), 0o644); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	os.Remove(dir) // an empty folder given by the caller; the rename needs the name free
	if err := os.Rename(tmp, dir); err != nil {
		// Another process (a parallel task of a sweep) may have written the
		// same data set meanwhile: its copy serves.
		if b, rerr := os.ReadFile(filepath.Join(dir, SynthMarker)); rerr == nil && string(b) == desc {
			return nil
		}
		return fmt.Errorf("data: %w", err)
	}
	done = true
	return nil
}

// Shape kinds.
const (
	disc = iota
	square
	triangle
)

// shape is one synthetic image's content, in pixel units.
type shape struct {
	kind       int
	cx, cy, r  float64 // centre and circumradius
	sin, cos   float64 // of the rotation of squares and triangles
	colour, bg [3]float64
}

// randomShape draws a shape that fits in a size×size image.
func randomShape(rng *rand.Rand, size int) shape {
	s := float64(size)
	r := s * (0.2 + 0.15*rng.Float64())
	sh := shape{kind: rng.IntN(3), r: r}
	sh.cx = r + (s-2*r)*rng.Float64()
	sh.cy = r + (s-2*r)*rng.Float64()
	sh.sin, sh.cos = math.Sincos(2 * math.Pi * rng.Float64())
	sh.colour = hsv(rng.Float64(), 0.7+0.3*rng.Float64(), 0.8+0.2*rng.Float64())
	sh.bg = hsv(rng.Float64(), 0.1+0.2*rng.Float64(), 0.3+0.3*rng.Float64())
	return sh
}

// inside reports whether point (x, y) lies in the shape.
func (s shape) inside(x, y float64) bool {
	// Rotate the point into the shape's frame.
	dx, dy := x-s.cx, y-s.cy
	u, v := dx*s.cos+dy*s.sin, -dx*s.sin+dy*s.cos
	switch s.kind {
	case disc:
		return u*u+v*v <= s.r*s.r
	case square: // half-side r/√2: the corners touch the circumcircle
		h := s.r / math.Sqrt2
		return math.Abs(u) <= h && math.Abs(v) <= h
	default: // equilateral triangle: inside the three edges, each r/2 from the centre
		for k := range 3 {
			a := 2*math.Pi*float64(k)/3 + math.Pi/2
			if u*math.Cos(a)+v*math.Sin(a) > s.r/2 {
				return false
			}
		}
		return true
	}
}

// render draws the shape, plain or striped, averaging 4×4 samples per
// pixel so that edges are smooth.
func (s shape) render(size int, striped bool, period int) *image.RGBA {
	const ss = 4
	dark := [3]float64{0.15 * s.colour[0], 0.15 * s.colour[1], 0.15 * s.colour[2]}
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for py := range size {
		for px := range size {
			var sum [3]float64
			for j := range ss {
				for i := range ss {
					x := float64(px) + (float64(i)+0.5)/ss
					y := float64(py) + (float64(j)+0.5)/ss
					c := s.bg
					if s.inside(x, y) {
						c = s.colour
						// Stripes at 45°: dark where the phase along x + y
						// is in the first half of a period.
						if striped && math.Mod((x+y)/math.Sqrt2, float64(period)) < float64(period)/2 {
							c = dark
						}
					}
					for k := range 3 {
						sum[k] += c[k]
					}
				}
			}
			p := img.Pix[img.PixOffset(px, py):]
			for k := range 3 {
				p[k] = uint8(math.Round(255 * sum[k] / (ss * ss)))
			}
			p[3] = 0xff
		}
	}
	return img
}

// hsv converts hue, saturation, value in [0, 1] to RGB in [0, 1].
func hsv(h, s, v float64) [3]float64 {
	h = 6 * (h - math.Floor(h))
	i := int(h) % 6
	f := h - math.Floor(h)
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	return [6][3]float64{{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}}[i]
}

// createPNG writes img to a new file, making its folder. (The files of the
// synthetic set need no atomic writes: the whole folder is renamed into
// place at the end.)
func createPNG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("data: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("data: writing %s: %w", path, err)
	}
	return nil
}
