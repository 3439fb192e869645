// The kernels' bodies inside host loops that walk a grid of blocks of
// threads as kernels.cu's grid-stride LOOP does.
#include "../kernels/body.cuh"
#include "shim.h"

#define LOOP(n) \
    for (i64 bx = 0; bx < grid; bx++) \
        for (i64 tx = 0; tx < block; tx++) \
            for (i64 i = bx * block + tx; i < (n); i += block * grid)

extern "C" {
void shim_binaryND(float *o, const float *x, const float *y, const u64 *dims, i64 n, i64 op, i64 grid, i64 block) {
    LOOP(n) binaryND_body<float>(o, x, y, (const Dims *)dims, op, i);
}
void shim_stridedCopy(float *dst, i64 dbase, const float *src, i64 sbase, const u64 *dims, i64 n, i64 grid, i64 block) {
    LOOP(n) stridedCopy_body<float>(dst, dbase, src, sbase, (const Dims *)dims, i);
}
void shim_reduceND(float *o, const float *x, const u64 *kept, const u64 *over, i64 m, i64 op, i64 n, i64 grid, i64 block) {
    LOOP(n) reduceND_body<float>(o, x, (const Dims *)kept, (const Dims *)over, m, op, i);
}
void shim_reflectPad(float *pad, const float *x, i64 n, i64 h, i64 w, i64 top, i64 left, i64 ph, i64 pw, i64 grid, i64 block) {
    LOOP(n) reflectPad_body<float>(pad, x, h, w, top, left, ph, pw, i);
}
void shim_reflectPadAdjoint(const float *pad, float *x, i64 n, i64 h, i64 w, i64 top, i64 left, i64 bottom, i64 right, i64 grid, i64 block) {
    LOOP(n) reflectPadAdjoint_body<float>(pad, x, h, w, top, left, bottom, right, i);
}
void shim_im2col(float *col, const float *x, i64 n, i64 h, i64 w, i64 kh, i64 kw, i64 oh, i64 ow, i64 stride, i64 pad, i64 grid, i64 block) {
    LOOP(n) im2col_body<float>(col, x, h, w, kh, kw, oh, ow, stride, pad, i);
}
void shim_col2imAdd(float *gx, const float *col, i64 n, i64 h, i64 w, i64 kh, i64 kw, i64 oh, i64 ow, i64 stride, i64 pad, i64 grid, i64 block) {
    LOOP(n) col2imAdd_body<float>(gx, col, h, w, kh, kw, oh, ow, stride, pad, i);
}
void shim_poolPlanes(const float *x, float *y, i64 n, i64 h, i64 w, i64 oh, i64 ow, i64 k, i64 s, i64 p, i64 isMax, i64 cip, i64 grid, i64 block) {
    LOOP(n) poolPlanes_body<float>(x, y, h, w, oh, ow, k, s, p, isMax, cip, i);
}
void shim_resizePlanes(const float *x, float *y, i64 n, i64 h, i64 w, i64 oh, i64 ow, i64 grid, i64 block) {
    LOOP(n) resizePlanes_body<float>(x, y, h, w, oh, ow, i);
}
}
