// Kernel bodies of the CUDA backend: what one thread does for one output
// element, written once for the device (kernels.cu wraps each in a
// grid-stride loop) and for the host (cuda/hostshim compiles this header
// with g++ and runs the same bodies in plain loops, to compare them with
// the CPU backend without a GPU). So nothing here may use shared memory,
// warp intrinsics or any other device-only feature.
//
// Each body is named after the CPU function it mirrors (tensor/cpu*.go),
// with the suffix _body; its kernel drops the suffix and adds the dtype
// (_f32, _f64). Every integer is a 64-bit long long and every scalar a
// double, so that every launch argument is one 8-byte value (or a Dims).

#ifndef CAMCYCLE_BODY_CUH
#define CAMCYCLE_BODY_CUH

#ifdef __CUDACC__
#define HD __host__ __device__ __forceinline__
#else
#include <math.h>
#define HD static inline
#endif

typedef long long i64;

// MAXD is the largest rank a Dims describes after coalescing
// (cuda/geom.go's MaxDims must agree).
#define MAXD 8
// MAXOPS is the number of operands whose strides a Dims carries.
#define MAXOPS 3

// Dims is an index space (shape, row-major order of its elements) and, for
// each operand, the element stride of each axis: element i of the space,
// with multi-index idx, is at Σ idx[a]·st[k][a] in operand k. Go writes it
// word for word (cuda/geom.go, Dims.Words).
struct Dims {
    i64 rank;
    i64 shape[MAXD];
    i64 st[MAXOPS][MAXD];
};

// offsetsOf writes into off[0..nops) the offset in each operand of element
// i of d's space (tensor.rowIter.offsets, for one element).
HD void offsetsOf(const Dims *d, i64 i, int nops, i64 *off) {
    for (int k = 0; k < nops; k++) off[k] = 0;
    for (int a = (int)d->rank - 1; a >= 0; a--) {
        i64 n = d->shape[a];
        i64 q = i / n;
        i64 r = i - q * n;
        i = q;
        for (int k = 0; k < nops; k++) off[k] += r * d->st[k][a];
    }
}

// Operation codes: tensor.UnaryOp, tensor.BinaryOp and tensor.ReduceOp.
enum { NEG, EXP, LOG, SQRT, RSQRT, TANH, ABS, SIGN };
enum { ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, GREATER, GREATER_EQUAL, LESS, EQUAL };
enum { SUM, MAX, MIN };

// unaryLoop: the CPU evaluates every function in float64 and rounds.
template <typename T>
HD T unaryLoop_body(i64 op, T v) {
    double f = (double)v;
    switch (op) {
    case NEG: return -v;
    case EXP: return (T)exp(f);
    case LOG: return (T)log(f);
    case SQRT: return (T)sqrt(f);
    case RSQRT: return (T)(1.0 / sqrt(f));
    case TANH: return (T)tanh(f);
    case ABS: return (T)fabs(f);
    case SIGN: return v > 0 ? (T)1 : (v < 0 ? (T)-1 : (T)0);
    }
    return v;
}

// binaryRow (and scalarRow, arithRow): one element of x op y.
template <typename T>
HD T binaryRow_body(i64 op, T a, T b) {
    switch (op) {
    case ADD: return a + b;
    case SUB: return a - b;
    case MUL: return a * b;
    case DIV: return a / b;
    case POW: return (T)pow((double)a, (double)b);
    // The CPU's general loop: a NaN in either operand comes through.
    case MAXIMUM: return (a >= b || a != a) ? a : b;
    case MINIMUM: return (a <= b || a != a) ? a : b;
    case GREATER: return a > b ? (T)1 : (T)0;
    case GREATER_EQUAL: return a >= b ? (T)1 : (T)0;
    case LESS: return a < b ? (T)1 : (T)0;
    case EQUAL: return a == b ? (T)1 : (T)0;
    }
    return a;
}

// binaryND: element i of the broadcast result; d's operands are x and y.
template <typename T>
HD void binaryND_body(T *o, const T *x, const T *y, const Dims *d, i64 op, i64 i) {
    i64 off[2];
    offsetsOf(d, i, 2, off);
    o[i] = binaryRow_body<T>(op, x[off[0]], y[off[1]]);
}

// whereND: d's operands are cond, x and y.
template <typename T>
HD void whereND_body(T *o, const T *c, const T *x, const T *y, const Dims *d, i64 i) {
    i64 off[3];
    offsetsOf(d, i, 3, off);
    o[i] = c[off[0]] != 0 ? x[off[1]] : y[off[2]];
}

// stridedCopy: element i of the space goes from src[sbase + …] to
// dst[dbase + …]; d's operands are dst and src.
template <typename T>
HD void stridedCopy_body(T *dst, i64 dbase, const T *src, i64 sbase, const Dims *d, i64 i) {
    i64 off[2];
    offsetsOf(d, i, 2, off);
    dst[dbase + off[0]] = src[sbase + off[1]];
}

// reduceND, one output element per thread: the output element i's offset
// in x is given by d (operand 0, over the kept axes), and r (operand 0,
// over the reduced axes) walks the m elements it reduces. Accumulates in
// double as the CPU does; max and min let NaN through.
template <typename T>
HD void reduceND_body(T *o, const T *x, const Dims *d, const Dims *r, i64 m, i64 op, i64 i) {
    i64 base, off;
    offsetsOf(d, i, 1, &base);
    double acc = op == SUM ? 0.0 : (op == MAX ? -INFINITY : INFINITY);
    for (i64 k = 0; k < m; k++) {
        offsetsOf(r, k, 1, &off);
        double f = (double)x[base + off];
        if (op == SUM) acc += f;
        else if (op == MAX) { if (f > acc || f != f) acc = f; }
        else { if (f < acc || f != f) acc = f; }
    }
    o[i] = (T)acc;
}

// reflect maps a padded coordinate k to the input coordinate it mirrors
// (tensor.reflect).
HD i64 reflect(i64 k, i64 n) {
    if (k < 0) return -k;
    if (k >= n) return 2 * (n - 1) - k;
    return k;
}

// reflectPad (forward): element i of the padded planes (ph, pw) reads
// from the input planes (h, w).
template <typename T>
HD void reflectPad_body(T *pad, const T *x, i64 h, i64 w, i64 top, i64 left, i64 ph, i64 pw, i64 i) {
    i64 j = i % pw, t = i / pw;
    i64 r = t % ph, pl = t / ph;
    pad[i] = x[(pl * h + reflect(r - top, h)) * w + reflect(j - left, w)];
}

// reflectPadTaps lists the padded coordinates that copy input coordinate a
// of an axis of n, padded by lo before and hi after, in increasing order:
// the reflection in the leading border, a itself, the reflection in the
// trailing border.
HD int reflectPadTaps(i64 a, i64 n, i64 lo, i64 hi, i64 *taps) {
    int k = 0;
    if (a >= 1 && a <= lo) taps[k++] = lo - a;
    taps[k++] = a + lo;
    i64 b = 2 * (n - 1) - a; // padded coordinate − lo of the trailing copy
    if (b >= n && b < n + hi) taps[k++] = b + lo;
    return k;
}

// reflectPad (adjoint): element i of the input planes (h, w) sums the
// padded elements that copied it, gathered rather than scattered so that
// no two threads write one element. The order of the additions is the
// CPU's: padded rows in increasing order, and along a row the middle, then
// the leading border, then the trailing one.
template <typename T>
HD void reflectPadAdjoint_body(const T *pad, T *x, i64 h, i64 w, i64 top, i64 left, i64 bottom, i64 right, i64 i) {
    i64 ph = h + top + bottom, pw = w + left + right;
    i64 b = i % w, t = i / w;
    i64 a = t % h, pl = t / h;
    i64 rows[3], cols[3];
    int nr = reflectPadTaps(a, h, top, bottom, rows);
    int nc = reflectPadTaps(b, w, left, right, cols);
    // Put the middle column first, as the CPU's row loop adds it first.
    i64 order[3];
    int no = 0;
    for (int k = 0; k < nc; k++)
        if (cols[k] == b + left) order[no++] = cols[k];
    for (int k = 0; k < nc; k++)
        if (cols[k] != b + left) order[no++] = cols[k];
    T s = 0;
    const T *pp = pad + pl * ph * pw;
    for (int u = 0; u < nr; u++)
        for (int v = 0; v < no; v++) s += pp[rows[u] * pw + order[v]];
    x[i] = s;
}

// im2colB.pack: element i of col(x) for one image x (C, H, W): row
// (c·KH + ki)·KW + kj, column oi·OW + oj (tensor/im2col.go).
template <typename T>
HD void im2col_body(T *col, const T *x, i64 h, i64 w, i64 kh, i64 kw, i64 oh, i64 ow, i64 stride, i64 pad, i64 i) {
    i64 p = i % (oh * ow), row = i / (oh * ow);
    i64 oi = p / ow, oj = p % ow;
    i64 kj = row % kw, t = row / kw;
    i64 ki = t % kh, c = t / kh;
    i64 hy = oi * stride - pad + ki, wx = oj * stride - pad + kj;
    col[i] = (hy >= 0 && hy < h && wx >= 0 && wx < w) ? x[(c * h + hy) * w + wx] : (T)0;
}

// col2imAdd: element i of one image gx (C, H, W) sums the entries of
// col(gx) that came from it (gathered: the taps ki, kj whose output pixel
// lands on it), in the order of ki then kj.
template <typename T>
HD void col2imAdd_body(T *gx, const T *col, i64 h, i64 w, i64 kh, i64 kw, i64 oh, i64 ow, i64 stride, i64 pad, i64 i) {
    i64 wx = i % w, t = i / w;
    i64 hy = t % h, c = t / h;
    T s = 0;
    for (i64 ki = 0; ki < kh; ki++) {
        i64 a = hy + pad - ki; // oi·stride
        if (a < 0 || a % stride != 0) continue;
        i64 oi = a / stride;
        if (oi >= oh) continue;
        for (i64 kj = 0; kj < kw; kj++) {
            i64 b = wx + pad - kj;
            if (b < 0 || b % stride != 0) continue;
            i64 oj = b / stride;
            if (oj >= ow) continue;
            s += col[((c * kh + ki) * kw + kj) * (oh * ow) + oi * ow + oj];
        }
    }
    gx[i] = s;
}

// fillBias: element i of y (N, O, P) starts at b[o].
template <typename T>
HD void fillBias_body(T *y, const T *b, i64 o, i64 pix, i64 i) {
    y[i] = b[(i / pix) % o];
}

// poolPlanes: output element i of the planes (OH, OW) of a pool over the
// planes (H, W) of x.
template <typename T>
HD void poolPlanes_body(const T *x, T *y, i64 h, i64 w, i64 oh, i64 ow, i64 k, i64 s, i64 p,
                        i64 isMax, i64 countIncludePad, i64 i) {
    i64 j = i % ow, t = i / ow;
    i64 r = t % oh, pl = t / oh;
    i64 r0 = r * s - p, r1 = r * s - p + k, c0 = j * s - p, c1 = j * s - p + k;
    if (r0 < 0) r0 = 0;
    if (r1 > h) r1 = h;
    if (c0 < 0) c0 = 0;
    if (c1 > w) c1 = w;
    const T *xp = x + pl * h * w;
    if (isMax) {
        T m = (T)-INFINITY;
        for (i64 a = r0; a < r1; a++)
            for (i64 b = c0; b < c1; b++) {
                T v = xp[a * w + b];
                if (v > m || v != v) m = v; // Go's max lets NaN through
            }
        y[i] = m;
        return;
    }
    double sum = 0;
    for (i64 a = r0; a < r1; a++)
        for (i64 b = c0; b < c1; b++) sum += (double)xp[a * w + b];
    i64 n = countIncludePad ? k * k : (r1 - r0) * (c1 - c0);
    y[i] = (T)(sum / (double)n);
}

// bilinearTap computes where output index o samples an axis of n inputs
// resized to out (tensor.bilinearTaps).
HD void bilinearTap(i64 n, i64 out, i64 o, i64 *i0, i64 *i1, double *w0, double *w1) {
    double scale = (double)n / (double)out;
    double src = scale * ((double)o + 0.5) - 0.5;
    if (src < 0) src = 0;
    i64 a = (i64)src;
    if (a > n - 1) a = n - 1;
    i64 b = a + 1;
    if (b > n - 1) b = n - 1;
    double l1 = src - (double)a;
    *i0 = a;
    *i1 = b;
    *w0 = 1 - l1;
    *w1 = l1;
}

// resizePlanes: output element i of the planes (OH, OW).
template <typename T>
HD void resizePlanes_body(const T *x, T *y, i64 h, i64 w, i64 oh, i64 ow, i64 i) {
    i64 j = i % ow, t = i / ow;
    i64 r = t % oh, pl = t / oh;
    i64 ri0, ri1, ci0, ci1;
    double rw0, rw1, cw0, cw1;
    bilinearTap(h, oh, r, &ri0, &ri1, &rw0, &rw1);
    bilinearTap(w, ow, j, &ci0, &ci1, &cw0, &cw1);
    const T *a = x + (pl * h + ri0) * w, *b = x + (pl * h + ri1) * w;
    double top = cw0 * (double)a[ci0] + cw1 * (double)a[ci1];
    double bot = cw0 * (double)b[ci0] + cw1 * (double)b[ci1];
    y[i] = (T)(rw0 * top + rw1 * bot);
}

// adamStep: one element, rounding after every operation as the CPU does
// (kernels.cu is compiled with -fmad=false so that no multiply-add is
// fused).
template <typename T>
HD void adamStep_body(const T *p, const T *g, const T *m, const T *v, T *p2, T *m2, T *v2,
                      T b1, T c1, T b2, T c2, T eps, T step, T bc2, i64 i) {
    T gi = g[i];
    T mi = m[i] * b1 + c1 * gi;
    T vi = v[i] * b2 + c2 * gi * gi;
    T denom = (T)sqrt((double)vi) / bc2 + eps;
    p2[i] = p[i] - step * (mi / denom);
    m2[i] = mi;
    v2[i] = vi;
}

// Full: every element v.
template <typename T>
HD void Full_body(T *o, double v, i64 i) { o[i] = (T)v; }

// Cast: element i converted.
template <typename From, typename To>
HD void Cast_body(To *o, const From *x, i64 i) { o[i] = (To)x[i]; }

#endif
