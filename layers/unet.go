package layers

import (
	"math/rand/v2"
	"strings"

	"github.com/camcycle/camcycle/ops"
)

// UnetSkipConnectionBlock is pytorch-CycleGAN-and-pix2pix's
// UnetSkipConnectionBlock: a downsampling, the submodule, an upsampling,
// and (but for the outermost block) the input concatenated to the result
// along the channels:
//
//	outermost  [Conv2d(in→inner, 4, s2, p1), submodule, ReLU, ConvTranspose2d(2·inner→outer, 4, s2, p1), Tanh]
//	innermost  [LeakyReLU(0.2), Conv2d(outer→inner), ReLU, ConvTranspose2d(inner→outer), norm]
//	otherwise  [LeakyReLU(0.2), Conv2d(outer→inner), norm, submodule, ReLU, ConvTranspose2d(2·inner→outer), norm, (Dropout(0.5))]
//
// Its parameters are named model.{index}.*, nested as the blocks are. The
// convolutions have a bias only with instance norm (Norm.Bias), but for the
// outermost block's last one, which always has one.
type UnetSkipConnectionBlock struct {
	Model     *Sequential
	Outermost bool
}

// UnetBlock says where a UnetSkipConnectionBlock sits.
type UnetBlock int

// The three kinds of block.
const (
	UnetMiddle UnetBlock = iota
	UnetOutermost
	UnetInnermost
)

// NewUnetSkipConnectionBlock returns the block of outer channels outside
// and inner inside around sub (nil for the innermost), taking input
// channels (0: outer), with the given norm and, when drop is not nil (only
// middle blocks use it), a Dropout(0.5) at the end.
func NewUnetSkipConnectionBlock(in Init, outer, inner, input int, sub Module, kind UnetBlock, norm Norm, drop *rand.Rand) *UnetSkipConnectionBlock {
	if input == 0 {
		input = outer
	}
	bias := norm.Bias()
	down := NewConv2dBias(in, input, inner, 4, 2, 1, bias)
	lrelu := LeakyReLU{Alpha: 0.2}
	var s []Module
	switch kind {
	case UnetOutermost:
		s = []Module{down, sub, ReLU{}, NewConvTranspose2d(in, inner*2, outer, 4, 2, 1, 0), Tanh{}}
	case UnetInnermost:
		s = []Module{lrelu, down, ReLU{}, NewConvTranspose2dBias(in, inner, outer, 4, 2, 1, 0, bias), norm.New(in, outer)}
	default:
		s = []Module{lrelu, down, norm.New(in, inner), sub, ReLU{}, NewConvTranspose2dBias(in, inner*2, outer, 4, 2, 1, 0, bias), norm.New(in, outer)}
		if drop != nil {
			s = append(s, NewDropout(0.5, drop))
		}
	}
	return &UnetSkipConnectionBlock{Model: NewSequential(s...), Outermost: kind == UnetOutermost}
}

// Forward: x (N, C, H, W) → Model(x) for the outermost block, else
// Concat(x, Model(x)) along the channels.
func (u *UnetSkipConnectionBlock) Forward(x *Var) *Var {
	if u.Outermost {
		return u.Model.Forward(x)
	}
	return ops.Concat(1, x, u.Model.Forward(x))
}

func (u *UnetSkipConnectionBlock) Params() []NamedParam { return Prefixed("model", u.Model) }

// Children is the block's Sequential, model.
func (u *UnetSkipConnectionBlock) Children() ([]string, []Module) {
	return []string{"model"}, []Module{u.Model}
}

func (u *UnetSkipConnectionBlock) String() string {
	return "UnetSkipConnectionBlock(\n  (model): " + strings.ReplaceAll(u.Model.String(), "\n", "\n  ") + "\n)"
}
