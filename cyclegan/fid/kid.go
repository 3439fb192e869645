package fid

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// KIDOptions are the parameters of KID. DefaultKIDOptions gives those of
// torch-fidelity and clean-fid.
type KIDOptions struct {
	Subsets    int    // the number of subset pairs drawn; at least 1 (default 100)
	SubsetSize int    // the vectors in each subset, capped at the size of the smaller set; at least 2 (default 1000)
	Seed       uint64 // seeds the PCG generator that draws the subsets, rand.NewPCG(Seed, 0) (default 0)
}

// DefaultKIDOptions returns 100 subsets of 1000 vectors (or of the smaller
// set's size, when it has fewer), seed 0.
func DefaultKIDOptions() KIDOptions {
	return KIDOptions{Subsets: 100, SubsetSize: 1000, Seed: 0}
}

// KIDResult is KID's estimate: the mean and standard deviation of the
// unbiased MMD² over the subsets. Papers report the mean, often ×100
// (and the standard deviation ×100 after a ±).
type KIDResult struct {
	Mean, Std  float64 // Std is the population standard deviation (ddof 0, as np.std in torch-fidelity)
	SubsetSize int     // the subset size used: opt.SubsetSize capped at the smaller set
}

// maxKernelEntries bounds the kernel matrices that KID computes once for
// all subsets: 2²⁴ float64 values, 128 MiB, enough for two sets of 2364
// vectors. Larger sets get their kernel matrices one subset at a time.
const maxKernelEntries = 1 << 24

// KID returns the kernel inception distance between the feature sets x and
// y (N×D, one vector a row; the sizes may differ) as torch-fidelity
// (kid_features_to_metric) and Bińkowski et al.'s reference code compute
// it: opt.Subsets times, draw m = min(opt.SubsetSize, Nx, Ny) rows of x and
// m rows of y, each subset without replacement, and take the unbiased
// estimate of the squared MMD with the polynomial kernel
// k(a, b) = (aᵀb/D + 1)³:
//
//	MMD² = (Σ_{i≠j} k(xᵢ, xⱼ) + Σ_{i≠j} k(yᵢ, yⱼ)) / (m(m−1)) − 2 Σ_{i,j} k(xᵢ, yⱼ) / m²
//
// (the diagonals are left out of the sums within a set, which makes the
// estimate unbiased: zero in expectation for two independent samples of
// one distribution, and often negative then). The subsets come from a PCG
// generator seeded with opt.Seed: x's indices, then y's, for each subset in
// turn. Unlike torch-fidelity, which stops when a set is smaller than the
// subset size, KID caps the size, as clean-fid does; the result says which
// size it used.
//
// It is an error when the dimensions differ, a set has fewer than 2 vectors,
// or an option is out of range.
func KID(x, y *mat.Dense, opt KIDOptions) (KIDResult, error) {
	return kid(x, y, opt, maxKernelEntries)
}

// kid is KID with the bound on precomputed kernel entries as a parameter, so
// that the tests can take either path.
func kid(x, y *mat.Dense, opt KIDOptions, maxEntries int) (KIDResult, error) {
	if x == nil || y == nil {
		panic("fid.KID: nil feature set")
	}
	nx, d := x.Dims()
	ny, dy := y.Dims()
	switch {
	case d != dy:
		return KIDResult{}, fmt.Errorf("fid: KID: the feature sets have different dimensions: %d×%d and %d×%d", nx, d, ny, dy)
	case opt.Subsets < 1:
		return KIDResult{}, fmt.Errorf("fid: KID: Subsets is %d, want at least 1 (DefaultKIDOptions has 100)", opt.Subsets)
	case opt.SubsetSize < 2:
		return KIDResult{}, fmt.Errorf("fid: KID: SubsetSize is %d, want at least 2 (DefaultKIDOptions has 1000)", opt.SubsetSize)
	case nx < 2 || ny < 2:
		return KIDResult{}, fmt.Errorf("fid: KID needs at least 2 feature vectors in each set, got %d×%d and %d×%d", nx, d, ny, dy)
	}
	m := min(opt.SubsetSize, nx, ny)
	rng := rand.New(rand.NewPCG(opt.Seed, 0))
	idx := make([][2][]int, opt.Subsets)
	for i := range idx {
		idx[i][0] = rng.Perm(nx)[:m]
		idx[i][1] = rng.Perm(ny)[:m]
	}
	mean, std := kidOnSubsets(x, y, idx, maxEntries)
	return KIDResult{Mean: mean, Std: std, SubsetSize: m}, nil
}

// kidOnSubsets returns the mean and population standard deviation of the
// unbiased MMD² of the subset pairs x[idx[s][0]], y[idx[s][1]]. With at
// most maxEntries kernel values for all of x and y, it computes the kernel
// matrices once and adds up their entries for each subset; otherwise it
// computes the kernel matrices of each subset.
func kidOnSubsets(x, y *mat.Dense, idx [][2][]int, maxEntries int) (mean, std float64) {
	nx, _ := x.Dims()
	ny, _ := y.Dims()
	mmds := make([]float64, len(idx))
	if nx*nx+ny*ny+nx*ny <= maxEntries {
		kxx, kyy, kxy := polyKernel(x, x), polyKernel(y, y), polyKernel(x, y)
		for s, p := range idx {
			mmds[s] = mmd2(kxx, kyy, kxy, p[0], p[1])
		}
	} else {
		for s, p := range idx {
			xs, ys := gatherRows(x, p[0]), gatherRows(y, p[1])
			all := identity(len(p[0]))
			mmds[s] = mmd2(polyKernel(xs, xs), polyKernel(ys, ys), polyKernel(xs, ys), all, all)
		}
	}
	return stat.PopMeanStdDev(mmds, nil)
}

// polyKernel returns the matrix of k(aᵢ, bⱼ) = (aᵢᵀbⱼ/D + 1)³ over the rows
// of a and b, with 1/D as a factor like torch-fidelity's gamma.
func polyKernel(a, b *mat.Dense) *mat.Dense {
	_, d := a.Dims()
	var k mat.Dense
	k.Mul(a, b.T())
	gamma := 1 / float64(d)
	k.Apply(func(_, _ int, v float64) float64 {
		t := v*gamma + 1
		return t * t * t
	}, &k)
	return &k
}

// mmd2 returns the unbiased MMD² of the subsets ix of X and iy of Y (of one
// size m) from the kernel matrices k(X, X), k(Y, Y) and k(X, Y), summing
// each row first (as torch-fidelity does) and leaving out the diagonals of
// the within-set sums.
func mmd2(kxx, kyy, kxy *mat.Dense, ix, iy []int) float64 {
	if len(ix) != len(iy) || len(ix) < 2 {
		panic(fmt.Sprintf("fid.mmd2: subsets of %d and %d indices, want one size of at least 2", len(ix), len(iy)))
	}
	m := float64(len(ix))
	offDiagonal := func(k *mat.Dense, idx []int) float64 {
		var total float64
		for a, i := range idx {
			row := k.RawRowView(i)
			var s float64
			for b, j := range idx {
				if a != b {
					s += row[j]
				}
			}
			total += s
		}
		return total
	}
	var cross float64
	for _, i := range ix {
		row := kxy.RawRowView(i)
		var s float64
		for _, j := range iy {
			s += row[j]
		}
		cross += s
	}
	return (offDiagonal(kxx, ix)+offDiagonal(kyy, iy))/(m*(m-1)) - 2*cross/(m*m)
}

// gatherRows returns the rows idx of a, in that order.
func gatherRows(a *mat.Dense, idx []int) *mat.Dense {
	_, d := a.Dims()
	out := mat.NewDense(len(idx), d, nil)
	for r, i := range idx {
		out.SetRow(r, a.RawRowView(i))
	}
	return out
}

// identity returns 0, 1, …, n−1.
func identity(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}
