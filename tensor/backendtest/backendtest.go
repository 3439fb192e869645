package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/tensor"
)

// Run checks every primitive of b, in float32 and (where b supports it)
// float64. A dtype b does not support is one on which Full panics; float32
// is required.
func Run(t *testing.T, b tensor.Backend) {
	t.Run("Name", func(t *testing.T) {
		if n := b.Name(); n == "" || strings.ContainsAny(n, " \t\n") {
			t.Errorf("Name() = %q, want one word", n)
		}
	})
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		if !supports(b, dt) {
			if dt == tensor.Float32 {
				t.Errorf("%s does not support float32", b.Name())
			} else {
				t.Logf("%s does not support %s: skipped", b.Name(), dt)
			}
			continue
		}
		t.Run(dt.String(), func(t *testing.T) {
			for _, c := range checks {
				t.Run(c.name, func(t *testing.T) {
					c.run(&suite{t: t, b: b, dt: dt, rng: tensor.NewRand(uint64(len(c.name))*7919 + uint64(dt))})
				})
			}
		})
	}
}

// checks lists the primitive groups in the order of tensor.Backend.
var checks = []struct {
	name string
	run  func(s *suite)
}{
	{"Full", checkFull},
	{"FromHostToHost", checkTransfer},
	{"Cast", checkCast},
	{"Unary", checkUnary},
	{"Binary", checkBinary},
	{"Scalar", checkScalar},
	{"Where", checkWhere},
	{"Reduce", checkReduce},
	{"Expand", checkExpand},
	{"Permute", checkPermute},
	{"Slice", checkSlice},
	{"Pad", checkPad},
	{"Concat", checkConcat},
	{"ReflectPad2d", checkReflectPad},
	{"ReflectPad2dAdjoint", checkReflectPadAdjoint},
	{"Conv2d", checkConv2d},
	{"Conv2dInputGrad", checkConv2dInputGrad},
	{"Conv2dWeightGrad", checkConv2dWeightGrad},
	{"MaxPool2d", checkMaxPool2d},
	{"AvgPool2d", checkAvgPool2d},
	{"ResizeBilinear", checkResizeBilinear},
	{"InstanceNorm", checkInstanceNorm},
	{"InstanceNormBackward", checkInstanceNormBackward},
	{"AdamStep", checkAdamStep},
	{"Panics", checkPanics},
}

func supports(b tensor.Backend, dt tensor.DType) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	h := b.ToHost(b.Full(dt, tensor.Shape{2}, 1.5))
	return h.DType() == dt && h.Values()[1] == 1.5
}

// suite is one primitive group's check on one backend and dtype.
type suite struct {
	t   *testing.T
	b   tensor.Backend
	dt  tensor.DType
	rng *rand.Rand
}

// Domains of random inputs.
const (
	normal   = iota // N(0, 1)
	positive        // U(0.5, 2)
	away0           // ±U(0.25, 1.25)
	ints            // {−2, …, 2}: ties and zeros for comparisons and max/min
	mask            // {0, 1, −0.5}: Where's condition (any non-zero selects x)
)

// host returns a random CPU tensor of the suite's dtype.
func (s *suite) host(domain int, shape ...int) *tensor.Tensor {
	v := make([]float64, tensor.Shape(shape).Numel())
	for i := range v {
		switch domain {
		case normal:
			v[i] = s.rng.NormFloat64()
		case positive:
			v[i] = 0.5 + 1.5*s.rng.Float64()
		case away0:
			v[i] = 0.25 + s.rng.Float64()
			if s.rng.IntN(2) == 0 {
				v[i] = -v[i]
			}
		case ints:
			v[i] = float64(s.rng.IntN(5) - 2)
		case mask:
			v[i] = []float64{0, 1, -0.5}[s.rng.IntN(3)]
		}
	}
	return tensor.FromValues(s.dt, v, shape...)
}

// operand is an input of a primitive: on the backend, with its host copy
// and values (to check that the primitive left it unchanged).
type operand struct {
	dev    *tensor.Tensor
	host   *tensor.Tensor
	values []float64
}

func (s *suite) operand(h *tensor.Tensor) operand {
	return operand{dev: s.b.FromHost(h), host: h, values: h.Values()}
}

func (s *suite) rand(domain int, shape ...int) operand { return s.operand(s.host(domain, shape...)) }

// tolerance says how far an element may be from the reference.
type tolerance struct {
	kind  int     // exact, ulps or sum
	scale float64 // units of the dtype's epsilon
	abs   []float64
}

const (
	exactKind = iota
	ulpsKind  // scale·ε·|want|
	sumKind   // scale·ε·abs[i], abs = Σ|terms| of each element
)

var exact = tolerance{kind: exactKind}

// elementwise arithmetic: a few units in the last place.
var ulps = tolerance{kind: ulpsKind, scale: 16}

// sumOf is the tolerance of reductions and convolutions: abs holds Σ|terms|
// for each output element.
func sumOf(abs []float64) tolerance { return tolerance{kind: sumKind, scale: 64, abs: abs} }

// convOf allows fast convolutions (Winograd transforms, blocked GEMM) a
// little more rounding than a plain sum.
func convOf(abs []float64) tolerance { return tolerance{kind: sumKind, scale: 256, abs: abs} }

func (s *suite) eps() float64 {
	if s.dt == tensor.Float32 {
		return math.Pow(2, -23)
	}
	return math.Pow(2, -52)
}

// expect checks one primitive's result: the backend and dtype, the shape,
// the values, and that the operands were left unchanged.
func (s *suite) expect(what string, got *tensor.Tensor, shape tensor.Shape, want []float64, tol tolerance, in ...operand) {
	s.t.Helper()
	if got == nil {
		s.t.Errorf("%s: nil result", what)
		return
	}
	if got.Backend() != s.b {
		s.t.Errorf("%s: result lives on %s, not %s", what, got.Backend().Name(), s.b.Name())
	}
	if got.DType() != s.dt {
		s.t.Errorf("%s: result is %s, want %s", what, got.DType(), s.dt)
	}
	if !got.Shape().Equal(shape) {
		s.t.Errorf("%s: shape %v, want %v", what, got.Shape(), shape)
		return
	}
	h := s.b.ToHost(got)
	if h.Backend() != tensor.CPU || h.DType() != s.dt {
		s.t.Errorf("%s: ToHost gave a %s tensor on %s", what, h.DType(), h.Backend().Name())
	}
	g := h.Values()
	bad := 0
	for i := range want {
		w := want[i]
		// The reference is float64; a float32 backend can at best round it.
		if s.dt == tensor.Float32 {
			w = float64(float32(w))
		}
		var lim float64
		switch tol.kind {
		case ulpsKind:
			lim = tol.scale * s.eps() * math.Abs(w)
		case sumKind:
			lim = tol.scale * s.eps() * tol.abs[i]
		}
		if !(math.Abs(g[i]-w) <= lim) && !(math.IsNaN(g[i]) && math.IsNaN(w)) {
			if bad < 5 {
				s.t.Errorf("%s: element %d is %.9g, want %.9g (allowed %.3g)", what, i, g[i], w, lim)
			}
			bad++
		}
	}
	if bad > 5 {
		s.t.Errorf("%s: %d of %d elements differ", what, bad, len(want))
	}
	for k, o := range in {
		if v := s.b.ToHost(o.dev).Values(); !equalValues(v, o.values) {
			s.t.Errorf("%s: operand %d was modified", what, k)
		}
	}
}

func equalValues(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

// ---- Index arithmetic of the references ----

// forEach calls fn with every multi-index of s in row-major order and its
// flat position.
func forEach(s tensor.Shape, fn func(idx []int, flat int)) {
	idx := make([]int, len(s))
	for flat := range s.Numel() {
		fn(idx, flat)
		for ax := len(s) - 1; ax >= 0; ax-- {
			idx[ax]++
			if idx[ax] < s[ax] {
				break
			}
			idx[ax] = 0
		}
	}
}

// at returns the element of v (shape s) that broadcasting reads at the
// multi-index idx of a larger shape: axes align from the right and size-1
// axes repeat.
func at(v []float64, s tensor.Shape, idx []int) float64 {
	off, stride := 0, 1
	for ax := len(s) - 1; ax >= 0; ax-- {
		i := idx[len(idx)-len(s)+ax]
		if s[ax] == 1 {
			i = 0
		}
		off += i * stride
		stride *= s[ax]
	}
	return v[off]
}

func broadcast(t *testing.T, a, b tensor.Shape) tensor.Shape {
	s, err := tensor.BroadcastShapes(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ---- Storage ----

func checkFull(s *suite) {
	for _, shape := range []tensor.Shape{{}, {1}, {3, 4}, {2, 3, 4, 5}} {
		for _, v := range []float64{0, -1.25, 3} {
			want := make([]float64, shape.Numel())
			for i := range want {
				want[i] = v
			}
			s.expect(fmt.Sprintf("Full(%v, %g)", shape, v), s.b.Full(s.dt, shape, v), shape, want, exact)
		}
	}
}

func checkTransfer(s *suite) {
	for _, shape := range []tensor.Shape{{}, {7}, {2, 3, 4}, {3, 70001}} {
		h := s.host(normal, shape...)
		d := s.b.FromHost(h)
		if d.DType() != s.dt || !d.Shape().Equal(shape) || d.Backend() != s.b {
			s.t.Errorf("FromHost(%v %s) gave %v %s on %s", shape, s.dt, d.Shape(), d.DType(), d.Backend().Name())
		}
		s.expect(fmt.Sprintf("round trip %v", shape), d, shape, h.Values(), exact)
	}
}

func checkCast(s *suite) {
	for _, to := range []tensor.DType{tensor.Float32, tensor.Float64} {
		if !supports(s.b, to) {
			continue
		}
		x := s.rand(normal, 3, 5)
		got := s.b.Cast(x.dev, to)
		want := x.values
		if to == tensor.Float32 {
			want = make([]float64, len(x.values))
			for i, v := range x.values {
				want[i] = float64(float32(v))
			}
		}
		if got.DType() != to || got.Backend() != s.b || !got.Shape().Equal(tensor.Shape{3, 5}) {
			s.t.Errorf("Cast to %s gave %v %s on %s", to, got.Shape(), got.DType(), got.Backend().Name())
			continue
		}
		if g := s.b.ToHost(got).Values(); !equalValues(g, want) {
			s.t.Errorf("Cast %s → %s: %v, want %v", s.dt, to, g, want)
		}
	}
}

// ---- Elementwise ----

var unaryRefs = map[tensor.UnaryOp]struct {
	f      func(float64) float64
	domain int
}{
	tensor.Neg:   {func(x float64) float64 { return -x }, normal},
	tensor.Exp:   {math.Exp, normal},
	tensor.Log:   {math.Log, positive},
	tensor.Sqrt:  {math.Sqrt, positive},
	tensor.Rsqrt: {func(x float64) float64 { return 1 / math.Sqrt(x) }, positive},
	tensor.Tanh:  {math.Tanh, normal},
	tensor.Abs:   {math.Abs, normal},
	tensor.Sign: {func(x float64) float64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	}, ints},
}

func checkUnary(s *suite) {
	for op := tensor.Neg; op <= tensor.Sign; op++ {
		ref, ok := unaryRefs[op]
		if !ok {
			s.t.Fatalf("no reference for unary %v", op)
		}
		for _, shape := range []tensor.Shape{{}, {3, 4, 5}, {70001}} {
			x := s.rand(ref.domain, shape...)
			want := make([]float64, len(x.values))
			for i, v := range x.values {
				want[i] = ref.f(v)
			}
			s.expect(fmt.Sprintf("%v %v", op, shape), s.b.Unary(op, x.dev), shape, want, ulps, x)
		}
	}
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

var binaryRefs = map[tensor.BinaryOp]struct {
	f        func(a, b float64) float64
	dx, dy   int // input domains
	rounding bool
}{
	tensor.Add:          {func(a, b float64) float64 { return a + b }, normal, normal, true},
	tensor.Sub:          {func(a, b float64) float64 { return a - b }, normal, normal, true},
	tensor.Mul:          {func(a, b float64) float64 { return a * b }, normal, normal, true},
	tensor.Div:          {func(a, b float64) float64 { return a / b }, normal, away0, true},
	tensor.Pow:          {math.Pow, positive, normal, true},
	tensor.Maximum:      {math.Max, ints, ints, false},
	tensor.Minimum:      {math.Min, ints, ints, false},
	tensor.Greater:      {func(a, b float64) float64 { return bool01(a > b) }, ints, ints, false},
	tensor.GreaterEqual: {func(a, b float64) float64 { return bool01(a >= b) }, ints, ints, false},
	tensor.Less:         {func(a, b float64) float64 { return bool01(a < b) }, ints, ints, false},
	tensor.Equal:        {func(a, b float64) float64 { return bool01(a == b) }, ints, ints, false},
}

// binaryShapes are operand shapes that broadcast: equal, one side
// stretched, both stretched, a scalar, fewer axes, and sizes large enough
// for parallel loops.
var binaryShapes = [][2]tensor.Shape{
	{{3, 4, 5}, {3, 4, 5}},
	{{2, 3, 4}, {3, 1}},
	{{2, 1, 4}, {3, 1}},
	{{}, {2, 3}},
	{{2, 3}, {}},
	{{4}, {2, 3, 4}},
	{{1}, {1}},
	{{70001}, {70001}},
	{{2, 64, 300}, {64, 1}},
}

func checkBinary(s *suite) {
	for op := tensor.Add; op <= tensor.Equal; op++ {
		ref, ok := binaryRefs[op]
		if !ok {
			s.t.Fatalf("no reference for binary %v", op)
		}
		tol := exact
		if ref.rounding {
			tol = ulps
		}
		for _, sh := range binaryShapes {
			x, y := s.rand(ref.dx, sh[0]...), s.rand(ref.dy, sh[1]...)
			out := broadcast(s.t, sh[0], sh[1])
			want := make([]float64, out.Numel())
			forEach(out, func(idx []int, i int) {
				want[i] = ref.f(at(x.values, sh[0], idx), at(y.values, sh[1], idx))
			})
			s.expect(fmt.Sprintf("%v %v %v", op, sh[0], sh[1]), s.b.Binary(op, x.dev, y.dev), out, want, tol, x, y)
		}
	}
}

func checkScalar(s *suite) {
	for op := tensor.Add; op <= tensor.Equal; op++ {
		ref := binaryRefs[op]
		tol := exact
		if ref.rounding {
			tol = ulps
		}
		cs := []float64{0.75, -2}
		switch op {
		case tensor.Pow:
			cs = []float64{2, 3, 0.5, -1.5}
		case tensor.Maximum, tensor.Minimum, tensor.Greater, tensor.GreaterEqual, tensor.Less, tensor.Equal:
			cs = []float64{0, 1}
		}
		for _, c := range cs {
			for _, shape := range []tensor.Shape{{}, {3, 4, 5}, {70001}} {
				x := s.rand(ref.dx, shape...)
				want := make([]float64, len(x.values))
				for i, v := range x.values {
					// The constant is converted to the dtype first.
					want[i] = ref.f(v, tensor.FromValues(s.dt, []float64{c}).Values()[0])
				}
				s.expect(fmt.Sprintf("%v %v, %g", op, shape, c), s.b.Scalar(op, x.dev, c), shape, want, tol, x)
			}
		}
	}
}

func checkWhere(s *suite) {
	for _, sh := range [][3]tensor.Shape{
		{{2, 3, 4}, {2, 3, 4}, {2, 3, 4}},
		{{3, 1}, {2, 3, 4}, {4}},
		{{4}, {3, 1}, {}},
		{{70001}, {70001}, {1}},
		{{40, 1}, {40, 2000}, {2000}}, // rows split between cores
	} {
		c, x, y := s.rand(mask, sh[0]...), s.rand(normal, sh[1]...), s.rand(normal, sh[2]...)
		out := broadcast(s.t, broadcast(s.t, sh[0], sh[1]), sh[2])
		want := make([]float64, out.Numel())
		forEach(out, func(idx []int, i int) {
			if at(c.values, sh[0], idx) != 0 {
				want[i] = at(x.values, sh[1], idx)
			} else {
				want[i] = at(y.values, sh[2], idx)
			}
		})
		s.expect(fmt.Sprintf("where %v %v %v", sh[0], sh[1], sh[2]), s.b.Where(c.dev, x.dev, y.dev), out, want, exact, c, x, y)
	}
}

// ---- Reductions ----

func checkReduce(s *suite) {
	cases := []struct {
		shape tensor.Shape
		axes  [][]int
	}{
		{tensor.Shape{}, [][]int{{}}},
		{tensor.Shape{7}, [][]int{{}, {0}}},
		{tensor.Shape{2, 3, 4}, [][]int{{}, {0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {0, 1, 2}}},
		{tensor.Shape{2, 3, 4, 5}, [][]int{{2, 3}, {1}, {0, 3}, {1, 2}}},
		{tensor.Shape{3, 1, 4}, [][]int{{1}, {0, 1}}},
		{tensor.Shape{4, 9000}, [][]int{{1}, {0}}},
		{tensor.Shape{2, 64, 17, 19}, [][]int{{2, 3}, {0, 2, 3}}},
	}
	for _, op := range []tensor.ReduceOp{tensor.Sum, tensor.Max, tensor.Min} {
		for _, c := range cases {
			for _, axes := range c.axes {
				domain := normal
				if op != tensor.Sum {
					domain = ints // ties
				}
				x := s.rand(domain, c.shape...)
				out := tensor.ReducedShape(c.shape, axes)
				want := make([]float64, out.Numel())
				abs := make([]float64, out.Numel())
				seen := make([]bool, out.Numel())
				outIdx := make([]int, len(out))
				forEach(c.shape, func(idx []int, i int) {
					for ax := range idx {
						outIdx[ax] = idx[ax]
						if out[ax] == 1 {
							outIdx[ax] = 0
						}
					}
					j := 0
					for ax, n := range out {
						j = j*n + outIdx[ax]
					}
					v := x.values[i]
					switch {
					case op == tensor.Sum:
						want[j] += v
						abs[j] += math.Abs(v)
					case !seen[j], op == tensor.Max && v > want[j], op == tensor.Min && v < want[j]:
						want[j] = v
					}
					seen[j] = true
				})
				tol := exact
				if op == tensor.Sum {
					tol = sumOf(abs)
				}
				s.expect(fmt.Sprintf("%v %v over %v", op, c.shape, axes), s.b.Reduce(op, x.dev, axes), out, want, tol, x)
			}
		}
	}
}

// ---- Movement ----

func checkExpand(s *suite) {
	for _, sh := range [][2]tensor.Shape{
		{{3, 1}, {2, 3, 4}},
		{{1, 4}, {3, 4}},
		{{4}, {2, 3, 4}},
		{{}, {2, 2}},
		{{2, 3}, {2, 3}},
		{{2, 1, 1}, {2, 3, 5}},
		{{64, 1}, {3, 64, 400}},
	} {
		x := s.rand(normal, sh[0]...)
		want := make([]float64, sh[1].Numel())
		forEach(sh[1], func(idx []int, i int) { want[i] = at(x.values, sh[0], idx) })
		s.expect(fmt.Sprintf("expand %v to %v", sh[0], sh[1]), s.b.Expand(x.dev, sh[1]), sh[1], want, exact, x)
	}
}

func checkPermute(s *suite) {
	cases := []struct {
		shape tensor.Shape
		perm  []int
	}{
		{tensor.Shape{5}, []int{0}},
		{tensor.Shape{64, 1100}, []int{1, 0}},
		{tensor.Shape{2, 3, 4, 5}, []int{0, 2, 3, 1}},
		{tensor.Shape{2, 3, 4, 5}, []int{3, 2, 1, 0}},
	}
	for _, p := range [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
		cases = append(cases, struct {
			shape tensor.Shape
			perm  []int
		}{tensor.Shape{2, 3, 4}, p})
	}
	for _, c := range cases {
		x := s.rand(normal, c.shape...)
		out := make(tensor.Shape, len(c.perm))
		for i, p := range c.perm {
			out[i] = c.shape[p]
		}
		want := make([]float64, out.Numel())
		src := make([]int, len(c.perm))
		forEach(out, func(idx []int, i int) {
			for k, p := range c.perm {
				src[p] = idx[k]
			}
			want[i] = at(x.values, c.shape, src)
		})
		s.expect(fmt.Sprintf("permute %v by %v", c.shape, c.perm), s.b.Permute(x.dev, c.perm), out, want, exact, x)
	}
}

func checkSlice(s *suite) {
	for _, c := range []struct {
		shape      tensor.Shape
		start, end []int
	}{
		{tensor.Shape{4, 5, 6}, []int{1, 0, 2}, []int{3, 5, 5}},
		{tensor.Shape{4, 5, 6}, []int{0, 0, 0}, []int{4, 5, 6}},
		{tensor.Shape{7}, []int{6}, []int{7}},
		{tensor.Shape{2, 3, 9, 8}, []int{1, 1, 2, 3}, []int{2, 3, 9, 5}},
	} {
		x := s.rand(normal, c.shape...)
		out := make(tensor.Shape, len(c.shape))
		for i := range out {
			out[i] = c.end[i] - c.start[i]
		}
		want := make([]float64, out.Numel())
		src := make([]int, len(out))
		forEach(out, func(idx []int, i int) {
			for k := range idx {
				src[k] = idx[k] + c.start[k]
			}
			want[i] = at(x.values, c.shape, src)
		})
		s.expect(fmt.Sprintf("slice %v [%v, %v)", c.shape, c.start, c.end), s.b.Slice(x.dev, c.start, c.end), out, want, exact, x)
	}
}

func checkPad(s *suite) {
	for _, c := range []struct {
		shape         tensor.Shape
		before, after []int
	}{
		{tensor.Shape{2, 3, 4}, []int{0, 1, 2}, []int{1, 0, 3}},
		{tensor.Shape{3}, []int{2}, []int{0}},
		{tensor.Shape{2, 2}, []int{0, 0}, []int{0, 0}},
		{tensor.Shape{1, 2, 5, 4}, []int{0, 0, 3, 3}, []int{0, 0, 3, 3}},
	} {
		x := s.rand(normal, c.shape...)
		out := make(tensor.Shape, len(c.shape))
		for i := range out {
			out[i] = c.before[i] + c.shape[i] + c.after[i]
		}
		want := make([]float64, out.Numel())
		src := make([]int, len(out))
		forEach(out, func(idx []int, i int) {
			for k := range idx {
				src[k] = idx[k] - c.before[k]
				if src[k] < 0 || src[k] >= c.shape[k] {
					return // a zero of the border
				}
			}
			want[i] = at(x.values, c.shape, src)
		})
		s.expect(fmt.Sprintf("pad %v by %v, %v", c.shape, c.before, c.after), s.b.Pad(x.dev, c.before, c.after), out, want, exact, x)
	}
}

func checkConcat(s *suite) {
	for _, c := range []struct {
		axis   int
		shapes []tensor.Shape
	}{
		{0, []tensor.Shape{{2, 3}, {1, 3}}},
		{1, []tensor.Shape{{2, 3, 4}, {2, 1, 4}, {2, 2, 4}}},
		{2, []tensor.Shape{{2, 3, 4}, {2, 3, 1}}},
		{0, []tensor.Shape{{5}}},
		{1, []tensor.Shape{{1, 64, 8, 8}, {1, 64, 8, 8}}},
	} {
		xs := make([]operand, len(c.shapes))
		devs := make([]*tensor.Tensor, len(c.shapes))
		out := c.shapes[0].Clone()
		out[c.axis] = 0
		for i, sh := range c.shapes {
			xs[i] = s.rand(normal, sh...)
			devs[i] = xs[i].dev
			out[c.axis] += sh[c.axis]
		}
		want := make([]float64, out.Numel())
		src := make([]int, len(out))
		forEach(out, func(idx []int, i int) {
			copy(src, idx)
			k := 0
			for src[c.axis] >= c.shapes[k][c.axis] {
				src[c.axis] -= c.shapes[k][c.axis]
				k++
			}
			want[i] = at(xs[k].values, c.shapes[k], src)
		})
		s.expect(fmt.Sprintf("concat %v along %d", c.shapes, c.axis), s.b.Concat(c.axis, devs), out, want, exact, xs...)
	}
}

// reflectIndex maps a padded coordinate to the input coordinate it
// mirrors (the edge is not repeated).
func reflectIndex(k, n int) int {
	if k < 0 {
		return -k
	}
	if k >= n {
		return 2*(n-1) - k
	}
	return k
}

// reflectPadRef returns the reflection padding of x (shape s) and the
// padded shape.
func reflectPadRef(x []float64, s tensor.Shape, p tensor.Pad2d) ([]float64, tensor.Shape) {
	r := len(s)
	out := s.Clone()
	out[r-2] += p.Top + p.Bottom
	out[r-1] += p.Left + p.Right
	want := make([]float64, out.Numel())
	src := make([]int, r)
	forEach(out, func(idx []int, i int) {
		copy(src, idx)
		src[r-2] = reflectIndex(idx[r-2]-p.Top, s[r-2])
		src[r-1] = reflectIndex(idx[r-1]-p.Left, s[r-1])
		want[i] = at(x, s, src)
	})
	return want, out
}

var reflectCases = []struct {
	shape tensor.Shape // unpadded
	pad   tensor.Pad2d
}{
	{tensor.Shape{2, 3, 4, 5}, tensor.Pad2d{Left: 1, Right: 1, Top: 1, Bottom: 1}},
	{tensor.Shape{1, 2, 5, 4}, tensor.Pad2d{Left: 2, Right: 1, Top: 0, Bottom: 3}},
	{tensor.Shape{2, 4, 5}, tensor.Pad2d{Left: 3, Right: 3, Top: 3, Bottom: 3}},
	{tensor.Shape{5, 6}, tensor.Pad2d{Left: 1, Right: 2, Top: 3, Bottom: 4}},
	{tensor.Shape{1, 64, 34, 34}, tensor.Pad2d{Left: 1, Right: 1, Top: 1, Bottom: 1}},
	{tensor.Shape{1, 3, 20, 18}, tensor.Pad2d{Left: 3, Right: 3, Top: 3, Bottom: 3}},
}

func checkReflectPad(s *suite) {
	for _, c := range reflectCases {
		x := s.rand(normal, c.shape...)
		want, out := reflectPadRef(x.values, c.shape, c.pad)
		s.expect(fmt.Sprintf("reflect pad %v by %+v", c.shape, c.pad), s.b.ReflectPad2d(x.dev, c.pad), out, want, exact, x)
	}
}

// The adjoint is checked against its definition: element j of the
// unpadded result sums the padded elements that copied j. Then
// ⟨P x, g⟩ = ⟨x, Pᵀ g⟩ is checked on the backend's own results.
func checkReflectPadAdjoint(s *suite) {
	for _, c := range reflectCases {
		r := len(c.shape)
		padded := c.shape.Clone()
		padded[r-2] += c.pad.Top + c.pad.Bottom
		padded[r-1] += c.pad.Left + c.pad.Right
		g := s.rand(normal, padded...)
		want := make([]float64, c.shape.Numel())
		abs := make([]float64, c.shape.Numel())
		dst := make([]int, r)
		forEach(padded, func(idx []int, i int) {
			copy(dst, idx)
			dst[r-2] = reflectIndex(idx[r-2]-c.pad.Top, c.shape[r-2])
			dst[r-1] = reflectIndex(idx[r-1]-c.pad.Left, c.shape[r-1])
			j := 0
			for ax, n := range c.shape {
				j = j*n + dst[ax]
			}
			want[j] += g.values[i]
			abs[j] += math.Abs(g.values[i])
		})
		what := fmt.Sprintf("reflect pad adjoint %v by %+v", padded, c.pad)
		pt := s.b.ReflectPad2dAdjoint(g.dev, c.pad)
		s.expect(what, pt, c.shape, want, sumOf(abs), g)

		x := s.rand(normal, c.shape...)
		px := s.b.ToHost(s.b.ReflectPad2d(x.dev, c.pad)).Values()
		lhs, rhs, mag := 0.0, 0.0, 0.0
		for i, v := range px {
			lhs += v * g.values[i]
			mag += math.Abs(v * g.values[i])
		}
		for i, v := range s.b.ToHost(pt).Values() {
			rhs += x.values[i] * v
		}
		if math.Abs(lhs-rhs) > 64*s.eps()*mag {
			s.t.Errorf("%s: ⟨Px, g⟩ = %.9g but ⟨x, Pᵀg⟩ = %.9g", what, lhs, rhs)
		}
	}
}

// ---- Convolutions ----

// convGeom is one convolution: x (N, C, H, W), w (O, C, KH, KW).
type convGeom struct {
	n, c, h, w, o, kh, kw int
	p                     tensor.ConvParams
	bias                  bool
}

func (g convGeom) String() string {
	return fmt.Sprintf("x(%d,%d,%d,%d) w(%d,%d,%d,%d) s%d p%d", g.n, g.c, g.h, g.w, g.o, g.c, g.kh, g.kw, g.p.Stride, g.p.Padding)
}

func (g convGeom) out() (int, int) { return g.p.OutSize(g.h, g.kh), g.p.OutSize(g.w, g.kw) }

// convGeoms cover strides 1 and 2, padding 0, 1 and 3, kernels 1, 3, 4 and
// 7, batches 1 and 2, odd and non-square sizes with leftover rows, and the
// layer shapes of CycleGAN scaled down (the 7×7 stem, the strided 3×3
// downsampling, the residual 3×3 on a reflection-padded input, the 4×4
// PatchGAN convolutions), large enough to reach a backend's fast paths.
var convGeoms = []convGeom{
	{1, 1, 5, 5, 1, 3, 3, tensor.ConvParams{Stride: 1, Padding: 0}, false},
	{2, 3, 7, 6, 4, 3, 3, tensor.ConvParams{Stride: 2, Padding: 1}, true},
	{2, 2, 8, 6, 3, 4, 4, tensor.ConvParams{Stride: 2, Padding: 1}, true},
	{1, 3, 13, 11, 5, 7, 7, tensor.ConvParams{Stride: 1, Padding: 3}, true},
	{2, 4, 5, 3, 3, 1, 1, tensor.ConvParams{Stride: 2, Padding: 0}, true},
	{1, 2, 9, 6, 3, 4, 3, tensor.ConvParams{Stride: 2, Padding: 0}, false},
	{2, 8, 9, 9, 8, 4, 4, tensor.ConvParams{Stride: 1, Padding: 1}, true},
	{2, 16, 12, 10, 8, 3, 3, tensor.ConvParams{Stride: 1, Padding: 1}, true},
	{1, 3, 22, 22, 8, 7, 7, tensor.ConvParams{Stride: 1, Padding: 0}, true},
	{1, 24, 17, 15, 16, 3, 3, tensor.ConvParams{Stride: 2, Padding: 1}, true},
	{1, 32, 18, 18, 32, 3, 3, tensor.ConvParams{Stride: 1, Padding: 0}, true},
	{2, 16, 11, 13, 16, 3, 3, tensor.ConvParams{Stride: 1, Padding: 1}, true},
	{2, 16, 19, 13, 24, 1, 1, tensor.ConvParams{Stride: 1, Padding: 0}, false},
}

// f64 returns the values of t as a float64 CPU tensor, and their absolute
// values.
func f64(t *tensor.Tensor) (v, abs *tensor.Tensor) {
	vals := t.Values()
	a := make([]float64, len(vals))
	for i, x := range vals {
		a[i] = math.Abs(x)
	}
	return tensor.FromFloat64s(vals, t.Shape()...), tensor.FromFloat64s(a, t.Shape()...)
}

func checkConv2d(s *suite) {
	for _, g := range convGeoms {
		x, w := s.rand(normal, g.n, g.c, g.h, g.w), s.rand(normal, g.o, g.c, g.kh, g.kw)
		xv, xa := f64(x.host)
		wv, wa := f64(w.host)
		var b operand
		var bdev, bv, ba *tensor.Tensor
		in := []operand{x, w}
		if g.bias {
			b = s.rand(normal, g.o)
			bdev = b.dev
			bv, ba = f64(b.host)
			in = append(in, b)
		}
		want := tensor.Conv2dRef(xv, wv, bv, g.p)
		abs := tensor.Conv2dRef(xa, wa, ba, g.p)
		oh, ow := g.out()
		s.expect("conv2d "+g.String(), s.b.Conv2d(x.dev, w.dev, bdev, g.p), tensor.Shape{g.n, g.o, oh, ow},
			want.Values(), convOf(abs.Values()), in...)
	}
}

func checkConv2dInputGrad(s *suite) {
	for _, g := range convGeoms {
		oh, ow := g.out()
		gy, w := s.rand(normal, g.n, g.o, oh, ow), s.rand(normal, g.o, g.c, g.kh, g.kw)
		gv, ga := f64(gy.host)
		wv, wa := f64(w.host)
		want := tensor.Conv2dInputGradRef(gv, wv, g.p, g.h, g.w)
		abs := tensor.Conv2dInputGradRef(ga, wa, g.p, g.h, g.w)
		s.expect("conv2d input grad "+g.String(), s.b.Conv2dInputGrad(gy.dev, w.dev, g.p, g.h, g.w),
			tensor.Shape{g.n, g.c, g.h, g.w}, want.Values(), convOf(abs.Values()), gy, w)
	}
}

func checkConv2dWeightGrad(s *suite) {
	for _, g := range convGeoms {
		oh, ow := g.out()
		x, gy := s.rand(normal, g.n, g.c, g.h, g.w), s.rand(normal, g.n, g.o, oh, ow)
		xv, xa := f64(x.host)
		gv, ga := f64(gy.host)
		want := tensor.Conv2dWeightGradRef(xv, gv, g.p, g.kh, g.kw)
		abs := tensor.Conv2dWeightGradRef(xa, ga, g.p, g.kh, g.kw)
		s.expect("conv2d weight grad "+g.String(), s.b.Conv2dWeightGrad(x.dev, gy.dev, g.p, g.kh, g.kw),
			tensor.Shape{g.o, g.c, g.kh, g.kw}, want.Values(), convOf(abs.Values()), x, gy)
	}
}

// ---- Operands that do not fit ----

// checkPanics calls primitives with operands that do not fit: each must
// panic, and the message must name the offending shape.
func checkPanics(s *suite) {
	d := func(shape ...int) *tensor.Tensor { return s.rand(normal, shape...).dev }
	cases := []struct {
		what  string
		shape string // must appear in the message
		call  func()
	}{
		{"binary of (2, 3) and (4)", "(2, 3)", func() { s.b.Binary(tensor.Add, d(2, 3), d(4)) }},
		{"where with cond (5)", "(5)", func() { s.b.Where(d(5), d(2, 3), d(3)) }},
		{"expand (3) to (4)", "(3)", func() { s.b.Expand(d(3), tensor.Shape{4}) }},
		{"permute with 1 axis of (2, 3)", "(2, 3)", func() { s.b.Permute(d(2, 3), []int{0}) }},
		{"slice past the end of (4, 5)", "(4, 5)", func() { s.b.Slice(d(4, 5), []int{0, 0}, []int{4, 6}) }},
		{"pad with 1 axis of (2, 3)", "(2, 3)", func() { s.b.Pad(d(2, 3), []int{1}, []int{1}) }},
		{"concat of (2, 3) and (2, 4) along 0", "(2, 4)", func() { s.b.Concat(0, []*tensor.Tensor{d(2, 3), d(2, 4)}) }},
		{"reflect pad 3 of (1, 1, 3, 3)", "(1, 1, 3, 3)", func() {
			s.b.ReflectPad2d(d(1, 1, 3, 3), tensor.Pad2d{Left: 3, Right: 3, Top: 3, Bottom: 3})
		}},
		{"conv2d with 3 input channels and a 2-channel weight", "(1, 3, 5, 5)", func() {
			s.b.Conv2d(d(1, 3, 5, 5), d(4, 2, 3, 3), nil, tensor.ConvParams{Stride: 1})
		}},
		{"conv2d input grad of the wrong size", "(1, 4, 3, 3)", func() {
			s.b.Conv2dInputGrad(d(1, 4, 3, 3), d(4, 2, 3, 3), tensor.ConvParams{Stride: 1}, 7, 7)
		}},
		{"conv2d weight grad with batches 1 and 2", "(2, 4, 3, 3)", func() {
			s.b.Conv2dWeightGrad(d(1, 2, 5, 5), d(2, 4, 3, 3), tensor.ConvParams{Stride: 1}, 3, 3)
		}},
		{"max pool of (2, 3, 4)", "(2, 3, 4)", func() { s.b.MaxPool2d(d(2, 3, 4), tensor.PoolParams{Kernel: 2, Stride: 1}) }},
		{"avg pool padded by more than half its window, of (1, 1, 5, 5)", "(1, 1, 5, 5)", func() {
			s.b.AvgPool2d(d(1, 1, 5, 5), tensor.PoolParams{Kernel: 3, Stride: 1, Padding: 2})
		}},
		{"max pool with a window larger than (1, 1, 2, 2)", "(1, 1, 2, 2)", func() {
			s.b.MaxPool2d(d(1, 1, 2, 2), tensor.PoolParams{Kernel: 3, Stride: 1})
		}},
		{"resize of (3, 4, 5)", "(3, 4, 5)", func() { s.b.ResizeBilinear(d(3, 4, 5), 2, 2) }},
		{"resize of (1, 1, 2, 2) to 0×3", "(1, 1, 2, 2)", func() { s.b.ResizeBilinear(d(1, 1, 2, 2), 0, 3) }},
		{"instance norm of (2, 3, 4)", "(2, 3, 4)", func() { s.b.InstanceNorm(d(2, 3, 4), 1e-5) }},
		{"composed instance norm of (2, 3, 4)", "(2, 3, 4)", func() { tensor.InstanceNormComposed(s.b, d(2, 3, 4), 1e-5) }},
		{"instance norm backward with r (1, 3, 1, 1) for g (2, 3, 4, 5)", "(1, 3, 1, 1)", func() {
			s.b.InstanceNormBackward(d(2, 3, 4, 5), d(2, 3, 4, 5), d(1, 3, 1, 1))
		}},
		{"composed instance norm backward with r (1, 3, 1, 1) for g (2, 3, 4, 5)", "(1, 3, 1, 1)", func() {
			tensor.InstanceNormBackwardComposed(s.b, d(2, 3, 4, 5), d(2, 3, 4, 5), d(1, 3, 1, 1))
		}},
		{"adam step with m (3, 2) for p (2, 3)", "(3, 2)", func() { s.b.AdamStep(d(2, 3), d(2, 3), d(3, 2), d(2, 3), adamHyper()) }},
		{"composed adam step with m (3, 2) for p (2, 3)", "(3, 2)", func() {
			tensor.AdamStepComposed(s.b, d(2, 3), d(2, 3), d(3, 2), d(2, 3), adamHyper())
		}},
	}
	for _, c := range cases {
		msg, ok := panics(c.call)
		switch {
		case !ok:
			s.t.Errorf("%s: no panic", c.what)
		case !strings.Contains(msg, c.shape):
			s.t.Errorf("%s: the panic %q does not name %s", c.what, msg, c.shape)
		}
	}
	// Operands of two dtypes.
	other := tensor.Float64
	if s.dt == tensor.Float64 {
		other = tensor.Float32
	}
	if supports(s.b, other) {
		y := s.b.FromHost(tensor.New(other, 2))
		if _, ok := panics(func() { s.b.Binary(tensor.Add, d(2), y) }); !ok {
			s.t.Errorf("binary of %s and %s: no panic", s.dt, other)
		}
	}
}

func panics(f func()) (msg string, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			msg, ok = fmt.Sprint(r), true
		}
	}()
	f()
	return "", false
}
