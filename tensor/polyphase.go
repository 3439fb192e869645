package tensor

// Strided convolutions by polyphase decomposition.
//
// With stride s, output pixel (i, j) and tap (ki, kj) read the input at
// row s·i − p + ki: consecutive output pixels of a row read every s-th
// input pixel, so the packing routines of the im2col GEMM (im2col.go) copy
// element by element, and the input gradient has to scatter (col2im). Split
// the zero-padded input xp (padding p folded in) into s² phases,
//
//	phase (a, b):  x_ab[u, v] = xp[s·u + a, s·v + b]
//
// and tap (ki, kj) of output pixel (i, j) becomes element
// (i + ki/s, j + kj/s) of phase (ki mod s, kj mod s): a stride-1 access.
// Every tap of every output row is then a contiguous run of one phase
// plane, so packing is copying, as for stride 1. With s = 1 the single
// phase is the padded input itself. The phases are one more pass over x,
// paid once per image.
//
// Measured on CycleGAN's strided convolutions (2 cores): the forward
// convolution and the weight gradient gain 10–50% (the weight gradient of
// the generator's second downsampling 16 → 12.5 ms, the discriminator's
// second layer 6.5 → 4.6 ms forward). The input gradient (the transposed
// convolution) can be split the same way, each phase of gx a stride-1
// correlation of gy with about (K/s)² taps of the kernel; that was tried
// and measured no faster than GEMM + col2im (its products have only C
// rows instead of C·K², too few to keep the micro-kernel busy), so the
// input gradient keeps col2im.

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
func fillPhases[T float](l phaseLayout, g convGeom, xn, buf []T) {
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
// j%ow]: col(x) over a phase buffer, or any stride-1 window over a padded
// copy. Packing copies one run per output row and depth.
type offsetB[T float] struct {
	buf     []T
	offs    []int
	ow, row int
}

func (op offsetB[T]) pack(dst []T, w, i0, i1, p0, p1 int) {
	kc := p1 - p0
	type run struct{ t, base, n int } // pixels t … t+n−1 of the panel start at buf[base] (plus the tap's offset)
	runs := make([]run, 0, w/max(1, op.ow)+2)
	for q := i0; q < i1; q += w {
		panel := dst[(q-i0)/w*kc*w:][:kc*w]
		n := min(w, i1-q)
		runs = runs[:0]
		for t := 0; t < n; {
			i, j := (q+t)/op.ow, (q+t)%op.ow
			r := run{t, i*op.row + j, min(n-t, op.ow-j)}
			runs = append(runs, r)
			t += r.n
		}
		for p := p0; p < p1; p++ {
			row := panel[(p-p0)*w:][:w]
			src := op.buf[op.offs[p]:]
			for _, r := range runs {
				copy(row[r.t:r.t+r.n], src[r.base:r.base+r.n])
			}
			clear(row[n:])
		}
	}
}

// offsetTB is offsetB transposed, the right operand of the weight
// gradient gy·col(x)ᵀ: items are taps, depth is output pixels.
type offsetTB[T float] struct {
	buf     []T
	offs    []int
	ow, row int
}

func (op offsetTB[T]) pack(dst []T, w, i0, i1, p0, p1 int) {
	kc := p1 - p0
	for q := i0; q < i1; q += w {
		panel := dst[(q-i0)/w*kc*w:][:kc*w]
		for t := range w {
			if q+t >= i1 {
				for p := range kc {
					panel[p*w+t] = 0
				}
				continue
			}
			src := op.buf[op.offs[q+t]:]
			// Pixels p0 … p1−1, one output row at a time: a run of src.
			for p := p0; p < p1; {
				i, j := p/op.ow, p%op.ow
				run := min(p1-p, op.ow-j)
				out := panel[(p-p0)*w+t:]
				for u, v := range src[i*op.row+j:][:run] {
					out[u*w] = v
				}
				p += run
			}
		}
	}
}

// conv2dPhases is the forward convolution as Wm · col(x), col(x) read from
// the phases of each image.
func conv2dPhases[T float](kern gemmKernel[T], g convGeom, x, w, b, y []T) {
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
		if b != nil {
			for o := range g.o {
				row := yn[o*pix:][:pix]
				for i := range row {
					row[i] = b[o]
				}
			}
		}
		gemmPacked(cfg, wm, pix, operand[T](offsetB[T]{buf, l.offs, g.ow, l.wq}), yn, pix, b != nil)
	}
}

// conv2dWeightGradPhases is gw = Σₙ gyₙ · col(xₙ)ᵀ with col(x) read from
// the phases of each image.
func conv2dWeightGradPhases[T float](kern gemmKernel[T], g convGeom, x, gy, gw []T) {
	k, pix := g.c*g.kh*g.kw, g.oh*g.ow
	cfg := defaultGemmConfig(kern)
	l := newPhaseLayout(g, 0)
	buf := getScratch[T](l.size(g.c))
	defer putScratch(buf)
	for n := range g.n {
		fillPhases(l, g, x[n*g.c*g.h*g.w:][:g.c*g.h*g.w], buf)
		a := packAll[T](strided[T]{gy[n*g.o*pix:][:g.o*pix], pix, 1}, kern.mr, g.o, pix)
		gemmPacked(cfg, a, k, operand[T](offsetTB[T]{buf, l.offs, g.ow, l.wq}), gw, k, n > 0)
		a.release()
	}
}
