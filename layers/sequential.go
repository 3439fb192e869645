package layers

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

// Sequential applies its layers in order. Layers are addressed by index, as
// in torch.nn.Sequential: parameter names are "{index}.{name}", and GradCAM
// names its target layers by index.
type Sequential struct {
	Layers []Module
}

// NewSequential returns a Sequential of the given layers.
func NewSequential(layers ...Module) *Sequential { return &Sequential{Layers: layers} }

// Forward applies every layer.
func (s *Sequential) Forward(x *Var) *Var { return s.Range(x, 0, len(s.Layers)) }

// Range applies layers from, …, to−1 to x: the part of the network between
// two indices (GradCAM splits a generator at its target layers).
func (s *Sequential) Range(x *Var, from, to int) *Var {
	if from < 0 || to > len(s.Layers) || from > to {
		panic(fmt.Sprintf("Sequential.Range: [%d, %d) outside %d layers", from, to, len(s.Layers)))
	}
	for _, l := range s.Layers[from:to] {
		x = l.Forward(x)
	}
	return x
}

// Capture applies every layer to x, as Forward does, and also returns the
// outputs of the layers at indices idx, in the order of idx (any order;
// an index may repeat). The layers run once, whatever idx holds: this is
// how one generator pass serves the GradCAM maps of several layers.
//
//	out, acts := g.Capture(x, []int{18, 10}) // acts[0]: layer 18's output
func (s *Sequential) Capture(x *Var, idx []int) (out *Var, acts []*Var) {
	sorted := slices.Clone(idx)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	kept := make(map[int]*Var, len(sorted))
	at := 0
	for _, l := range sorted {
		if l < 0 || l >= len(s.Layers) {
			panic(fmt.Sprintf("Sequential.Capture: layer %d outside %d layers", l, len(s.Layers)))
		}
		x = s.Range(x, at, l+1)
		kept[l] = x
		at = l + 1
	}
	out = s.Range(x, at, len(s.Layers))
	acts = make([]*Var, len(idx))
	for i, l := range idx {
		acts[i] = kept[l]
	}
	return out, acts
}

// Children are the layers, named by their index.
func (s *Sequential) Children() ([]string, []Module) {
	names := make([]string, len(s.Layers))
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	return names, s.Layers
}

// Len returns the number of layers.
func (s *Sequential) Len() int { return len(s.Layers) }

func (s *Sequential) Params() []NamedParam {
	var out []NamedParam
	for i, l := range s.Layers {
		for _, p := range l.Params() {
			out = append(out, NamedParam{fmt.Sprintf("%d.%s", i, p.Name), p.Var})
		}
	}
	return out
}

// String prints the layers one per line with their indices, as PyTorch
// prints a Sequential.
func (s *Sequential) String() string {
	var b strings.Builder
	b.WriteString("Sequential(\n")
	for i, l := range s.Layers {
		desc := fmt.Sprint(l)
		desc = strings.ReplaceAll(desc, "\n", "\n  ")
		fmt.Fprintf(&b, "  (%d): %s\n", i, desc)
	}
	b.WriteString(")")
	return b.String()
}

// ResnetBlock is x + ConvBlock(x) with ConvBlock = [ReflectionPad2d(1),
// Conv2d(c→c, 3), norm, ReLU, (Dropout(0.5),) ReflectionPad2d(1),
// Conv2d(c→c, 3), norm], as pytorch-CycleGAN-and-pix2pix's ResnetBlock
// with padding_type "reflect". With instance norm and no dropout (the
// CycleGAN default) its parameters are named conv_block.1.* and
// conv_block.5.*; dropout moves the second convolution to conv_block.6.
type ResnetBlock struct {
	ConvBlock *Sequential
}

// NewResnetBlock returns a residual block of dim channels with instance
// norm and no dropout.
func NewResnetBlock(in Init, dim int) *ResnetBlock { return NewResnetBlockWith(in, dim, Instance, nil) }

// NewResnetBlockWith returns a residual block of dim channels with the
// given norm (its convolutions have a bias only with instance norm, see
// Norm.Bias) and, when drop is not nil, a Dropout(0.5) drawing from drop
// between the two convolutions.
func NewResnetBlockWith(in Init, dim int, norm Norm, drop *rand.Rand) *ResnetBlock {
	s := []Module{&ReflectionPad2d{P: 1}, NewConv2dBias(in, dim, dim, 3, 1, 0, norm.Bias()), norm.New(in, dim), ReLU{}}
	if drop != nil {
		s = append(s, NewDropout(0.5, drop))
	}
	s = append(s, &ReflectionPad2d{P: 1}, NewConv2dBias(in, dim, dim, 3, 1, 0, norm.Bias()), norm.New(in, dim))
	return &ResnetBlock{ConvBlock: NewSequential(s...)}
}

// Forward: x (N, C, H, W) → x + ConvBlock(x), same shape.
func (r *ResnetBlock) Forward(x *Var) *Var { return ops.Add(x, r.ConvBlock.Forward(x)) }

func (r *ResnetBlock) Params() []NamedParam { return Prefixed("conv_block", r.ConvBlock) }

// Children is the block's Sequential, conv_block.
func (r *ResnetBlock) Children() ([]string, []Module) {
	return []string{"conv_block"}, []Module{r.ConvBlock}
}

func (r *ResnetBlock) String() string {
	return "ResnetBlock(\n  (conv_block): " + strings.ReplaceAll(r.ConvBlock.String(), "\n", "\n  ") + "\n)"
}

// Prefixed returns m's parameters with "prefix." before each name.
func Prefixed(prefix string, m Module) []NamedParam {
	ps := m.Params()
	for i := range ps {
		ps[i].Name = prefix + "." + ps[i].Name
	}
	return ps
}

// Vars returns the parameter variables of m in order.
func Vars(m Module) []*Var { return VarsOf(m.Params()) }

// VarsOf returns the variables of the named parameters ps, in order.
func VarsOf(ps []NamedParam) []*Var {
	vs := make([]*Var, len(ps))
	for i, p := range ps {
		vs[i] = p.Var
	}
	return vs
}

// CountParams returns the number of scalar parameters of m.
func CountParams(m Module) int {
	n := 0
	for _, p := range m.Params() {
		n += p.Var.Value.Numel()
	}
	return n
}

// MoveTo moves every parameter and buffer of m to backend b (and dtype
// dt), in place.
func MoveTo(m Module, b tensor.Backend, dt tensor.DType) {
	for _, p := range State(m) {
		v := p.Var.Value.To(b)
		if v.DType() != dt {
			v = b.Cast(v, dt)
		}
		p.Var.Value = v
		p.Var.Grad = nil
	}
}
