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
	"slices"
	"strings"

	"github.com/camcycle/camcycle/tensor"
)

// SynthOptions sets the size of the synthetic data set; DefaultSynthOptions
// gives a set a small CycleGAN learns from in minutes on a CPU.
type SynthOptions struct {
	// Size is the side of the square images in pixels (48).
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

// DefaultSynthOptions returns 48×48 images, 100 training and 20 test images
// per domain, stripes of period 8, seed 1.
func DefaultSynthOptions() SynthOptions {
	return SynthOptions{Size: 48, Train: 100, Test: 20, StripePeriod: 8, Seed: 1}
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

// synthHeader opens every version of the marker.
const synthHeader = "camcycle synthetic data set\n"

// synthOptionsLine is the marker's line of options, its third.
const synthOptionsLine = "size %d, train %d, test %d per domain, stripe period %d, seed %d"

func (o SynthOptions) describe() string {
	return fmt.Sprintf(synthHeader+"A: plain orange shapes, B: striped orange shapes, on a grey-blue ground\n"+synthOptionsLine+"\n"+
		"ground truth of the test sets: testA_truth (each testA shape striped), testB_truth (each testB shape plain), "+
		"testA_mask and testB_mask (the shapes' coverage)\n", o.Size, o.Train, o.Test, o.StripePeriod, o.Seed)
}

// ReadSynthetic reports whether dir holds a synthetic data set of this
// version, with its ground truth, and returns the options it was made
// with. A folder without the marker, or with the marker of an older
// version (whose test sets have no truth), gives false and no error.
func ReadSynthetic(dir string) (SynthOptions, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, SynthMarker))
	if errors.Is(err, fs.ErrNotExist) {
		return SynthOptions{}, false, nil
	}
	if err != nil {
		return SynthOptions{}, false, fmt.Errorf("data: %w", err)
	}
	var o SynthOptions
	lines := strings.Split(string(b), "\n")
	if len(lines) < 3 {
		return SynthOptions{}, false, nil
	}
	if _, err := fmt.Sscanf(lines[2], synthOptionsLine, &o.Size, &o.Train, &o.Test, &o.StripePeriod, &o.Seed); err != nil || o.describe() != string(b) {
		return SynthOptions{}, false, nil
	}
	return o, true, nil
}

// synthNames are the entries of a synthetic data set's folder.
func synthNames() []string {
	return []string{"trainA", "trainB", "testA", "testB", "testA_truth", "testB_truth", "testA_mask", "testB_mask", SynthMarker}
}

// oldSynthetic reports whether a folder whose entries are given holds a
// synthetic data set of another version or other options, and nothing
// else: its marker opens as every marker does, and it has no entry a set
// does not have. Such a folder may be replaced whole.
func oldSynthetic(dir string, entries []os.DirEntry) bool {
	b, err := os.ReadFile(filepath.Join(dir, SynthMarker))
	if err != nil || !strings.HasPrefix(string(b), synthHeader) {
		return false
	}
	for _, e := range entries {
		if !slices.Contains(synthNames(), e.Name()) {
			return false
		}
	}
	return true
}

// WriteSynthetic writes a small unpaired data set into dir in the standard
// layout: trainA, trainB, testA, testB of PNG images. Domain A holds plain
// orange shapes (discs, squares, triangles, of random size, position and
// rotation) on a plain grey-blue ground; domain B holds shapes drawn from
// the same distribution but filled with diagonal stripes of the shape's
// colour and a dark shade of it (StripeShade times the colour), like a
// zebra's. The two domains are drawn independently, so no image of A has a
// partner in B.
//
// The colours are the same in every image, on purpose. The generator's
// first convolution is followed by an InstanceNorm, which removes each
// channel's mean and scale: G(s·x + c) = G(x) for any s > 0 and colour c,
// so of a two-coloured image the network sees only the shape and the
// direction of the colour difference, never the colours themselves. With
// random colours (an earlier version of this set) no generator can
// reconstruct its input, and CycleGAN's losses cannot tell a colour
// permutation from the identity; a small network then learnt blobs. The
// task left is the one the thesis asks about: keep the outline and the
// background, change the texture.
//
// The test sets come with their ground truth, under the same file names:
// testA_truth holds each testA shape striped (what G_A should make of it),
// testB_truth each testB shape plain (what G_B should make of it), and
// testA_mask, testB_mask the shapes' coverage of each pixel, 8-bit gray
// (0: background, 255: inside), from the same 4×4 samples per pixel as the
// images. ScoreTruth scores translations against them.
//
// The set is a pure function of o. If dir already holds the set made with
// the same options, WriteSynthetic does nothing; if it holds a synthetic set
// of an older version or of other options, and nothing else, that set is
// replaced whole; if dir holds anything else, it fails rather than mixing
// files. The set is written into a temporary folder beside dir and renamed
// into place, so dir is complete or absent.
func WriteSynthetic(dir string, o SynthOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	desc := o.describe()
	if b, err := os.ReadFile(filepath.Join(dir, SynthMarker)); err == nil && string(b) == desc {
		return nil
	}
	entries, err := os.ReadDir(dir)
	replace := false
	switch {
	case err == nil && len(entries) > 0:
		if replace = oldSynthetic(dir, entries); !replace {
			return fmt.Errorf("data: %s is not empty and is not a synthetic data set; give a new or empty folder", dir)
		}
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
		test := strings.HasPrefix(s.folder, "test")
		for i := range s.n {
			sh := randomShape(rng, o.Size)
			file := fmt.Sprintf("%s_%04d.png", s.name, i)
			if err := createPNG(filepath.Join(tmp, s.folder, file), sh.render(o.Size, s.striped, o.StripePeriod, 0)); err != nil {
				return err
			}
			if !test {
				continue
			}
			// The truth: the same shape in the other domain's style.
			if err := createPNG(filepath.Join(tmp, s.folder+"_truth", file), sh.render(o.Size, !s.striped, o.StripePeriod, 0)); err != nil {
				return err
			}
			if err := createPNG(filepath.Join(tmp, s.folder+"_mask", file), sh.coverage(o.Size)); err != nil {
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
	if replace {
		// The old set steps aside, the new one takes its name, the old
		// one goes; should the second rename fail, the old set returns.
		old := tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("data: replacing the synthetic data set in %s: %w", dir, err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			os.Rename(old, dir)
			return fmt.Errorf("data: replacing the synthetic data set in %s: %w", dir, err)
		}
		done = true
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("data: removing the old synthetic data set: %w", err)
		}
		return nil
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
	sh.colour = hsv(0.08, 0.8, 0.9) // orange; see WriteSynthetic for why fixed
	sh.bg = hsv(0.55, 0.15, 0.55)
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

// StripeShade is the dark band of domain B's stripes: this times the
// shape's colour.
const StripeShade = 0.15

// samples is the side of the grid of samples averaged per pixel.
const samples = 4

// supersample returns, for each pixel of a size×size image in row order,
// the mean of f over samples×samples points spread evenly in it.
func supersample(size int, f func(x, y float64) [3]float64) [][3]float64 {
	out := make([][3]float64, size*size)
	for py := range size {
		for px := range size {
			var sum [3]float64
			for j := range samples {
				for i := range samples {
					c := f(float64(px)+(float64(i)+0.5)/samples, float64(py)+(float64(j)+0.5)/samples)
					for k := range 3 {
						sum[k] += c[k]
					}
				}
			}
			for k := range 3 {
				out[py*size+px][k] = sum[k] / (samples * samples)
			}
		}
	}
	return out
}

// level is v in [0, 1] as an 8-bit level.
func level(v float64) uint8 { return uint8(math.Round(255 * v)) }

// render draws the shape, plain or striped, averaging 4×4 samples per
// pixel so that edges are smooth. The stripes run at 45°: dark where the
// position (x + y)/√2 + phase along their normal is in the first half of
// a period. The data set's phase is 0; the tests shift it.
func (s shape) render(size int, striped bool, period int, phase float64) *image.RGBA {
	dark := [3]float64{StripeShade * s.colour[0], StripeShade * s.colour[1], StripeShade * s.colour[2]}
	pix := supersample(size, func(x, y float64) [3]float64 {
		if !s.inside(x, y) {
			return s.bg
		}
		if striped && math.Mod((x+y)/math.Sqrt2+phase, float64(period)) < float64(period)/2 {
			return dark
		}
		return s.colour
	})
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for i, c := range pix {
		p := img.Pix[4*i:]
		p[0], p[1], p[2], p[3] = level(c[0]), level(c[1]), level(c[2]), 0xff
	}
	return img
}

// coverage returns the fraction of each pixel's samples inside the shape,
// 255 for all of them: the samples and pixels of render.
func (s shape) coverage(size int) *image.Gray {
	pix := supersample(size, func(x, y float64) [3]float64 {
		if s.inside(x, y) {
			return [3]float64{1}
		}
		return [3]float64{}
	})
	img := image.NewGray(image.Rect(0, 0, size, size))
	for i, c := range pix {
		img.Pix[i] = level(c[0])
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
