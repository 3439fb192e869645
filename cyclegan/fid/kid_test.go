package fid

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestMMD2MatchesNumpy compares the unbiased MMD² of given subsets, and
// their mean and standard deviation, with the numpy reimplementation of
// torch-fidelity in gen_fid_stats_golden.py, on both paths (kernel matrices
// once for all subsets, or per subset).
func TestMMD2MatchesNumpy(t *testing.T) {
	g, arrays := loadGolden(t)
	x, y := matrix(arrays["x_"+g.KID.Case]), matrix(arrays["y_"+g.KID.Case])
	idx := make([][2][]int, len(g.KID.IdxX))
	kxx, kyy, kxy := polyKernel(x, x), polyKernel(y, y), polyKernel(x, y)
	for s := range idx {
		idx[s] = [2][]int{g.KID.IdxX[s], g.KID.IdxY[s]}
		got, want := mmd2(kxx, kyy, kxy, idx[s][0], idx[s][1]), g.KID.MMD2[s]
		t.Logf("subset %d: MMD² %.15g, numpy %.15g, relative difference %.1e", s, got, want, math.Abs(got/want-1))
		if math.Abs(got/want-1) > 1e-12 {
			t.Errorf("subset %d: MMD² %.15g, want %.15g", s, got, want)
		}
	}
	for _, maxEntries := range []int{maxKernelEntries, 0} {
		mean, std := kidOnSubsets(x, y, idx, maxEntries)
		t.Logf("kernel entries ≤ %d: mean %.15g, std %.15g; relative differences from numpy %.1e, %.1e",
			maxEntries, mean, std, math.Abs(mean/g.KID.Mean-1), math.Abs(std/g.KID.Std-1))
		if math.Abs(mean/g.KID.Mean-1) > 1e-12 || math.Abs(std/g.KID.Std-1) > 1e-12 {
			t.Errorf("kernel entries ≤ %d: mean %.15g, std %.15g, want %.15g and %.15g", maxEntries, mean, std, g.KID.Mean, g.KID.Std)
		}
	}
}

// gaussianSet returns n vectors of d independent normal entries with the
// given mean.
func gaussianSet(rng *rand.Rand, n, d int, mean float64) *mat.Dense {
	m := mat.NewDense(n, d, nil)
	m.Apply(func(_, _ int, _ float64) float64 { return mean + rng.NormFloat64() }, m)
	return m
}

// TestKIDSameDistribution checks that the estimate is unbiased: for two
// independent samples of one distribution the mean over subsets is small
// next to their spread, and of either sign. Both paths draw the same subsets
// and agree to rounding.
func TestKIDSameDistribution(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	opt := KIDOptions{Subsets: 50, SubsetSize: 40, Seed: 1}
	var signs [2]int
	for trial := range 6 {
		x, y := gaussianSet(rng, 200, 16, 0), gaussianSet(rng, 150, 16, 0)
		r, err := KID(x, y, opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("trial %d: KID %.2e ± %.2e", trial, r.Mean, r.Std)
		if r.SubsetSize != 40 || math.Abs(r.Mean) > r.Std || r.Std == 0 {
			t.Errorf("trial %d: KID %g ± %g (subsets of %d), want a mean within one standard deviation of 0, subsets of 40",
				trial, r.Mean, r.Std, r.SubsetSize)
		}
		if r.Mean > 0 {
			signs[1]++
		} else {
			signs[0]++
		}
		perSubset, err := kid(x, y, opt, 0)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(perSubset.Mean-r.Mean) > 1e-12*r.Std || math.Abs(perSubset.Std/r.Std-1) > 1e-9 {
			t.Errorf("trial %d: kernel matrices per subset give %.15g ± %.15g, once for all %.15g ± %.15g",
				trial, perSubset.Mean, perSubset.Std, r.Mean, r.Std)
		}
	}
	if signs[0] == 0 || signs[1] == 0 {
		t.Errorf("the means of 6 trials have one sign (%d negative, %d positive), want both", signs[0], signs[1])
	}
}

// TestKIDSetAgainstItself: with the whole set as the subset, KID(x, x) is
// exactly 2(a − b)/m for a the mean of k(xᵢ, xⱼ) over i ≠ j and b the mean
// of k(xᵢ, xᵢ), because the within-set sums leave the diagonal out and the
// cross sum keeps it; and the subsets are the whole set in every draw.
func TestKIDSetAgainstItself(t *testing.T) {
	x := gaussianSet(rand.New(rand.NewPCG(9, 10)), 30, 8, 0.5)
	r, err := KID(x, x, KIDOptions{Subsets: 3, SubsetSize: 1000, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	k := polyKernel(x, x)
	var off, diag float64
	for i := range 30 {
		for j := range 30 {
			if i == j {
				diag += k.At(i, i)
			} else {
				off += k.At(i, j)
			}
		}
	}
	m := 30.0
	want := 2 * (off/(m*(m-1)) - diag/m) / m
	if r.SubsetSize != 30 || math.Abs(r.Mean/want-1) > 1e-12 || r.Std > 1e-12*math.Abs(want) {
		t.Errorf("KID(x, x) = %.15g ± %g with subsets of %d, want %.15g ± 0 with subsets of 30", r.Mean, r.Std, r.SubsetSize, want)
	}
}

// TestKIDGrowsWithShift shifts one set further and further from the other.
func TestKIDGrowsWithShift(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x := gaussianSet(rng, 120, 16, 0)
	prev := math.Inf(-1)
	for _, shift := range []float64{0, 0.25, 0.5, 1} {
		r, err := KID(x, gaussianSet(rng, 140, 16, shift), KIDOptions{Subsets: 20, SubsetSize: 100, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("shift %.2f: KID %.3e ± %.1e", shift, r.Mean, r.Std)
		if r.Mean <= prev || (shift > 0 && r.Mean < 3*r.Std) {
			t.Errorf("shift %.2f: KID %g ± %g, want more than %g and above 3 standard deviations", shift, r.Mean, r.Std, prev)
		}
		prev = r.Mean
	}
}

// TestKIDCapsSubsetSize: the subset size is capped at the smaller set,
// whichever it is.
func TestKIDCapsSubsetSize(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	big, small := gaussianSet(rng, 50, 4, 0), gaussianSet(rng, 30, 4, 0)
	for _, c := range [][2]*mat.Dense{{big, small}, {small, big}} {
		r, err := KID(c[0], c[1], KIDOptions{Subsets: 3, SubsetSize: 40})
		if err != nil || r.SubsetSize != 30 {
			t.Errorf("KID of %s and %s with SubsetSize 40: subsets of %d (%v), want 30", dims(c[0]), dims(c[1]), r.SubsetSize, err)
		}
	}
}

func TestKIDSeed(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	x, y := gaussianSet(rng, 60, 4, 0), gaussianSet(rng, 60, 4, 0.3)
	opt := KIDOptions{Subsets: 5, SubsetSize: 20, Seed: 4}
	a, _ := KID(x, y, opt)
	b, _ := KID(x, y, opt)
	opt.Seed = 5
	c, _ := KID(x, y, opt)
	if a != b || a == c {
		t.Errorf("seed 4 gave %v and %v, seed 5 %v: want equal results for one seed and another for another", a, b, c)
	}
}

func TestKIDErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	x := gaussianSet(rng, 10, 4, 0)
	def := DefaultKIDOptions()
	if def != (KIDOptions{Subsets: 100, SubsetSize: 1000, Seed: 0}) {
		t.Errorf("DefaultKIDOptions() = %+v, want 100 subsets of 1000, seed 0", def)
	}
	for _, c := range []struct {
		name string
		y    *mat.Dense
		opt  KIDOptions
		want string
	}{
		{"dimensions", gaussianSet(rng, 10, 3, 0), def, "different dimensions: 10×4 and 10×3"},
		{"one vector", gaussianSet(rng, 1, 4, 0), def, "at least 2 feature vectors in each set, got 10×4 and 1×4"},
		{"no subsets", x, KIDOptions{Subsets: 0, SubsetSize: 10}, "Subsets is 0, want at least 1"},
		{"subset of 1", x, KIDOptions{Subsets: 10, SubsetSize: 1}, "SubsetSize is 1, want at least 2"},
	} {
		if _, err := KID(x, c.y, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}

// BenchmarkKID times KID on 2048 features: with the default options on the
// horse2zebra test sets (subsets of 120) and on 1000 images each (subsets of
// 1000), both with the kernel matrices computed once; and with 10 subsets
// of 1000 out of 3000 images each, too many for that, so that the kernel
// matrices are computed for each subset.
func BenchmarkKID(b *testing.B) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, c := range []struct {
		nx, ny, subsets int
	}{{120, 140, 100}, {1000, 1000, 100}, {3000, 3000, 10}} {
		x, y := randomFeatures(rng, c.nx, 2048), randomFeatures(rng, c.ny, 2048)
		opt := DefaultKIDOptions()
		opt.Subsets = c.subsets
		b.Run(fmt.Sprintf("N=%d,%d/subsets=%d", c.nx, c.ny, c.subsets), func(b *testing.B) {
			for b.Loop() {
				if _, err := KID(x, y, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
