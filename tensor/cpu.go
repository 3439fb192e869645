package tensor

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/exp/constraints"
)

// CPU is the reference backend: plain Go loops over row-major slices, with
// fast paths (blocked GEMM, parallel loops) where the time goes. Its
// kernels are generic over the element type, constraints.Float (float32 and
// float64).
var CPU Backend = cpuBackend{}

type cpuBackend struct{}

func (cpuBackend) Name() string { return "cpu" }

func (cpuBackend) Full(dt DType, s Shape, v float64) *Tensor { return Full(dt, v, s...) }

func (cpuBackend) FromHost(t *Tensor) *Tensor { return t }

func (cpuBackend) ToHost(t *Tensor) *Tensor { return t }

func (cpuBackend) Cast(x *Tensor, dt DType) *Tensor {
	if x.dtype == dt {
		return x
	}
	return FromValues(dt, x.Values(), x.shape...)
}

// newLike returns a zero CPU tensor of shape s and x's dtype, in recycled
// memory when it is large (storage.go).
func newLike(x *Tensor, s Shape) *Tensor { return newRecycled(x.dtype, s, true) }

// newUninit is newLike without the zeroing: for kernels that write every
// element of their result.
func newUninit(x *Tensor, s Shape) *Tensor { return newRecycled(x.dtype, s, false) }

// checkCPU panics unless every operand is a CPU tensor of one dtype.
func checkCPU(op string, ts ...*Tensor) {
	for _, t := range ts {
		if t == nil {
			continue
		}
		if t.be != CPU {
			panic(fmt.Sprintf("%s: operand on %s given to the cpu backend", op, t.be.Name()))
		}
		if t.dtype != ts[0].dtype {
			panic(fmt.Sprintf("%s: mixed dtypes %s and %s", op, ts[0].dtype, t.dtype))
		}
	}
}

// parallelFor runs body over [0, n) split into contiguous chunks, one per
// available core, when n is at least grain; otherwise in the caller.
func parallelFor(n, grain int, body func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n/max(grain, 1) {
		workers = n / max(grain, 1)
	}
	if workers <= 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(lo, hi)
		}()
	}
	wg.Wait()
}

// elementwiseGrain is the number of elements below which elementwise loops
// stay on one core.
const elementwiseGrain = 1 << 15

// ---- Unary ----

func (cpuBackend) Unary(op UnaryOp, x *Tensor) *Tensor {
	checkCPU("unary "+op.String(), x)
	out := newUninit(x, x.shape)
	defer keepAlive(x)
	switch d := x.data.(type) {
	case []float32:
		o := out.data.([]float32)
		parallelFor(len(d), elementwiseGrain, func(lo, hi int) { unaryLoop(op, o[lo:hi], d[lo:hi]) })
	case []float64:
		o := out.data.([]float64)
		parallelFor(len(d), elementwiseGrain, func(lo, hi int) { unaryLoop(op, o[lo:hi], d[lo:hi]) })
	}
	return out
}

func unaryLoop[T constraints.Float](op UnaryOp, o, x []T) {
	switch op {
	case Neg:
		for i, v := range x {
			o[i] = -v
		}
	case Exp:
		for i, v := range x {
			o[i] = T(math.Exp(float64(v)))
		}
	case Log:
		for i, v := range x {
			o[i] = T(math.Log(float64(v)))
		}
	case Sqrt:
		for i, v := range x {
			o[i] = T(math.Sqrt(float64(v)))
		}
	case Rsqrt:
		for i, v := range x {
			o[i] = T(1 / math.Sqrt(float64(v)))
		}
	case Tanh:
		for i, v := range x {
			o[i] = T(math.Tanh(float64(v)))
		}
	case Abs:
		for i, v := range x {
			o[i] = T(math.Abs(float64(v)))
		}
	case Sign:
		for i, v := range x {
			switch {
			case v > 0:
				o[i] = 1
			case v < 0:
				o[i] = -1
			default:
				o[i] = 0
			}
		}
	default:
		panic(fmt.Sprintf("unary: unknown op %d", op))
	}
}

// ---- Binary ----

func (cpuBackend) Scalar(op BinaryOp, x *Tensor, c float64) *Tensor {
	checkCPU("scalar "+op.String(), x)
	out := newUninit(x, x.shape)
	defer keepAlive(x)
	switch d := x.data.(type) {
	case []float32:
		o := out.data.([]float32)
		cv := []float32{float32(c)}
		parallelFor(len(d), elementwiseGrain, func(lo, hi int) { binaryRow(op, o[lo:hi], d[lo:hi], 1, cv, 0) })
	case []float64:
		o := out.data.([]float64)
		cv := []float64{c}
		parallelFor(len(d), elementwiseGrain, func(lo, hi int) { binaryRow(op, o[lo:hi], d[lo:hi], 1, cv, 0) })
	}
	return out
}

func (cpuBackend) Binary(op BinaryOp, x, y *Tensor) *Tensor {
	checkCPU("binary "+op.String(), x, y)
	s := BinaryShape(op, x.shape, y.shape)
	out := newUninit(x, s)
	defer keepAlive(x, y)
	switch d := x.data.(type) {
	case []float32:
		binaryND(op, out.data.([]float32), s, d, x.shape, y.data.([]float32), y.shape)
	case []float64:
		binaryND(op, out.data.([]float64), s, d, x.shape, y.data.([]float64), y.shape)
	}
	return out
}

func binaryND[T constraints.Float](op BinaryOp, o []T, s Shape, x []T, xs Shape, y []T, ys Shape) {
	if xs.Equal(ys) {
		parallelFor(len(o), elementwiseGrain, func(lo, hi int) { binaryRow(op, o[lo:hi], x[lo:hi], 1, y[lo:hi], 1) })
		return
	}
	it := newRowIter(s, broadcastStrides(xs, s), broadcastStrides(ys, s))
	parallelFor(it.rows, max(1, elementwiseGrain/max(it.n, 1)), func(lo, hi int) {
		offs := make([]int, 2)
		for r := lo; r < hi; r++ {
			it.offsets(r, offs)
			binaryRow(op, o[r*it.n:(r+1)*it.n], x[offs[0]:], it.inner[0], y[offs[1]:], it.inner[1])
		}
	})
}

// binaryRow computes o[i] = x[i·sx] op y[i·sy] for i < len(o).
func binaryRow[T constraints.Float](op BinaryOp, o, x []T, sx int, y []T, sy int) {
	n := len(o)
	if n == 0 {
		return
	}
	// The common cases, on plain rows: loops without index arithmetic,
	// whose bounds checks the compiler removes.
	if sx == 1 && sy == 0 {
		scalarRow(op, o, x[:n], y[0])
		return
	}
	if op <= Div && sx == 1 && sy == 1 {
		arithRow(op, o, x[:n], y[:n])
		return
	}
	switch op {
	case Add:
		for i := range o {
			o[i] = x[i*sx] + y[i*sy]
		}
	case Sub:
		for i := range o {
			o[i] = x[i*sx] - y[i*sy]
		}
	case Mul:
		for i := range o {
			o[i] = x[i*sx] * y[i*sy]
		}
	case Div:
		for i := range o {
			o[i] = x[i*sx] / y[i*sy]
		}
	case Pow:
		for i := range o {
			o[i] = T(math.Pow(float64(x[i*sx]), float64(y[i*sy])))
		}
	case Maximum:
		for i := range o {
			a, b := x[i*sx], y[i*sy]
			if a >= b || a != a {
				o[i] = a
			} else {
				o[i] = b
			}
		}
	case Minimum:
		for i := range o {
			a, b := x[i*sx], y[i*sy]
			if a <= b || a != a {
				o[i] = a
			} else {
				o[i] = b
			}
		}
	case Greater:
		for i := range o {
			o[i] = bool01[T](x[i*sx] > y[i*sy])
		}
	case GreaterEqual:
		for i := range o {
			o[i] = bool01[T](x[i*sx] >= y[i*sy])
		}
	case Less:
		for i := range o {
			o[i] = bool01[T](x[i*sx] < y[i*sy])
		}
	case Equal:
		for i := range o {
			o[i] = bool01[T](x[i*sx] == y[i*sy])
		}
	default:
		panic(fmt.Sprintf("binary: unknown op %d", op))
	}
}

// arithRow is binaryRow for Add, Sub, Mul and Div on rows of equal length.
func arithRow[T constraints.Float](op BinaryOp, o, x, y []T) {
	x, y = x[:len(o)], y[:len(o)]
	switch op {
	case Add:
		for i := range o {
			o[i] = x[i] + y[i]
		}
	case Sub:
		for i := range o {
			o[i] = x[i] - y[i]
		}
	case Mul:
		for i := range o {
			o[i] = x[i] * y[i]
		}
	case Div:
		for i := range o {
			o[i] = x[i] / y[i]
		}
	}
}

// scalarRow is binaryRow for a row and one value c (Scalar, and a
// broadcast operand such as a per-channel mean): o[i] = x[i] op c.
func scalarRow[T constraints.Float](op BinaryOp, o, x []T, c T) {
	x = x[:len(o)]
	switch op {
	case Add:
		for i, v := range x {
			o[i] = v + c
		}
	case Sub:
		for i, v := range x {
			o[i] = v - c
		}
	case Mul:
		for i, v := range x {
			o[i] = v * c
		}
	case Div:
		for i, v := range x {
			o[i] = v / c
		}
	case Pow:
		for i, v := range x {
			o[i] = T(math.Pow(float64(v), float64(c)))
		}
	case Maximum:
		// The built-in max, like the general loop, lets NaN through; it
		// compiles without branches, which matters for ReLU on data of
		// random sign (only ±0 may differ in sign).
		for i, v := range x {
			o[i] = max(v, c)
		}
	case Minimum:
		for i, v := range x {
			o[i] = min(v, c)
		}
	case Greater:
		for i, v := range x {
			o[i] = bool01[T](v > c)
		}
	case GreaterEqual:
		for i, v := range x {
			o[i] = bool01[T](v >= c)
		}
	case Less:
		for i, v := range x {
			o[i] = bool01[T](v < c)
		}
	case Equal:
		for i, v := range x {
			o[i] = bool01[T](v == c)
		}
	default:
		panic(fmt.Sprintf("binary: unknown op %d", op))
	}
}

func bool01[T constraints.Float](b bool) T {
	// Written with an int so that the compiler emits a flag-to-register
	// move, not a branch: comparisons of data of random sign would
	// mispredict half the time.
	i := 0
	if b {
		i = 1
	}
	return T(i)
}

func (cpuBackend) Where(cond, x, y *Tensor) *Tensor {
	checkCPU("where", cond, x, y)
	s := WhereShape(cond.shape, x.shape, y.shape)
	out := newUninit(x, s)
	defer keepAlive(cond, x, y)
	switch d := x.data.(type) {
	case []float32:
		whereND(out.data.([]float32), s, cond.data.([]float32), cond.shape, d, x.shape, y.data.([]float32), y.shape)
	case []float64:
		whereND(out.data.([]float64), s, cond.data.([]float64), cond.shape, d, x.shape, y.data.([]float64), y.shape)
	}
	return out
}

func whereND[T constraints.Float](o []T, s Shape, c []T, cs Shape, x []T, xs Shape, y []T, ys Shape) {
	it := newRowIter(s, broadcastStrides(cs, s), broadcastStrides(xs, s), broadcastStrides(ys, s))
	sc, sx, sy := it.inner[0], it.inner[1], it.inner[2]
	if it.rows == 1 {
		// One long row (operands of one shape, or scalars): split it.
		offs := make([]int, 3)
		it.offsets(0, offs)
		parallelFor(it.n, elementwiseGrain, func(lo, hi int) {
			whereRow(o[lo:hi], c[offs[0]+lo*sc:], sc, x[offs[1]+lo*sx:], sx, y[offs[2]+lo*sy:], sy)
		})
		return
	}
	parallelFor(it.rows, max(1, elementwiseGrain/max(it.n, 1)), func(lo, hi int) {
		offs := make([]int, 3)
		for r := lo; r < hi; r++ {
			it.offsets(r, offs)
			whereRow(o[r*it.n:(r+1)*it.n], c[offs[0]:], sc, x[offs[1]:], sx, y[offs[2]:], sy)
		}
	})
}

// whereRow sets o[i] = x[i·sx] where c[i·sc] ≠ 0, else y[i·sy]. The choice
// is made on the bits of the values, o = y ^ ((x ^ y) & m) with m all ones
// or all zeros, so that no branch depends on the data: a mask of random
// signs (a ReLU's) would mispredict half the time, which made this loop 30×
// slower than a multiplication.
func whereRow[T constraints.Float](o, c []T, sc int, x []T, sx int, y []T, sy int) {
	switch od := any(o).(type) {
	case []float32:
		selectBits(od2bits[uint32](od), c, sc, od2bits[uint32](any(x).([]float32)), sx, od2bits[uint32](any(y).([]float32)), sy)
	case []float64:
		selectBits(od2bits[uint64](od), c, sc, od2bits[uint64](any(x).([]float64)), sx, od2bits[uint64](any(y).([]float64)), sy)
	}
}

func selectBits[T constraints.Float, U uint32 | uint64](o []U, c []T, sc int, x []U, sx int, y []U, sy int) {
	if sc == 1 && sx == 1 && sy == 1 {
		// Plain rows: a loop the compiler can check once.
		c, x, y := c[:len(o)], x[:len(o)], y[:len(o)]
		for i := range o {
			m := ones[U](c[i] != 0)
			o[i] = y[i] ^ ((x[i] ^ y[i]) & m)
		}
		return
	}
	for i := range o {
		m := ones[U](c[i*sc] != 0)
		xv, yv := x[i*sx], y[i*sy]
		o[i] = yv ^ ((xv ^ yv) & m)
	}
}

// ones returns all bits set if b holds, else zero (a flag-to-register move
// and a negation, no branch).
func ones[U uint32 | uint64](b bool) U {
	var i U
	if b {
		i = 1
	}
	return -i
}

// od2bits views a float slice as the unsigned integers of the same size
// that hold its bits.
func od2bits[U uint32 | uint64, F float32 | float64](f []F) []U {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*U)(unsafe.Pointer(unsafe.SliceData(f))), len(f))
}

// rowIter walks the rows (all axes but the last) of a shape while tracking
// the offset of each operand, given each operand's strides in that shape.
type rowIter struct {
	outer   Shape   // all axes but the last
	strides [][]int // per operand, strides of the outer axes
	inner   []int   // per operand, stride of the last axis
	rows, n int     // number of rows, row length
}

func newRowIter(s Shape, strides ...[]int) *rowIter {
	s, strides = coalesce(s, strides)
	it := &rowIter{}
	if len(s) == 0 {
		it.rows, it.n = 1, 1
		it.inner = make([]int, len(strides))
		it.strides = make([][]int, len(strides))
		return it
	}
	it.outer = s[:len(s)-1]
	it.n = s[len(s)-1]
	it.rows = it.outer.Numel()
	for _, st := range strides {
		it.strides = append(it.strides, st[:len(s)-1])
		it.inner = append(it.inner, st[len(s)-1])
	}
	return it
}

// coalesce merges adjacent axes that every operand walks as one run (axis
// i of size n and stride a, axis i+1 of size m and stride b, with a = b·m:
// one axis of size n·m and stride b) and drops axes of size 1. The
// elements and their order are unchanged, but the rows get longer: a
// (1, 256, 64, 64) tensor plus a (1, 256, 1, 1) one is 256 rows of 4096
// instead of 16384 rows of 64.
func coalesce(s Shape, strides [][]int) (Shape, [][]int) {
	if s.Numel() == 0 {
		return s, strides
	}
	var cs Shape
	cst := make([][]int, len(strides))
	for i, n := range s {
		if n == 1 {
			continue
		}
		last := len(cs) - 1
		merge := last >= 0
		for k := range strides {
			if merge && cst[k][last] != strides[k][i]*n {
				merge = false
			}
		}
		if merge {
			cs[last] *= n
			for k := range strides {
				cst[k][last] = strides[k][i]
			}
			continue
		}
		cs = append(cs, n)
		for k := range strides {
			cst[k] = append(cst[k], strides[k][i])
		}
	}
	return cs, cst
}

// offsets writes the starting offset of row r for each operand into offs.
func (it *rowIter) offsets(r int, offs []int) {
	for k := range offs {
		offs[k] = 0
	}
	for ax := len(it.outer) - 1; ax >= 0; ax-- {
		i := r % it.outer[ax]
		r /= it.outer[ax]
		for k, st := range it.strides {
			offs[k] += i * st[ax]
		}
	}
}

// ---- Reductions ----

func (cpuBackend) Reduce(op ReduceOp, x *Tensor, axes []int) *Tensor {
	checkCPU("reduce "+op.String(), x)
	os := ReducedShape(x.shape, axes)
	out := newLike(x, os)
	defer keepAlive(x)
	switch d := x.data.(type) {
	case []float32:
		reduceND(op, out.data.([]float32), os, d, x.shape)
	case []float64:
		reduceND(op, out.data.([]float64), os, d, x.shape)
	}
	return out
}

// reduceND reduces x (shape xs) into o (shape os, xs with reduced axes set to
// 1). Sums accumulate in float64.
func reduceND[T constraints.Float](op ReduceOp, o []T, os Shape, x []T, xs Shape) {
	if len(x) == 0 {
		return
	}
	// Fast path: the reduced axes are a trailing block, so each output
	// element reduces one contiguous run of x.
	tail := 1
	k := len(xs)
	for k > 0 && os[k-1] == 1 {
		k--
		tail *= xs[k]
	}
	if Shape(os[:k]).Equal(xs[:k]) {
		parallelFor(len(o), max(1, elementwiseGrain/max(tail, 1)), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				o[i] = reduceRun(op, x[i*tail:(i+1)*tail])
			}
		})
		return
	}
	acc := make([]float64, len(o))
	ost := broadcastStrides(os, xs)
	for i := range acc {
		switch op {
		case Max:
			acc[i] = math.Inf(-1)
		case Min:
			acc[i] = math.Inf(1)
		}
	}
	it := newRowIter(xs, xs.Strides(), ost)
	offs := make([]int, 2)
	for r := range it.rows {
		it.offsets(r, offs)
		row := x[offs[0] : offs[0]+it.n]
		so := it.inner[1]
		a := acc[offs[1]:]
		for i, v := range row {
			f := float64(v)
			j := i * so
			switch op {
			case Sum:
				a[j] += f
			case Max:
				if f > a[j] || f != f {
					a[j] = f
				}
			case Min:
				if f < a[j] || f != f {
					a[j] = f
				}
			}
		}
	}
	for i, v := range acc {
		o[i] = T(v)
	}
}

func reduceRun[T constraints.Float](op ReduceOp, x []T) T {
	switch op {
	case Sum:
		var s float64
		for _, v := range x {
			s += float64(v)
		}
		return T(s)
	case Max:
		m := x[0]
		for _, v := range x {
			if v > m || v != v {
				m = v
			}
		}
		return m
	case Min:
		m := x[0]
		for _, v := range x {
			if v < m || v != v {
				m = v
			}
		}
		return m
	}
	panic(fmt.Sprintf("reduce: unknown op %d", op))
}
