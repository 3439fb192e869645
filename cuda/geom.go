package cuda

import (
	"fmt"

	"github.com/camcycle/camcycle/tensor"
)

// Launch geometry and the index arithmetic handed to the kernels, as plain
// Go (no build tag) so that it is unit-tested without a GPU. The constants
// must agree with kernels/body.cuh and kernels/kernels.cu.

const (
	// MaxDims is the largest rank of a Dims (MAXD in body.cuh).
	MaxDims = 8
	// MaxOps is the number of operands a Dims carries strides for (MAXOPS).
	MaxOps = 3
	// Block is the block size of the elementwise kernels.
	Block = 256
	// ReduceBlock is the block size of the shared-memory reductions
	// (BLOCK in kernels.cu).
	ReduceBlock = 256
	// MaxGrid caps the grid of a grid-stride loop: more blocks than this
	// only add scheduling work.
	MaxGrid = 1 << 15
	// DimsWords is the size of a Dims in 8-byte words, as the kernels
	// receive it.
	DimsWords = 1 + MaxDims + MaxOps*MaxDims
)

// Grid1D returns the number of blocks of block threads for a grid-stride
// loop over n elements: enough to give every element a thread, at most
// MaxGrid, at least 1.
func Grid1D(n, block int) int {
	g := (n + block - 1) / block
	return max(1, min(g, MaxGrid))
}

// Dims is an index space and the strides of up to MaxOps operands in it,
// the struct Dims of body.cuh: element i of the space, with row-major
// multi-index idx, lies at Σ idx[a]·St[k][a] in operand k.
type Dims struct {
	Rank  int
	Shape [MaxDims]int
	St    [MaxOps][MaxDims]int
}

// NewDims describes the space of shape s with the given strides of each
// operand, coalesced: size-1 axes dropped, and adjacent axes that every
// operand walks as one run merged (as tensor's rowIter does), so that the
// kernels divide as little as possible. It panics if more than MaxDims axes
// remain or more than MaxOps operands are given.
func NewDims(s tensor.Shape, strides ...[]int) Dims {
	if len(strides) > MaxOps {
		panic(fmt.Sprintf("cuda: %d operands in one index space (at most %d)", len(strides), MaxOps))
	}
	var d Dims
	for i, n := range s {
		if n == 1 {
			continue
		}
		last := d.Rank - 1
		merge := last >= 0
		for k, st := range strides {
			if merge && d.St[k][last] != st[i]*n {
				merge = false
			}
		}
		if merge {
			d.Shape[last] *= n
			for k, st := range strides {
				d.St[k][last] = st[i]
			}
			continue
		}
		if d.Rank == MaxDims {
			panic(fmt.Sprintf("cuda: shape %v has more than %d axes after coalescing", s, MaxDims))
		}
		d.Shape[d.Rank] = n
		for k, st := range strides {
			d.St[k][d.Rank] = st[i]
		}
		d.Rank++
	}
	return d
}

// Offsets returns the offset of element i in each of the first nops
// operands: offsetsOf of body.cuh, in Go, for the tests.
func (d *Dims) Offsets(i, nops int) []int {
	off := make([]int, nops)
	for a := d.Rank - 1; a >= 0; a-- {
		n := d.Shape[a]
		r := i % n
		i /= n
		for k := range nops {
			off[k] += r * d.St[k][a]
		}
	}
	return off
}

// Words returns d as the kernels receive it: rank, shape, then the strides
// of each operand, each an int64.
func (d *Dims) Words() [DimsWords]uint64 {
	var w [DimsWords]uint64
	w[0] = uint64(d.Rank)
	for a := range MaxDims {
		w[1+a] = uint64(int64(d.Shape[a]))
		for k := range MaxOps {
			w[1+MaxDims+k*MaxDims+a] = uint64(int64(d.St[k][a]))
		}
	}
	return w
}

// ReduceDims splits a reduction of x (shape xs) over axes into the two
// index spaces of the kernels reduceND and reduceRun: kept walks the output
// elements (xs with the reduced axes set to 1, the output's own row-major
// order) with x's strides, and over walks the m elements each output
// reduces, with x's strides too.
func ReduceDims(xs tensor.Shape, axes []int) (kept, over Dims, m int) {
	os := tensor.ReducedShape(xs, axes)
	st := xs.Strides()
	rs := make(tensor.Shape, len(xs))
	m = 1
	for a := range xs {
		rs[a] = 1
		if os[a] == 1 {
			rs[a] = xs[a]
			m *= xs[a]
		}
	}
	return NewDims(os, st), NewDims(rs, st), m
}

// UseBlockReduce says whether a reduction of m elements per output, nout
// outputs, goes to reduceRun (a block of ReduceBlock threads per output)
// rather than reduceND (a thread per output): when each output has enough
// elements to keep a block busy, or too few outputs fill the device.
func UseBlockReduce(nout, m int) bool {
	return m >= 2*ReduceBlock || (m >= 32 && nout < 4096)
}

// GemmCall is one column-major cuBLAS GEMM, C = op(A)·op(B) with C M×N:
// what the row-major product of RowMajorGemm becomes. SwapAB says that the
// column-major A is the row-major B and the other way round.
type GemmCall struct {
	TransA, TransB bool
	M, N, K        int
	LDA, LDB, LDC  int
	SwapAB         bool
}

// RowMajorGemm maps the row-major product C (m×n) = op(A) (m×k) · op(B)
// (k×n), A stored m×k (k×m when transA), B stored k×n (n×k when transB),
// all dense, onto a column-major GEMM: a row-major matrix is the
// column-major matrix of its transpose, so Cᵀ = op(B)ᵀ·op(A)ᵀ is computed,
// with B as the first operand.
func RowMajorGemm(transA, transB bool, m, n, k int) GemmCall {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	return GemmCall{TransA: transB, TransB: transA, M: n, N: m, K: k, LDA: ldb, LDB: lda, LDC: n, SwapAB: true}
}
