//go:build cuda

package cuda

/*
#cgo LDFLAGS: -lcublas -lcuda
#include <stdlib.h>
#include <cuda.h>
#include <cublas_v2.h>

static CUresult launch1D(CUfunction f, unsigned grid, unsigned block, CUstream s, void **params) {
	return cuLaunchKernel(f, grid, 1, 1, block, 1, 1, 0, s, params, NULL);
}

static cublasStatus_t blasInit(cublasHandle_t *h, CUstream s) {
	cublasStatus_t st = cublasCreate(h);
	if (st != CUBLAS_STATUS_SUCCESS) return st;
	st = cublasSetStream(*h, (cudaStream_t)s);
	if (st != CUBLAS_STATUS_SUCCESS) return st;
	// Full float32 products (no TF32), as the CPU computes them, unless a
	// backend's Options.TF32 asks (mathMode, before each GEMM).
	return cublasSetMathMode(*h, CUBLAS_DEFAULT_MATH);
}

// mathMode sets the handle's math mode: TF32 tensor-core products for
// float32 GEMMs, or full float32 ones. A host-side setting, read by the
// next GEMM call.
static cublasStatus_t mathMode(cublasHandle_t h, int tf32) {
	return cublasSetMathMode(h, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
}

static cublasOperation_t op(int t) { return t ? CUBLAS_OP_T : CUBLAS_OP_N; }

static cublasStatus_t sgemm(cublasHandle_t h, int ta, int tb, int m, int n, int k,
		CUdeviceptr a, int lda, long long sa, CUdeviceptr b, int ldb, long long sb,
		float beta, CUdeviceptr c, int ldc, long long sc, int batch) {
	float alpha = 1;
	return cublasSgemmStridedBatched(h, op(ta), op(tb), m, n, k, &alpha, (const float *)a, lda, sa,
		(const float *)b, ldb, sb, &beta, (float *)c, ldc, sc, batch);
}

static cublasStatus_t dgemm(cublasHandle_t h, int ta, int tb, int m, int n, int k,
		CUdeviceptr a, int lda, long long sa, CUdeviceptr b, int ldb, long long sb,
		double beta, CUdeviceptr c, int ldc, long long sc, int batch) {
	double alpha = 1;
	return cublasDgemmStridedBatched(h, op(ta), op(tb), m, n, k, &alpha, (const double *)a, lda, sa,
		(const double *)b, ldb, sb, &beta, (double *)c, ldc, sc, batch);
}
*/
import "C"

import (
	_ "embed"
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"github.com/camcycle/camcycle/tensor"
	"gorgonia.org/cu"
)

//go:embed kernels/kernels.ptx
var kernelsPTX string

// The device: one goroutine, locked to its OS thread, owns the CUDA
// context, the stream, the module of kernels and the cuBLAS handle, and
// makes every driver call; the primitives hand it their work through a
// channel (do). cu's Ctx does the same per driver call, which costs
// microseconds each; here one hand-over carries all the launches of a
// primitive.

const (
	argWords  = 1024 // launch arguments, in 8-byte words
	maxParams = 64   // launch arguments, in parameters
)

type device struct {
	work    chan func()
	stream  cu.Stream
	cstream C.CUstream
	mod     cu.Module
	fns     map[string]C.CUfunction
	blas    C.cublasHandle_t
	alloc   *Allocator

	// The argument block of the launch being built (C memory: the
	// driver reads it, and cgo forbids handing it Go pointers).
	args   *[argWords]uint64
	params *[maxParams]unsafe.Pointer
	nw, np int
	fn     C.CUfunction
}

// driverMemory is RawMemory on the device (called on the owner thread).
type driverMemory struct{}

func (driverMemory) Alloc(n int) (uintptr, error) {
	p, err := cu.MemAlloc(int64(n))
	return uintptr(p), err
}

func (driverMemory) Free(p uintptr) error { return cu.MemFree(cu.DevicePtr(p)) }

// openDevice starts the owner goroutine on device ordinal and returns once
// the context, stream, module and cuBLAS handle are made.
func openDevice(ordinal int) (*device, error) {
	d := &device{work: make(chan func()), fns: map[string]C.CUfunction{}, alloc: NewAllocator(driverMemory{})}
	ready := make(chan error)
	go func() {
		runtime.LockOSThread() // for the life of the process
		err := d.init(ordinal)
		ready <- err
		if err != nil {
			return
		}
		for f := range d.work {
			f()
		}
	}()
	return d, <-ready
}

func (d *device) init(ordinal int) error {
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	ctx, err := dev.RetainPrimaryCtx()
	if err != nil {
		return fmt.Errorf("cuda: context of device %d: %w", ordinal, err)
	}
	if err := cu.SetCurrentContext(ctx); err != nil {
		return fmt.Errorf("cuda: making the context current: %w", err)
	}
	if d.stream, err = cu.MakeStream(cu.NonBlocking); err != nil {
		return fmt.Errorf("cuda: stream: %w", err)
	}
	d.cstream = *(*C.CUstream)(unsafe.Pointer(&d.stream))
	if d.mod, err = cu.LoadData(kernelsPTX); err != nil {
		return fmt.Errorf("cuda: loading the kernels' PTX: %w", err)
	}
	if st := C.blasInit(&d.blas, d.cstream); st != C.CUBLAS_STATUS_SUCCESS {
		return fmt.Errorf("cuda: cuBLAS initialisation failed (status %d)", int(st))
	}
	d.args = (*[argWords]uint64)(C.malloc(C.size_t(8 * argWords)))
	d.params = (*[maxParams]unsafe.Pointer)(C.malloc(C.size_t(unsafe.Sizeof(unsafe.Pointer(nil)) * maxParams)))
	return nil
}

// do runs f on the owner thread and waits for it; a panic in f (a failed
// driver call) is raised again in the caller.
func (d *device) do(f func()) {
	done := make(chan any, 1)
	d.work <- func() {
		defer func() { done <- recover() }()
		f()
	}
	if r := <-done; r != nil {
		panic(r)
	}
}

func check(what string, err error) {
	if err != nil {
		panic(fmt.Sprintf("cuda: %s: %v", what, err))
	}
}

// function returns the kernel of the given name, loading it once.
func (d *device) function(name string) C.CUfunction {
	if f, ok := d.fns[name]; ok {
		return f
	}
	f, err := d.mod.Function(name)
	check("kernel "+name, err)
	cf := *(*C.CUfunction)(unsafe.Pointer(&f))
	d.fns[name] = cf
	return cf
}

func suffix(dt tensor.DType) string {
	if dt == tensor.Float64 {
		return "_f64"
	}
	return "_f32"
}

func elemSize(dt tensor.DType) int {
	if dt == tensor.Float64 {
		return 8
	}
	return 4
}

// buffer is a tensor's device memory: n elements of dtype dt. When the
// buffer becomes unreachable a cleanup returns its block to the allocator
// (no device call).
type buffer struct {
	ptr   uintptr
	class int
	n     int
	dt    tensor.DType
}

// addr is the device address of element i.
func (b *buffer) addr(i int) uintptr { return b.ptr + uintptr(i*elemSize(b.dt)) }

type cleanup struct {
	a     *Allocator
	ptr   uintptr
	class int
}

// newBuffer allocates n elements (owner thread). When the device is full,
// it collects garbage once so that the cleanups of dead tensors return
// their blocks, then lets the allocator trim its cache.
func (d *device) newBuffer(dt tensor.DType, n int) *buffer {
	bytes := max(n, 1) * elemSize(dt)
	ptr, class, err := d.alloc.Get(bytes)
	if err != nil {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // let the cleanups run
		ptr, class, err = d.alloc.Get(bytes)
	}
	check(fmt.Sprintf("allocating %d bytes", bytes), err)
	b := &buffer{ptr: ptr, class: class, n: n, dt: dt}
	runtime.AddCleanup(b, func(c cleanup) { c.a.Put(c.ptr, c.class) }, cleanup{d.alloc, ptr, class})
	return b
}

// ---- Launches ----

// kernel starts building a launch of name's dtype variant.
func (d *device) kernel(name string, dt tensor.DType) *device {
	d.fn = d.function(name + suffix(dt))
	d.nw, d.np = 0, 0
	return d
}

// kernelNamed is kernel for a name that carries its dtypes already.
func (d *device) kernelNamed(name string) *device {
	d.fn = d.function(name)
	d.nw, d.np = 0, 0
	return d
}

func (d *device) word(v uint64) *device {
	d.params[d.np] = unsafe.Pointer(&d.args[d.nw])
	d.args[d.nw] = v
	d.nw++
	d.np++
	return d
}

// p appends the address of element off of b.
func (d *device) p(b *buffer, off int) *device { return d.word(uint64(b.addr(off))) }

// i appends an int64.
func (d *device) i(v int) *device { return d.word(uint64(int64(v))) }

// f appends a double.
func (d *device) f(v float64) *device { return d.word(*(*uint64)(unsafe.Pointer(&v))) }

// dims appends a Dims, passed by value.
func (d *device) dims(dm Dims) *device {
	w := dm.Words()
	d.params[d.np] = unsafe.Pointer(&d.args[d.nw])
	copy(d.args[d.nw:], w[:])
	d.nw += len(w)
	d.np++
	return d
}

func (d *device) launch(grid, block int) {
	r := C.launch1D(d.fn, C.uint(grid), C.uint(block), d.cstream, (*unsafe.Pointer)(unsafe.Pointer(d.params)))
	if r != C.CUDA_SUCCESS {
		panic(fmt.Sprintf("cuda: kernel launch failed: CUresult %d", int(r)))
	}
}

// over launches a grid-stride loop over n elements.
func (d *device) over(n int) {
	if n > 0 {
		d.launch(Grid1D(n, Block), Block)
	}
}

// perBlock launches one block of ReduceBlock threads per item (at most
// MaxGrid blocks; the kernels loop over the rest).
func (d *device) perBlock(items int) {
	if items > 0 {
		d.launch(min(items, MaxGrid), ReduceBlock)
	}
}

// gemm computes, for each of batch products, the row-major
// C (m×n) = op(A) (m×k) · op(B) (k×n) + beta·C, the operands' batch
// strides in elements (0: one matrix for all); tf32 lets a float32 GEMM
// use TF32 tensor cores.
func (d *device) gemm(tf32 bool, dt tensor.DType, transA, transB bool, m, n, k int,
	a uintptr, strideA int, b uintptr, strideB int, beta float64, c uintptr, strideC int, batch int) {
	g := RowMajorGemm(transA, transB, m, n, k)
	// The column-major call takes the row-major B first.
	ca, sa, cb, sb := b, strideB, a, strideA
	if st := C.mathMode(d.blas, b2i(tf32 && dt == tensor.Float32)); st != C.CUBLAS_STATUS_SUCCESS {
		panic(fmt.Sprintf("cuda: cuBLAS math mode (TF32 %v) failed: status %d", tf32, int(st)))
	}
	var st C.cublasStatus_t
	if dt == tensor.Float64 {
		st = C.dgemm(d.blas, b2i(g.TransA), b2i(g.TransB), C.int(g.M), C.int(g.N), C.int(g.K),
			C.CUdeviceptr(ca), C.int(g.LDA), C.longlong(sa), C.CUdeviceptr(cb), C.int(g.LDB), C.longlong(sb),
			C.double(beta), C.CUdeviceptr(c), C.int(g.LDC), C.longlong(strideC), C.int(batch))
	} else {
		st = C.sgemm(d.blas, b2i(g.TransA), b2i(g.TransB), C.int(g.M), C.int(g.N), C.int(g.K),
			C.CUdeviceptr(ca), C.int(g.LDA), C.longlong(sa), C.CUdeviceptr(cb), C.int(g.LDB), C.longlong(sb),
			C.float(beta), C.CUdeviceptr(c), C.int(g.LDC), C.longlong(strideC), C.int(batch))
	}
	if st != C.CUBLAS_STATUS_SUCCESS {
		panic(fmt.Sprintf("cuda: cuBLAS GEMM %d×%d×%d (batch %d) failed: status %d", m, n, k, batch, int(st)))
	}
}

func b2i(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// ---- Copies ----

func (d *device) zero(b *buffer) {
	check("memset", cu.MemsetD8Async(cu.DevicePtr(b.ptr), 0, int64(b.n*elemSize(b.dt)), d.stream))
}

func (d *device) upload(b *buffer, host unsafe.Pointer) {
	if b.n == 0 {
		return
	}
	check("copy to the device", cu.MemcpyHtoDAsync(cu.DevicePtr(b.ptr), host, int64(b.n*elemSize(b.dt)), d.stream))
	check("synchronize", d.stream.Synchronize())
}

func (d *device) download(host unsafe.Pointer, b *buffer) {
	if b.n > 0 {
		check("copy to the host", cu.MemcpyDtoHAsync(host, cu.DevicePtr(b.ptr), int64(b.n*elemSize(b.dt)), d.stream))
	}
	check("synchronize", d.stream.Synchronize())
}
