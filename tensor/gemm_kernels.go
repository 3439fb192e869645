package tensor

import "golang.org/x/exp/constraints"

// The portable micro-kernel and the choice of kernel per element type.

// goKernel returns the portable micro-kernel: a 4×4 tile of C in sixteen
// local variables, which the Go compiler keeps in registers. It serves
// float64 everywhere and float32 where no assembly kernel fits the CPU.
func goKernel[T constraints.Float]() gemmKernel[T] {
	return gemmKernel[T]{name: "go4x4", mr: 4, nr: 4, fn: kernelGo4x4[T], rows: kernelGo4x4Rows[T]}
}

func kernelGo4x4[T constraints.Float](k int, a, b, c []T, ldc int, accumulate bool) {
	a, b = a[:4*k], b[:4*k]
	var c00, c01, c02, c03, c10, c11, c12, c13 T
	var c20, c21, c22, c23, c30, c31, c32, c33 T
	for p := 0; p+4 <= len(a); p += 4 {
		ap, bp := a[p:p+4], b[p:p+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	tile := [4][4]T{{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, {c30, c31, c32, c33}}
	for i := range 4 {
		row := c[i*ldc:][:4]
		if accumulate {
			row[0] += tile[i][0]
			row[1] += tile[i][1]
			row[2] += tile[i][2]
			row[3] += tile[i][3]
		} else {
			copy(row, tile[i][:])
		}
	}
}

// kernelGo4x4Rows is kernelGo4x4 with row p of B at base[offs[p]:].
func kernelGo4x4Rows[T constraints.Float](k int, a, base []T, offs []int, c []T, ldc int, accumulate bool) {
	a, offs = a[:4*k], offs[:k]
	var c00, c01, c02, c03, c10, c11, c12, c13 T
	var c20, c21, c22, c23, c30, c31, c32, c33 T
	for p, off := range offs {
		ap, bp := a[4*p:4*p+4], base[off:off+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	tile := [4][4]T{{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, {c30, c31, c32, c33}}
	for i := range 4 {
		row := c[i*ldc:][:4]
		if accumulate {
			row[0] += tile[i][0]
			row[1] += tile[i][1]
			row[2] += tile[i][2]
			row[3] += tile[i][3]
		} else {
			copy(row, tile[i][:])
		}
	}
}

// defaultKernel returns the fastest micro-kernel for T on this machine: an
// assembly kernel for float32 when the CPU has one (gemm_amd64.go), the
// portable kernel otherwise.
func defaultKernel[T constraints.Float]() gemmKernel[T] {
	var zero T
	if _, ok := any(zero).(float32); ok {
		if ks := asmKernels(); len(ks) > 0 {
			return any(ks[0]).(gemmKernel[T])
		}
	}
	return goKernel[T]()
}

// float32Kernels lists every float32 micro-kernel this machine can run, the
// fastest first; tests and benchmarks run them all.
func float32Kernels() []gemmKernel[float32] {
	return append(asmKernels(), goKernel[float32]())
}

// dotKernel computes mo×nt dot products at once, between mo rows of A and
// nt rows of B laid out as planes of rows: for o < mo and t < nt,
//
//	out[o·nt + t] = Σ_{i<rows} Σ_{j<chunks·lanes} a[o·aPlane + i·aRow + j] · b[offs[t] + i·bRow + j]
//
// The weight gradient of a convolution with few output channels uses it
// (see conv2dWeightGradDot in im2col.go).
type dotKernel[T constraints.Float] struct {
	name          string
	mo, nt, lanes int
	fn            func(rows, chunks int, a []T, aPlane, aRow int, b []T, offs []int, bRow int, out []T)
}

// checkDot panics unless every value a dot kernel reads lies inside a and b.
func checkDot[T constraints.Float](k dotKernel[T], rows, chunks int, a []T, aPlane, aRow int, b []T, offs []int, bRow int, out []T) {
	if rows == 0 || chunks == 0 {
		return
	}
	span := chunks * k.lanes
	if len(offs) < k.nt || len(out) < k.mo*k.nt || (k.mo-1)*aPlane+(rows-1)*aRow+span > len(a) {
		panic("dot kernel: operands too short")
	}
	for _, off := range offs[:k.nt] {
		if off < 0 || off+(rows-1)*bRow+span > len(b) {
			panic("dot kernel: B row outside b")
		}
	}
}

// goDotKernel is the portable dot kernel: 3 rows of A by 4 of B.
func goDotKernel[T constraints.Float]() dotKernel[T] {
	k := dotKernel[T]{name: "go3x4", mo: 3, nt: 4, lanes: 1}
	k.fn = func(rows, chunks int, a []T, aPlane, aRow int, b []T, offs []int, bRow int, out []T) {
		checkDot(k, rows, chunks, a, aPlane, aRow, b, offs, bRow, out)
		var acc [12]T
		for i := range rows {
			for o := range 3 {
				ar := a[o*aPlane+i*aRow:][:chunks]
				for t := range 4 {
					br := b[offs[t]+i*bRow:][:chunks]
					var s T
					for j, v := range ar {
						s += v * br[j]
					}
					acc[o*4+t] += s
				}
			}
		}
		copy(out, acc[:])
	}
	return k
}

// defaultDotKernel returns the fastest dot kernel for T on this machine.
func defaultDotKernel[T constraints.Float]() dotKernel[T] {
	var zero T
	if _, ok := any(zero).(float32); ok {
		if ks := asmDotKernels(); len(ks) > 0 {
			return any(ks[0]).(dotKernel[T])
		}
	}
	return goDotKernel[T]()
}

// float32DotKernels lists every float32 dot kernel this machine can run.
func float32DotKernels() []dotKernel[float32] {
	return append(asmDotKernels(), goDotKernel[float32]())
}
