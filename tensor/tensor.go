package tensor

import (
	"fmt"
	"strings"
)

// DType is the element type of a tensor.
type DType uint8

const (
	// Float32 is used for training and inference.
	Float32 DType = iota
	// Float64 is used on the CPU for gradient checks, where central
	// differences need the extra precision.
	Float64
)

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Tensor is a dense, row-major (C-order) n-dimensional array that lives on
// one Backend. Tensors are values: every primitive returns a new tensor and
// leaves its operands untouched. Reshape is the one exception to "new
// storage": it returns a view that shares the data.
type Tensor struct {
	shape Shape
	dtype DType
	be    Backend
	data  any      // the backend's storage; []float32 or []float64 on the CPU
	st    *storage // non-nil when data is recycled (storage.go); shared by views
}

// Wrap makes a tensor of shape s whose storage data belongs to backend be.
// Backends use it to return results; data must hold s.Numel() elements.
func Wrap(be Backend, dt DType, s Shape, data any) *Tensor {
	return &Tensor{shape: s.Clone(), dtype: dt, be: be, data: data}
}

// New returns a CPU tensor of zeros.
func New(dt DType, shape ...int) *Tensor {
	n := Shape(shape).Numel()
	switch dt {
	case Float32:
		return Wrap(CPU, dt, shape, make([]float32, n))
	case Float64:
		return Wrap(CPU, dt, shape, make([]float64, n))
	}
	panic("tensor.New: unknown dtype " + dt.String())
}

// FromFloat32s returns a CPU tensor that uses data (not a copy) as storage.
func FromFloat32s(data []float32, shape ...int) *Tensor {
	if Shape(shape).Numel() != len(data) {
		panic(fmt.Sprintf("tensor.FromFloat32s: %d values for shape %v", len(data), Shape(shape)))
	}
	return Wrap(CPU, Float32, shape, data)
}

// FromFloat64s returns a CPU tensor that uses data (not a copy) as storage.
func FromFloat64s(data []float64, shape ...int) *Tensor {
	if Shape(shape).Numel() != len(data) {
		panic(fmt.Sprintf("tensor.FromFloat64s: %d values for shape %v", len(data), Shape(shape)))
	}
	return Wrap(CPU, Float64, shape, data)
}

// FromValues returns a CPU tensor of dtype dt holding values (converted).
func FromValues(dt DType, values []float64, shape ...int) *Tensor {
	switch dt {
	case Float64:
		return FromFloat64s(append([]float64(nil), values...), shape...)
	case Float32:
		d := make([]float32, len(values))
		for i, v := range values {
			d[i] = float32(v)
		}
		return FromFloat32s(d, shape...)
	}
	panic("tensor.FromValues: unknown dtype " + dt.String())
}

// Full returns a CPU tensor with every element set to v.
func Full(dt DType, v float64, shape ...int) *Tensor {
	t := New(dt, shape...)
	switch d := t.data.(type) {
	case []float32:
		for i := range d {
			d[i] = float32(v)
		}
	case []float64:
		for i := range d {
			d[i] = v
		}
	}
	return t
}

// Shape returns the tensor's shape. The caller must not modify it.
func (t *Tensor) Shape() Shape { return t.shape }

// Dim returns the size of axis i (negative i counts from the end).
func (t *Tensor) Dim(i int) int { return t.shape[NormAxis("Dim", i, len(t.shape))] }

// Rank returns the number of axes.
func (t *Tensor) Rank() int { return len(t.shape) }

// DType returns the element type.
func (t *Tensor) DType() DType { return t.dtype }

// Backend returns the backend that owns the storage.
func (t *Tensor) Backend() Backend { return t.be }

// Numel returns the number of elements.
func (t *Tensor) Numel() int { return t.shape.Numel() }

// Data returns the backend's storage. Backends use it; others should prefer
// Float32s, Float64s or Values.
func (t *Tensor) Data() any { return t.data }

// Reshape returns a view of t with a new shape of the same number of
// elements; one size may be -1 and is then inferred. The view shares t's
// storage.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	s := Shape(shape).Clone()
	infer := -1
	known := 1
	for i, d := range s {
		if d == -1 {
			if infer >= 0 {
				panic(fmt.Sprintf("Reshape: more than one -1 in %v", Shape(shape)))
			}
			infer = i
			continue
		}
		known *= d
	}
	if infer >= 0 && known > 0 {
		s[infer] = t.Numel() / known
	}
	if s.Numel() != t.Numel() {
		panic(fmt.Sprintf("Reshape: cannot view %v (%d elements) as %v", t.shape, t.Numel(), Shape(shape)))
	}
	return &Tensor{shape: s, dtype: t.dtype, be: t.be, data: t.data, st: t.st}
}

// Float32s returns the live storage of a CPU float32 tensor. The slice
// belongs to t: once t and every view of it are unreachable the memory may
// be given to another tensor (see storage.go), so keep t reachable while
// using the slice (runtime.KeepAlive(t) after the last use).
func (t *Tensor) Float32s() []float32 {
	d, ok := t.data.([]float32)
	if !ok {
		panic(fmt.Sprintf("Float32s: tensor is %s on %s", t.dtype, t.be.Name()))
	}
	return d
}

// Float64s returns the live storage of a CPU float64 tensor, under the
// same rule as Float32s.
func (t *Tensor) Float64s() []float64 {
	d, ok := t.data.([]float64)
	if !ok {
		panic(fmt.Sprintf("Float64s: tensor is %s on %s", t.dtype, t.be.Name()))
	}
	return d
}

// Values copies the elements, in row-major order, to a new float64 slice,
// from any backend.
func (t *Tensor) Values() []float64 {
	h := t
	if t.be != CPU {
		h = t.be.ToHost(t)
	}
	switch d := h.data.(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	panic("Values: unknown storage")
}

// Item returns the value of a one-element tensor.
func (t *Tensor) Item() float64 {
	if t.Numel() != 1 {
		panic(fmt.Sprintf("Item: tensor of shape %v has %d elements", t.shape, t.Numel()))
	}
	return t.Values()[0]
}

// String prints shape, dtype and up to 8 values.
func (t *Tensor) String() string {
	v := t.Values()
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v %s [", t.shape, t.dtype)
	for i, x := range v {
		if i == 8 {
			b.WriteString(" ...")
			break
		}
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%.6g", x)
	}
	b.WriteString("]")
	return b.String()
}

// To returns t on backend be (t itself when it is already there).
func (t *Tensor) To(be Backend) *Tensor {
	if t.be == be {
		return t
	}
	h := t
	if t.be != CPU {
		h = t.be.ToHost(t)
	}
	if be == CPU {
		return h
	}
	return be.FromHost(h)
}
