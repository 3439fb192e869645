//go:build amd64 && !purego

package tensor

import "golang.org/x/sys/cpu"

// The assembly micro-kernels of gemm_amd64.s, for float32.

// gemm6x64AVX512 computes a 6×64 tile of C, held in 24 of the 32 ZMM
// registers (each 16 floats); see gemm_amd64.s for the register layout.
//
//go:noescape
func gemm6x64AVX512(k int, a, b, c *float32, ldc int, accumulate bool)

// gemm6x16AVX2 computes a 6×16 tile of C, held in 12 of the 16 YMM
// registers (each 8 floats).
//
//go:noescape
func gemm6x16AVX2(k int, a, b, c *float32, ldc int, accumulate bool)

// gemm6x64AVX512Rows is gemm6x64AVX512 reading row p of B at
// base + offs[p] instead of from a packed panel.
//
//go:noescape
func gemm6x64AVX512Rows(k int, a, base *float32, offs *int, c *float32, ldc int, accumulate bool)

// gemm6x16AVX2Rows is gemm6x16AVX2 reading row p of B at base + offs[p].
//
//go:noescape
func gemm6x16AVX2Rows(k int, a, base *float32, offs *int, c *float32, ldc int, accumulate bool)

// asmKernels returns the assembly kernels the CPU (and OS) support, the
// fastest first. golang.org/x/sys/cpu reads CPUID once at start-up.
func asmKernels() []gemmKernel[float32] {
	var ks []gemmKernel[float32]
	if cpu.X86.HasAVX512F {
		ks = append(ks, gemmKernel[float32]{name: "avx512_6x64", mr: 6, nr: 64, fn: kernelAVX512, rows: rowsAVX512})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, gemmKernel[float32]{name: "avx2_6x16", mr: 6, nr: 16, fn: kernelAVX2, rows: rowsAVX2})
	}
	return ks
}

// checkTile panics unless the slices hold what a kernel of tile mr×nr
// reads and writes; the assembly does no bounds checks of its own.
func checkTile(k, mr, nr int, a, b, c []float32, ldc int) {
	if len(a) < k*mr || len(b) < k*nr || len(c) < (mr-1)*ldc+nr || ldc < nr {
		panic("gemm kernel: operands too short for the tile")
	}
}

func kernelAVX512(k int, a, b, c []float32, ldc int, accumulate bool) {
	checkTile(k, 6, 64, a, b, c, ldc)
	if k == 0 {
		a, b = make([]float32, 6), make([]float32, 64)
	}
	gemm6x64AVX512(k, &a[0], &b[0], &c[0], ldc, accumulate)
}

func kernelAVX2(k int, a, b, c []float32, ldc int, accumulate bool) {
	checkTile(k, 6, 16, a, b, c, ldc)
	if k == 0 {
		a, b = make([]float32, 6), make([]float32, 16)
	}
	gemm6x16AVX2(k, &a[0], &b[0], &c[0], ldc, accumulate)
}

// checkRows panics unless every row base[offs[p] : offs[p]+nr] lies inside
// base, and a and c are long enough.
func checkRows(k, mr, nr int, a, base []float32, offs []int, c []float32, ldc int) {
	if len(a) < k*mr || len(offs) < k || len(c) < (mr-1)*ldc+nr || ldc < nr {
		panic("gemm kernel: operands too short for the tile")
	}
	for _, off := range offs[:k] {
		if off < 0 || off+nr > len(base) {
			panic("gemm kernel: B row outside its base")
		}
	}
}

func rowsAVX512(k int, a, base []float32, offs []int, c []float32, ldc int, accumulate bool) {
	checkRows(k, 6, 64, a, base, offs, c, ldc)
	if k == 0 {
		kernelAVX512(0, nil, nil, c, ldc, accumulate)
		return
	}
	gemm6x64AVX512Rows(k, &a[0], &base[0], &offs[0], &c[0], ldc, accumulate)
}

func rowsAVX2(k int, a, base []float32, offs []int, c []float32, ldc int, accumulate bool) {
	checkRows(k, 6, 16, a, base, offs, c, ldc)
	if k == 0 {
		kernelAVX2(0, nil, nil, c, ldc, accumulate)
		return
	}
	gemm6x16AVX2Rows(k, &a[0], &base[0], &offs[0], &c[0], ldc, accumulate)
}

// dot3x8AVX512 and dot3x4AVX2 are the dot kernels (see dotKernel): 3
// channels by 8 (or 4) taps, the accumulators' lanes stored to out for the
// caller to add up.
//
//go:noescape
func dot3x8AVX512(rows, chunks int, a *float32, aPlane, aRow int, b *float32, offs *int, bRow int, out *float32)

//go:noescape
func dot3x4AVX2(rows, chunks int, a *float32, aPlane, aRow int, b *float32, offs *int, bRow int, out *float32)

// asmDotKernels returns the assembly dot kernels the CPU supports, the
// fastest first.
func asmDotKernels() []dotKernel[float32] {
	var ks []dotKernel[float32]
	if cpu.X86.HasAVX512F {
		ks = append(ks, asmDot(dotKernel[float32]{name: "avx512_3x8", mo: 3, nt: 8, lanes: 16}, dot3x8AVX512))
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, asmDot(dotKernel[float32]{name: "avx2_3x4", mo: 3, nt: 4, lanes: 8}, dot3x4AVX2))
	}
	return ks
}

// asmDot completes k with a function that checks the operands, runs the
// assembly and adds up the lanes of each accumulator.
func asmDot(k dotKernel[float32], asm func(rows, chunks int, a *float32, aPlane, aRow int, b *float32, offs *int, bRow int, out *float32)) dotKernel[float32] {
	k.fn = func(rows, chunks int, a []float32, aPlane, aRow int, b []float32, offs []int, bRow int, out []float32) {
		checkDot(k, rows, chunks, a, aPlane, aRow, b, offs, bRow, out)
		if rows == 0 || chunks == 0 {
			clear(out[:k.mo*k.nt])
			return
		}
		var lanes [24 * 16]float32
		asm(rows, chunks, &a[0], aPlane, aRow, &b[0], &offs[0], bRow, &lanes[0])
		for i := range k.mo * k.nt {
			var s float32
			for _, v := range lanes[i*k.lanes : (i+1)*k.lanes] {
				s += v
			}
			out[i] = s
		}
	}
	return k
}
