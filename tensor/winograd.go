package tensor

import "golang.org/x/exp/constraints"

// Winograd's minimal filtering F(4×4, 3×3) for 3×3, stride-1 convolutions
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
//
// A 4×4 block of outputs needs a 6×6 tile d of the input. Computed
// directly it costs 16·9 = 144 multiplications per channel pair; Winograd's
// method computes it as
//
//	Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// where g is the 3×3 kernel, ⊙ multiplies elementwise, and
//
//	     ⎡4  0 −5  0  1  0⎤         ⎡ 1/4    0     0 ⎤        ⎡1  1  1  1  1  0⎤
//	     ⎢0 −4 −4  1  1  0⎥         ⎢−1/6  −1/6  −1/6⎥   Aᵀ = ⎢0  1 −1  2 −2  0⎥
//	Bᵀ = ⎢0  4 −4 −1  1  0⎥     G = ⎢−1/6   1/6  −1/6⎥        ⎢0  1  1  4  4  0⎥
//	     ⎢0 −2 −1  2  1  0⎥         ⎢1/24  1/12   1/6⎥        ⎣0  1 −1  8 −8  1⎦
//	     ⎢0  2 −1 −2  1  0⎥         ⎢1/24 −1/12   1/6⎥
//	     ⎣0  4  0 −5  0  1⎦         ⎣  0     0     1 ⎦
//
// (polynomial interpolation at the points 0, ±1, ±2 and ∞). That is 36
// multiplications per channel pair, 4× fewer, the transforms being cheap
// additions shared by many channel pairs. Summing over input channels
// commutes with Aᵀ·A, so with U = G g Gᵀ per (o, c) and V = Bᵀ d B per
// (c, tile), each of the 36 positions ξ of the 6×6 tile is a matrix
// product over channels:
//
//	M[ξ] (O × tiles) = U[ξ] (O × C) · V[ξ] (C × tiles)
//
// and Y = Aᵀ M A per (o, tile).
//
// The transforms are linear maps too. Flattening a 6×6 tile row by row into
// a vector of 36, Bᵀ d B is the 36×36 matrix Bᵀ⊗Bᵀ (the Kronecker product:
// entry ((i,j), (r,s)) is Bᵀ[i][r]·Bᵀ[j][s]) times d, and likewise
// Aᵀ M A = (Aᵀ⊗Aᵀ) M (16×36) and G g Gᵀ = (G⊗G) g (36×9). Applied to all
// tiles at once, each transform is one more matrix product: 36 rows times a
// column per (channel, tile). Those products do 6–13× the arithmetic of
// the factored transforms, but on the GEMM's vector micro-kernel instead of
// scalar Go, which makes them several times faster. So a Winograd
// convolution is five kinds of GEMM, all on the same kernel:
//
//	U (36 × O·C)         = (G⊗G)   · w           (9 × O·C)            weights
//	V (36 × C·tiles)     = (Bᵀ⊗Bᵀ) · patches     (36 × C·tiles)       input
//	M[ξ] (O × tiles)     = U[ξ]    · V[ξ]        for ξ = 0 … 35       products
//	Y (16 × O·tiles)     = (Aᵀ⊗Aᵀ) · M           (36 × O·tiles)       output
//
// and the operands below arrange the items (columns) of U and V so that the
// results land directly in the panel layout the products read.
//
// The weight gradient is the adjoint of each step. For one tile, with gY
// the 4×4 gradient of the outputs (zero where the tile sticks out of the
// output):
//
//	gM = A gY Aᵀ                     (6×6)      = (A⊗A) gY, (A⊗A) = (Aᵀ⊗Aᵀ)ᵀ
//	gU[o, c] = Σ_tiles gM[o] ⊙ V[c]              (the adjoint of U ⊙ V)
//	gw[o, c] = Gᵀ gU[o, c] G          (3×3)      = (Gᵀ⊗Gᵀ) gU
//
// so it is three transforms and 36 products again, now summing over tiles:
//
//	gU[ξ] (O × C) = gM[ξ] (O × tiles) · V[ξ]ᵀ (tiles × C)
//
// The price is rounding: the transforms scale values by up to 8·8 = 64 and
// add them with alternating signs, so float32 results are off by about
// 1e-5 of the largest output instead of 1e-7 (the tests allow for it).
// Float64 convolutions therefore keep the GEMM path.

// The transform matrices of F(4×4, 3×3).
func winogradMatrices() (bt, g, at [][]float64) {
	bt = [][]float64{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	g = [][]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
	at = [][]float64{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
	return bt, g, at
}

// transpose returns the transpose of a matrix.
func transpose(p [][]float64) [][]float64 {
	t := make([][]float64, len(p[0]))
	for j := range t {
		t[j] = make([]float64, len(p))
		for i := range p {
			t[j][i] = p[i][j]
		}
	}
	return t
}

// kron returns the Kronecker product P⊗P of an r×c matrix P with itself,
// row-major (r² × c²): entry (i·r + j, k·c + l) is P[i][k]·P[j][l], so that
// (P⊗P)·vec(X) = vec(P X Pᵀ) for X flattened row by row.
func kron[T constraints.Float](p [][]float64) []T {
	r, c := len(p), len(p[0])
	out := make([]T, r*r*c*c)
	for i := range r {
		for j := range r {
			for k := range c {
				for l := range c {
					out[(i*r+j)*c*c+k*c+l] = T(p[i][k] * p[j][l])
				}
			}
		}
	}
	return out
}

// winogradPlan holds the sizes of one Winograd convolution.
type winogradPlan struct {
	g       convGeom
	th, tw  int // tiles down and across one image
	tiles   int // th·tw
	block   int // tiles per task, a multiple of nr
	blocks  int // tasks per image
	mr, nr  int // micro-kernel tile
	oPad    int // O rounded up to a multiple of mr
	uStride int // distance between the U[ξ] (oPad·C values each)
	vStride int // distance between the V[ξ] (C·block values each)
	mStride int // distance between the M[ξ] (oPad·block values each)
}

// winogradApplies reports whether the dispatch uses conv2dWinograd for g:
// float32, 3×3, stride 1, and enough channels that the transforms pay for
// themselves. (conv2dWinograd itself works for any 3×3 stride-1 g.)
func winogradApplies[T constraints.Float](g convGeom) bool {
	var zero T
	_, f32 := any(zero).(float32)
	return f32 && g.kh == 3 && g.kw == 3 && g.stride == 1 && g.c >= 16 && g.o >= 16
}

// conv2dWinograd computes the 3×3 stride-1 convolution y = conv(x, w) + b by
// F(4×4, 3×3): the weights are transformed once, then each task, a block
// of tiles of one image, transforms its input tiles (V), runs the 36
// products M[ξ] = U[ξ]·V[ξ], and transforms M into outputs.
func conv2dWinograd[T constraints.Float](kern gemmKernel[T], g convGeom, x, w, b, y []T) {
	pl := winogradPlan{g: g, th: (g.oh + 3) / 4, tw: (g.ow + 3) / 4, mr: kern.mr, nr: kern.nr}
	pl.tiles = pl.th * pl.tw
	// About 64 tiles per task: enough columns to reuse each U panel.
	pl.block = max(1, min(64, pl.tiles)/kern.nr) * kern.nr
	pl.blocks = (pl.tiles + pl.block - 1) / pl.block
	pl.oPad = (g.o + kern.mr - 1) / kern.mr * kern.mr
	// The 36 matrices of U, V and M are apart by one cache line more than
	// their size: the products and transforms touch all 36 at once, and
	// strides that are multiples of 4 KiB would crowd them into a few sets
	// of the L1 cache.
	pl.uStride = pl.oPad*g.c + 16
	pl.vStride = g.c*pl.block + 16
	pl.mStride = pl.oPad*pl.block + 16

	cfg := defaultGemmConfig(kern)
	bt, gm, at := winogradMatrices()
	inputT := packAll(strided[T]{kron[T](bt), 36, 1}, kern.mr, 36, 36)
	outputT := packAll(strided[T]{kron[T](at), 36, 1}, kern.mr, 16, 36)
	kernelT := packAll(strided[T]{kron[T](gm), 9, 1}, kern.mr, 36, 9)
	defer inputT.release()
	defer outputT.release()
	defer kernelT.release()

	// U = (G⊗G)·w, on all cores.
	u := getScratch[T](36 * pl.uStride)
	defer putScratch(u)
	gemmPacked(cfg, kernelT, pl.oPad*g.c, operand[T](winogradKernels[T]{w, pl}), u, pl.uStride, false)

	type scratch struct {
		v, m, y []T
		gs      *gemmScratch[T]
	}
	forEachTask(g.n*pl.blocks,
		func() *scratch {
			return &scratch{getScratch[T](36 * pl.vStride), getScratch[T](36 * pl.mStride), getScratch[T](16 * g.o * pl.block),
				newGemmScratch(cfg, max(g.c, g.o)*pl.block)}
		},
		func(s *scratch) {
			putScratch(s.v)
			putScratch(s.m)
			putScratch(s.y)
			s.gs.release()
		},
		func(s *scratch, task int) {
			n, t0 := task/pl.blocks, task%pl.blocks*pl.block
			xn := x[n*g.c*g.h*g.w:][:g.c*g.h*g.w]
			yn := y[n*g.o*g.oh*g.ow:][:g.o*g.oh*g.ow]
			// V = (Bᵀ⊗Bᵀ)·patches.
			tiles := winogradTiles[T]{patches: im2colB[T]{xn, tileWindow(g.c, g.h, g.w, 6, g.padding, pl.th, pl.tw)},
				tiles: pl.tiles, t0: t0, block: pl.block}
			gemmRect(cfg, inputT, operand[T](tiles), s.v, pl.vStride, false, 0, 36, 0, g.c*pl.block, s.gs)
			winogradProducts(pl, kern, u, s.v, s.m)
			// Y = (Aᵀ⊗Aᵀ)·M, the items of M being (o, tile) pairs.
			ny := g.o * pl.block
			gemmRect(cfg, outputT, operand[T](strided[T]{s.m, 1, pl.mStride}), s.y, ny, false, 0, 16, 0, ny, s.gs)
			winogradScatter(pl, s.y, b, t0, yn)
		})
}

// conv2dWeightGradWinograd computes the weight gradient of a 3×3 stride-1
// convolution by F(4×4, 3×3) (see the top of the file), a chunk of up to
// 256 tiles of one image at a time: transform the input tiles (V) and the
// output-gradient tiles (gM) of the chunk, add the 36 products
// gM[ξ]·V[ξ]ᵀ into gU, and finally gw = (Gᵀ⊗Gᵀ)·gU.
//
// The products sum over tiles, so their panels run along tiles: an A panel
// of gM[ξ] holds mr output channels per tile, a B panel of V[ξ]ᵀ nr input
// channels per tile. The transforms write their results in exactly that
// order (winogradChannelTiles), and the products need no packing.
func conv2dWeightGradWinograd[T constraints.Float](kern gemmKernel[T], g convGeom, x, gy, gw []T) {
	mr, nr := kern.mr, kern.nr
	th, tw := (g.oh+3)/4, (g.ow+3)/4
	tiles := th * tw
	chunk := min(256, tiles)
	oPad, cPad := (g.o+mr-1)/mr*mr, (g.c+nr-1)/nr*nr
	// Strides one cache line longer than the matrices, as in conv2dWinograd.
	vStride, mStride, uStride := cPad*chunk+16, oPad*chunk+16, oPad*cPad+16
	v, gm, gu := getScratch[T](36*vStride), getScratch[T](36*mStride), getScratch[T](36*uStride)
	defer putScratch(v)
	defer putScratch(gm)
	defer putScratch(gu)

	cfg := defaultGemmConfig(kern)
	bt, gmat, at := winogradMatrices()
	inputT := packAll(strided[T]{kron[T](bt), 36, 1}, mr, 36, 36)
	gradT := packAll(strided[T]{kron[T](transpose(at)), 16, 1}, mr, 36, 16)
	kernelT := packAll(strided[T]{kron[T](transpose(gmat)), 36, 1}, mr, 9, 36)
	defer inputT.release()
	defer gradT.release()
	defer kernelT.release()

	for n := range g.n {
		xn := x[n*g.c*g.h*g.w:][:g.c*g.h*g.w]
		gyn := gy[n*g.o*g.oh*g.ow:][:g.o*g.oh*g.ow]
		for t0 := 0; t0 < tiles; t0 += chunk {
			// V = (Bᵀ⊗Bᵀ)·input tiles in B panels of nr channels, and
			// gM = (A⊗A)·gradient tiles in A panels of mr channels.
			xt := winogradChannelTiles[T]{cw: tileWindow(g.c, g.h, g.w, 6, g.padding, th, tw), x: xn,
				tiles: tiles, t0: t0, chunk: chunk, lanes: nr}
			gemmPacked(cfg, inputT, cPad*chunk, operand[T](xt), v, vStride, false)
			gt := winogradChannelTiles[T]{cw: tileWindow(g.o, g.oh, g.ow, 4, 0, th, tw), x: gyn,
				tiles: tiles, t0: t0, chunk: chunk, lanes: mr}
			gemmPacked(cfg, gradT, oPad*chunk, operand[T](gt), gm, mStride, false)
			// gU[ξ] (+)= gM[ξ]·V[ξ]ᵀ, the 36 products spread over the cores.
			acc := n > 0 || t0 > 0
			kc := min(chunk, 256)
			forEachTask(36, func() struct{} { return struct{}{} }, nil, func(_ struct{}, xi int) {
				gmxi, vxi, guxi := gm[xi*mStride:], v[xi*vStride:], gu[xi*uStride:]
				for pc := 0; pc < chunk; pc += kc {
					k := min(kc, chunk-pc)
					for jp := range cPad / nr {
						bp := vxi[jp*chunk*nr+pc*nr:][:k*nr]
						for ip := range oPad / mr {
							ap := gmxi[ip*chunk*mr+pc*mr:][:k*mr]
							kern.fn(k, ap, bp, guxi[ip*mr*cPad+jp*nr:], cPad, acc || pc > 0)
						}
					}
				}
			})
		}
	}
	// gw = (Gᵀ⊗Gᵀ)·gU: a 9 × oPad·cPad result, then turned into (O, C, 3, 3).
	ocPad := oPad * cPad
	taps := getScratch[T](9 * ocPad)
	defer putScratch(taps)
	gemmPacked(cfg, kernelT, ocPad, operand[T](strided[T]{gu, 1, uStride}), taps, ocPad, false)
	parallelFor(g.o, max(1, elementwiseGrain/(9*g.c)), func(lo, hi int) {
		for o := lo; o < hi; o++ {
			dst := gw[o*g.c*9:][:g.c*9]
			for k := range 9 {
				for c, val := range taps[k*ocPad+o*cPad:][:g.c] {
					dst[c*9+k] = val
				}
			}
		}
	})
}

// winogradChannelTiles is a chunk of the tiles of one image's planes as
// the right operand of a weight-gradient transform, (Bᵀ⊗Bᵀ)·input tiles or
// (A⊗A)·gradient tiles: depth is the positions of a tile, and the items,
// one per (plane, tile) pair, are ordered so that row ξ of the result is in
// panels of `lanes` planes running along the tiles:
//
//	item (c/lanes)·chunk·lanes + (t−t0)·lanes + c%lanes  is tile t of plane c
//
// (planes past the last, and tiles past the last, are zero). Packing
// gathers the same pixel of `lanes` planes at a time.
type winogradChannelTiles[T constraints.Float] struct {
	cw                      convWindow // the planes and the tile window
	x                       []T
	tiles, t0, chunk, lanes int
}

func (op winogradChannelTiles[T]) pack(dst []T, width, i0, i1, p0, p1 int) {
	cw := op.cw
	kc := p1 - p0
	plane := cw.h * cw.w
	// Zero the slots past i1 in the last panel.
	for item := i1; (item-i0)%width != 0; item++ {
		q, lane := (item-i0)/width, (item-i0)%width
		for p := range kc {
			dst[q*kc*width+p*width+lane] = 0
		}
	}
	// Walk the items a run at a time: consecutive planes of one tile that
	// land side by side in one panel. Each plane's tile is read row by row
	// (reading across the planes instead would touch `lanes` cache lines
	// 16 KiB apart, all in the same L1 set, for every value).
	for item := i0; item < i1; {
		block, rest := item/(op.chunk*op.lanes), item%(op.chunk*op.lanes)
		c, t := block*op.lanes+rest%op.lanes, op.t0+rest/op.lanes
		pos := item - i0
		n := min(op.lanes-rest%op.lanes, i1-item, width-pos%width)
		base := dst[pos/width*kc*width+pos%width:]
		valid := 0 // planes of the run inside the image's planes
		if t < op.tiles {
			valid = max(0, min(n, cw.c-c))
		}
		h0 := t/cw.ow*cw.stride - cw.padH
		w0 := t%cw.ow*cw.stride - cw.padW
		inside := h0 >= 0 && w0 >= 0 && h0+cw.kh <= cw.h && w0+cw.kw <= cw.w
		for l := range n {
			if l >= valid {
				for p := range kc {
					base[p*width+l] = 0
				}
				continue
			}
			src := op.x[(c+l)*plane:][:plane]
			if p0 == 0 && p1 == cw.kh*cw.kw {
				gatherTile(base[l:], width, src, cw.h, cw.w, h0, w0, cw.kh)
				continue
			}
			for r := range cw.kh {
				hh := h0 + r
				for s := range cw.kw {
					p := r*cw.kw + s
					if p < p0 || p >= p1 {
						continue
					}
					var val T
					if ww := w0 + s; inside || (hh >= 0 && hh < cw.h && ww >= 0 && ww < cw.w) {
						val = src[hh*cw.w+ww]
					}
					base[(p-p0)*width+l] = val
				}
			}
		}
		item += n
	}
}

// winogradKernels is the weights as the right operand of U = (G⊗G)·w:
// depth is the 9 taps of a kernel, and the items, one per (o, c) pair, are
// ordered so that row ξ of the result is U[ξ] packed as A panels of mr
// output channels: item (o/mr)·C·mr + c·mr + o%mr is kernel w[o, c]. Items
// with o ≥ O are zero.
type winogradKernels[T constraints.Float] struct {
	w  []T
	pl winogradPlan
}

func (op winogradKernels[T]) pack(dst []T, width, i0, i1, p0, p1 int) {
	c, mr := op.pl.g.c, op.pl.mr
	kc := p1 - p0
	for item := i0; item < i1; item++ {
		q, t := (item-i0)/width, (item-i0)%width
		out := dst[q*kc*width+t:]
		o := item/(c*mr)*mr + item%mr
		ci := item / mr % c
		if o >= op.pl.g.o {
			for p := range kc {
				out[p*width] = 0
			}
			continue
		}
		src := op.w[(o*c+ci)*9:][:9]
		for p := p0; p < p1; p++ {
			out[(p-p0)*width] = src[p]
		}
	}
	for t := i1 - i0; t%width != 0; t++ {
		for p := range kc {
			dst[t/width*kc*width+p*width+t%width] = 0
		}
	}
}

// winogradTiles is the input tiles of one image as the right operand of
// V = (Bᵀ⊗Bᵀ)·patches: depth is the 36 positions (r, s) of a 6×6 tile, and
// the items, one per (channel, tile) pair of the task's block of tiles
// [t0, t0+block), are ordered so that row ξ of the result is V[ξ] in B
// panels of nr tiles:
//
//	item (tl/nr)·C·nr + c·nr + tl%nr  is tile t0 + tl of channel c
//
// A panel is nr consecutive tiles of one channel, which are the columns of
// col(x) for a 6×6 window with stride 4.
type winogradTiles[T constraints.Float] struct {
	patches   im2colB[T] // the image and the tile window
	tiles     int        // tiles per plane
	t0, block int
}

func (op winogradTiles[T]) pack(dst []T, width, i0, i1, p0, p1 int) {
	cw := op.patches.cw
	taps := cw.kh * cw.kw
	if i0%width != 0 || op.block%width != 0 {
		panic("winogradTiles: panels must not straddle planes")
	}
	kc := p1 - p0
	for q := i0; q < i1; q += width {
		c, tl := q/width%cw.c, q/(cw.c*width)*width
		t := op.t0 + tl
		panel := dst[(q-i0)/width*kc*width:][:kc*width]
		n := min(width, i1-q, op.tiles-t, op.block-tl)
		switch {
		case n <= 0:
			clear(panel)
		case p0 == 0 && p1 == taps:
			// Whole tiles: copy each one down its lane.
			plane := op.patches.x[c*cw.h*cw.w:][:cw.h*cw.w]
			for lane := range n {
				ti, tj := (t+lane)/cw.ow, (t+lane)%cw.ow
				gatherTile(panel[lane:], width, plane, cw.h, cw.w, ti*cw.stride-cw.padH, tj*cw.stride-cw.padW, cw.kh)
			}
			for lane := n; lane < width; lane++ {
				for p := range kc {
					panel[p*width+lane] = 0
				}
			}
		default:
			op.patches.pack(panel, width, t, t+n, c*taps+p0, c*taps+p1)
		}
	}
}

// gatherTile copies the size×size tile of a plane (h×w) whose top left
// corner is (h0, w0) into dst, position (r, s) of the tile to
// dst[(r·size + s)·stride], with zeros where the tile leaves the plane.
func gatherTile[T constraints.Float](dst []T, stride int, plane []T, h, w, h0, w0, size int) {
	if h0 >= 0 && w0 >= 0 && h0+size <= h && w0+size <= w {
		for r := range size {
			row := plane[(h0+r)*w+w0:][:size]
			out := dst[r*size*stride:]
			for s, v := range row {
				out[s*stride] = v
			}
		}
		return
	}
	for r := range size {
		for s := range size {
			var v T
			if hh, ww := h0+r, w0+s; hh >= 0 && hh < h && ww >= 0 && ww < w {
				v = plane[hh*w+ww]
			}
			dst[(r*size+s)*stride] = v
		}
	}
}

// tileWindow returns the window of the tiles of F(4×4, 3×3) over planes of
// h×w: size×size tiles (6 for inputs, 4 for output gradients) every 4
// pixels from (−pad, −pad), on the th×tw grid of the output's 4×4 blocks.
func tileWindow(planes, h, w, size, pad, th, tw int) convWindow {
	return convWindow{c: planes, h: h, w: w, kh: size, kw: size, oh: th, ow: tw, stride: 4, padH: pad, padW: pad}
}

// winogradProducts computes M[ξ] (oPad × block, row-major) = U[ξ]·V[ξ] for
// the 36 positions, both operands already in panels. The micro-kernel
// takes up to 256 channels per call: the V panel (256·nr values) then
// lives in L2 rather than L1, but fewer passes over M measured faster.
func winogradProducts[T constraints.Float](pl winogradPlan, kern gemmKernel[T], u, v, m []T) {
	c := pl.g.c
	kcMax := min(c, 256)
	for xi := range 36 {
		uxi := u[xi*pl.uStride:][:pl.oPad*c]
		vxi := v[xi*pl.vStride:][:c*pl.block]
		mxi := m[xi*pl.mStride:][:pl.oPad*pl.block]
		for pc := 0; pc < c; pc += kcMax {
			kc := min(kcMax, c-pc)
			for jp := range pl.block / pl.nr {
				bp := vxi[jp*c*pl.nr+pc*pl.nr:][:kc*pl.nr]
				for ip := range pl.oPad / pl.mr {
					ap := uxi[ip*c*pl.mr+pc*pl.mr:][:kc*pl.mr]
					kern.fn(kc, ap, bp, mxi[ip*pl.mr*pl.block+jp*pl.nr:], pl.block, pc > 0)
				}
			}
		}
	}
}

// winogradScatter writes the output blocks Y (16 × O·block: row 4r+s,
// column o·block + tl holds output (r, s) of tile t0 + tl) into y (O, OH,
// OW), adding the bias and dropping what falls outside the output.
func winogradScatter[T constraints.Float](pl winogradPlan, yt, b []T, t0 int, y []T) {
	g := pl.g
	ld := g.o * pl.block
	nt := min(pl.block, pl.tiles-t0)
	for o := range g.o {
		var bias T
		if b != nil {
			bias = b[o]
		}
		plane := y[o*g.oh*g.ow:][:g.oh*g.ow]
		for rs := range 16 {
			r, s := rs/4, rs%4
			src := yt[rs*ld+o*pl.block:][:nt]
			// The block's tiles, one row of tiles at a time.
			for tl := 0; tl < nt; {
				ti, tj := (t0+tl)/pl.tw, (t0+tl)%pl.tw
				run := min(nt-tl, pl.tw-tj)
				if i := 4*ti + r; i < g.oh {
					row := plane[i*g.ow:][:g.ow]
					// Column 4·(tj+u) + s must be inside the row.
					n := min(run, (g.ow-s+3)/4-tj)
					for u, v := range src[tl : tl+n] {
						row[4*(tj+u)+s] = v + bias
					}
				}
				tl += run
			}
		}
	}
}
