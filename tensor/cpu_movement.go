package tensor

import (
	"fmt"

	"golang.org/x/exp/constraints"
)

// stridedCopy copies the elements of an array of shape s: element idx is read
// from src[sbase + Σ idx·sst] and written to dst[dbase + Σ idx·dst]. All
// movement primitives are this loop with different strides.
func stridedCopy[T constraints.Float](s Shape, dst []T, dbase int, dstr []int, src []T, sbase int, sstr []int) {
	if s.Numel() == 0 {
		return
	}
	it := newRowIter(s, dstr, sstr)
	offs := make([]int, 2)
	for r := range it.rows {
		it.offsets(r, offs)
		d, sd := dbase+offs[0], sbase+offs[1]
		di, si := it.inner[0], it.inner[1]
		if di == 1 && si == 1 {
			copy(dst[d:d+it.n], src[sd:sd+it.n])
			continue
		}
		if di == 1 && si == 0 { // broadcasting one value along the row
			v, row := src[sd], dst[d:d+it.n]
			for i := range row {
				row[i] = v
			}
			continue
		}
		for i := range it.n {
			dst[d+i*di] = src[sd+i*si]
		}
	}
}

// copyTo dispatches stridedCopy on the dtype of x.
func copyTo(s Shape, dst *Tensor, dbase int, dstr []int, src *Tensor, sbase int, sstr []int) {
	switch d := dst.data.(type) {
	case []float32:
		stridedCopy(s, d, dbase, dstr, src.data.([]float32), sbase, sstr)
	case []float64:
		stridedCopy(s, d, dbase, dstr, src.data.([]float64), sbase, sstr)
	}
}

func (cpuBackend) Expand(x *Tensor, s Shape) *Tensor {
	checkCPU("expand", x)
	CheckExpand(x.shape, s)
	out := newUninit(x, s)
	defer keepAlive(x)
	copyTo(s, out, 0, s.Strides(), x, 0, broadcastStrides(x.shape, s))
	return out
}

func (cpuBackend) Permute(x *Tensor, perm []int) *Tensor {
	checkCPU("permute", x)
	s, st := PermuteShape(x.shape, perm)
	out := newUninit(x, s)
	defer keepAlive(x)
	copyTo(s, out, 0, s.Strides(), x, 0, st)
	return out
}

// checkBox panics unless 0 ≤ start ≤ end ≤ shape on every axis.
func checkBox(op string, s Shape, start, end []int) Shape {
	if len(start) != len(s) || len(end) != len(s) {
		panic(fmt.Sprintf("%s: start %v, end %v for shape %v", op, start, end, s))
	}
	out := make(Shape, len(s))
	for i := range s {
		if start[i] < 0 || end[i] > s[i] || start[i] > end[i] {
			panic(fmt.Sprintf("%s: range [%v, %v) outside shape %v", op, start, end, s))
		}
		out[i] = end[i] - start[i]
	}
	return out
}

func offsetOf(start, strides []int) int {
	o := 0
	for i, v := range start {
		o += v * strides[i]
	}
	return o
}

func (cpuBackend) Slice(x *Tensor, start, end []int) *Tensor {
	checkCPU("slice", x)
	s := SliceShape(x.shape, start, end)
	out := newUninit(x, s)
	defer keepAlive(x)
	xs := x.shape.Strides()
	copyTo(s, out, 0, s.Strides(), x, offsetOf(start, xs), xs)
	return out
}

func (cpuBackend) Pad(x *Tensor, before, after []int) *Tensor {
	checkCPU("pad", x)
	s := PadShape(x.shape, before, after)
	out := newLike(x, s)
	defer keepAlive(x)
	os := s.Strides()
	copyTo(x.shape, out, offsetOf(before, os), os, x, 0, x.shape.Strides())
	return out
}

func (cpuBackend) Concat(axis int, xs []*Tensor) *Tensor {
	if len(xs) == 0 {
		panic("concat: no tensors")
	}
	checkCPU("concat", xs...)
	s, axis := ConcatShape(axis, xs)
	out := newUninit(xs[0], s)
	defer keepAlive(xs...)
	os := s.Strides()
	at := 0
	for _, x := range xs {
		copyTo(x.shape, out, at*os[axis], os, x, 0, x.shape.Strides())
		at += x.shape[axis]
	}
	return out
}

// reflect maps a padded coordinate k (may be negative or ≥ n) to the input
// coordinate it mirrors, without repeating the edge.
func reflect(k, n int) int {
	if k < 0 {
		return -k
	}
	if k >= n {
		return 2*(n-1) - k
	}
	return k
}

func checkReflect(op string, s Shape, p Pad2d) (h, w int) {
	if len(s) < 2 {
		panic(fmt.Sprintf("%s: shape %v has fewer than 2 axes", op, s))
	}
	h, w = s[len(s)-2], s[len(s)-1]
	if p.Left < 0 || p.Right < 0 || p.Top < 0 || p.Bottom < 0 {
		panic(fmt.Sprintf("%s: negative padding %+v", op, p))
	}
	return h, w
}

func (cpuBackend) ReflectPad2d(x *Tensor, p Pad2d) *Tensor {
	checkCPU("reflect_pad2d", x)
	s, h, w := ReflectPad2dShape(x.shape, p)
	out := newUninit(x, s)
	defer keepAlive(x)
	switch d := x.data.(type) {
	case []float32:
		reflectPad(out.data.([]float32), d, h, w, p, false)
	case []float64:
		reflectPad(out.data.([]float64), d, h, w, p, false)
	}
	return out
}

func (cpuBackend) ReflectPad2dAdjoint(g *Tensor, p Pad2d) *Tensor {
	checkCPU("reflect_pad2d_adjoint", g)
	s, h, w := ReflectPad2dAdjointShape(g.shape, p)
	out := newLike(g, s)
	defer keepAlive(g)
	switch d := g.data.(type) {
	case []float32:
		reflectPad(d, out.data.([]float32), h, w, p, true)
	case []float64:
		reflectPad(d, out.data.([]float64), h, w, p, true)
	}
	return out
}

// reflectPad moves data between padded planes pad (h+t+b, w+l+r) and input
// planes x (h, w): forward copies x into pad; adjoint adds pad into x.
func reflectPad[T constraints.Float](pad, x []T, h, w int, p Pad2d, adjoint bool) {
	ph, pw := h+p.Top+p.Bottom, w+p.Left+p.Right
	planes := len(x) / (h * w)
	cols := make([]int, pw)
	for j := range cols {
		cols[j] = reflect(j-p.Left, w)
	}
	parallelFor(planes, max(1, elementwiseGrain/(ph*pw)), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp := x[pl*h*w : (pl+1)*h*w]
			pp := pad[pl*ph*pw : (pl+1)*ph*pw]
			for i := range ph {
				xrow := xp[reflect(i-p.Top, h)*w:][:w]
				prow := pp[i*pw:][:pw]
				// The middle of a padded row is the input row itself;
				// only the borders need the reflected indices.
				mid := prow[p.Left : p.Left+w]
				if adjoint {
					for j, v := range mid {
						xrow[j] += v
					}
					for j := range p.Left {
						xrow[cols[j]] += prow[j]
					}
					for j := p.Left + w; j < pw; j++ {
						xrow[cols[j]] += prow[j]
					}
				} else {
					copy(mid, xrow)
					for j := range p.Left {
						prow[j] = xrow[cols[j]]
					}
					for j := p.Left + w; j < pw; j++ {
						prow[j] = xrow[cols[j]]
					}
				}
			}
		}
	})
}
