package tensor

import (
	"fmt"
	"math"
	"testing"

	"golang.org/x/exp/constraints"
)

// naiveProduct returns A·B in float64 for row-major A (m×k) and B (k×n).
func naiveProduct[T constraints.Float](m, n, k int, a, b []T) []float64 {
	c := make([]float64, m*n)
	for i := range m {
		for p := range k {
			av := float64(a[i*k+p])
			for j := range n {
				c[i*n+j] += av * float64(b[p*n+j])
			}
		}
	}
	return c
}

func randSlice[T constraints.Float](seed uint64, n int) []T {
	r := NewRand(seed)
	s := make([]T, n)
	for i := range s {
		s[i] = T(r.Float64()*2 - 1)
	}
	return s
}

// gemmShapes covers tiles that fit exactly, ragged edges in every
// dimension, depths longer than one kc block, and too few columns to split.
var gemmShapes = [][3]int{
	{1, 1, 1}, {6, 64, 128}, {12, 128, 256}, {7, 65, 129}, {5, 3, 2},
	{13, 200, 300}, {64, 17, 9}, {300, 70, 40}, {2, 1000, 1}, {100, 100, 0},
}

func checkGemm[T constraints.Float](t *testing.T, kern gemmKernel[T], tol float64) {
	for _, sh := range gemmShapes {
		m, n, k := sh[0], sh[1], sh[2]
		for _, transA := range []bool{false, true} {
			for _, accumulate := range []bool{false, true} {
				name := fmt.Sprintf("%s/%dx%dx%d/transA=%v/acc=%v", kern.name, m, n, k, transA, accumulate)
				a := randSlice[T](1, m*k)
				b := randSlice[T](2, k*n)
				ldc := n + 3
				c := randSlice[T](3, (m-1)*ldc+n+3)
				c0 := append([]T(nil), c...)
				var aop operand[T] = strided[T]{a, k, 1}
				if transA {
					// Store A transposed (k×m) and read it with swapped strides.
					at := make([]T, k*m)
					for i := range m {
						for p := range k {
							at[p*m+i] = a[i*k+p]
						}
					}
					aop = strided[T]{at, 1, m}
				}
				gemm(kern, m, n, k, aop, strided[T]{b, 1, n}, c, ldc, accumulate)
				want := naiveProduct(m, n, k, a, b)
				for i := range m {
					for j := range n {
						w := want[i*n+j]
						if accumulate {
							w += float64(c0[i*ldc+j])
						}
						if got := float64(c[i*ldc+j]); math.Abs(got-w) > tol*(1+math.Abs(w)) {
							t.Fatalf("%s: C[%d,%d] = %g, want %g", name, i, j, got, w)
						}
					}
				}
				// Nothing outside the m×n block may change.
				for i := range c {
					if i%ldc < n && i/ldc < m {
						continue
					}
					if c[i] != c0[i] {
						t.Fatalf("%s: element %d outside C changed", name, i)
					}
				}
			}
		}
	}
}

func TestGemmFloat32Kernels(t *testing.T) {
	for _, kern := range float32Kernels() {
		checkGemm(t, kern, 1e-4)
	}
}

func TestGemmFloat64(t *testing.T) { checkGemm(t, goKernel[float64](), 1e-12) }

// BenchmarkGemm times a 256×4096×2304 product, the shape of the forward
// im2col GEMM of a 256→256 3×3 convolution on 64×64, with each kernel.
func BenchmarkGemm(b *testing.B) {
	m, n, k := 256, 4096, 2304
	a := randSlice[float32](1, m*k)
	bb := randSlice[float32](2, k*n)
	c := make([]float32, m*n)
	for _, kern := range float32Kernels() {
		b.Run(kern.name, func(b *testing.B) {
			for b.Loop() {
				gemm(kern, m, n, k, strided[float32]{a, k, 1}, strided[float32]{bb, 1, n}, c, n, false)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
