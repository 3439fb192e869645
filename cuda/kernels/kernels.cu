// The kernels of the CUDA backend, compiled to kernels.ptx by go generate
// (see cuda/generate.go for the command) and embedded into the Go binary.
//
// Elementwise kernels are grid-stride loops around a body of body.cuh (one
// output element per iteration), so that any grid covers any n; the Go
// side picks the grid (cuda/geom.go, Grid1D). The reductions over planes
// (reduceRun, instanceNorm, instanceNormBackward) use one block of
// BLOCK threads per output and a tree in shared memory, summing in double
// as the CPU does. Each kernel is named after the CPU function it mirrors,
// with its dtype: binaryND_f32 is tensor.binaryND on float32.

#include "body.cuh"

// BLOCK is the block size of the shared-memory reductions (cuda/geom.go's
// ReduceBlock must agree).
#define BLOCK 256

#define LOOP(n) for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)

// combine folds b into a for a reduction op; max and min let NaN through.
__device__ __forceinline__ double combine(i64 op, double a, double b) {
    if (op == SUM) return a + b;
    if (op == MAX) return (b > a || b != b) ? b : a;
    return (b < a || b != b) ? b : a;
}

// blockReduce folds the per-thread values v of a block of BLOCK threads;
// every thread gets the result.
__device__ double blockReduce(i64 op, double v) {
    __shared__ double buf[BLOCK];
    __shared__ double result;
    buf[threadIdx.x] = v;
    __syncthreads();
    for (int s = BLOCK / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) buf[threadIdx.x] = combine(op, buf[threadIdx.x], buf[threadIdx.x + s]);
        __syncthreads();
    }
    if (threadIdx.x == 0) result = buf[0];
    __syncthreads();
    double r = result;
    __syncthreads(); // buf and result are reused by the next call
    return r;
}

template <typename T>
__device__ void reduceRun_impl(T *o, const T *x, Dims d, Dims r, i64 m, i64 op, i64 nout) {
    for (i64 j = blockIdx.x; j < nout; j += gridDim.x) {
        i64 base, off;
        offsetsOf(&d, j, 1, &base);
        double acc = op == SUM ? 0.0 : (op == MAX ? -INFINITY : INFINITY);
        for (i64 k = threadIdx.x; k < m; k += BLOCK) {
            offsetsOf(&r, k, 1, &off);
            acc = combine(op, acc, (double)x[base + off]);
        }
        acc = blockReduce(op, acc);
        if (threadIdx.x == 0) o[j] = (T)acc;
    }
}

template <typename T>
__device__ void instanceNorm_impl(const T *x, T *y, T *r, i64 planes, i64 hw, double eps) {
    for (i64 p = blockIdx.x; p < planes; p += gridDim.x) {
        const T *xp = x + p * hw;
        T *yp = y + p * hw;
        double s = 0;
        for (i64 i = threadIdx.x; i < hw; i += BLOCK) s += (double)xp[i];
        double mu = blockReduce(SUM, s) / (double)hw;
        double q = 0;
        for (i64 i = threadIdx.x; i < hw; i += BLOCK) {
            double d = (double)xp[i] - mu;
            q += d * d;
        }
        double rs = 1 / sqrt(blockReduce(SUM, q) / (double)hw + eps);
        if (threadIdx.x == 0) r[p] = (T)rs;
        T mt = (T)mu, rt = (T)rs;
        for (i64 i = threadIdx.x; i < hw; i += BLOCK) yp[i] = (xp[i] - mt) * rt;
    }
}

template <typename T>
__device__ void instanceNormBackward_impl(const T *g, const T *y, const T *r, T *gx, i64 planes, i64 hw) {
    for (i64 p = blockIdx.x; p < planes; p += gridDim.x) {
        const T *gp = g + p * hw, *yp = y + p * hw;
        T *op = gx + p * hw;
        double sg = 0, sgy = 0;
        for (i64 i = threadIdx.x; i < hw; i += BLOCK) {
            double v = (double)gp[i];
            sg += v;
            sgy += v * (double)yp[i];
        }
        sg = blockReduce(SUM, sg);
        sgy = blockReduce(SUM, sgy);
        T mg = (T)(sg / (double)hw), mgy = (T)(sgy / (double)hw), rp = r[p];
        for (i64 i = threadIdx.x; i < hw; i += BLOCK) op[i] = rp * (gp[i] - mg - yp[i] * mgy);
    }
}

#define KERNELS(T, S)                                                                                        \
    extern "C" __global__ void Full_##S(T *o, i64 n, double v) { LOOP(n) Full_body<T>(o, v, i); }          \
    extern "C" __global__ void unaryLoop_##S(T *o, const T *x, i64 n, i64 op) {                              \
        LOOP(n) o[i] = unaryLoop_body<T>(op, x[i]);                                                          \
    }                                                                                                        \
    extern "C" __global__ void scalarRow_##S(T *o, const T *x, i64 n, double c, i64 op) {                    \
        T ct = (T)c;                                                                                         \
        LOOP(n) o[i] = binaryRow_body<T>(op, x[i], ct);                                                      \
    }                                                                                                        \
    extern "C" __global__ void binaryND_##S(T *o, const T *x, const T *y, i64 n, Dims d, i64 op) {          \
        LOOP(n) binaryND_body<T>(o, x, y, &d, op, i);                                                        \
    }                                                                                                        \
    extern "C" __global__ void whereND_##S(T *o, const T *c, const T *x, const T *y, i64 n, Dims d) {       \
        LOOP(n) whereND_body<T>(o, c, x, y, &d, i);                                                          \
    }                                                                                                        \
    extern "C" __global__ void stridedCopy_##S(T *dst, i64 dbase, const T *src, i64 sbase, i64 n, Dims d) { \
        LOOP(n) stridedCopy_body<T>(dst, dbase, src, sbase, &d, i);                                          \
    }                                                                                                        \
    extern "C" __global__ void reduceND_##S(T *o, const T *x, i64 n, Dims d, Dims r, i64 m, i64 op) {       \
        LOOP(n) reduceND_body<T>(o, x, &d, &r, m, op, i);                                                    \
    }                                                                                                        \
    extern "C" __global__ void reduceRun_##S(T *o, const T *x, i64 n, Dims d, Dims r, i64 m, i64 op) {      \
        reduceRun_impl<T>(o, x, d, r, m, op, n);                                                             \
    }                                                                                                        \
    extern "C" __global__ void reflectPad_##S(T *pad, const T *x, i64 n, i64 h, i64 w, i64 top, i64 left,    \
                                              i64 ph, i64 pw) {                                              \
        LOOP(n) reflectPad_body<T>(pad, x, h, w, top, left, ph, pw, i);                                      \
    }                                                                                                        \
    extern "C" __global__ void reflectPadAdjoint_##S(const T *pad, T *x, i64 n, i64 h, i64 w, i64 top,       \
                                                     i64 left, i64 bottom, i64 right) {                      \
        LOOP(n) reflectPadAdjoint_body<T>(pad, x, h, w, top, left, bottom, right, i);                        \
    }                                                                                                        \
    extern "C" __global__ void im2col_##S(T *col, const T *x, i64 n, i64 h, i64 w, i64 kh, i64 kw, i64 oh,   \
                                          i64 ow, i64 stride, i64 pad) {                                     \
        LOOP(n) im2col_body<T>(col, x, h, w, kh, kw, oh, ow, stride, pad, i);                                \
    }                                                                                                        \
    extern "C" __global__ void col2imAdd_##S(T *gx, const T *col, i64 n, i64 h, i64 w, i64 kh, i64 kw,       \
                                             i64 oh, i64 ow, i64 stride, i64 pad) {                          \
        LOOP(n) col2imAdd_body<T>(gx, col, h, w, kh, kw, oh, ow, stride, pad, i);                            \
    }                                                                                                        \
    extern "C" __global__ void fillBias_##S(T *y, const T *b, i64 n, i64 o, i64 pix) {                      \
        LOOP(n) fillBias_body<T>(y, b, o, pix, i);                                                           \
    }                                                                                                        \
    extern "C" __global__ void poolPlanes_##S(const T *x, T *y, i64 n, i64 h, i64 w, i64 oh, i64 ow, i64 k,  \
                                              i64 s, i64 p, i64 isMax, i64 countIncludePad) {                \
        LOOP(n) poolPlanes_body<T>(x, y, h, w, oh, ow, k, s, p, isMax, countIncludePad, i);                  \
    }                                                                                                        \
    extern "C" __global__ void resizePlanes_##S(const T *x, T *y, i64 n, i64 h, i64 w, i64 oh, i64 ow) {     \
        LOOP(n) resizePlanes_body<T>(x, y, h, w, oh, ow, i);                                                 \
    }                                                                                                        \
    extern "C" __global__ void adamStep_##S(const T *p, const T *g, const T *m, const T *v, T *p2, T *m2,    \
                                            T *v2, i64 n, double b1, double c1, double b2, double c2,        \
                                            double eps, double step, double bc2) {                           \
        LOOP(n) adamStep_body<T>(p, g, m, v, p2, m2, v2, (T)b1, (T)c1, (T)b2, (T)c2, (T)eps, (T)step,        \
                                 (T)bc2, i);                                                                 \
    }                                                                                                        \
    extern "C" __global__ void instanceNorm_##S(const T *x, T *y, T *r, i64 planes, i64 hw, double eps) {    \
        instanceNorm_impl<T>(x, y, r, planes, hw, eps);                                                      \
    }                                                                                                        \
    extern "C" __global__ void instanceNormBackward_##S(const T *g, const T *y, const T *r, T *gx,           \
                                                        i64 planes, i64 hw) {                                \
        instanceNormBackward_impl<T>(g, y, r, gx, planes, hw);                                               \
    }

KERNELS(float, f32)
KERNELS(double, f64)

extern "C" __global__ void Cast_f32_f64(double *o, const float *x, i64 n) { LOOP(n) Cast_body<float, double>(o, x, i); }
extern "C" __global__ void Cast_f64_f32(float *o, const double *x, i64 n) { LOOP(n) Cast_body<double, float>(o, x, i); }
