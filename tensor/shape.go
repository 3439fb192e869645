package tensor

import (
	"fmt"
	"slices"
	"strings"
)

// Shape is the size of each axis, outermost first. A Shape of length 0 is a
// scalar (one element).
type Shape []int

// Numel returns the number of elements, the product of the sizes.
func (s Shape) Numel() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether s and t have the same rank and sizes.
func (s Shape) Equal(t Shape) bool { return slices.Equal(s, t) }

// Clone returns a copy of s that shares no memory with it.
func (s Shape) Clone() Shape { return slices.Clone(s) }

// String formats s as (2, 3, 4).
func (s Shape) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// Strides returns the row-major element strides of s: the last axis has
// stride 1.
func (s Shape) Strides() []int {
	st := make([]int, len(s))
	acc := 1
	for i := len(s) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= s[i]
	}
	return st
}

// BroadcastShapes returns the shape that NumPy broadcasting gives to operands
// of shapes a and b: axes are aligned from the right and a size-1 axis
// stretches to the other size. It returns an error when two sizes differ and
// neither is 1.
func BroadcastShapes(a, b Shape) (Shape, error) {
	n := max(len(a), len(b))
	out := make(Shape, n)
	for i := range n {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// broadcastStrides returns strides that read a tensor of shape s as if it
// had shape out (which s must broadcast to): stretched axes get stride 0.
func broadcastStrides(s, out Shape) []int {
	st := make([]int, len(out))
	own := s.Strides()
	off := len(out) - len(s)
	for i := range out {
		j := i - off
		if j < 0 || s[j] == 1 {
			continue
		}
		st[i] = own[j]
	}
	return st
}

// NormAxis turns a possibly negative axis into its index in a rank-r shape,
// panicking with op's name when it is out of range.
func NormAxis(op string, axis, rank int) int {
	a := axis
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		panic(fmt.Sprintf("%s: axis %d out of range for rank %d", op, axis, rank))
	}
	return a
}

// ReducedShape returns s with the given axes set to 1 (the keep-dims shape of
// a reduction over axes). With no axes, every axis is reduced.
func ReducedShape(s Shape, axes []int) Shape {
	out := s.Clone()
	if len(axes) == 0 {
		for i := range out {
			out[i] = 1
		}
		return out
	}
	for _, a := range axes {
		out[NormAxis("reduce", a, len(s))] = 1
	}
	return out
}
