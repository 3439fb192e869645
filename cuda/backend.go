//go:build cuda

package cuda

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/camcycle/camcycle/tensor"
	"gorgonia.org/cu"
)

// Backend is tensor.Backend on one CUDA device, with one set of Options.
// Every primitive checks its operands with the CPU's checks
// (tensor/checks.go), then hands its launches to the device's owner
// thread; results stay on the device until ToHost.
type Backend struct {
	d    *device
	opts Options
}

// The process's devices and backends: a device's context, stream, module,
// cuBLAS handle and caches are made on the first NewWith naming it and
// live as long as the process; each distinct Options has one Backend (so
// tensor identity checks hold), the backends of one device sharing it.
// Guarded by mu. This is the package's only mutable state.
var (
	mu       sync.Mutex
	devices  = map[int]*device{}
	backends = map[Options]*Backend{}
)

// Available reports whether a CUDA device can be used. (In a build with
// the cuda tag the process cannot start at all without the CUDA driver:
// gorgonia.org/cu initialises it when the program starts.)
func Available() bool {
	n, err := cu.NumDevices()
	return err == nil && n > 0
}

// New returns the CUDA backend on device 0 with full float32 products.
func New() (tensor.Backend, error) { return NewWith(Options{}) }

// NewWith returns the CUDA backend with options o: the same Backend for
// the same options.
func NewWith(o Options) (tensor.Backend, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	if b := backends[o]; b != nil {
		return b, nil
	}
	d := devices[o.Device]
	if d == nil {
		n, err := cu.NumDevices()
		if err != nil || n == 0 {
			return nil, fmt.Errorf("cuda: no CUDA device found")
		}
		if o.Device >= n {
			return nil, fmt.Errorf("cuda: device %d: this machine has %d CUDA device(s), 0 to %d", o.Device, n, n-1)
		}
		if d, err = openDevice(o.Device); err != nil {
			return nil, err
		}
		devices[o.Device] = d
	}
	b := &Backend{d: d, opts: o}
	backends[o] = b
	return b, nil
}

// Options returns the options the backend was made with.
func (b *Backend) Options() Options { return b.opts }

// DeviceMemory returns the allocator's counters of be's device and its
// ordinal, and whether be is a CUDA backend at all.
func DeviceMemory(be tensor.Backend) (s AllocStats, device int, ok bool) {
	if b, ok := be.(*Backend); ok {
		return b.Stats(), b.opts.Device, true
	}
	return AllocStats{}, 0, false
}

// Stats returns the device allocator's counters (of the device, which the
// backends of every Options on it share).
func (b *Backend) Stats() AllocStats { return b.d.alloc.Stats() }

// Synchronize waits for the queued work and reports a failure of it.
func (b *Backend) Synchronize() error {
	var err error
	b.d.do(func() { err = b.d.stream.Synchronize() })
	return err
}

func (b *Backend) Name() string { return "cuda" }

// buf returns t's device memory, panicking unless t is a tensor of this
// backend of dtype dt.
func (b *Backend) buf(op string, dt tensor.DType, t *tensor.Tensor) *buffer {
	if t.Backend() != tensor.Backend(b) {
		panic(fmt.Sprintf("%s: operand %v on %s given to the cuda backend", op, t.Shape(), t.Backend().Name()))
	}
	if t.DType() != dt {
		panic(fmt.Sprintf("%s: mixed dtypes %s and %s", op, dt, t.DType()))
	}
	return t.Data().(*buffer)
}

// bufs returns the buffers of ts (nil for a nil tensor), all of ts[0]'s
// dtype.
func (b *Backend) bufs(op string, ts ...*tensor.Tensor) []*buffer {
	out := make([]*buffer, len(ts))
	for i, t := range ts {
		if t != nil {
			out[i] = b.buf(op, ts[0].DType(), t)
		}
	}
	return out
}

// result makes a tensor of shape s on the device (owner thread).
func (b *Backend) result(dt tensor.DType, s tensor.Shape) (*tensor.Tensor, *buffer) {
	buf := b.d.newBuffer(dt, s.Numel())
	return tensor.Wrap(b, dt, s, buf), buf
}

// ---- Storage ----

func (b *Backend) Full(dt tensor.DType, s tensor.Shape, v float64) *tensor.Tensor {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		panic("cuda: full: unknown dtype " + dt.String())
	}
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(dt, s)
		b.d.kernel("Full", dt).p(o, 0).i(o.n).f(v).over(o.n)
	})
	return out
}

func (b *Backend) FromHost(t *tensor.Tensor) *tensor.Tensor {
	if t.Backend() == tensor.Backend(b) {
		return t
	}
	h := t
	if t.Backend() != tensor.CPU {
		h = t.Backend().ToHost(t)
	}
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(h.DType(), h.Shape())
		if o.n == 0 {
			return
		}
		switch h.DType() {
		case tensor.Float32:
			b.d.upload(o, unsafe.Pointer(&h.Float32s()[0]))
		case tensor.Float64:
			b.d.upload(o, unsafe.Pointer(&h.Float64s()[0]))
		}
	})
	runtime.KeepAlive(h)
	return out
}

func (b *Backend) ToHost(t *tensor.Tensor) *tensor.Tensor {
	if t.Backend() == tensor.CPU {
		return t
	}
	src := b.buf("to_host", t.DType(), t)
	n := t.Numel()
	var out *tensor.Tensor
	switch t.DType() {
	case tensor.Float32:
		h := make([]float32, n)
		b.d.do(func() {
			var p unsafe.Pointer
			if n > 0 {
				p = unsafe.Pointer(&h[0])
			}
			b.d.download(p, src)
		})
		out = tensor.FromFloat32s(h, t.Shape()...)
	case tensor.Float64:
		h := make([]float64, n)
		b.d.do(func() {
			var p unsafe.Pointer
			if n > 0 {
				p = unsafe.Pointer(&h[0])
			}
			b.d.download(p, src)
		})
		out = tensor.FromFloat64s(h, t.Shape()...)
	}
	runtime.KeepAlive(t)
	return out
}

func (b *Backend) Cast(x *tensor.Tensor, dt tensor.DType) *tensor.Tensor {
	xb := b.buf("cast", x.DType(), x)
	if x.DType() == dt {
		return x
	}
	name := "Cast_f32_f64"
	if dt == tensor.Float32 {
		name = "Cast_f64_f32"
	}
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(dt, x.Shape())
		b.d.kernelNamed(name).p(o, 0).p(xb, 0).i(o.n).over(o.n)
	})
	return out
}

// ---- Elementwise ----

func (b *Backend) Unary(op tensor.UnaryOp, x *tensor.Tensor) *tensor.Tensor {
	xb := b.buf("unary "+op.String(), x.DType(), x)
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(x.DType(), x.Shape())
		b.d.kernel("unaryLoop", x.DType()).p(o, 0).p(xb, 0).i(o.n).i(int(op)).over(o.n)
	})
	return out
}

func (b *Backend) Scalar(op tensor.BinaryOp, x *tensor.Tensor, c float64) *tensor.Tensor {
	xb := b.buf("scalar "+op.String(), x.DType(), x)
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(x.DType(), x.Shape())
		b.d.kernel("scalarRow", x.DType()).p(o, 0).p(xb, 0).i(o.n).f(c).i(int(op)).over(o.n)
	})
	return out
}

func (b *Backend) Binary(op tensor.BinaryOp, x, y *tensor.Tensor) *tensor.Tensor {
	bs := b.bufs("binary "+op.String(), x, y)
	s := tensor.BinaryShape(op, x.Shape(), y.Shape())
	dm := NewDims(s, tensor.BroadcastStrides(x.Shape(), s), tensor.BroadcastStrides(y.Shape(), s))
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(x.DType(), s)
		b.d.kernel("binaryND", x.DType()).p(o, 0).p(bs[0], 0).p(bs[1], 0).i(o.n).dims(dm).i(int(op)).over(o.n)
	})
	return out
}

func (b *Backend) Where(cond, x, y *tensor.Tensor) *tensor.Tensor {
	bs := b.bufs("where", x, cond, y)
	s := tensor.WhereShape(cond.Shape(), x.Shape(), y.Shape())
	dm := NewDims(s, tensor.BroadcastStrides(cond.Shape(), s), tensor.BroadcastStrides(x.Shape(), s),
		tensor.BroadcastStrides(y.Shape(), s))
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(x.DType(), s)
		b.d.kernel("whereND", x.DType()).p(o, 0).p(bs[1], 0).p(bs[0], 0).p(bs[2], 0).i(o.n).dims(dm).over(o.n)
	})
	return out
}

func (b *Backend) Reduce(op tensor.ReduceOp, x *tensor.Tensor, axes []int) *tensor.Tensor {
	xb := b.buf("reduce "+op.String(), x.DType(), x)
	os := tensor.ReducedShape(x.Shape(), axes)
	kept, over, m := ReduceDims(x.Shape(), axes)
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(x.DType(), os)
		if x.Numel() == 0 {
			b.d.zero(o) // the CPU's empty reductions are zeros
			return
		}
		if UseBlockReduce(o.n, m) {
			b.d.kernel("reduceRun", x.DType()).p(o, 0).p(xb, 0).i(o.n).dims(kept).dims(over).i(m).i(int(op)).perBlock(o.n)
			return
		}
		b.d.kernel("reduceND", x.DType()).p(o, 0).p(xb, 0).i(o.n).dims(kept).dims(over).i(m).i(int(op)).over(o.n)
	})
	return out
}

// ---- Movement ----

// copyInto launches stridedCopy: the elements of space s go from
// src[sbase + …sst] to dst[dbase + …dst] (tensor.stridedCopy).
func (b *Backend) copyInto(dt tensor.DType, s tensor.Shape, dst *buffer, dbase int, dstr []int, src *buffer, sbase int, sstr []int) {
	n := s.Numel()
	if n == 0 {
		return
	}
	b.d.kernel("stridedCopy", dt).p(dst, 0).i(dbase).p(src, 0).i(sbase).i(n).dims(NewDims(s, dstr, sstr)).over(n)
}

func (b *Backend) Expand(x *tensor.Tensor, s tensor.Shape) *tensor.Tensor {
	xb := b.buf("expand", x.DType(), x)
	tensor.CheckExpand(x.Shape(), s)
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(x.DType(), s)
		b.copyInto(x.DType(), s, o, 0, s.Strides(), xb, 0, tensor.BroadcastStrides(x.Shape(), s))
	})
	return out
}

func (b *Backend) Permute(x *tensor.Tensor, perm []int) *tensor.Tensor {
	xb := b.buf("permute", x.DType(), x)
	s, st := tensor.PermuteShape(x.Shape(), perm)
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(x.DType(), s)
		b.copyInto(x.DType(), s, o, 0, s.Strides(), xb, 0, st)
	})
	return out
}

func (b *Backend) Slice(x *tensor.Tensor, start, end []int) *tensor.Tensor {
	xb := b.buf("slice", x.DType(), x)
	s := tensor.SliceShape(x.Shape(), start, end)
	xs := x.Shape().Strides()
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(x.DType(), s)
		b.copyInto(x.DType(), s, o, 0, s.Strides(), xb, tensor.OffsetOf(start, xs), xs)
	})
	return out
}

func (b *Backend) Pad(x *tensor.Tensor, before, after []int) *tensor.Tensor {
	xb := b.buf("pad", x.DType(), x)
	s := tensor.PadShape(x.Shape(), before, after)
	os := s.Strides()
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(x.DType(), s)
		b.d.zero(o)
		b.copyInto(x.DType(), x.Shape(), o, tensor.OffsetOf(before, os), os, xb, 0, x.Shape().Strides())
	})
	return out
}

func (b *Backend) Concat(axis int, xs []*tensor.Tensor) *tensor.Tensor {
	if len(xs) == 0 {
		panic("concat: no tensors")
	}
	bs := b.bufs("concat", xs...)
	s, axis := tensor.ConcatShape(axis, xs)
	os := s.Strides()
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(xs[0].DType(), s)
		at := 0
		for i, x := range xs {
			b.copyInto(x.DType(), x.Shape(), o, at*os[axis], os, bs[i], 0, x.Shape().Strides())
			at += x.Shape()[axis]
		}
	})
	return out
}

func (b *Backend) ReflectPad2d(x *tensor.Tensor, p tensor.Pad2d) *tensor.Tensor {
	xb := b.buf("reflect_pad2d", x.DType(), x)
	s, h, w := tensor.ReflectPad2dShape(x.Shape(), p)
	ph, pw := s[len(s)-2], s[len(s)-1]
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(x.DType(), s)
		b.d.kernel("reflectPad", x.DType()).p(o, 0).p(xb, 0).i(o.n).i(h).i(w).i(p.Top).i(p.Left).i(ph).i(pw).over(o.n)
	})
	return out
}

func (b *Backend) ReflectPad2dAdjoint(g *tensor.Tensor, p tensor.Pad2d) *tensor.Tensor {
	gb := b.buf("reflect_pad2d_adjoint", g.DType(), g)
	s, h, w := tensor.ReflectPad2dAdjointShape(g.Shape(), p)
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(g.DType(), s)
		b.d.kernel("reflectPadAdjoint", g.DType()).p(gb, 0).p(o, 0).i(o.n).i(h).i(w).
			i(p.Top).i(p.Left).i(p.Bottom).i(p.Right).over(o.n)
	})
	return out
}

// ---- Convolution: im2col / col2im kernels and cuBLAS ----

// im2col writes col(x) of every image of x into col (N, C·KH·KW, OH·OW).
func (b *Backend) im2col(dt tensor.DType, g tensor.ConvGeom, x, col *buffer) {
	rows, pix := g.C*g.KH*g.KW, g.OH*g.OW
	for n := range g.N {
		b.d.kernel("im2col", dt).p(col, n*rows*pix).p(x, n*g.C*g.H*g.W).i(rows * pix).i(g.H).i(g.W).
			i(g.KH).i(g.KW).i(g.OH).i(g.OW).i(g.Stride).i(g.Padding).over(rows * pix)
	}
}

func (b *Backend) Conv2d(x, w, bias *tensor.Tensor, p tensor.ConvParams) *tensor.Tensor {
	bs := b.bufs("conv2d", x, w, bias)
	g := tensor.Conv2dGeom(x, w, bias, p)
	dt := x.DType()
	rows, pix := g.C*g.KH*g.KW, g.OH*g.OW
	var out *tensor.Tensor
	b.d.do(func() {
		var y *buffer
		out, y = b.result(dt, tensor.Shape{g.N, g.O, g.OH, g.OW})
		col := b.d.newBuffer(dt, g.N*rows*pix)
		b.im2col(dt, g, bs[0], col)
		beta := 0.0
		if bias != nil {
			b.d.kernel("fillBias", dt).p(y, 0).p(bs[2], 0).i(y.n).i(g.O).i(pix).over(y.n)
			beta = 1
		}
		// y[n] (O × pix) = W (O × rows) · col[n] (rows × pix)
		b.d.gemm(b.opts.TF32, dt, false, false, g.O, pix, rows, bs[1].ptr, 0, col.ptr, rows*pix, beta, y.ptr, g.O*pix, g.N)
		runtime.KeepAlive(col)
	})
	return out
}

func (b *Backend) Conv2dInputGrad(gy, w *tensor.Tensor, p tensor.ConvParams, h, wd int) *tensor.Tensor {
	bs := b.bufs("conv2d_input_grad", gy, w)
	g := tensor.Conv2dInputGradGeom(gy, w, p, h, wd)
	dt := gy.DType()
	rows, pix := g.C*g.KH*g.KW, g.OH*g.OW
	var out *tensor.Tensor
	b.d.do(func() {
		var gx *buffer
		out, gx = b.result(dt, tensor.Shape{g.N, g.C, g.H, g.W})
		col := b.d.newBuffer(dt, g.N*rows*pix)
		// col[n] (rows × pix) = Wᵀ (rows × O) · gy[n] (O × pix)
		b.d.gemm(b.opts.TF32, dt, true, false, rows, pix, g.O, bs[1].ptr, 0, bs[0].ptr, g.O*pix, 0, col.ptr, rows*pix, g.N)
		plane := g.C * g.H * g.W
		for n := range g.N {
			b.d.kernel("col2imAdd", dt).p(gx, n*plane).p(col, n*rows*pix).i(plane).i(g.H).i(g.W).
				i(g.KH).i(g.KW).i(g.OH).i(g.OW).i(g.Stride).i(g.Padding).over(plane)
		}
		runtime.KeepAlive(col)
	})
	return out
}

func (b *Backend) Conv2dWeightGrad(x, gy *tensor.Tensor, p tensor.ConvParams, kh, kw int) *tensor.Tensor {
	bs := b.bufs("conv2d_weight_grad", x, gy)
	g := tensor.Conv2dWeightGradGeom(x, gy, p, kh, kw)
	dt := x.DType()
	rows, pix := g.C*g.KH*g.KW, g.OH*g.OW
	var out *tensor.Tensor
	b.d.do(func() {
		var gw *buffer
		out, gw = b.result(dt, tensor.Shape{g.O, g.C, g.KH, g.KW})
		col := b.d.newBuffer(dt, g.N*rows*pix)
		b.im2col(dt, g, bs[0], col)
		// gw (O × rows) = Σₙ gy[n] (O × pix) · col[n]ᵀ (pix × rows)
		for n := range g.N {
			beta := 1.0
			if n == 0 {
				beta = 0
			}
			b.d.gemm(b.opts.TF32, dt, false, true, g.O, rows, pix, bs[1].addr(n*g.O*pix), 0, col.addr(n*rows*pix), 0, beta, gw.ptr, 0, 1)
		}
		runtime.KeepAlive(col)
	})
	return out
}

// ---- Pooling and resampling ----

func (b *Backend) pool(op string, x *tensor.Tensor, p tensor.PoolParams, isMax bool) *tensor.Tensor {
	xb := b.buf(op, x.DType(), x)
	s := tensor.Pool2dShape(op, x, p)
	in := x.Shape()
	var out *tensor.Tensor
	b.d.do(func() {
		var y *buffer
		out, y = b.result(x.DType(), s)
		b.d.kernel("poolPlanes", x.DType()).p(xb, 0).p(y, 0).i(y.n).i(in[2]).i(in[3]).i(s[2]).i(s[3]).
			i(p.Kernel).i(p.Stride).i(p.Padding).i(bool01(isMax)).i(bool01(p.CountIncludePad)).over(y.n)
	})
	return out
}

func bool01(v bool) int {
	if v {
		return 1
	}
	return 0
}

func (b *Backend) MaxPool2d(x *tensor.Tensor, p tensor.PoolParams) *tensor.Tensor {
	return b.pool("max_pool2d", x, p, true)
}

func (b *Backend) AvgPool2d(x *tensor.Tensor, p tensor.PoolParams) *tensor.Tensor {
	return b.pool("avg_pool2d", x, p, false)
}

func (b *Backend) ResizeBilinear(x *tensor.Tensor, h, w int) *tensor.Tensor {
	xb := b.buf("resize_bilinear", x.DType(), x)
	tensor.CheckResizeBilinear(x, h, w)
	in := x.Shape()
	var out *tensor.Tensor
	b.d.do(func() {
		var y *buffer
		out, y = b.result(x.DType(), tensor.Shape{in[0], in[1], h, w})
		b.d.kernel("resizePlanes", x.DType()).p(xb, 0).p(y, 0).i(y.n).i(in[2]).i(in[3]).i(h).i(w).over(y.n)
	})
	return out
}

// ---- Fused kernels ----

func (b *Backend) InstanceNorm(x *tensor.Tensor, eps float64) (y, r *tensor.Tensor) {
	xb := b.buf("instance_norm", x.DType(), x)
	planes, hw := tensor.InstanceNormPlanes(x)
	b.d.do(func() {
		var yb, rb *buffer
		y, yb = b.result(x.DType(), x.Shape())
		r, rb = b.result(x.DType(), tensor.Shape{x.Shape()[0], x.Shape()[1], 1, 1})
		b.d.kernel("instanceNorm", x.DType()).p(xb, 0).p(yb, 0).p(rb, 0).i(planes).i(hw).f(eps).perBlock(planes)
	})
	return y, r
}

func (b *Backend) InstanceNormBackward(g, y, r *tensor.Tensor) *tensor.Tensor {
	bs := b.bufs("instance_norm_backward", g, y, r)
	planes, hw := tensor.InstanceNormBackwardPlanes(g, y, r)
	var out *tensor.Tensor
	b.d.do(func() {
		var o *buffer
		out, o = b.result(g.DType(), g.Shape())
		b.d.kernel("instanceNormBackward", g.DType()).p(bs[0], 0).p(bs[1], 0).p(bs[2], 0).p(o, 0).
			i(planes).i(hw).perBlock(planes)
	})
	return out
}

func (b *Backend) AdamStep(p, g, m, v *tensor.Tensor, h tensor.AdamHyper) (p2, m2, v2 *tensor.Tensor) {
	bs := b.bufs("adam_step", p, g, m, v)
	tensor.CheckAdamStep(p, g, m, v)
	b.d.do(func() {
		var pb, mb, vb *buffer
		p2, pb = b.result(p.DType(), p.Shape())
		m2, mb = b.result(p.DType(), p.Shape())
		v2, vb = b.result(p.DType(), p.Shape())
		b.d.kernel("adamStep", p.DType()).p(bs[0], 0).p(bs[1], 0).p(bs[2], 0).p(bs[3], 0).p(pb, 0).p(mb, 0).p(vb, 0).
			i(pb.n).f(h.Beta1).f(1 - h.Beta1).f(h.Beta2).f(1 - h.Beta2).f(h.Eps).f(h.StepSize).f(h.SqrtBC2).over(pb.n)
	})
	return p2, m2, v2
}
