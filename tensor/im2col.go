package tensor

import "golang.org/x/exp/constraints"

// Convolutions as matrix products (the "im2col" method). For one image x
// (C, H, W), write col(x) for the matrix with one row per kernel tap
// (c, ki, kj) and one column per output pixel (i, j):
//
//	col(x)[(c·KH + ki)·KW + kj, i·OW + j] = x[c, i·s − p + ki, j·s − p + kj]   (0 outside x)
//
// With the weights viewed as a matrix Wm (O × C·KH·KW), the three
// convolution kernels are products:
//
//	forward       y  (O × OH·OW)     = Wm · col(x)
//	weight grad   gw (O × C·KH·KW)  += gy · col(x)ᵀ        (summed over images)
//	input grad    col(gx)            = Wmᵀ · gy, then col2im adds every
//	              entry of col(gx) back onto the pixel of gx it came from
//
// col(x) has KH·KW times as many values as x, so it is never built: the
// operands below read x directly while the GEMM packs its panels.

// convWindow is the geometry of one image's col matrix: input planes of
// h×w, output of oh×ow, kernel kh×kw, stride and padding (top/left).
type convWindow struct {
	c, h, w, kh, kw, oh, ow int
	stride, padH, padW      int
}

func windowOf(g convGeom) convWindow {
	return convWindow{c: g.c, h: g.h, w: g.w, kh: g.kh, kw: g.kw, oh: g.oh, ow: g.ow,
		stride: g.stride, padH: g.padding, padW: g.padding}
}

// rows returns C·KH·KW, the number of rows of col(x).
func (cw convWindow) rows() int { return cw.c * cw.kh * cw.kw }

// validCols returns the range [lo, hi) of output columns j whose input
// column j·s − padW + kj lies inside the image.
func (cw convWindow) validCols(kj int) (lo, hi int) {
	// j·s − padW + kj ≥ 0  ⇔  j ≥ ⌈(padW − kj)/s⌉
	// j·s − padW + kj < w  ⇔  j ≤ ⌊(w − 1 + padW − kj)/s⌋
	lo = max(0, ceilDiv(cw.padW-kj, cw.stride))
	hi = min(cw.ow, floorDiv(cw.w-1+cw.padW-kj, cw.stride)+1)
	return lo, max(lo, hi)
}

// clampRun clamps the range [lo, hi) to [0, n), keeping lo ≤ hi.
func clampRun(lo, hi, n int) (int, int) {
	lo = min(max(lo, 0), n)
	return lo, min(max(hi, lo), n)
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func ceilDiv(a, b int) int { return -floorDiv(-a, b) }

// outputRun is the pixels t … t+n−1 of a panel of output pixels that lie
// in one output row: row i, columns j … j+n−1.
type outputRun struct{ t, i, j, n int }

// outputRuns splits the panel of n output pixels q … q+n−1 (numbered row
// after row of ow) into runs, reusing runs' memory.
func outputRuns(runs []outputRun, q, n, ow int) []outputRun {
	runs = runs[:0]
	for t := 0; t < n; {
		i, j := (q+t)/ow, (q+t)%ow
		r := outputRun{t, i, j, min(n-t, ow-j)}
		runs = append(runs, r)
		t += r.n
	}
	return runs
}

// im2colB is col(x) as the right operand of a product: items are output
// pixels, depth is kernel taps. Packing walks each panel's pixels one output
// row at a time, so that for stride 1 every run is a copy of part of an
// input row.
type im2colB[T constraints.Float] struct {
	x  []T // one image, (C, H, W)
	cw convWindow
}

func (op im2colB[T]) pack(dst []T, w, i0, i1, p0, p1 int) {
	cw := op.cw
	kc := p1 - p0
	// Every tap reads the same runs of pixels and, per kernel column, the
	// same range of valid output columns: work them out once.
	lo, hi := make([]int, cw.kw), make([]int, cw.kw)
	for kj := range cw.kw {
		lo[kj], hi[kj] = cw.validCols(kj)
	}
	runs := make([]outputRun, 0, w/max(1, cw.ow)+2)
	for q := i0; q < i1; q += w {
		panel := dst[(q-i0)/w*kc*w:][:kc*w]
		n := min(w, i1-q)
		runs = outputRuns(runs, q, n, cw.ow)
		c, ki, kj := p0/(cw.kh*cw.kw), p0/cw.kw%cw.kh, p0%cw.kw
		for p := range kc {
			row := panel[p*w:][:w]
			plane := op.x[c*cw.h*cw.w:][:cw.h*cw.w]
			for _, r := range runs {
				seg := row[r.t : r.t+r.n]
				hIn := r.i*cw.stride - cw.padH + ki
				if hIn < 0 || hIn >= cw.h {
					clear(seg)
					continue
				}
				// Output columns j+u for u in [uLo, uHi) read inside the
				// input row; the others read padding.
				src := plane[hIn*cw.w:][:cw.w]
				uLo, uHi := clampRun(lo[kj]-r.j, hi[kj]-r.j, r.n)
				clear(seg[:uLo])
				clear(seg[uHi:])
				if uLo == uHi {
					continue
				}
				v0 := (r.j+uLo)*cw.stride - cw.padW + kj
				if cw.stride == 1 {
					copy(seg[uLo:uHi], src[v0:])
				} else {
					for u := uLo; u < uHi; u++ {
						seg[u] = src[v0+(u-uLo)*cw.stride]
					}
				}
			}
			clear(row[n:])
			// Next tap.
			if kj++; kj == cw.kw {
				kj = 0
				if ki++; ki == cw.kh {
					ki = 0
					c++
				}
			}
		}
	}
}

// im2colTB is col(x)ᵀ as the right operand: items are kernel taps, depth is
// output pixels. Packing walks each tap's pixels along the output rows and
// writes them down a panel column.
type im2colTB[T constraints.Float] struct {
	x  []T
	cw convWindow
}

func (op im2colTB[T]) pack(dst []T, w, i0, i1, p0, p1 int) {
	cw := op.cw
	kc := p1 - p0
	for q := i0; q < i1; q += w {
		panel := dst[(q-i0)/w*kc*w:][:kc*w]
		for t := range w {
			tap := q + t
			if tap >= i1 {
				for p := range kc {
					panel[p*w+t] = 0
				}
				continue
			}
			c, ki, kj := tap/(cw.kh*cw.kw), tap/cw.kw%cw.kh, tap%cw.kw
			plane := op.x[c*cw.h*cw.w:][:cw.h*cw.w]
			lo, hi := cw.validCols(kj)
			// Pixels p0 … p1−1, one output row at a time.
			for p := p0; p < p1; {
				i, j := p/cw.ow, p%cw.ow
				run := min(p1-p, cw.ow-j)
				out := panel[(p-p0)*w+t:]
				hIn := i*cw.stride - cw.padH + ki
				if hIn < 0 || hIn >= cw.h {
					for u := range run {
						out[u*w] = 0
					}
				} else {
					src := plane[hIn*cw.w:][:cw.w]
					uLo, uHi := clampRun(lo-j, hi-j, run)
					for u := range uLo {
						out[u*w] = 0
					}
					for u := uLo; u < uHi; u++ {
						out[u*w] = src[(j+u)*cw.stride-cw.padW+kj]
					}
					for u := uHi; u < run; u++ {
						out[u*w] = 0
					}
				}
				p += run
			}
		}
	}
}

// col2imAdd adds a block of col(gx) — rows are all taps, columns the output
// pixels [j0, j0+n) with row stride ld — onto the image gx (C, H, W), the
// adjoint of reading col(x). Channels are independent, so it runs in
// parallel over c.
func col2imAdd[T constraints.Float](gx []T, cw convWindow, col []T, ld, j0, n int) {
	taps := cw.kh * cw.kw
	parallelFor(cw.c, max(1, elementwiseGrain/max(1, taps*n)), func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			plane := gx[c*cw.h*cw.w:][:cw.h*cw.w]
			for ki := range cw.kh {
				for kj := range cw.kw {
					row := col[((c*cw.kh+ki)*cw.kw+kj)*ld:][:n]
					lo, hi := cw.validCols(kj)
					for p := j0; p < j0+n; {
						i, j := p/cw.ow, p%cw.ow
						run := min(j0+n-p, cw.ow-j)
						hIn := i*cw.stride - cw.padH + ki
						if hIn >= 0 && hIn < cw.h {
							dst := plane[hIn*cw.w:][:cw.w]
							src := row[p-j0:][:run]
							uLo, uHi := clampRun(lo-j, hi-j, run)
							for u := uLo; u < uHi; u++ {
								dst[(j+u)*cw.stride-cw.padW+kj] += src[u]
							}
						}
						p += run
					}
				}
			}
		}
	})
}

// fillBias sets each row of pix values of y (O rows) to its bias b[o], the
// starting value of a product that adds into y; with no bias it does
// nothing (the product then overwrites y).
func fillBias[T constraints.Float](y, b []T, pix int) {
	for o, v := range b {
		row := y[o*pix:][:pix]
		for i := range row {
			row[i] = v
		}
	}
}

// conv2dGEMM is the forward convolution as Wm · col(x) for every image.
func conv2dGEMM[T constraints.Float](kern gemmKernel[T], g convGeom, x, w, b, y []T) {
	cw := windowOf(g)
	k, pix := cw.rows(), g.oh*g.ow
	cfg := defaultGemmConfig(kern)
	wm := packAll[T](strided[T]{w, k, 1}, kern.mr, g.o, k)
	defer wm.release()
	for n := range g.n {
		xn := x[n*g.c*g.h*g.w:][:g.c*g.h*g.w]
		yn := y[n*g.o*pix:][:g.o*pix]
		fillBias(yn, b, pix)
		gemmPacked(cfg, wm, pix, operand[T](im2colB[T]{xn, cw}), yn, pix, b != nil)
	}
}

// conv2dRows is the forward convolution for stride 1 with the micro-kernel
// reading the rows of col(x) where they lie instead of from packed panels
// (an "indirect" GEMM). With stride 1, the nr output pixels j0 … j0+nr−1 of
// output row i read, for tap (c, ki, kj), the nr consecutive input pixels
// x[c, i−p+ki, j0−p+kj …]: a row of B is a piece of an input row. In a
// copy of x padded with zeros on every side (p rows and columns, plus
// enough columns on the right for the last nr pixels of a row), each tap
// is a fixed offset from the tile's first pixel,
//
//	off(c, ki, kj) = (c·Hp + ki)·Wp + kj,   tile base = i·Wp + j0
//
// so one table of K offsets serves every tile and nothing is packed. That
// matters when the output channels are few (the generator's last layer has
// 3): packing col(x) then costs more than the products it feeds.
func conv2dRows[T constraints.Float](kern gemmKernel[T], g convGeom, x, w, b, y []T) {
	mr, nr := kern.mr, kern.nr
	k, pix := g.c*g.kh*g.kw, g.oh*g.ow
	chunks := (g.ow + nr - 1) / nr
	hp, wp := g.h+2*g.padding, chunks*nr+g.kw-1 // wp ≥ w + 2p
	offs := make([]int, 0, k)
	for c := range g.c {
		for ki := range g.kh {
			for kj := range g.kw {
				offs = append(offs, (c*hp+ki)*wp+kj)
			}
		}
	}
	wm := packAll[T](strided[T]{w, k, 1}, mr, g.o, k)
	defer wm.release()
	xp := getScratch[T](g.c * hp * wp)
	defer putScratch(xp)
	kc := min(k, gemmKC)
	for n := range g.n {
		xn := x[n*g.c*g.h*g.w:][:g.c*g.h*g.w]
		yn := y[n*g.o*pix:][:g.o*pix]
		// The padded copy, and the bias as the starting value of y.
		parallelFor(g.c, max(1, elementwiseGrain/(hp*wp)), func(c0, c1 int) {
			for c := c0; c < c1; c++ {
				plane := xp[c*hp*wp:][:hp*wp]
				clear(plane)
				for h := range g.h {
					copy(plane[(h+g.padding)*wp+g.padding:], xn[(c*g.h+h)*g.w:][:g.w])
				}
			}
		})
		fillBias(yn, b, pix)
		// One task per tile of nr output pixels of one output row.
		forEachTask(g.oh*chunks, func() []T { return make([]T, mr*nr) }, nil, func(tmp []T, task int) {
			i, j0 := task/chunks, task%chunks*nr
			base := xp[i*wp+j0:]
			cols := min(nr, g.ow-j0)
			for pc := 0; pc < k; pc += kc {
				pend := min(pc+kc, k)
				acc := b != nil || pc > 0
				for o := 0; o < g.o; o += mr {
					ap := wm.at(o/mr, pc)[:(pend-pc)*mr]
					c := yn[o*pix+i*g.ow+j0:]
					if rows := min(mr, g.o-o); rows == mr && cols == nr {
						kern.rows(pend-pc, ap, base, offs[pc:pend], c, pix, acc)
					} else {
						kern.rows(pend-pc, ap, base, offs[pc:pend], tmp, nr, false)
						for r := range rows {
							dst, src := c[r*pix:][:cols], tmp[r*nr:][:cols]
							if acc {
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
		})
	}
}

// rowsApplies reports whether conv2dRows suits g: stride 1, few output
// channels (with many, every tile rereads all the weights and the packed
// GEMM, which reuses a packed block of x across them, measured as fast or
// faster), and output rows long enough that rounding them up to whole
// tiles of nr wastes little.
func rowsApplies(g convGeom, nr int) bool {
	padded := (g.ow + nr - 1) / nr * nr
	return g.stride == 1 && g.o <= 32 && 8*padded <= 9*g.ow
}

// conv2dWeightGradGEMM is gw = Σₙ gyₙ · col(xₙ)ᵀ.
func conv2dWeightGradGEMM[T constraints.Float](kern gemmKernel[T], g convGeom, x, gy, gw []T) {
	cw := windowOf(g)
	k, pix := cw.rows(), g.oh*g.ow
	cfg := defaultGemmConfig(kern)
	for n := range g.n {
		xn := x[n*g.c*g.h*g.w:][:g.c*g.h*g.w]
		gyn := gy[n*g.o*pix:][:g.o*pix]
		a := packAll[T](strided[T]{gyn, pix, 1}, kern.mr, g.o, pix)
		gemmPacked(cfg, a, k, operand[T](im2colTB[T]{xn, cw}), gw, k, n > 0)
		a.release()
	}
}

// conv2dWeightGradDot is the weight gradient as plain dot products,
//
//	gw[o, c, ki, kj] = Σ_{i,j} gy[o, i, j] · x[c, s·i−p+ki, s·j−p+kj]
//
// for convolutions with few output channels. As a GEMM (gy · col(x)ᵀ) it
// would pack col(x), C·K² rows of pixels, each value used for only O
// products; here each dot product runs along the rows of gy and of the
// image's phases (polyphase.go: for stride 1, a zero-padded copy of x),
// where every tap of an output row is a contiguous run, vectorised along
// the pixels of a row, so nothing is packed. A dot kernel computes mo
// channels by nt taps at a time.
func conv2dWeightGradDot[T constraints.Float](dk dotKernel[T], g convGeom, x, gy, gw []T) {
	mo, nt, lanes := dk.mo, dk.nt, dk.lanes
	k := g.c * g.kh * g.kw
	owv := (g.ow + lanes - 1) / lanes * lanes // gy rows padded to whole vectors
	oPad := (g.o + mo - 1) / mo * mo
	// Phase rows long enough for whole vectors from every tap.
	l := newPhaseLayout(g, owv+(g.kw-1)/g.stride)
	tBlocks, oBlocks := (k+nt-1)/nt, oPad/mo
	offs := make([]int, tBlocks*nt) // taps past k read tap 0; their sums are dropped
	copy(offs, l.offs)
	gyp := getScratch[T](oPad * g.oh * owv)
	xp := getScratch[T](l.size(g.c))
	defer putScratch(gyp)
	defer putScratch(xp)
	for n := range g.n {
		xn := x[n*g.c*g.h*g.w:][:g.c*g.h*g.w]
		gyn := gy[n*g.o*g.oh*g.ow:][:g.o*g.oh*g.ow]
		clear(gyp)
		for o := range g.o {
			for i := range g.oh {
				copy(gyp[(o*g.oh+i)*owv:], gyn[(o*g.oh+i)*g.ow:][:g.ow])
			}
		}
		fillPhases(l, g, xn, xp)
		forEachTask(oBlocks*tBlocks, func() []T { return make([]T, mo*nt) }, nil, func(out []T, task int) {
			ob, tb := task/tBlocks, task%tBlocks
			dk.fn(g.oh, owv/lanes, gyp[ob*mo*g.oh*owv:], g.oh*owv, owv, xp, offs[tb*nt:], l.wq, out)
			for r := range mo {
				o := ob*mo + r
				if o >= g.o {
					break
				}
				for t := range nt {
					tap := tb*nt + t
					if tap >= k {
						break
					}
					if n == 0 {
						gw[o*k+tap] = out[r*nt+t]
					} else {
						gw[o*k+tap] += out[r*nt+t]
					}
				}
			}
		})
	}
}

// conv2dInputGradGEMM is gx = col2im(Wmᵀ · gy), a block of output pixels
// at a time so that the col block stays near 4 MiB.
func conv2dInputGradGEMM[T constraints.Float](kern gemmKernel[T], g convGeom, gy, w, gx []T) {
	cw := windowOf(g)
	k, pix := cw.rows(), g.oh*g.ow
	cfg := defaultGemmConfig(kern)
	wt := packAll[T](strided[T]{w, 1, k}, kern.mr, k, g.o)
	defer wt.release()
	block := min(pix, max(kern.nr, (1<<20)/k/kern.nr*kern.nr))
	col := getScratch[T](k * block)
	defer putScratch(col)
	for n := range g.n {
		gyn := gy[n*g.o*pix:][:g.o*pix]
		gxn := gx[n*g.c*g.h*g.w:][:g.c*g.h*g.w]
		for j0 := 0; j0 < pix; j0 += block {
			nb := min(block, pix-j0)
			gemmPacked(cfg, wt, nb, operand[T](strided[T]{gyn[j0:], 1, pix}), col, nb, false)
			col2imAdd(gxn, cw, col, nb, j0, nb)
		}
	}
}
