package tensor_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/tensor"
)

// mustPanic returns the panic message of f, failing the test if f returns.
func mustPanic(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic")
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

// wantIn fails unless msg contains every part.
func wantIn(t *testing.T, msg string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("message %q does not contain %q", msg, p)
		}
	}
}

func TestShape(t *testing.T) {
	for _, c := range []struct {
		s       tensor.Shape
		numel   int
		strides []int
		str     string
	}{
		{tensor.Shape{}, 1, []int{}, "()"},
		{tensor.Shape{5}, 5, []int{1}, "(5)"},
		{tensor.Shape{2, 3, 4}, 24, []int{12, 4, 1}, "(2, 3, 4)"},
		{tensor.Shape{2, 0, 3}, 0, []int{0, 3, 1}, "(2, 0, 3)"},
	} {
		if n := c.s.Numel(); n != c.numel {
			t.Errorf("%v.Numel() = %d, want %d", c.s, n, c.numel)
		}
		if st := c.s.Strides(); !slices.Equal(st, c.strides) {
			t.Errorf("%v.Strides() = %v, want %v", c.s, st, c.strides)
		}
		if s := c.s.String(); s != c.str {
			t.Errorf("String() = %q, want %q", s, c.str)
		}
	}
	s := tensor.Shape{2, 3}
	c := s.Clone()
	c[0] = 7
	if s[0] != 2 || !s.Equal(tensor.Shape{2, 3}) || s.Equal(c) || s.Equal(tensor.Shape{2, 3, 1}) {
		t.Error("Clone shares memory or Equal is wrong")
	}
}

func TestBroadcastShapes(t *testing.T) {
	for _, c := range []struct{ a, b, want tensor.Shape }{
		{tensor.Shape{2, 3, 4}, tensor.Shape{2, 3, 4}, tensor.Shape{2, 3, 4}},
		{tensor.Shape{2, 3, 4}, tensor.Shape{3, 1}, tensor.Shape{2, 3, 4}},
		{tensor.Shape{2, 1, 4}, tensor.Shape{3, 1}, tensor.Shape{2, 3, 4}},
		{tensor.Shape{}, tensor.Shape{2, 3}, tensor.Shape{2, 3}},
		{tensor.Shape{4}, tensor.Shape{2, 1, 1}, tensor.Shape{2, 1, 4}},
		{tensor.Shape{1}, tensor.Shape{0}, tensor.Shape{0}},
	} {
		for _, ab := range [][2]tensor.Shape{{c.a, c.b}, {c.b, c.a}} { // symmetric
			got, err := tensor.BroadcastShapes(ab[0], ab[1])
			if err != nil || !got.Equal(c.want) {
				t.Errorf("BroadcastShapes(%v, %v) = %v, %v; want %v", ab[0], ab[1], got, err, c.want)
			}
		}
	}
	for _, c := range [][2]tensor.Shape{{{2, 3}, {4}}, {{2, 3, 4}, {3, 2}}, {{3}, {0}}} {
		_, err := tensor.BroadcastShapes(c[0], c[1])
		if err == nil {
			t.Errorf("BroadcastShapes(%v, %v) gave no error", c[0], c[1])
			continue
		}
		wantIn(t, err.Error(), c[0].String(), c[1].String())
	}
}

func TestNormAxis(t *testing.T) {
	for _, c := range [][3]int{{0, 3, 0}, {2, 3, 2}, {-1, 3, 2}, {-3, 3, 0}} {
		if got := tensor.NormAxis("op", c[0], c[1]); got != c[2] {
			t.Errorf("NormAxis(%d, rank %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
	wantIn(t, mustPanic(t, func() { tensor.NormAxis("sum", 3, 3) }), "sum", "axis 3", "rank 3")
	wantIn(t, mustPanic(t, func() { tensor.NormAxis("max", -4, 3) }), "max", "-4")
}

func TestReducedShape(t *testing.T) {
	s := tensor.Shape{2, 3, 4}
	for _, c := range []struct {
		axes []int
		want tensor.Shape
	}{
		{nil, tensor.Shape{1, 1, 1}},
		{[]int{1}, tensor.Shape{2, 1, 4}},
		{[]int{0, -1}, tensor.Shape{1, 3, 1}},
	} {
		if got := tensor.ReducedShape(s, c.axes); !got.Equal(c.want) {
			t.Errorf("ReducedShape(%v, %v) = %v, want %v", s, c.axes, got, c.want)
		}
	}
	if !s.Equal(tensor.Shape{2, 3, 4}) {
		t.Error("ReducedShape modified its argument")
	}
}

func TestConvParamsOutSize(t *testing.T) {
	for _, c := range []struct {
		p          tensor.ConvParams
		n, k, want int
	}{
		{tensor.ConvParams{Stride: 1, Padding: 0}, 5, 3, 3},
		{tensor.ConvParams{Stride: 1, Padding: 1}, 5, 3, 5},
		{tensor.ConvParams{Stride: 2, Padding: 1}, 256, 3, 128},
		{tensor.ConvParams{Stride: 2, Padding: 1}, 256, 4, 128},
		{tensor.ConvParams{Stride: 1, Padding: 1}, 32, 4, 31},
		{tensor.ConvParams{Stride: 2, Padding: 0}, 9, 4, 3},
	} {
		if got := c.p.OutSize(c.n, c.k); got != c.want {
			t.Errorf("%+v.OutSize(%d, %d) = %d, want %d", c.p, c.n, c.k, got, c.want)
		}
	}
}

func TestNamesOfPrimitives(t *testing.T) {
	if tensor.Rsqrt.String() != "rsqrt" || tensor.GreaterEqual.String() != "greater_equal" || tensor.Min.String() != "min" {
		t.Errorf("names: %v %v %v", tensor.Rsqrt, tensor.GreaterEqual, tensor.Min)
	}
	if tensor.Float32.String() != "float32" || tensor.Float64.String() != "float64" || tensor.DType(9).String() != "DType(9)" {
		t.Errorf("dtype names: %v %v %v", tensor.Float32, tensor.Float64, tensor.DType(9))
	}
}

func TestConstructors(t *testing.T) {
	z := tensor.New(tensor.Float32, 2, 3)
	if z.DType() != tensor.Float32 || !z.Shape().Equal(tensor.Shape{2, 3}) || z.Rank() != 2 || z.Numel() != 6 || z.Backend() != tensor.CPU {
		t.Errorf("New: %v", z)
	}
	if !slices.Equal(z.Values(), make([]float64, 6)) {
		t.Errorf("New is not zero: %v", z.Values())
	}
	if z.Dim(-1) != 3 || z.Dim(0) != 2 {
		t.Errorf("Dim: %d %d", z.Dim(-1), z.Dim(0))
	}

	// FromFloat64s uses the slice as storage; FromValues copies.
	d := []float64{1, 2, 3, 4}
	a := tensor.FromFloat64s(d, 2, 2)
	d[0] = 9
	if a.Values()[0] != 9 || &a.Float64s()[0] != &d[0] {
		t.Error("FromFloat64s copied its data")
	}
	v := []float64{0.1, 2}
	b := tensor.FromValues(tensor.Float32, v, 2)
	v[1] = 5
	if b.Float32s()[0] != float32(0.1) || b.Values()[1] != 2 {
		t.Errorf("FromValues: %v", b.Values())
	}
	if f := tensor.Full(tensor.Float64, -2.5, 3); !slices.Equal(f.Values(), []float64{-2.5, -2.5, -2.5}) {
		t.Errorf("Full: %v", f.Values())
	}

	wantIn(t, mustPanic(t, func() { tensor.FromFloat32s(make([]float32, 5), 2, 3) }), "FromFloat32s", "5 values", "(2, 3)")
	wantIn(t, mustPanic(t, func() { tensor.FromFloat64s(make([]float64, 7), 2, 3) }), "FromFloat64s", "7 values", "(2, 3)")
	wantIn(t, mustPanic(t, func() { tensor.New(tensor.Float32, 2).Float64s() }), "Float64s", "float32")
	wantIn(t, mustPanic(t, func() { tensor.New(tensor.Float64, 2).Float32s() }), "Float32s", "float64")
}

func TestReshape(t *testing.T) {
	x := tensor.FromFloat64s([]float64{0, 1, 2, 3, 4, 5}, 2, 3)
	r := x.Reshape(3, -1)
	if !r.Shape().Equal(tensor.Shape{3, 2}) {
		t.Errorf("Reshape(3, -1) gave %v", r.Shape())
	}
	if &r.Float64s()[0] != &x.Float64s()[0] {
		t.Error("Reshape copied: it must be a view")
	}
	if !x.Shape().Equal(tensor.Shape{2, 3}) {
		t.Error("Reshape changed the original's shape")
	}
	if s := tensor.New(tensor.Float64, 1, 1).Reshape(); s.Rank() != 0 || s.Numel() != 1 {
		t.Errorf("Reshape() to a scalar gave %v", s.Shape())
	}
	wantIn(t, mustPanic(t, func() { x.Reshape(4, 2) }), "Reshape", "(2, 3)", "(4, 2)")
	wantIn(t, mustPanic(t, func() { x.Reshape(-1, -1) }), "Reshape", "-1")
	wantIn(t, mustPanic(t, func() { x.Reshape(4, -1) }), "Reshape", "(2, 3)")
}

func TestValuesItemString(t *testing.T) {
	x := tensor.FromFloat32s([]float32{1.5, -2}, 2)
	v := x.Values()
	v[0] = 100
	if x.Float32s()[0] != 1.5 {
		t.Error("Values returned the storage, not a copy")
	}
	if got := tensor.Full(tensor.Float32, 4, 1, 1).Item(); got != 4 {
		t.Errorf("Item = %v", got)
	}
	wantIn(t, mustPanic(t, func() { x.Item() }), "Item", "(2)", "2 elements")

	s := tensor.FromValues(tensor.Float64, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 2, 5).String()
	if s != "Tensor(2, 5) float64 [0 1 2 3 4 5 6 7 ...]" {
		t.Errorf("String() = %q", s)
	}
	if s := x.String(); s != "Tensor(2) float32 [1.5 -2]" {
		t.Errorf("String() = %q", s)
	}
	if x.To(tensor.CPU) != x {
		t.Error("To(CPU) of a CPU tensor should return it unchanged")
	}
}

func TestRandom(t *testing.T) {
	a := tensor.RandNormal(tensor.NewRand(7), tensor.Float64, 0, 1, 3, 4).Values()
	b := tensor.RandNormal(tensor.NewRand(7), tensor.Float64, 0, 1, 3, 4).Values()
	c := tensor.RandNormal(tensor.NewRand(8), tensor.Float64, 0, 1, 3, 4).Values()
	if !slices.Equal(a, b) {
		t.Error("one seed gave two sequences")
	}
	if slices.Equal(a, c) {
		t.Error("two seeds gave one sequence")
	}

	const n = 20000
	x := tensor.RandNormal(tensor.NewRand(1), tensor.Float32, 3, 0.5, n).Values()
	mean, sq := 0.0, 0.0
	for _, v := range x {
		mean += v / n
	}
	for _, v := range x {
		sq += (v - mean) * (v - mean) / n
	}
	// Five standard errors: 5·0.5/√n and 5·0.5²·√(2/n).
	if math.Abs(mean-3) > 5*0.5/math.Sqrt(n) || math.Abs(sq-0.25) > 5*0.25*math.Sqrt(2.0/n) {
		t.Errorf("RandNormal(3, 0.5): mean %v, variance %v", mean, sq)
	}
	for _, v := range tensor.RandUniform(tensor.NewRand(2), tensor.Float64, -1, 2, n).Values() {
		if v < -1 || v >= 2 {
			t.Fatalf("RandUniform(-1, 2) gave %v", v)
		}
	}
}

// Primitives panic naming the operation and the shapes (programmer errors).
func TestCPUPanicsNameOpAndShapes(t *testing.T) {
	cpu := tensor.CPU
	x := tensor.New(tensor.Float32, 2, 3)
	wantIn(t, mustPanic(t, func() { cpu.Binary(tensor.Mul, x, tensor.New(tensor.Float32, 4)) }), "mul", "(2, 3)", "(4)")
	wantIn(t, mustPanic(t, func() { cpu.Binary(tensor.Add, x, tensor.New(tensor.Float64, 2, 3)) }), "add", "float32", "float64")
	wantIn(t, mustPanic(t, func() { cpu.Expand(x, tensor.Shape{3, 3}) }), "expand", "(2, 3)", "(3, 3)")
	wantIn(t, mustPanic(t, func() { cpu.Permute(x, []int{1, 1}) }), "permute", "[1 1]")
	wantIn(t, mustPanic(t, func() { cpu.Slice(x, []int{0, 2}, []int{2, 1}) }), "slice", "(2, 3)")
	wantIn(t, mustPanic(t, func() { cpu.Pad(x, []int{0, -1}, []int{0, 0}) }), "pad", "negative")
	wantIn(t, mustPanic(t, func() { cpu.Reduce(tensor.Sum, x, []int{2}) }), "reduce", "axis 2", "rank 2")
	wantIn(t, mustPanic(t, func() { cpu.ReflectPad2d(x, tensor.Pad2d{Left: 3}) }), "reflect_pad2d", "(2, 3)")
	wantIn(t, mustPanic(t, func() {
		cpu.Conv2d(tensor.New(tensor.Float32, 1, 3, 4, 4), tensor.New(tensor.Float32, 2, 3, 5, 5), nil, tensor.ConvParams{Stride: 1})
	}), "conv2d", "(1, 3, 4, 4)")
	wantIn(t, mustPanic(t, func() {
		cpu.Conv2d(tensor.New(tensor.Float32, 1, 3, 4, 4), tensor.New(tensor.Float32, 2, 3, 3, 3), nil, tensor.ConvParams{Stride: 0})
	}), "conv2d", "stride 0")
}

// A hand-worked example of each convolution reference, small enough to
// check on paper: x = [[1 2 3] [4 5 6] [7 8 9]], w = [[1 0] [0 -1]].
func TestConvRefsByHand(t *testing.T) {
	x := tensor.FromFloat64s([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3)
	w := tensor.FromFloat64s([]float64{1, 0, 0, -1}, 1, 1, 2, 2)
	b := tensor.FromFloat64s([]float64{10}, 1)
	p := tensor.ConvParams{Stride: 1}
	// y[i,j] = x[i,j] − x[i+1,j+1] + 10 = 6 everywhere.
	if y := tensor.Conv2dRef(x, w, b, p).Values(); !slices.Equal(y, []float64{6, 6, 6, 6}) {
		t.Errorf("Conv2dRef = %v", y)
	}
	gy := tensor.FromFloat64s([]float64{1, 2, 3, 4}, 1, 1, 2, 2)
	// gx = gy scattered through w: +gy at (i, j), −gy at (i+1, j+1).
	if gx := tensor.Conv2dInputGradRef(gy, w, p, 3, 3).Values(); !slices.Equal(gx, []float64{1, 2, 0, 3, 3, -2, 0, -3, -4}) {
		t.Errorf("Conv2dInputGradRef = %v", gx)
	}
	// gw[ki,kj] = Σ gy[i,j]·x[i+ki, j+kj].
	if gw := tensor.Conv2dWeightGradRef(x, gy, p, 2, 2).Values(); !slices.Equal(gw, []float64{37, 47, 67, 77}) {
		t.Errorf("Conv2dWeightGradRef = %v", gw)
	}
	// Stride 2, padding 1 on the same x: windows start at −1 and 1, and
	// only the taps inside the image count: −x[0,0], −x[0,2], −x[2,0] and
	// x[1,1] − x[2,2].
	y := tensor.Conv2dRef(x, w, nil, tensor.ConvParams{Stride: 2, Padding: 1}).Values()
	if !slices.Equal(y, []float64{-1, -3, -7, 5 - 9}) {
		t.Errorf("Conv2dRef stride 2, padding 1 = %v", y)
	}
}
