//go:build amd64 && !purego

#include "textflag.h"

// Micro-kernels for gemm (gemm.go): C[0:mr, 0:nr] (+)= A panel · B panel.
//
// A panel: k columns of mr floats (a[p·mr + i] = A[i, p]).
// B panel: k rows of nr floats    (b[p·nr + j] = B[p, j]).
// C: row-major, row stride ldc floats.
//
// Each step p of the loop loads row p of the B panel into vector registers,
// then for every row i broadcasts A[i, p] to all lanes of one register and
// does one fused multiply-add per B vector:
//
//	C[i, 16v : 16v+16] += broadcast(A[i, p]) · B[p, 16v : 16v+16]
//
// The whole C tile stays in registers until the loop ends; then it is
// stored (or added to C when accumulate is set).
//
// Arguments (both kernels):
//	k+0(FP)           CX  steps
//	a+8(FP)           AX  A panel, advances by mr·4 bytes a step
//	b+16(FP)          BX  B panel, advances by nr·4 bytes a step
//	c+24(FP)          DI  C tile, advances by one row when storing
//	ldc+32(FP)        DX  row stride of C, turned into bytes
//	accumulate+40(FP)     store (false) or add to C (true)

// ---- AVX-512: 6×64 ----
//
// Register layout (each Z register holds 16 floats):
//
//	             columns 0–15  16–31  32–47  48–63
//	C row 0        Z0     Z1     Z2     Z3
//	C row 1        Z4     Z5     Z6     Z7
//	  …
//	C row 5        Z20    Z21    Z22    Z23
//	B row p        Z24    Z25    Z26    Z27
//	A[i, p]        Z28 (even rows), Z29 (odd rows), broadcast
//
// A step is 4 loads of B, 6 broadcasts of A and 24 FMAs (768 flops).

// ROW512 does the 4 FMAs of row i: the broadcast of A[i, p] (at byte off of
// AX) times the B row, into that row's four accumulators.
#define ROW512(off, bc, c0, c1, c2, c3) \
	VBROADCASTSS off(AX), bc; \
	VFMADD231PS Z24, bc, c0; \
	VFMADD231PS Z25, bc, c1; \
	VFMADD231PS Z26, bc, c2; \
	VFMADD231PS Z27, bc, c3

#define STORE512(c0, c1, c2, c3) \
	VMOVUPS c0, 0(DI); \
	VMOVUPS c1, 64(DI); \
	VMOVUPS c2, 128(DI); \
	VMOVUPS c3, 192(DI); \
	ADDQ DX, DI

#define ADDSTORE512(c0, c1, c2, c3) \
	VADDPS 0(DI), c0, c0; \
	VADDPS 64(DI), c1, c1; \
	VADDPS 128(DI), c2, c2; \
	VADDPS 192(DI), c3, c3; \
	STORE512(c0, c1, c2, c3)

#define ZERO512 \
	VPXORD Z0, Z0, Z0; VPXORD Z1, Z1, Z1; VPXORD Z2, Z2, Z2; VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; VPXORD Z5, Z5, Z5; VPXORD Z6, Z6, Z6; VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; VPXORD Z9, Z9, Z9; VPXORD Z10, Z10, Z10; VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; VPXORD Z13, Z13, Z13; VPXORD Z14, Z14, Z14; VPXORD Z15, Z15, Z15; \
	VPXORD Z16, Z16, Z16; VPXORD Z17, Z17, Z17; VPXORD Z18, Z18, Z18; VPXORD Z19, Z19, Z19; \
	VPXORD Z20, Z20, Z20; VPXORD Z21, Z21, Z21; VPXORD Z22, Z22, Z22; VPXORD Z23, Z23, Z23

// STEP512 is one step of the loop once the B row is in Z24–Z27: the six
// rows of A (at AX) times it.
#define STEP512 \
	ROW512(0, Z28, Z0, Z1, Z2, Z3); \
	ROW512(4, Z29, Z4, Z5, Z6, Z7); \
	ROW512(8, Z28, Z8, Z9, Z10, Z11); \
	ROW512(12, Z29, Z12, Z13, Z14, Z15); \
	ROW512(16, Z28, Z16, Z17, Z18, Z19); \
	ROW512(20, Z29, Z20, Z21, Z22, Z23)

// func gemm6x64AVX512(k int, a, b, c *float32, ldc int, accumulate bool)
TEXT ·gemm6x64AVX512(SB), NOSPLIT, $0-41
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), DX
	SHLQ $2, DX

	ZERO512

	TESTQ CX, CX
	JZ    store512

loop512:
	VMOVUPS 0(BX), Z24
	VMOVUPS 64(BX), Z25
	VMOVUPS 128(BX), Z26
	VMOVUPS 192(BX), Z27
	STEP512
	ADDQ $24, AX
	ADDQ $256, BX
	DECQ CX
	JNZ  loop512

store512:
	MOVBLZX accumulate+40(FP), SI
	TESTQ   SI, SI
	JNZ     add512
	STORE512(Z0, Z1, Z2, Z3)
	STORE512(Z4, Z5, Z6, Z7)
	STORE512(Z8, Z9, Z10, Z11)
	STORE512(Z12, Z13, Z14, Z15)
	STORE512(Z16, Z17, Z18, Z19)
	STORE512(Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

add512:
	ADDSTORE512(Z0, Z1, Z2, Z3)
	ADDSTORE512(Z4, Z5, Z6, Z7)
	ADDSTORE512(Z8, Z9, Z10, Z11)
	ADDSTORE512(Z12, Z13, Z14, Z15)
	ADDSTORE512(Z16, Z17, Z18, Z19)
	ADDSTORE512(Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

// ---- AVX2 + FMA: 6×16 ----
//
// Register layout (each Y register holds 8 floats):
//
//	             columns 0–7  8–15
//	C row 0        Y0     Y1
//	C row 1        Y2     Y3
//	  …
//	C row 5        Y10    Y11
//	B row p        Y12    Y13
//	A[i, p]        Y14 (even rows), Y15 (odd rows), broadcast
//
// A step is 2 loads of B, 6 broadcasts of A and 12 FMAs (192 flops).

#define ROW256(off, bc, c0, c1) \
	VBROADCASTSS off(AX), bc; \
	VFMADD231PS Y12, bc, c0; \
	VFMADD231PS Y13, bc, c1

#define STORE256(c0, c1) \
	VMOVUPS c0, 0(DI); \
	VMOVUPS c1, 32(DI); \
	ADDQ DX, DI

#define ADDSTORE256(c0, c1) \
	VADDPS 0(DI), c0, c0; \
	VADDPS 32(DI), c1, c1; \
	STORE256(c0, c1)

#define ZERO256 \
	VXORPS Y0, Y0, Y0; VXORPS Y1, Y1, Y1; VXORPS Y2, Y2, Y2; VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; VXORPS Y5, Y5, Y5; VXORPS Y6, Y6, Y6; VXORPS Y7, Y7, Y7; \
	VXORPS Y8, Y8, Y8; VXORPS Y9, Y9, Y9; VXORPS Y10, Y10, Y10; VXORPS Y11, Y11, Y11

#define STEP256 \
	ROW256(0, Y14, Y0, Y1); \
	ROW256(4, Y15, Y2, Y3); \
	ROW256(8, Y14, Y4, Y5); \
	ROW256(12, Y15, Y6, Y7); \
	ROW256(16, Y14, Y8, Y9); \
	ROW256(20, Y15, Y10, Y11)

// func gemm6x16AVX2(k int, a, b, c *float32, ldc int, accumulate bool)
TEXT ·gemm6x16AVX2(SB), NOSPLIT, $0-41
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), DX
	SHLQ $2, DX

	ZERO256

	TESTQ CX, CX
	JZ    store256

loop256:
	VMOVUPS 0(BX), Y12
	VMOVUPS 32(BX), Y13
	STEP256
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  loop256

store256:
	MOVBLZX accumulate+40(FP), SI
	TESTQ   SI, SI
	JNZ     add256
	STORE256(Y0, Y1)
	STORE256(Y2, Y3)
	STORE256(Y4, Y5)
	STORE256(Y6, Y7)
	STORE256(Y8, Y9)
	STORE256(Y10, Y11)
	VZEROUPPER
	RET

add256:
	ADDSTORE256(Y0, Y1)
	ADDSTORE256(Y2, Y3)
	ADDSTORE256(Y4, Y5)
	ADDSTORE256(Y6, Y7)
	ADDSTORE256(Y8, Y9)
	ADDSTORE256(Y10, Y11)
	VZEROUPPER
	RET

// ---- Indirect B rows ----
//
// The same two kernels, except that B is not a packed panel: row p of B is
// the nr floats at base + 4·offs[p] bytes. The convolutions use them to read
// the rows of col(x) straight from a padded copy of the image (see
// conv2dRows in im2col.go), so nothing is packed.
//
// Arguments:
//	k+0(FP)           CX  steps
//	a+8(FP)           AX  A panel
//	base+16(FP)       BX  base of the B rows
//	offs+24(FP)       SI  offsets of the B rows, int64, advances by 8 bytes a step
//	c+32(FP)          DI  C tile
//	ldc+40(FP)        DX  row stride of C
//	accumulate+48(FP)

// func gemm6x64AVX512Rows(k int, a, base *float32, offs *int, c *float32, ldc int, accumulate bool)
TEXT ·gemm6x64AVX512Rows(SB), NOSPLIT, $0-49
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ base+16(FP), BX
	MOVQ offs+24(FP), SI
	MOVQ c+32(FP), DI
	MOVQ ldc+40(FP), DX
	SHLQ $2, DX
	ZERO512
	TESTQ CX, CX
	JZ    rstore512

rloop512:
	MOVQ    (SI), R8
	LEAQ    (BX)(R8*4), R9
	VMOVUPS 0(R9), Z24
	VMOVUPS 64(R9), Z25
	VMOVUPS 128(R9), Z26
	VMOVUPS 192(R9), Z27
	STEP512
	ADDQ $8, SI
	ADDQ $24, AX
	DECQ CX
	JNZ  rloop512

rstore512:
	MOVBLZX accumulate+48(FP), R8
	TESTQ   R8, R8
	JNZ     radd512
	STORE512(Z0, Z1, Z2, Z3)
	STORE512(Z4, Z5, Z6, Z7)
	STORE512(Z8, Z9, Z10, Z11)
	STORE512(Z12, Z13, Z14, Z15)
	STORE512(Z16, Z17, Z18, Z19)
	STORE512(Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

radd512:
	ADDSTORE512(Z0, Z1, Z2, Z3)
	ADDSTORE512(Z4, Z5, Z6, Z7)
	ADDSTORE512(Z8, Z9, Z10, Z11)
	ADDSTORE512(Z12, Z13, Z14, Z15)
	ADDSTORE512(Z16, Z17, Z18, Z19)
	ADDSTORE512(Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

// func gemm6x16AVX2Rows(k int, a, base *float32, offs *int, c *float32, ldc int, accumulate bool)
TEXT ·gemm6x16AVX2Rows(SB), NOSPLIT, $0-49
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ base+16(FP), BX
	MOVQ offs+24(FP), SI
	MOVQ c+32(FP), DI
	MOVQ ldc+40(FP), DX
	SHLQ $2, DX
	ZERO256
	TESTQ CX, CX
	JZ    rstore256

rloop256:
	MOVQ    (SI), R8
	LEAQ    (BX)(R8*4), R9
	VMOVUPS 0(R9), Y12
	VMOVUPS 32(R9), Y13
	STEP256
	ADDQ $8, SI
	ADDQ $24, AX
	DECQ CX
	JNZ  rloop256

rstore256:
	MOVBLZX accumulate+48(FP), R8
	TESTQ   R8, R8
	JNZ     radd256
	STORE256(Y0, Y1)
	STORE256(Y2, Y3)
	STORE256(Y4, Y5)
	STORE256(Y6, Y7)
	STORE256(Y8, Y9)
	STORE256(Y10, Y11)
	VZEROUPPER
	RET

radd256:
	ADDSTORE256(Y0, Y1)
	ADDSTORE256(Y2, Y3)
	ADDSTORE256(Y4, Y5)
	ADDSTORE256(Y6, Y7)
	ADDSTORE256(Y8, Y9)
	ADDSTORE256(Y10, Y11)
	VZEROUPPER
	RET

// ---- Dot products for weight gradients with few output channels ----
//
// dot3x8AVX512 computes 24 dot products at once, between 3 rows of A (one
// per output channel) and 8 rows of B (one per kernel tap), each summed
// over `rows` rows of `chunks` vectors of 16 floats:
//
//	acc[8o + t] = Σ_{i<rows} Σ_{v<chunks} a[o·aPlane + i·aRow + 16v …]
//	                                    ⊙ b[offs[t] + i·bRow + 16v …]
//
// and stores the 24 accumulators, 16 lanes each, to out (24·16 floats);
// the caller adds the lanes up. Registers:
//
//	Z0–Z23   acc, Z(8o + t)
//	Z24–Z26  the A vectors of the 3 channels
//	Z27      the B vector of one tap
//
// A chunk is 3 + 8 vector loads, 8 offset loads and 24 FMAs.
//
// Arguments: rows+0 (CX), chunks+8 (R13), a+16 (AX), aPlane+24 (R10, bytes;
// R11 = 2·aPlane), aRow+32, b+40 (BX), offs+48 (SI), bRow+56, out+64.

#define DOTTAP512(t, c0, c1, c2) \
	MOVQ        (8*t)(SI), R8; \
	VMOVUPS     (R9)(R8*4), Z27; \
	VFMADD231PS Z27, Z24, c0; \
	VFMADD231PS Z27, Z25, c1; \
	VFMADD231PS Z27, Z26, c2

// func dot3x8AVX512(rows, chunks int, a *float32, aPlane, aRow int, b *float32, offs *int, bRow int, out *float32)
TEXT ·dot3x8AVX512(SB), NOSPLIT, $0-72
	MOVQ rows+0(FP), CX
	MOVQ chunks+8(FP), R13
	MOVQ a+16(FP), AX
	MOVQ aPlane+24(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*1), R11
	MOVQ b+40(FP), BX
	MOVQ offs+48(FP), SI
	ZERO512
	TESTQ CX, CX
	JZ    dotstore512
	TESTQ R13, R13
	JZ    dotstore512

dotrow512:
	MOVQ R13, DX
	XORQ DI, DI // byte offset within the row

dotchunk512:
	LEAQ    (AX)(DI*1), R12
	LEAQ    (BX)(DI*1), R9
	VMOVUPS (R12), Z24
	VMOVUPS (R12)(R10*1), Z25
	VMOVUPS (R12)(R11*1), Z26
	DOTTAP512(0, Z0, Z8, Z16)
	DOTTAP512(1, Z1, Z9, Z17)
	DOTTAP512(2, Z2, Z10, Z18)
	DOTTAP512(3, Z3, Z11, Z19)
	DOTTAP512(4, Z4, Z12, Z20)
	DOTTAP512(5, Z5, Z13, Z21)
	DOTTAP512(6, Z6, Z14, Z22)
	DOTTAP512(7, Z7, Z15, Z23)
	ADDQ $64, DI
	DECQ DX
	JNZ  dotchunk512

	MOVQ aRow+32(FP), R8
	LEAQ (AX)(R8*4), AX
	MOVQ bRow+56(FP), R8
	LEAQ (BX)(R8*4), BX
	DECQ CX
	JNZ  dotrow512

dotstore512:
	MOVQ    out+64(FP), DI
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	VMOVUPS Z9, 576(DI)
	VMOVUPS Z10, 640(DI)
	VMOVUPS Z11, 704(DI)
	VMOVUPS Z12, 768(DI)
	VMOVUPS Z13, 832(DI)
	VMOVUPS Z14, 896(DI)
	VMOVUPS Z15, 960(DI)
	VMOVUPS Z16, 1024(DI)
	VMOVUPS Z17, 1088(DI)
	VMOVUPS Z18, 1152(DI)
	VMOVUPS Z19, 1216(DI)
	VMOVUPS Z20, 1280(DI)
	VMOVUPS Z21, 1344(DI)
	VMOVUPS Z22, 1408(DI)
	VMOVUPS Z23, 1472(DI)
	VZEROUPPER
	RET

// dot3x4AVX2 is dot3x8AVX512 for AVX2: 3 channels × 4 taps, vectors of 8
// floats, accumulators Y(4o + t), A in Y12–Y14, B in Y15; out is 12·8
// floats.

#define DOTTAP256(t, c0, c1, c2) \
	MOVQ        (8*t)(SI), R8; \
	VMOVUPS     (R9)(R8*4), Y15; \
	VFMADD231PS Y15, Y12, c0; \
	VFMADD231PS Y15, Y13, c1; \
	VFMADD231PS Y15, Y14, c2

// func dot3x4AVX2(rows, chunks int, a *float32, aPlane, aRow int, b *float32, offs *int, bRow int, out *float32)
TEXT ·dot3x4AVX2(SB), NOSPLIT, $0-72
	MOVQ rows+0(FP), CX
	MOVQ chunks+8(FP), R13
	MOVQ a+16(FP), AX
	MOVQ aPlane+24(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*1), R11
	MOVQ b+40(FP), BX
	MOVQ offs+48(FP), SI
	ZERO256
	TESTQ CX, CX
	JZ    dotstore256
	TESTQ R13, R13
	JZ    dotstore256

dotrow256:
	MOVQ R13, DX
	XORQ DI, DI

dotchunk256:
	LEAQ    (AX)(DI*1), R12
	LEAQ    (BX)(DI*1), R9
	VMOVUPS (R12), Y12
	VMOVUPS (R12)(R10*1), Y13
	VMOVUPS (R12)(R11*1), Y14
	DOTTAP256(0, Y0, Y4, Y8)
	DOTTAP256(1, Y1, Y5, Y9)
	DOTTAP256(2, Y2, Y6, Y10)
	DOTTAP256(3, Y3, Y7, Y11)
	ADDQ $32, DI
	DECQ DX
	JNZ  dotchunk256

	MOVQ aRow+32(FP), R8
	LEAQ (AX)(R8*4), AX
	MOVQ bRow+56(FP), R8
	LEAQ (BX)(R8*4), BX
	DECQ CX
	JNZ  dotrow256

dotstore256:
	MOVQ    out+64(FP), DI
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	VMOVUPS Y8, 256(DI)
	VMOVUPS Y9, 288(DI)
	VMOVUPS Y10, 320(DI)
	VMOVUPS Y11, 352(DI)
	VZEROUPPER
	RET
