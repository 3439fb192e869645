package data

import (
	"errors"
	"fmt"
	"image"
	"math"
	"math/cmplx"
	"os"
	"path/filepath"
	"slices"
)

// Direction is one direction of translation on the synthetic data set.
type Direction int

const (
	// AToB is G_A's direction: the plain shapes of testA are to get
	// stripes (their truth: testA_truth).
	AToB Direction = iota
	// BToA is G_B's direction: the striped shapes of testB are to lose
	// them (their truth: testB_truth).
	BToA
)

// String is "A2B" or "B2A", as the evaluation records name directions.
func (d Direction) String() string {
	if d == AToB {
		return "A2B"
	}
	return "B2A"
}

// domain is the letter of the direction's source domain.
func (d Direction) domain() string {
	if d == AToB {
		return "A"
	}
	return "B"
}

// TruthFile names one test image of the synthetic set and its truth.
type TruthFile struct {
	Input string // testA/NAME or testB/NAME
	Truth string // testA_truth/NAME or testB_truth/NAME: what the translation should be
	Mask  string // testA_mask/NAME or testB_mask/NAME: the shape's coverage
}

// TruthFiles lists the test images of direction d's source domain in a
// synthetic data set (see WriteSynthetic), in order, with their truth and
// mask files. It fails, naming the file, when one is missing.
func TruthFiles(dataroot string, d Direction) ([]TruthFile, error) {
	dom := "test" + d.domain()
	inputs, err := ListImagesIn(filepath.Join(dataroot, dom))
	if err != nil {
		return nil, err
	}
	files := make([]TruthFile, len(inputs))
	for i, in := range inputs {
		name := filepath.Base(in)
		files[i] = TruthFile{in, filepath.Join(dataroot, dom+"_truth", name), filepath.Join(dataroot, dom+"_mask", name)}
		for _, p := range []string{files[i].Truth, files[i].Mask} {
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("data: the ground truth of %s: %w", in, err)
			}
		}
	}
	return files, nil
}

// ReadMask reads a mask file of the synthetic set: its first channel, as
// 8-bit gray.
func ReadMask(path string) (*image.Gray, error) {
	img, err := ReadImage(path)
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	m := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for i := range m.Pix {
		m.Pix[i] = img.Pix[4*i]
	}
	return m, nil
}

// TruthImages are the pictures one test image of the synthetic set is
// scored on, all of the same size.
type TruthImages struct {
	Input  *image.RGBA // the test image
	Output *image.RGBA // its translation
	Rec    *image.RGBA // its reconstruction: the translation translated back
	Truth  *image.RGBA // what the translation should be
	Mask   *image.Gray // the shape's coverage
}

// TruthScores are the ground-truth metrics of one test image, or their
// means over a test set. All are in [0, 1] but Stripes, which exceeds 1
// for stripes of more contrast than the truth's.
//
// The pixel sets, from the mask (coverage m in levels 0…255; pixels beyond
// the image count as m = 0):
//
//   - the shape S: m ≥ 128 (coverage at least ½);
//   - the decided pixels D: m = 0 or m = 255 (all but the antialiased edge);
//   - the background G: pixels whose 5×5 neighbourhood has m = 0 throughout
//     (the background less a band of 2 pixels around the shape);
//   - the interior I: pixels whose 3×3 neighbourhood has m = 255 throughout
//     (the shape eroded by a pixel); instead, when the striped one of input
//     and truth shows no stripes over that (no variation of luminance, or
//     E = 0 below), as for a small shape whose eroded interior is empty or
//     within one band, the fully covered pixels (m = 255).
//
// The colours, in [0, 1] RGB: the shape's colour c is the per-channel
// median over I of whichever of input and truth is plain (the input for
// A→B, the truth for B→A), its dark shade StripeShade·c. A picture X is
// segmented into the object O(X), the pixels nearer (in RGB, Euclidean) to
// the line segment from the dark shade to c (the stripes' two colours and
// every blend of them) than to X's background colour b_X, the per-channel
// median of X over G. (X's own background, so that a picture of one colour
// is all background: its IoU is 0.)
//
// Luminance is L = (0.299 R + 0.587 G + 0.114 B)/255, R, G, B the 8-bit
// values; (x, y) is a pixel's column and row.
type TruthScores struct {
	// Background is the mean over G and the three channels of |X − input|
	// /255, X the translation: how much the background changed (0: not at
	// all).
	Background float64
	// IoU is |O(X) ∩ S ∩ D| / |(O(X) ∪ S) ∩ D| for the translation X: the
	// intersection over union of object and shape counted over the
	// decided pixels (on the antialiased edge either answer is right):
	// how well the translation keeps the input's shape where it was. The
	// truth and the input score 1.
	IoU float64
	// Stripes (A→B; 0 for B→A) is E(translation)/E(truth), where
	// E(X) = |Σ_{(x,y)∈I} (L_X(x,y) − mean_I L_X)·exp(−2πi(x+y)/(√2·P))|,
	// P the stripe period: the strength of the translation's luminance at
	// the stripes' frequency and orientation, whatever their phase,
	// relative to the truth's. The truth scores 1, a plain shape 0.
	Stripes float64
	// Flatness (B→A; 0 for A→B) is 1 − sd_I(L_translation)/sd_I(L_input)
	// clipped to [0, 1] (sd: the population standard deviation over I):
	// a plain translation scores 1, the striped input itself 0.
	Flatness float64
	// RecL1 is the mean over all pixels and channels of
	// |reconstruction − input|/255.
	RecL1 float64
	// RecIoU and RecBackground are IoU and Background of the
	// reconstruction (against the input and its mask, as above).
	RecIoU, RecBackground float64
}

// ScoreTruth scores one test image's translation and reconstruction in
// direction d against its truth (see TruthScores for the definitions);
// period is the data set's StripePeriod. It fails when the pictures differ
// in size, the mask has no shape or no background, or the shape is too
// small to show stripes (the truth's, for A→B; the input's, for B→A).
func ScoreTruth(d Direction, period int, im TruthImages) (TruthScores, error) {
	if im.Input == nil || im.Output == nil || im.Rec == nil || im.Truth == nil || im.Mask == nil {
		return TruthScores{}, errors.New("data: ground truth: a picture is missing")
	}
	r := im.Mask.Bounds()
	w, h := r.Dx(), r.Dy()
	for _, p := range []struct {
		what string
		img  *image.RGBA
	}{{"input", im.Input}, {"translation", im.Output}, {"reconstruction", im.Rec}, {"truth", im.Truth}} {
		if b := p.img.Bounds(); b.Dx() != w || b.Dy() != h {
			return TruthScores{}, fmt.Errorf("data: ground truth: the %s is %d×%d, the mask %d×%d", p.what, b.Dx(), b.Dy(), w, h)
		}
	}
	if period < 2 {
		return TruthScores{}, fmt.Errorf("data: ground truth: stripe period %d", period)
	}
	g, err := newTruthGeometry(im.Mask)
	if err != nil {
		return TruthScores{}, err
	}
	plain, striped := im.Input, im.Truth
	if d == BToA {
		plain, striped = im.Truth, im.Input
	}
	// The interior of a small shape may fall within one band of the
	// stripes; the fully covered pixels are used then.
	in := g.interior
	if !hasStripes(striped, in, w, period) {
		in = g.full
	}
	if !hasStripes(striped, in, w, period) {
		return TruthScores{}, fmt.Errorf("data: ground truth: the shape (%d pixels fully covered) is too small to show stripes", len(in))
	}
	c := median(plain, in)
	s := TruthScores{
		Background:    meanAbs(im.Output, im.Input, g.background),
		IoU:           newSegmenter(im.Output, g.background, c).iou(im.Output, g.mask),
		RecL1:         meanAbs(im.Rec, im.Input, nil),
		RecIoU:        newSegmenter(im.Rec, g.background, c).iou(im.Rec, g.mask),
		RecBackground: meanAbs(im.Rec, im.Input, g.background),
	}
	if d == AToB {
		s.Stripes = stripeEnergy(im.Output, in, w, period) / stripeEnergy(im.Truth, in, w, period)
	} else {
		s.Flatness = min(1, max(0, 1-stdDev(luminance(im.Output, in))/stdDev(luminance(im.Input, in))))
	}
	return s, nil
}

// TruthMean is the mean of a set's TruthScores and the number of images
// averaged.
type TruthMean struct {
	TruthScores
	N int
}

// MeanTruth returns the mean of each score over scores (all zero for
// none).
func MeanTruth(scores []TruthScores) TruthMean {
	var m TruthMean
	for _, s := range scores {
		m.Background += s.Background
		m.IoU += s.IoU
		m.Stripes += s.Stripes
		m.Flatness += s.Flatness
		m.RecL1 += s.RecL1
		m.RecIoU += s.RecIoU
		m.RecBackground += s.RecBackground
	}
	m.N = len(scores)
	if m.N > 0 {
		n := float64(m.N)
		for _, v := range []*float64{&m.Background, &m.IoU, &m.Stripes, &m.Flatness, &m.RecL1, &m.RecIoU, &m.RecBackground} {
			*v /= n
		}
	}
	return m
}

// truthGeometry holds the pixel sets of a mask (indices y·width + x): the
// background G and the interior I of TruthScores, the fully covered pixels F (m = 255), and for the IoU each pixel's state: 1 inside, 0 outside, −1 on the edge (left out).
type truthGeometry struct {
	background, interior, full []int
	mask                       []int8
}

func newTruthGeometry(m *image.Gray) (truthGeometry, error) {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	at := func(x, y int) uint8 {
		if x < 0 || y < 0 || x >= w || y >= h {
			return 0
		}
		return m.Pix[y*m.Stride+x]
	}
	// all reports whether every pixel within r of (x, y) passes f.
	all := func(x, y, r int, f func(uint8) bool) bool {
		for j := y - r; j <= y+r; j++ {
			for i := x - r; i <= x+r; i++ {
				if !f(at(i, j)) {
					return false
				}
			}
		}
		return true
	}
	g := truthGeometry{mask: make([]int8, w*h)}
	for y := range h {
		for x := range w {
			i := y*w + x
			switch v := at(x, y); {
			case v == 255:
				g.mask[i] = 1
				g.full = append(g.full, i)
			case v > 0:
				g.mask[i] = -1
			}
			if all(x, y, 2, func(v uint8) bool { return v == 0 }) {
				g.background = append(g.background, i)
			}
			if all(x, y, 1, func(v uint8) bool { return v == 255 }) {
				g.interior = append(g.interior, i)
			}
		}
	}
	switch {
	case len(g.full) == 0:
		return g, errors.New("data: ground truth: the mask holds no shape (no pixel fully covered)")
	case len(g.background) == 0:
		return g, errors.New("data: ground truth: the mask leaves no background beyond 2 pixels of the shape")
	}
	return g, nil
}

// rgb returns pixel i (y·width + x) of img in [0, 1].
func rgb(img *image.RGBA, i int) [3]float64 {
	w := img.Bounds().Dx()
	p := img.Pix[(i/w)*img.Stride+4*(i%w):]
	return [3]float64{float64(p[0]) / 255, float64(p[1]) / 255, float64(p[2]) / 255}
}

// median returns the per-channel median of img over the pixels idx (the
// mean of the middle two for an even count).
func median(img *image.RGBA, idx []int) [3]float64 {
	var out [3]float64
	v := make([]float64, len(idx))
	for k := range 3 {
		for j, i := range idx {
			v[j] = rgb(img, i)[k]
		}
		slices.Sort(v)
		n := len(v)
		out[k] = (v[(n-1)/2] + v[n/2]) / 2
	}
	return out
}

// meanAbs is the mean over the pixels idx (nil: all) and the three
// channels of |x − y|, in [0, 1] units.
func meanAbs(x, y *image.RGBA, idx []int) float64 {
	if idx == nil {
		b := x.Bounds()
		idx = make([]int, b.Dx()*b.Dy())
		for i := range idx {
			idx[i] = i
		}
	}
	sum := 0.0
	for _, i := range idx {
		p, q := rgb(x, i), rgb(y, i)
		for k := range 3 {
			sum += math.Abs(p[k] - q[k])
		}
	}
	return sum / float64(3*len(idx))
}

// segmenter tells object from background by the nearest colour.
type segmenter struct{ bg, c, dark [3]float64 }

// newSegmenter returns the segmenter of picture x: its background colour
// is x's median over the pixels bg, its object colours those of c.
func newSegmenter(x *image.RGBA, bg []int, c [3]float64) segmenter {
	s := segmenter{bg: median(x, bg), c: c}
	for k := range 3 {
		s.dark[k] = StripeShade * c[k]
	}
	return s
}

// object reports whether colour p is nearer to the segment from dark to c
// than to bg.
func (s segmenter) object(p [3]float64) bool {
	var dir, rel [3]float64
	dd, dr := 0.0, 0.0
	for k := range 3 {
		dir[k], rel[k] = s.c[k]-s.dark[k], p[k]-s.dark[k]
		dd += dir[k] * dir[k]
		dr += dir[k] * rel[k]
	}
	t := 0.0
	if dd > 0 {
		t = min(1, max(0, dr/dd))
	}
	toSeg, toBg := 0.0, 0.0
	for k := range 3 {
		e := p[k] - (s.dark[k] + t*dir[k])
		f := p[k] - s.bg[k]
		toSeg += e * e
		toBg += f * f
	}
	return toSeg < toBg
}

// iou is |O(x) ∩ S ∩ D| / |(O(x) ∪ S) ∩ D|, D the pixels the mask decides
// (mask[i] ≥ 0).
func (s segmenter) iou(x *image.RGBA, mask []int8) float64 {
	inter, union := 0, 0
	for i, m := range mask {
		if m < 0 {
			continue
		}
		in, obj := m == 1, s.object(rgb(x, i))
		if obj && in {
			inter++
		}
		if obj || in {
			union++
		}
	}
	return float64(inter) / float64(union)
}

// luminance returns L of img's pixels idx.
func luminance(img *image.RGBA, idx []int) []float64 {
	out := make([]float64, len(idx))
	for j, i := range idx {
		p := rgb(img, i)
		out[j] = 0.299*p[0] + 0.587*p[1] + 0.114*p[2]
	}
	return out
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// stdDev is the population standard deviation.
func stdDev(v []float64) float64 {
	m, s := mean(v), 0.0
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(v)))
}

// hasStripes reports whether img varies in luminance over the pixels idx
// and has some at the stripes' frequency.
func hasStripes(img *image.RGBA, idx []int, width, period int) bool {
	return stdDev(luminance(img, idx)) > 1e-9 && stripeEnergy(img, idx, width, period) > 1e-9
}

// stripeEnergy is E(img) of TruthScores.Stripes over the pixels idx of an
// image width pixels wide.
func stripeEnergy(img *image.RGBA, idx []int, width, period int) float64 {
	l := luminance(img, idx)
	m := mean(l)
	var sum complex128
	for j, i := range idx {
		x, y := float64(i%width), float64(i/width)
		sum += complex(l[j]-m, 0) * cmplx.Exp(complex(0, -2*math.Pi*(x+y)/(math.Sqrt2*float64(period))))
	}
	return cmplx.Abs(sum)
}
