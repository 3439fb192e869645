package ops_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

// Operands that do not fit are programmer errors: the op panics, naming
// itself and the shapes.
func TestPanicsNameOpAndShapes(t *testing.T) {
	v := func(shape ...int) *Var { return autograd.Param(tensor.New(tensor.Float64, shape...)) }
	p1 := tensor.ConvParams{Stride: 1, Padding: 1}
	for _, c := range []struct {
		call func()
		want []string
	}{
		{func() { ops.Add(v(2, 3), v(4)) }, []string{"add", "(2, 3)", "(4)"}},
		{func() { ops.Less(v(2, 3), v(3, 2)) }, []string{"less", "(2, 3)", "(3, 2)"}},
		{func() { ops.Where(v(5), v(2, 3), v(3)) }, []string{"where", "(5)", "(2, 3)"}},
		{func() { ops.SumTo(v(2, 3), tensor.Shape{4}) }, []string{"sum_to", "(2, 3)", "(4)"}},
		{func() { ops.Reshape(v(2, 3), 4, 2) }, []string{"Reshape", "(2, 3)", "(4, 2)"}},
		{func() { ops.Stack(0, v(2, 3), v(3, 2)) }, []string{"stack", "(2, 3)", "(3, 2)"}},
		{func() { ops.Concat(0) }, []string{"concat", "no inputs"}},
		{func() { ops.Conv2d(v(1, 3, 5, 5), v(4, 3, 3, 3), v(3), p1) }, []string{"conv2d", "bias (3)", "(4, 3, 3, 3)"}},
		{func() { ops.Conv2d(v(1, 2, 5, 5), v(4, 3, 3, 3), nil, p1) }, []string{"conv2d", "(1, 2, 5, 5)", "(4, 3, 3, 3)"}},
		{func() { ops.ConvTranspose2d(v(1, 3, 4, 4), v(4, 2, 3, 3), nil, p1, 0) }, []string{"conv_transpose2d", "(1, 3, 4, 4)", "(4, 2, 3, 3)"}},
		{func() { ops.ConvTranspose2d(v(1, 4, 4, 4), v(4, 2, 3, 3), nil, p1, 1) }, []string{"conv_transpose2d", "output padding 1", "stride 1"}},
		{func() { ops.InstanceNorm2d(v(2, 3, 4), nil, nil, 1e-5) }, []string{"instance_norm2d", "(2, 3, 4)"}},
	} {
		msg := panicMessage(c.call)
		if msg == "" {
			t.Errorf("no panic; want one mentioning %q", c.want)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("panic %q does not mention %q", msg, w)
			}
		}
	}
}

func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}
