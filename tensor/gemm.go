package tensor

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/exp/constraints"
)

// A cache-blocked, parallel matrix product, C = A·B, the engine of the fast
// convolutions. It follows the Goto/BLIS design:
//
//	pack all of A into panels of mr rows                 (once, shared)
//	each worker takes a block of columns of C, then
//	  for pc over the shared dimension, in steps of kc
//	    pack B[pc:pc+kc, jc:jc+nc] into panels of nr columns   (kc·nc values, L2)
//	    for ic over the rows, in steps of mc                    (A block, mc·kc values, L2)
//	      for jr over the B panels
//	        for ir over the A panels
//	          micro-kernel: C[ir:ir+mr, jr:jr+nr] (+)= A panel · B panel
//
// Packing copies a block of an operand into the order in which the
// micro-kernel reads it, so that the kernel streams through memory
// sequentially: an A panel is kc columns of mr values, a B panel kc rows of
// nr values. The micro-kernel keeps an mr×nr tile of C in registers for the
// whole kc loop, loading mr + nr values for every 2·mr·nr flops; the B panel
// (kc·nr values) stays in the L1 cache while the A panels of the block go by.
//
// The micro-kernel is the only machine-specific part (gemm_amd64.s holds
// AVX-512 and AVX2 versions; kernelGo4x4 is the portable one). The operands are
// anything that can pack itself (the operand interface), so the convolutions
// feed image patches straight into the packing without first building the
// im2col matrix.

// gemmKernel is a micro-kernel with its tile size.
type gemmKernel[T constraints.Float] struct {
	name   string
	mr, nr int
	// fn computes the mr×nr tile
	//
	//	c[i·ldc + j] (+)= Σ_{p<k} a[p·mr + i] · b[p·nr + j]
	//
	// from an A panel a (k·mr values) and a B panel b (k·nr values). It
	// overwrites c unless accumulate is true.
	fn func(k int, a, b, c []T, ldc int, accumulate bool)
	// rows is fn with B read in place instead of from a packed panel:
	// row p of B is base[offs[p] : offs[p]+nr].
	rows func(k int, a, base []T, offs []int, c []T, ldc int, accumulate bool)
}

// Blocking sizes. kc·nr floats of B (32 KiB for nr = 64) fit the 48 KiB L1
// of the machines we measured on; mc·kc of A and kc·nc of B fit L2.
const (
	gemmKC = 128
	gemmMC = 384
	gemmNC = 1024
)

// operand is a matrix that packs itself into panels. Both sides of a product
// use it: the "items" are the rows of A or the columns of B, the "depth" is
// the shared dimension.
type operand[T constraints.Float] interface {
	// pack writes items [i0, i1) over depth [p0, p1) into dst as panels of
	// width w: item i, depth p goes to
	//
	//	dst[((i−i0)/w)·(p1−p0)·w + (p−p0)·w + (i−i0)%w]
	//
	// and the slots of a last, partial panel are set to zero.
	pack(dst []T, w, i0, i1, p0, p1 int)
}

// strided is a dense matrix operand: item i, depth p is
// data[i·itemStride + p·depthStride]. A row-major m×k matrix A with row
// length lda is strided{A, lda, 1}; a row-major k×n matrix B is
// strided{B, 1, ldb}; a transpose swaps the two strides.
type strided[T constraints.Float] struct {
	data                    []T
	itemStride, depthStride int
}

func (s strided[T]) pack(dst []T, w, i0, i1, p0, p1 int) {
	kc := p1 - p0
	for q := i0; q < i1; q += w {
		panel := dst[(q-i0)/w*kc*w:][:kc*w]
		n := min(w, i1-q)
		if s.itemStride == 1 {
			// Each depth step reads n consecutive values.
			for p := p0; p < p1; p++ {
				row := panel[(p-p0)*w:][:w]
				copy(row, s.data[q+p*s.depthStride:][:n])
				clear(row[n:])
			}
			continue
		}
		for t := range w {
			if t >= n {
				for p := range kc {
					panel[p*w+t] = 0
				}
				continue
			}
			src := s.data[(q+t)*s.itemStride+p0*s.depthStride:]
			for p := range kc {
				panel[p*w+t] = src[p*s.depthStride]
			}
		}
	}
}

// panels is a whole operand packed once: item i, depth p at
// data[(i/w)·depth·w + p·w + i%w].
type panels[T constraints.Float] struct {
	w, items, depth int
	data            []T
}

// packAll packs items [0, items) of op over its whole depth, in parallel.
func packAll[T constraints.Float](op operand[T], w, items, depth int) panels[T] {
	np := (items + w - 1) / w
	pn := panels[T]{w: w, items: items, depth: depth, data: getScratch[T](np * w * depth)}
	parallelFor(np, max(1, 1<<16/max(1, w*depth)), func(lo, hi int) {
		op.pack(pn.data[lo*w*depth:hi*w*depth], w, lo*w, min(hi*w, items), 0, depth)
	})
	return pn
}

// packInto packs items [0, items) of op over its whole depth on the calling
// goroutine, into buf when it is large enough, else into a new scratch
// buffer (buf going back to the pool).
func packInto[T constraints.Float](buf []T, op operand[T], w, items, depth int) panels[T] {
	size := (items + w - 1) / w * w * depth
	if cap(buf) < size {
		putScratch(buf)
		buf = getScratch[T](size)
	}
	pn := panels[T]{w: w, items: items, depth: depth, data: buf[:size]}
	op.pack(pn.data, w, 0, items, 0, depth)
	return pn
}

// release gives the packed data back to the scratch pool; pn must not be
// used afterwards.
func (pn panels[T]) release() { putScratch(pn.data) }

// at returns panel q from depth p0 on.
func (pn panels[T]) at(q, p0 int) []T {
	return pn.data[q*pn.w*pn.depth+p0*pn.w : (q+1)*pn.w*pn.depth]
}

// gemmConfig holds the kernel and blocking sizes of one product.
type gemmConfig[T constraints.Float] struct {
	kern       gemmKernel[T]
	kc, mc, nc int
}

func defaultGemmConfig[T constraints.Float](kern gemmKernel[T]) gemmConfig[T] {
	mc := max(kern.mr, gemmMC/kern.mr*kern.mr)
	nc := max(kern.nr, gemmNC/kern.nr*kern.nr)
	return gemmConfig[T]{kern: kern, kc: gemmKC, mc: mc, nc: nc}
}

// gemm computes C = A·B, or C += A·B when accumulate is true, for an m×k
// operand a and a k×n operand b; C is row-major with row stride ldc. It uses
// up to GOMAXPROCS goroutines.
func gemm[T constraints.Float](kern gemmKernel[T], m, n, k int, a, b operand[T], c []T, ldc int, accumulate bool) {
	if m == 0 || n == 0 {
		return
	}
	if len(c) < (m-1)*ldc+n {
		panic(fmt.Sprintf("gemm: C has %d elements, want (%d−1)·%d + %d", len(c), m, ldc, n))
	}
	cfg := defaultGemmConfig(kern)
	pa := packAll(a, kern.mr, m, k)
	gemmPacked(cfg, pa, n, b, c, ldc, accumulate)
	pa.release()
}

// gemmPacked is gemm with A already packed in panels of cfg.kern.mr.
func gemmPacked[T constraints.Float](cfg gemmConfig[T], a panels[T], n int, b operand[T], c []T, ldc int, accumulate bool) {
	m, mr, nr := a.items, cfg.kern.mr, cfg.kern.nr
	// Split C between the workers: by columns when there are enough of
	// them (every worker then packs only its own part of B), else by rows
	// (every worker packs all of B).
	workers := runtime.GOMAXPROCS(0)
	colPanels, rowPanels := (n+nr-1)/nr, (m+mr-1)/mr
	type rect struct{ i0, i1, j0, j1 int }
	var tasks []rect
	if colPanels >= 2*workers || colPanels >= rowPanels {
		per := (colPanels + workers - 1) / workers
		for j := 0; j < n; j += per * nr {
			tasks = append(tasks, rect{0, m, j, min(n, j+per*nr)})
		}
	} else {
		per := (rowPanels + workers - 1) / workers
		for i := 0; i < m; i += per * mr {
			tasks = append(tasks, rect{i, min(m, i+per*mr), 0, n})
		}
	}
	forEachTask(len(tasks), func() *gemmScratch[T] { return newGemmScratch(cfg, n) }, (*gemmScratch[T]).release,
		func(s *gemmScratch[T], t int) {
			r := tasks[t]
			gemmRect(cfg, a, b, c, ldc, accumulate, r.i0, r.i1, r.j0, r.j1, s)
		})
}

// gemmScratch is the memory one worker packs B into.
type gemmScratch[T constraints.Float] struct {
	b, tile []T
}

// newGemmScratch returns scratch for products with up to n columns.
func newGemmScratch[T constraints.Float](cfg gemmConfig[T], n int) *gemmScratch[T] {
	nr := cfg.kern.nr
	nc := (min(cfg.nc, n) + nr - 1) / nr * nr
	return &gemmScratch[T]{b: getScratch[T](cfg.kc * nc), tile: make([]T, cfg.kern.mr*nr)}
}

func (s *gemmScratch[T]) release() { putScratch(s.b) }

// gemmRect computes rows [i0, i1) and columns [j0, j1) of C = A·B (or
// C += A·B) on the calling goroutine: the loops over nc, kc and mc blocks
// of the scheme above. i0 is a multiple of mr.
func gemmRect[T constraints.Float](cfg gemmConfig[T], a panels[T], b operand[T], c []T, ldc int, accumulate bool, i0, i1, j0, j1 int, s *gemmScratch[T]) {
	k := a.depth
	if k == 0 {
		if !accumulate {
			for i := i0; i < i1; i++ {
				clear(c[i*ldc+j0 : i*ldc+j1])
			}
		}
		return
	}
	// With a single A panel every packed B panel is used once: pack each
	// just before its use, while it is in L1, instead of a block at a time.
	nc := cfg.nc
	if i1-i0 <= cfg.kern.mr {
		nc = cfg.kern.nr
	}
	for jc := j0; jc < j1; jc += nc {
		jend := min(jc+nc, j1)
		for pc := 0; pc < k; pc += cfg.kc {
			pend := min(pc+cfg.kc, k)
			b.pack(s.b, cfg.kern.nr, jc, jend, pc, pend)
			for ic := i0; ic < i1; ic += cfg.mc {
				iend := min(ic+cfg.mc, i1)
				macroKernel(cfg.kern, a, pc, pend-pc, ic, iend, s.b, jc, jend, c, ldc, accumulate || pc > 0, s.tile)
			}
		}
	}
}

// macroKernel runs the micro-kernel over rows [i0, i1) (a multiple of mr
// from the start of a) and the packed columns [j0, j1) in bbuf, with depth
// kc starting at p0. Tiles that stick out of C are computed into tmp and
// the part that fits is copied.
func macroKernel[T constraints.Float](kern gemmKernel[T], a panels[T], p0, kc, i0, i1 int, bbuf []T, j0, j1 int, c []T, ldc int, accumulate bool, tmp []T) {
	mr, nr := kern.mr, kern.nr
	for j := j0; j < j1; j += nr {
		bp := bbuf[(j-j0)/nr*kc*nr:][:kc*nr]
		cols := min(nr, j1-j)
		for i := i0; i < i1; i += mr {
			ap := a.at(i/mr, p0)[:kc*mr]
			rows := min(mr, i1-i)
			if rows == mr && cols == nr {
				kern.fn(kc, ap, bp, c[i*ldc+j:], ldc, accumulate)
				continue
			}
			kern.fn(kc, ap, bp, tmp, nr, false)
			for r := range rows {
				dst := c[(i+r)*ldc+j:][:cols]
				src := tmp[r*nr:][:cols]
				if accumulate {
					for t, v := range src {
						dst[t] += v
					}
				} else {
					copy(dst, src)
				}
			}
		}
	}
}

// forEachTask calls body(scratch, t) for every task t in [0, n), spread over
// up to GOMAXPROCS goroutines that take tasks in turn; each goroutine makes
// its own scratch with newScratch and, when release is not nil, hands it to
// release at the end.
func forEachTask[S any](n int, newScratch func() S, release func(S), body func(s S, t int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		s := newScratch()
		for t := range n {
			body(s, t)
		}
		if release != nil {
			release(s)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newScratch()
			for t := int(next.Add(1) - 1); t < n; t = int(next.Add(1) - 1) {
				body(s, t)
			}
			if release != nil {
				release(s)
			}
		}()
	}
	wg.Wait()
}
