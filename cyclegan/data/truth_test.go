package data

import (
	"image"
	"math"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/tensor"
)

// scene is one random shape drawn as the data set draws it: plain,
// striped, striped half and a quarter of a period later, and its mask.
type scene struct {
	sh                                shape
	plain, striped, halfed, quartered *image.RGBA
	mask                              *image.Gray
}

func scenes(n, size, period int) []scene {
	rng := tensor.NewRand(11)
	out := make([]scene, n)
	for i := range out {
		sh := randomShape(rng, size)
		out[i] = scene{sh, sh.render(size, false, period, 0), sh.render(size, true, period, 0),
			sh.render(size, true, period, float64(period)/2), sh.render(size, true, period, float64(period)/4), sh.coverage(size)}
	}
	return out
}

// filled is a size×size picture of one colour.
func filled(size int, c [3]uint8) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c[0], c[1], c[2], 255
	}
	return img
}

func score(t *testing.T, d Direction, period int, im TruthImages) TruthScores {
	t.Helper()
	s, err := ScoreTruth(d, period, im)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// near reports whether |got − want| ≤ tol.
func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// TestScoreTruth: a perfect translation, the identity, blank outputs, a
// phase-shifted stripe pattern and a changed background score what
// TruthScores says they score, on 64×64 shapes of period 8 (the default
// set) and 32×32 ones of period 4 (the command tests' set).
func TestScoreTruth(t *testing.T) {
	for _, c := range []struct{ size, period, n int }{{64, 8, 40}, {32, 4, 40}} {
		for i, sc := range scenes(c.n, c.size, c.period) {
			// A perfect A→B translation: the truth, and the input back.
			s := score(t, AToB, c.period, TruthImages{sc.plain, sc.striped, sc.plain, sc.striped, sc.mask})
			if s.Background != 0 || s.IoU != 1 || !near(s.Stripes, 1, 1e-12) || s.Flatness != 0 ||
				s.RecL1 != 0 || s.RecIoU != 1 || s.RecBackground != 0 {
				t.Errorf("%d×%d shape %d: perfect A→B scores %+v", c.size, c.size, i, s)
			}
			// A perfect B→A translation.
			s = score(t, BToA, c.period, TruthImages{sc.striped, sc.plain, sc.striped, sc.plain, sc.mask})
			if s.Background != 0 || s.IoU != 1 || !near(s.Flatness, 1, 1e-9) || s.Stripes != 0 || s.RecL1 != 0 || s.RecIoU != 1 {
				t.Errorf("%d×%d shape %d: perfect B→A scores %+v", c.size, c.size, i, s)
			}
			// The identity: the shape kept, no stripes painted or removed.
			s = score(t, AToB, c.period, TruthImages{sc.plain, sc.plain, sc.plain, sc.striped, sc.mask})
			if s.Background != 0 || s.IoU != 1 || !near(s.Stripes, 0, 1e-9) {
				t.Errorf("%d×%d shape %d: the identity A→B scores %+v", c.size, c.size, i, s)
			}
			s = score(t, BToA, c.period, TruthImages{sc.striped, sc.striped, sc.striped, sc.plain, sc.mask})
			if s.Background != 0 || s.IoU != 1 || s.Flatness != 0 {
				t.Errorf("%d×%d shape %d: the identity B→A scores %+v", c.size, c.size, i, s)
			}
			// Stripes half or a quarter of a period off are as good as
			// the truth's: within 1% (half a period nearly negates the
			// pattern), or 20% (the pixels sample a quarter-shifted
			// pattern otherwise; a measure that saw the phase would
			// give about 0).
			for _, sh := range []struct {
				img *image.RGBA
				tol float64
			}{{sc.halfed, 0.01}, {sc.quartered, 0.2}} {
				s = score(t, AToB, c.period, TruthImages{sc.plain, sh.img, sc.plain, sc.striped, sc.mask})
				if !near(s.Stripes, 1, sh.tol) || s.IoU != 1 {
					t.Errorf("%d×%d shape %d: stripes shifted score %+v", c.size, c.size, i, s)
				}
			}
			// Blank outputs: the background colour, or mid grey, all over.
			bg := [3]uint8{level(sc.sh.bg[0]), level(sc.sh.bg[1]), level(sc.sh.bg[2])}
			for _, blank := range []*image.RGBA{filled(c.size, bg), filled(c.size, [3]uint8{128, 128, 128})} {
				for _, d := range []Direction{AToB, BToA} {
					in, truth := sc.plain, sc.striped
					if d == BToA {
						in, truth = sc.striped, sc.plain
					}
					s = score(t, d, c.period, TruthImages{in, blank, blank, truth, sc.mask})
					if s.IoU != 0 || s.RecIoU != 0 || !near(s.Stripes, 0, 1e-9) {
						t.Errorf("%d×%d shape %d: a blank %v output %v scores %+v", c.size, c.size, i, d, blank.Pix[:3], s)
					}
				}
			}
			// The background lightened by 25 levels: Background says so,
			// the rest does not change.
			out, rec := lighter(sc.striped, sc.mask), lighter(sc.plain, sc.mask)
			s = score(t, AToB, c.period, TruthImages{sc.plain, out, rec, sc.striped, sc.mask})
			if !near(s.Background, 25.0/255, 1e-12) || !near(s.RecBackground, 25.0/255, 1e-12) || s.IoU != 1 || !near(s.Stripes, 1, 1e-12) {
				t.Errorf("%d×%d shape %d: a background 25 levels lighter scores %+v", c.size, c.size, i, s)
			}
			if s.RecL1 <= 0 || s.RecL1 >= s.RecBackground {
				t.Errorf("%d×%d shape %d: rec_l1 %v of a background 25 levels lighter", c.size, c.size, i, s.RecL1)
			}
		}
	}
}

// TestScoreTruthPartial: outputs half way between the identity and the
// truth score in between; MeanTruth averages.
func TestScoreTruthPartial(t *testing.T) {
	sc := scenes(1, 64, 8)[0]
	half := image.NewRGBA(sc.plain.Bounds())
	for i := range half.Pix {
		half.Pix[i] = uint8((int(sc.plain.Pix[i]) + int(sc.striped.Pix[i])) / 2)
	}
	a := score(t, AToB, 8, TruthImages{sc.plain, half, sc.plain, sc.striped, sc.mask})
	if !near(a.Stripes, 0.5, 0.01) {
		t.Errorf("stripes of half the contrast score %v, want 0.5", a.Stripes)
	}
	b := score(t, BToA, 8, TruthImages{sc.striped, half, sc.striped, sc.plain, sc.mask})
	if !near(b.Flatness, 0.5, 0.01) {
		t.Errorf("stripes of half the contrast: flatness %v, want 0.5", b.Flatness)
	}
	m := MeanTruth([]TruthScores{a, {IoU: 0, Stripes: 1.5, RecL1: 0.5}})
	if m.N != 2 || !near(m.Stripes, (a.Stripes+1.5)/2, 1e-15) || m.IoU != 0.5 || m.RecL1 != 0.25 {
		t.Errorf("mean %+v", m)
	}
	if m := MeanTruth(nil); m != (TruthMean{}) {
		t.Errorf("mean of none %+v", m)
	}
}

// TestScoreTruthErrors: pictures of other sizes, an empty mask and a mask
// without background are refused, saying so.
func TestScoreTruthErrors(t *testing.T) {
	sc := scenes(1, 32, 4)[0]
	big := filled(36, [3]uint8{})
	for _, c := range []struct {
		name string
		im   TruthImages
		want string
	}{
		{"translation of another size", TruthImages{sc.plain, big, sc.plain, sc.striped, sc.mask}, "the translation is 36×36, the mask 32×32"},
		{"missing picture", TruthImages{sc.plain, nil, sc.plain, sc.striped, sc.mask}, "missing"},
		{"empty mask", TruthImages{sc.plain, sc.striped, sc.plain, sc.striped, image.NewGray(image.Rect(0, 0, 32, 32))}, "no shape"},
		{"full mask", TruthImages{sc.plain, sc.striped, sc.plain, sc.striped, fullMask(32)}, "no background"},
		{"plain truth", TruthImages{sc.plain, sc.striped, sc.plain, sc.plain, sc.mask}, "too small to show stripes"},
	} {
		if _, err := ScoreTruth(AToB, 4, c.im); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

// lighter is img with every pixel outside the shape 25 levels lighter.
func lighter(img *image.RGBA, mask *image.Gray) *image.RGBA {
	out := image.NewRGBA(img.Bounds())
	copy(out.Pix, img.Pix)
	for p, m := range mask.Pix {
		if m == 0 {
			for k := range 3 {
				out.Pix[4*p+k] += 25
			}
		}
	}
	return out
}

func fullMask(size int) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, size, size))
	for i := range m.Pix {
		m.Pix[i] = 255
	}
	return m
}
