package fid

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// testdata holds the files of testdata/gen_fid_stats_golden.py.
const testdata = "../../testdata/fid"

// golden is testdata/fid/golden.json.
type golden struct {
	Cases map[string]struct {
		RankX         int     `json:"rank_x"`
		RankY         int     `json:"rank_y"`
		FIDPytorchFID float64 `json:"fid_pytorch_fid"`
		EpsFallback   bool    `json:"eps_fallback"`
		FIDExact      float64 `json:"fid_exact"`
	} `json:"cases"`
	KID struct {
		Case      string    `json:"case"`
		IdxX      [][]int   `json:"idx_x"`
		IdxY      [][]int   `json:"idx_y"`
		MMD2      []float64 `json:"mmd2"`
		Mean, Std float64
	} `json:"kid"`
}

// loadGolden reads golden.json and the arrays of features.npz.
func loadGolden(t testing.TB) (golden, map[string]npyArray) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testdata, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for name := range g.Cases {
		for _, set := range []string{"x", "y"} {
			keys = append(keys, set+"_"+name, "mu_"+set+"_"+name, "sigma_"+set+"_"+name)
		}
	}
	arrays, err := readNPZ(filepath.Join(testdata, "features.npz"), keys...)
	if err != nil {
		t.Fatal(err)
	}
	if len(arrays) != len(keys) {
		t.Fatalf("features.npz has %d of the %d arrays %v", len(arrays), len(keys), keys)
	}
	return g, arrays
}

// matrix returns a 2-d array as a matrix.
func matrix(a npyArray) *mat.Dense {
	return mat.NewDense(a.shape[0], a.shape[1], a.data)
}

// goldenStats returns NewStats of the feature set set ("x" or "y") of a
// golden case.
func goldenStats(t testing.TB, arrays map[string]npyArray, set, name string) Stats {
	t.Helper()
	s, err := NewStats(matrix(arrays[set+"_"+name]))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// maxRelDiff returns max |a − b| / max |b| over two equal-length slices.
func maxRelDiff(a, b []float64) float64 {
	var diff, scale float64
	for i := range a {
		diff = max(diff, math.Abs(a[i]-b[i]))
		scale = max(scale, math.Abs(b[i]))
	}
	return diff / scale
}

// symData returns the entries of a symmetric matrix, row-major.
func symData(s *mat.SymDense) []float64 {
	return mat.DenseCopyOf(s).RawMatrix().Data
}

// TestNewStatsMatchesNumpy compares NewStats with np.mean(act, axis=0) and
// np.cov(act, rowvar=False). The mean adds in numpy's order and agrees
// exactly; the covariance's XᵀX is summed in another order by each BLAS.
func TestNewStatsMatchesNumpy(t *testing.T) {
	g, arrays := loadGolden(t)
	for name := range g.Cases {
		for _, set := range []string{"x", "y"} {
			s := goldenStats(t, arrays, set, name)
			mu, sigma := arrays["mu_"+set+"_"+name], arrays["sigma_"+set+"_"+name]
			if n, _ := matrix(arrays[set+"_"+name]).Dims(); s.N != n {
				t.Errorf("%s %s: N = %d, want %d", name, set, s.N, n)
			}
			dMu, dSigma := maxRelDiff(s.Mu, mu.data), maxRelDiff(symData(s.Sigma), sigma.data)
			t.Logf("%s %s (%d×%d): mean off by %.1e, covariance by %.1e (relative to the largest entry)",
				name, set, sigma.shape[0], sigma.shape[1], dMu, dSigma)
			if dMu != 0 || dSigma > 1e-14 {
				t.Errorf("%s %s: mean off by %.1e (want 0), covariance by %.1e (want ≤ 1e-14)", name, set, dMu, dSigma)
			}
		}
	}
}

func TestNewStatsErrors(t *testing.T) {
	_, err := NewStats(mat.NewDense(1, 3, []float64{1, 2, 3}))
	if err == nil || !strings.Contains(err.Error(), "got 1 (of dimension 3)") {
		t.Errorf("NewStats of one vector: error %v, want one saying it got 1 of dimension 3", err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "fid.NewStats") {
			t.Errorf("NewStats(nil) panicked with %v, want a panic naming fid.NewStats", r)
		}
	}()
	NewStats(nil)
}

// TestFrechetMatchesReferences compares Frechet with pytorch-fid's sqrtm
// route and with the exact value from the singular values of the centred
// features' cross-product. With full-rank covariances all three agree to
// rounding. With rank-deficient ones (N < D) sqrtm keeps square roots of
// rounding errors in the null space, and pytorch-fid is off by about
// 3e-8 relative here (scipy 1.10); Frechet still agrees with the exact
// value to rounding.
func TestFrechetMatchesReferences(t *testing.T) {
	g, arrays := loadGolden(t)
	for name, c := range g.Cases {
		a, b := goldenStats(t, arrays, "x", name), goldenStats(t, arrays, "y", name)
		got, err := Frechet(a, b)
		if err != nil {
			t.Fatal(err)
		}
		vsExact, vsPytorch := math.Abs(got/c.FIDExact-1), math.Abs(got/c.FIDPytorchFID-1)
		t.Logf("%s (ranks %d and %d of %d): FID %.15g; relative difference %.1e from the exact value, %.1e from pytorch-fid's (eps fallback: %v)",
			name, c.RankX, c.RankY, len(a.Mu), got, vsExact, vsPytorch, c.EpsFallback)
		tolPytorch := 1e-12
		if c.RankX < len(a.Mu) || c.RankY < len(a.Mu) {
			tolPytorch = 1e-7
		}
		if vsExact > 1e-12 || vsPytorch > tolPytorch {
			t.Errorf("%s: FID %.15g, want %.15g (exact, to 1e-12) and %.15g (pytorch-fid, to %.0e)",
				name, got, c.FIDExact, c.FIDPytorchFID, tolPytorch)
		}
	}
}

// traceSqrtProductEigen is Tr √(Σ₁Σ₂) by the factor √Σ₁ from the
// eigendecomposition of Σ₁: a second way to the same eigenvalues, slower
// (the eigenvectors of Σ₁) but with no truncation to a rank.
func traceSqrtProductEigen(s1, s2 *mat.SymDense) float64 {
	var eig mat.EigenSym
	if !eig.Factorize(s1, true) {
		panic("no convergence")
	}
	var v mat.Dense
	eig.VectorsTo(&v)
	vals := eig.Values(nil)
	for i := range vals {
		vals[i] = math.Sqrt(max(vals[i], 0))
	}
	var root, w, m mat.Dense
	root.Mul(&v, mat.NewDiagDense(len(vals), vals))
	root.Mul(&root, v.T())
	w.Mul(&root, s2)
	m.Mul(&w, &root)
	tr, err := traceSqrt(symmetric(&m))
	if err != nil {
		panic(err)
	}
	return tr
}

// symmetric returns (m + mᵀ)/2.
func symmetric(m *mat.Dense) *mat.SymDense {
	n, _ := m.Dims()
	s := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			s.SetSym(i, j, (m.At(i, j)+m.At(j, i))/2)
		}
	}
	return s
}

// TestTraceSqrtFactors compares the trace term of the pivoted Cholesky
// factors with that of the factor √Σ₁ and with the exact one (from
// fid_exact). Where Σ₁ is singular, its computed eigenvalues include
// rounding errors of either sign; clamping the negative ones to 0 keeps the
// square roots of the positive ones, about 2e-8 relative here, as sqrtm
// does; the truncation to the computed rank leaves them out.
func TestTraceSqrtFactors(t *testing.T) {
	g, arrays := loadGolden(t)
	for name, c := range g.Cases {
		a, b := goldenStats(t, arrays, "x", name), goldenStats(t, arrays, "y", name)
		var diff float64
		for i := range a.Mu {
			diff += (a.Mu[i] - b.Mu[i]) * (a.Mu[i] - b.Mu[i])
		}
		exact := (diff + mat.Trace(a.Sigma) + mat.Trace(b.Sigma) - c.FIDExact) / 2
		chol, err := traceSqrtProduct(a.Sigma, b.Sigma)
		if err != nil {
			t.Fatal(err)
		}
		eig := traceSqrtProductEigen(a.Sigma, b.Sigma)
		t.Logf("%s: Tr √(Σ₁Σ₂) = %.15g; relative difference from the exact value: pivoted Cholesky %.1e, √Σ₁ %.1e",
			name, exact, math.Abs(chol/exact-1), math.Abs(eig/exact-1))
		if math.Abs(chol/exact-1) > 1e-12 {
			t.Errorf("%s: the pivoted Cholesky route gives %.15g, want %.15g", name, chol, exact)
		}
		tol := 1e-12 // the √Σ₁ route keeps the square roots of Σ₁'s rounding errors when it is singular
		if c.RankX < len(a.Mu) {
			tol = 1e-7
		}
		if math.Abs(eig/exact-1) > tol {
			t.Errorf("%s: the √Σ₁ route gives %.15g, want %.15g to %.0e", name, eig, exact, tol)
		}
	}
}

// shifted returns s with v added to its mean.
func shifted(s Stats, v []float64) Stats {
	mu := make([]float64, len(s.Mu))
	for i := range mu {
		mu[i] = s.Mu[i] + v[i]
	}
	s.Mu = mu
	return s
}

// TestFrechetProperties checks what the formula promises: zero between a
// set and itself, symmetry, and ‖v‖² for a mean shifted by v, on each
// golden case.
func TestFrechetProperties(t *testing.T) {
	g, arrays := loadGolden(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for name := range g.Cases {
		a, b := goldenStats(t, arrays, "x", name), goldenStats(t, arrays, "y", name)
		scale := mat.Trace(a.Sigma) + mat.Trace(b.Sigma) // the size of the terms that cancel
		fid := func(a, b Stats) float64 {
			t.Helper()
			v, err := Frechet(a, b)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}

		self := fid(a, a)
		t.Logf("%s: Frechet(a, a) = %.1e (terms of size %.3g)", name, self, scale)
		if math.Abs(self) > 1e-14*scale {
			t.Errorf("%s: Frechet(a, a) = %g, want 0 to rounding (1e-14 × %.3g)", name, self, scale)
		}

		// the side of lower rank is factored; on a tie (the case "small") the first
		ab, ba := fid(a, b), fid(b, a)
		t.Logf("%s: Frechet(a, b) − Frechet(b, a) = %.1e", name, ab-ba)
		if math.Abs(ab-ba) > 1e-14*scale {
			t.Errorf("%s: Frechet is not symmetric: a, b → %.17g, b, a → %.17g", name, ab, ba)
		}

		v := make([]float64, len(a.Mu))
		var vv, dv, dd float64
		for i := range v {
			v[i] = rng.NormFloat64()
			vv += v[i] * v[i]
			dv += (a.Mu[i] - b.Mu[i]) * v[i]
			dd += (a.Mu[i] - b.Mu[i]) * (a.Mu[i] - b.Mu[i])
		}
		if got := fid(a, shifted(a, v)); math.Abs(got-vv) > 1e-14*(scale+vv) {
			t.Errorf("%s: Frechet(a, a shifted by v) = %.17g, want ‖v‖² = %.17g", name, got, vv)
		}
		// ‖Δ − v‖² − ‖Δ‖² = ‖v‖² − 2 Δ·v, with Δ = μ_a − μ_b
		if got, want := fid(a, shifted(b, v))-ab, vv-2*dv; math.Abs(got-want) > 1e-14*(scale+vv+dd) {
			t.Errorf("%s: shifting b's mean by v changed Frechet by %.17g, want ‖v‖² − 2(μa−μb)·v = %.17g", name, got, want)
		}
	}
}

func TestFrechetErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	stats := func(n, d int) Stats {
		f := mat.NewDense(n, d, nil)
		f.Apply(func(_, _ int, _ float64) float64 { return rng.NormFloat64() }, f)
		s, err := NewStats(f)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := stats(10, 4), stats(12, 3)
	short := a
	short.Mu = a.Mu[:3]
	nan := stats(10, 4)
	nan.Sigma.SetSym(1, 2, math.NaN())
	inf := stats(10, 4)
	inf.Mu[3] = math.Inf(1)
	huge := Stats{Mu: []float64{0, 0}, Sigma: mat.NewSymDense(2, []float64{1e200, 3e199, 3e199, 1e200})}
	for _, c := range []struct {
		name string
		a, b Stats
		want string
	}{
		{"dimensions differ", a, b, "different dimensions: Mu 4, Sigma 4×4 against Mu 3, Sigma 3×3"},
		{"Mu and Sigma differ", a, short, "second statistics: Mu has 3 entries but Sigma is 4×4"},
		{"no Sigma", Stats{Mu: a.Mu}, a, "first statistics: Sigma is nil (Mu has 4 entries)"},
		{"NaN", a, nan, "second statistics: Sigma[1][2] is NaN"},
		{"Inf", inf, a, "first statistics: Mu[3] is +Inf"},
		{"overflow", huge, huge, "the distance overflows float64 (traces of Sigma 2e+200 and 2e+200"},
	} {
		_, err := Frechet(c.a, c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}

// randomFeatures returns n×d Inception-like features: non-negative and
// correlated.
func randomFeatures(rng *rand.Rand, n, d int) *mat.Dense {
	z := mat.NewDense(n, d, nil)
	z.Apply(func(_, _ int, _ float64) float64 { return rng.NormFloat64() }, z)
	mix := mat.NewDense(d, d, nil)
	mix.Apply(func(_, _ int, _ float64) float64 { return rng.NormFloat64() / math.Sqrt(float64(d)) }, mix)
	var f mat.Dense
	f.Mul(z, mix)
	f.Apply(func(_, _ int, v float64) float64 { return max(v+0.5, 0) }, &f)
	return &f
}

func BenchmarkNewStats(b *testing.B) {
	f := randomFeatures(rand.New(rand.NewPCG(1, 1)), 1000, 2048)
	for b.Loop() {
		if _, err := NewStats(f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFrechet times Frechet on 2048 features: the test sets of
// horse2zebra (120 and 140 images, ranks 119 and 139), 1000 images each
// (rank 999), and full-rank covariances (3000 images).
func BenchmarkFrechet(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, n := range [][2]int{{120, 140}, {1000, 1000}, {3000, 3000}} {
		b.Run(fmt.Sprintf("N=%d,%d", n[0], n[1]), func(b *testing.B) {
			s1, err1 := NewStats(randomFeatures(rng, n[0], 2048))
			s2, err2 := NewStats(randomFeatures(rng, n[1], 2048))
			if err1 != nil || err2 != nil {
				b.Fatal(err1, err2)
			}
			for b.Loop() {
				if _, err := Frechet(s1, s2); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestFrechetSingularOnRange takes the case that the rank of the factors
// does not foresee: Σ₁ and Σ₂ of rank 2 whose ranges share one direction,
// Σ₁ = Q diag(a₁, a₂, 0, …) Qᵀ and Σ₂ = Q diag(0, b₂, b₃, 0, …) Qᵀ for a
// random rotation Q, so that Tr √(Σ₁Σ₂) = √(a₂b₂) and F₁ᵀ Σ₂ F₁ is
// singular. Its zero eigenvalue comes out as a rounding error of either
// sign: the negative ones must be clamped (their square roots would be
// NaN), the positive ones cost their square root, about √ε relative, as the
// doc comment of Frechet says.
func TestFrechetSingularOnRange(t *testing.T) {
	const d = 6
	a1, a2, b2, b3 := 1.5, 2.0, 0.5, 3.0
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 99))
		g := mat.NewDense(d, d, nil)
		g.Apply(func(_, _ int, _ float64) float64 { return rng.NormFloat64() }, g)
		var qr mat.QR
		qr.Factorize(g)
		var q mat.Dense
		qr.QTo(&q)
		sigma := func(diag ...float64) *mat.SymDense {
			var m mat.Dense
			m.Mul(&q, mat.NewDiagDense(d, append(diag, make([]float64, d-len(diag))...)))
			m.Mul(&m, q.T())
			return symmetric(&m)
		}
		a := Stats{Mu: make([]float64, d), Sigma: sigma(a1, a2)}
		b := Stats{Mu: make([]float64, d), Sigma: sigma(0, b2, b3)}
		got, err := Frechet(a, b)
		if err != nil {
			t.Fatal(err)
		}
		want := a1 + a2 + b2 + b3 - 2*math.Sqrt(a2*b2)
		t.Logf("seed %d: FID %.17g, want %.17g, relative difference %.1e", seed, got, want, math.Abs(got/want-1))
		if !(math.Abs(got/want-1) < 1e-7) {
			t.Errorf("seed %d: FID %.17g, want %.17g to 1e-7", seed, got, want)
		}
	}
}
