package tensor

import "golang.org/x/exp/constraints"

// Convolutions over the phases of the input.
//
// With stride s, output pixel (i, j) and tap (ki, kj) read the input at
// row s·i − p + ki: consecutive output pixels of a row read every s-th
// input pixel. Split the zero-padded input xp (padding p folded in) into
// its s² phases,
//
//	phase (a, b):  x_ab[u, v] = xp[s·u + a, s·v + b]
//
// and tap (ki, kj) of output pixel (i, j) becomes element
// (i + ki/s, j + kj/s) of phase (ki mod s, kj mod s): every tap of every
// output row is a contiguous run of one phase plane. With s = 1 the single
// phase is the zero-padded input itself.
//
// The layout costs one pass over x per image. For stride 1 it pays: the
// im2col GEMM packs from the padded copy with plain copies instead of runs
// clamped at the image borders (the discriminator's 4×4 layer and the
// generator's 7×7 stem, 3–10% faster), and the dot-product weight gradient
// reads it. For stride 2 it was measured slower on every CycleGAN layer
// (the generator's 3×3 downsamplings 10–20%, the discriminator's 4×4 ones
// about even): packing at stride 2 from x costs less than the extra pass,
// and the transposed problem (the input gradient split into the phases of gx,
// each a stride-1 correlation with (K/s)² taps) gave GEMMs with only C rows,
// no faster than col2im. So strided convolutions keep im2col.go's paths;
// the layout is written for any stride all the same, and the tests run it
// with stride 2 too.

// phaseLayout places one image's phases in a buffer: channel c, phase
// (a, b) is the plane of hq×wq values at ((c·s + a)·s + b)·hq·wq, and tap
// t = (c, ki, kj) of output pixel (i, j) is buf[offs[t] + i·wq + j].
type phaseLayout struct {
	s, hq, wq int
	offs      []int // per tap, in the order of the weights (c, ki, kj)
}

// newPhaseLayout returns the layout for geometry g with phase rows at least
// minW wide (readers that run past the output row need zeros there).
func newPhaseLayout(g convGeom, minW int) phaseLayout {
	s := g.stride
	l := phaseLayout{s: s, hq: g.oh + (g.kh-1)/s, wq: max(g.ow+(g.kw-1)/s, minW)}
	l.offs = make([]int, 0, g.c*g.kh*g.kw)
	for c := range g.c {
		for ki := range g.kh {
			for kj := range g.kw {
				plane := (c*s+ki%s)*s + kj%s
				l.offs = append(l.offs, plane*l.hq*l.wq+(ki/s)*l.wq+kj/s)
			}
		}
	}
	return l
}

// size returns the buffer length for c channels.
func (l phaseLayout) size(c int) int { return c * l.s * l.s * l.hq * l.wq }

// fill writes the phases of one image xn (C, H, W) into buf, zeros where
// they fall in the padding, in parallel over channels.
func fillPhases[T constraints.Float](l phaseLayout, g convGeom, xn, buf []T) {
	s, plane := l.s, l.hq*l.wq
	parallelFor(g.c, max(1, elementwiseGrain/(s*s*plane)), func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			src := xn[c*g.h*g.w:][:g.h*g.w]
			for a := range s {
				for b := range s {
					dst := buf[((c*s+a)*s+b)*plane:][:plane]
					// Columns v with input column s·v + b − p inside the row.
					vLo := min(l.wq, max(0, ceilDiv(g.padding-b, s)))
					vHi := max(vLo, min(l.wq, floorDiv(g.w-1+g.padding-b, s)+1))
					for u := range l.hq {
						row := dst[u*l.wq:][:l.wq]
						r := s*u + a - g.padding
						if r < 0 || r >= g.h || vLo == vHi {
							clear(row)
							continue
						}
						clear(row[:vLo])
						clear(row[vHi:])
						in := src[r*g.w:][:g.w]
						if s == 1 {
							copy(row[vLo:vHi], in[vLo-g.padding+b:])
							continue
						}
						for v := vLo; v < vHi; v++ {
							row[v] = in[s*v+b-g.padding]
						}
					}
				}
			}
		}
	})
}

// offsetB is the right operand of a product whose item j is an output
// pixel (j/ow, j%ow) and whose depth p reads buf[offs[p] + (j/ow)·row +
// j%ow]: col(x) over the phases of x. Packing copies one run per output
// row and depth.
type offsetB[T constraints.Float] struct {
	buf     []T
	offs    []int
	ow, row int
}

func (op offsetB[T]) pack(dst []T, w, i0, i1, p0, p1 int) {
	kc := p1 - p0
	runs := make([]outputRun, 0, w/max(1, op.ow)+2)
	for q := i0; q < i1; q += w {
		panel := dst[(q-i0)/w*kc*w:][:kc*w]
		n := min(w, i1-q)
		runs = outputRuns(runs, q, n, op.ow)
		for p := p0; p < p1; p++ {
			row := panel[(p-p0)*w:][:w]
			src := op.buf[op.offs[p]:]
			for _, r := range runs {
				copy(row[r.t:r.t+r.n], src[r.i*op.row+r.j:][:r.n])
			}
			clear(row[n:])
		}
	}
}

// conv2dPhases is the forward convolution as Wm · col(x), col(x) read from
// the phases of each image.
func conv2dPhases[T constraints.Float](kern gemmKernel[T], g convGeom, x, w, b, y []T) {
	k, pix := g.c*g.kh*g.kw, g.oh*g.ow
	cfg := defaultGemmConfig(kern)
	wm := packAll[T](strided[T]{w, k, 1}, kern.mr, g.o, k)
	defer wm.release()
	l := newPhaseLayout(g, 0)
	buf := getScratch[T](l.size(g.c))
	defer putScratch(buf)
	for n := range g.n {
		fillPhases(l, g, x[n*g.c*g.h*g.w:][:g.c*g.h*g.w], buf)
		yn := y[n*g.o*pix:][:g.o*pix]
		fillBias(yn, b, pix)
		gemmPacked(cfg, wm, pix, operand[T](offsetB[T]{buf, l.offs, g.ow, l.wq}), yn, pix, b != nil)
	}
}
