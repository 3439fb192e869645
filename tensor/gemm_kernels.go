package tensor

// The portable micro-kernel and the choice of kernel per element type.

// goKernel returns the portable micro-kernel: a 4×4 tile of C in sixteen
// local variables, which the Go compiler keeps in registers. It serves
// float64 everywhere and float32 where no assembly kernel fits the CPU.
func goKernel[T float]() gemmKernel[T] {
	return gemmKernel[T]{name: "go4x4", mr: 4, nr: 4, fn: kernelGo4x4[T], rows: kernelGo4x4Rows[T]}
}

func kernelGo4x4[T float](k int, a, b, c []T, ldc int, accumulate bool) {
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
func kernelGo4x4Rows[T float](k int, a, base []T, offs []int, c []T, ldc int, accumulate bool) {
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
func defaultKernel[T float]() gemmKernel[T] {
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
