package cuda

import (
	"math/rand/v2"
	"testing"

	"github.com/camcycle/camcycle/tensor"
)

func TestGrid1D(t *testing.T) {
	for _, c := range []struct{ n, block, want int }{
		{0, 256, 1}, {1, 256, 1}, {256, 256, 1}, {257, 256, 2}, {1 << 30, 256, MaxGrid},
	} {
		if g := Grid1D(c.n, c.block); g != c.want {
			t.Errorf("Grid1D(%d, %d) = %d, want %d", c.n, c.block, g, c.want)
		}
	}
}

// offsetsRef is the offset of element i of shape s in an operand of the
// given strides, without coalescing.
func offsetsRef(s tensor.Shape, st []int, i int) int {
	off := 0
	for a := len(s) - 1; a >= 0; a-- {
		off += (i % s[a]) * st[a]
		i /= s[a]
	}
	return off
}

// NewDims must give every element the offsets the uncoalesced shape gives,
// for broadcasting, permuted and sliced strides.
func TestNewDimsOffsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		rank := 1 + rng.IntN(6)
		out := make(tensor.Shape, rank)
		for a := range out {
			out[a] = 1 + rng.IntN(4)
		}
		// x broadcasts: some axes 1; y is permuted; z is a slice of a
		// larger tensor.
		xs := out.Clone()
		for a := range xs {
			if rng.IntN(3) == 0 {
				xs[a] = 1
			}
		}
		perm := rng.Perm(rank)
		ys := make(tensor.Shape, rank)
		for i, p := range perm {
			ys[p] = out[i]
		}
		yst := make([]int, rank)
		for i, p := range perm {
			yst[i] = ys.Strides()[p]
		}
		big := out.Clone()
		for a := range big {
			big[a] += rng.IntN(2)
		}
		sts := [][]int{tensor.BroadcastStrides(xs, out), yst, big.Strides()}
		d := NewDims(out, sts...)
		if d.Rank > rank {
			t.Fatalf("trial %d: rank %d grew to %d", trial, rank, d.Rank)
		}
		for i := range out.Numel() {
			got := d.Offsets(i, 3)
			for k, st := range sts {
				if want := offsetsRef(out, st, i); got[k] != want {
					t.Fatalf("trial %d: shape %v strides %v: element %d of operand %d at %d, want %d (dims %+v)",
						trial, out, st, i, k, got[k], want, d)
				}
			}
		}
	}
}

func TestNewDimsCoalesces(t *testing.T) {
	s := tensor.Shape{1, 256, 64, 64}
	d := NewDims(s, s.Strides(), tensor.BroadcastStrides(tensor.Shape{1, 256, 1, 1}, s))
	if d.Rank != 2 || d.Shape[0] != 256 || d.Shape[1] != 4096 {
		t.Errorf("NewDims of a per-channel broadcast: %+v, want 256 rows of 4096", d)
	}
	d = NewDims(tensor.Shape{3, 4, 5}, tensor.Shape{3, 4, 5}.Strides())
	if d.Rank != 1 || d.Shape[0] != 60 || d.St[0][0] != 1 {
		t.Errorf("NewDims of a dense shape: %+v, want one axis of 60", d)
	}
	if d := NewDims(tensor.Shape{}, nil); d.Rank != 0 || len(d.Offsets(0, 1)) != 1 {
		t.Errorf("NewDims of a scalar: %+v", d)
	}
	w := d.Words()
	if len(w) != DimsWords || DimsWords != 33 {
		t.Errorf("Dims is %d words, want 33 (body.cuh's struct Dims)", len(w))
	}
}

// ReduceDims must visit, for output j, exactly the elements of x that the
// output's multi-index selects.
func TestReduceDims(t *testing.T) {
	xs := tensor.Shape{2, 3, 4, 5}
	for _, axes := range [][]int{nil, {0}, {1}, {3}, {1, 2}, {0, 3}, {2, 3}, {-1, 0, 1}} {
		kept, over, m := ReduceDims(xs, axes)
		os := tensor.ReducedShape(xs, axes)
		if m*os.Numel() != xs.Numel() {
			t.Fatalf("axes %v: %d outputs of %d elements for %v", axes, os.Numel(), m, xs)
		}
		seen := make([]int, xs.Numel())
		for j := range os.Numel() {
			base := kept.Offsets(j, 1)[0]
			// The output multi-index of j, and its offset in x.
			want, r := 0, j
			for a := len(os) - 1; a >= 0; a-- {
				want += (r % os[a]) * xs.Strides()[a]
				r /= os[a]
			}
			if base != want {
				t.Fatalf("axes %v: output %d starts at %d, want %d", axes, j, base, want)
			}
			for k := range m {
				seen[base+over.Offsets(k, 1)[0]]++
			}
		}
		for i, n := range seen {
			if n != 1 {
				t.Fatalf("axes %v: element %d reduced %d times", axes, i, n)
			}
		}
	}
}

// RowMajorGemm is checked by running the column-major call it returns
// through a naive column-major GEMM (BLAS's definition) on row-major data.
func TestRowMajorGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			m, n, k := 3, 5, 4
			a := make([]float64, m*k)
			b := make([]float64, k*n)
			for i := range a {
				a[i] = float64(rng.IntN(7) - 3)
			}
			for i := range b {
				b[i] = float64(rng.IntN(7) - 3)
			}
			at := func(i, j int) float64 { // op(A)[i, j]
				if tA {
					return a[j*m+i]
				}
				return a[i*k+j]
			}
			bt := func(i, j int) float64 {
				if tB {
					return b[j*k+i]
				}
				return b[i*n+j]
			}
			g := RowMajorGemm(tA, tB, m, n, k)
			if !g.SwapAB {
				t.Fatal("RowMajorGemm must swap the operands")
			}
			c := make([]float64, m*n)
			colMajorGemm(g, b, a, c)
			for i := range m {
				for j := range n {
					var want float64
					for p := range k {
						want += at(i, p) * bt(p, j)
					}
					if c[i*n+j] != want {
						t.Fatalf("transA %v transB %v: C[%d, %d] = %g, want %g", tA, tB, i, j, c[i*n+j], want)
					}
				}
			}
		}
	}
}

// colMajorGemm is BLAS's C = op(A)·op(B), column-major, leading dimensions
// from g.
func colMajorGemm(g GemmCall, a, b, c []float64) {
	opA := func(i, p int) float64 {
		if g.TransA {
			return a[p+i*g.LDA]
		}
		return a[i+p*g.LDA]
	}
	opB := func(p, j int) float64 {
		if g.TransB {
			return b[j+p*g.LDB]
		}
		return b[p+j*g.LDB]
	}
	for i := range g.M {
		for j := range g.N {
			var s float64
			for p := range g.K {
				s += opA(i, p) * opB(p, j)
			}
			c[i+j*g.LDC] = s
		}
	}
}

func TestUseBlockReduce(t *testing.T) {
	if UseBlockReduce(1<<20, 1) || !UseBlockReduce(1, 1<<20) || !UseBlockReduce(256, 4096) {
		t.Error("UseBlockReduce: a thread per output for one-element reductions, a block for long ones")
	}
}
