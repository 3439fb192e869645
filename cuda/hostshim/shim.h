#ifdef __cplusplus
extern "C" {
#endif
typedef long long i64;
typedef unsigned long long u64;
void shim_binaryND(float *o, const float *x, const float *y, const u64 *dims, i64 n, i64 op, i64 grid, i64 block);
void shim_stridedCopy(float *dst, i64 dbase, const float *src, i64 sbase, const u64 *dims, i64 n, i64 grid, i64 block);
void shim_reduceND(float *o, const float *x, const u64 *kept, const u64 *over, i64 m, i64 op, i64 n, i64 grid, i64 block);
void shim_reflectPad(float *pad, const float *x, i64 n, i64 h, i64 w, i64 top, i64 left, i64 ph, i64 pw, i64 grid, i64 block);
void shim_reflectPadAdjoint(const float *pad, float *x, i64 n, i64 h, i64 w, i64 top, i64 left, i64 bottom, i64 right, i64 grid, i64 block);
void shim_im2col(float *col, const float *x, i64 n, i64 h, i64 w, i64 kh, i64 kw, i64 oh, i64 ow, i64 stride, i64 pad, i64 grid, i64 block);
void shim_col2imAdd(float *gx, const float *col, i64 n, i64 h, i64 w, i64 kh, i64 kw, i64 oh, i64 ow, i64 stride, i64 pad, i64 grid, i64 block);
void shim_poolPlanes(const float *x, float *y, i64 n, i64 h, i64 w, i64 oh, i64 ow, i64 k, i64 s, i64 p, i64 isMax, i64 cip, i64 grid, i64 block);
void shim_resizePlanes(const float *x, float *y, i64 n, i64 h, i64 w, i64 oh, i64 ow, i64 grid, i64 block);
#ifdef __cplusplus
}
#endif
