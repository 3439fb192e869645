package tensor

// This file is the whole list of primitives a backend implements. The CPU
// backend (cpu*.go) is the plain reference; a CUDA backend (package cuda, a
// later issue) is to implement the same list, kernel for kernel, and the
// conformance suite in tensor/backendtest checks every backend against the
// CPU.
//
// Primitives are not differentiable by themselves: package ops wraps them
// into differentiable operations. Every primitive returns new storage and
// never modifies its operands, and every primitive panics, naming itself and
// the shapes, when its operands do not fit.

// UnaryOp names an elementwise function of one tensor.
type UnaryOp uint8

const (
	Neg   UnaryOp = iota // -x
	Exp                  // eˣ
	Log                  // ln x
	Sqrt                 // √x
	Rsqrt                // 1/√x
	Tanh                 // tanh x
	Abs                  // |x|
	Sign                 // -1, 0 or 1
)

var unaryNames = [...]string{"neg", "exp", "log", "sqrt", "rsqrt", "tanh", "abs", "sign"}

func (o UnaryOp) String() string { return unaryNames[o] }

// BinaryOp names an elementwise function of two tensors (or a tensor and a
// scalar). Comparisons give 1 where they hold and 0 elsewhere, in the
// operands' dtype.
type BinaryOp uint8

const (
	Add          BinaryOp = iota // x + y
	Sub                          // x − y
	Mul                          // x · y
	Div                          // x / y
	Pow                          // xʸ
	Maximum                      // max(x, y)
	Minimum                      // min(x, y)
	Greater                      // x > y
	GreaterEqual                 // x ≥ y
	Less                         // x < y
	Equal                        // x = y
)

var binaryNames = [...]string{"add", "sub", "mul", "div", "pow", "maximum", "minimum", "greater", "greater_equal", "less", "equal"}

func (o BinaryOp) String() string { return binaryNames[o] }

// ReduceOp names a reduction over axes.
type ReduceOp uint8

const (
	Sum ReduceOp = iota // Σ
	Max                 // largest element
	Min                 // smallest element
)

var reduceNames = [...]string{"sum", "max", "min"}

func (o ReduceOp) String() string { return reduceNames[o] }

// ConvParams describes a 2-D convolution with square stride and zero padding
// on all four sides, as torch.nn.Conv2d(stride=Stride, padding=Padding).
type ConvParams struct {
	Stride  int
	Padding int
}

// OutSize returns the output size of a convolution with kernel size k on an
// input of size n: ⌊(n + 2p − k)/s⌋ + 1.
func (p ConvParams) OutSize(n, k int) int { return (n+2*p.Padding-k)/p.Stride + 1 }

// PoolParams describes a 2-D pooling window: Kernel×Kernel, moved by
// Stride, over the input padded by Padding on all four sides (at most
// Kernel/2, as PyTorch requires), as torch.nn.MaxPool2d and AvgPool2d with
// ceil_mode false. CountIncludePad says whether an average divides by the
// whole window (true, PyTorch's default) or only by the window's positions
// inside the input (false: count_include_pad=False); max pools ignore it.
type PoolParams struct {
	Kernel, Stride, Padding int
	CountIncludePad         bool
}

// OutSize returns the output size of the pool on an input of size n:
// ⌊(n + 2p − k)/s⌋ + 1.
func (p PoolParams) OutSize(n int) int { return (n+2*p.Padding-p.Kernel)/p.Stride + 1 }

// Pad2d gives the padding of the last two axes: Left and Right pad the width
// (last axis), Top and Bottom the height.
type Pad2d struct {
	Left, Right, Top, Bottom int
}

// Backend lists the primitives of one kind of device.
type Backend interface {
	// Name is "cpu" or "cuda".
	Name() string

	// Storage.

	// Full returns a tensor of shape s with every element v.
	Full(dt DType, s Shape, v float64) *Tensor
	// FromHost copies a CPU tensor to this backend.
	FromHost(t *Tensor) *Tensor
	// ToHost copies a tensor of this backend to the CPU.
	ToHost(t *Tensor) *Tensor
	// Cast converts x to dtype dt.
	Cast(x *Tensor, dt DType) *Tensor

	// Elementwise.

	// Unary applies op to every element.
	Unary(op UnaryOp, x *Tensor) *Tensor
	// Binary applies op to x and y broadcast to a common shape.
	Binary(op BinaryOp, x, y *Tensor) *Tensor
	// Scalar applies op to every element of x and the constant c (x op c).
	Scalar(op BinaryOp, x *Tensor, c float64) *Tensor
	// Where picks x where cond ≠ 0 and y elsewhere; all three broadcast.
	Where(cond, x, y *Tensor) *Tensor

	// Reduce reduces over axes (all axes when axes is empty), keeping them
	// with size 1.
	Reduce(op ReduceOp, x *Tensor, axes []int) *Tensor

	// Movement.

	// Expand broadcasts x to shape s (NumPy rules).
	Expand(x *Tensor, s Shape) *Tensor
	// Permute reorders the axes: out axis i is x's axis perm[i].
	Permute(x *Tensor, perm []int) *Tensor
	// Slice copies x[start[0]:end[0], start[1]:end[1], …].
	Slice(x *Tensor, start, end []int) *Tensor
	// Pad surrounds x with before[i] zeros before and after[i] zeros after
	// along each axis i. It is the adjoint of Slice.
	Pad(x *Tensor, before, after []int) *Tensor
	// Concat joins tensors along axis; other sizes must agree.
	Concat(axis int, xs []*Tensor) *Tensor
	// ReflectPad2d pads the last two axes by reflection (the edge is not
	// repeated), as torch.nn.ReflectionPad2d.
	ReflectPad2d(x *Tensor, p Pad2d) *Tensor
	// ReflectPad2dAdjoint is the transpose of ReflectPad2d: each border value
	// of g is added back onto the element it was reflected from.
	ReflectPad2dAdjoint(g *Tensor, p Pad2d) *Tensor

	// Convolution.

	// Conv2d correlates x (N, C, H, W) with w (O, C, KH, KW), adds b (O) when
	// b is not nil, and returns (N, O, OH, OW).
	Conv2d(x, w, b *Tensor, p ConvParams) *Tensor
	// Conv2dInputGrad is the transpose of Conv2d in x: gy (N, O, OH, OW) and
	// w (O, C, KH, KW) give (N, C, h, w). It is also ConvTranspose2d's forward.
	Conv2dInputGrad(gy, w *Tensor, p ConvParams, h, wd int) *Tensor
	// Conv2dWeightGrad is the transpose of Conv2d in w: x (N, C, H, W) and
	// gy (N, O, OH, OW) give (O, C, kh, kw).
	Conv2dWeightGrad(x, gy *Tensor, p ConvParams, kh, kw int) *Tensor

	// Pooling and resampling (the FID network's; not differentiated).

	// MaxPool2d returns the largest element of each window of every plane
	// of x (N, C, H, W); padded positions never win.
	MaxPool2d(x *Tensor, p PoolParams) *Tensor
	// AvgPool2d returns the mean of each window of every plane of x
	// (N, C, H, W), padded positions counting as zeros or not at all
	// (p.CountIncludePad).
	AvgPool2d(x *Tensor, p PoolParams) *Tensor
	// ResizeBilinear resizes every plane of x (N, C, H, W) to h×w by
	// bilinear interpolation, as torch.nn.functional.interpolate(mode=
	// "bilinear", align_corners=False) without antialiasing: output pixel i
	// samples the input at (i + ½)·H/h − ½, clamped at 0, between its two
	// neighbours (the last one repeated at the far edge).
	ResizeBilinear(x *Tensor, h, w int) *Tensor

	// Fused kernels: one to three passes over the data where the
	// elementary primitives above would take nine or more. Each is defined
	// by its composed twin in fused.go (InstanceNormComposed,
	// InstanceNormBackwardComposed, AdamStepComposed), written with those
	// primitives, and the conformance suite checks every backend's kernel
	// against the twin computed on the same backend.

	// InstanceNorm normalises every (n, c) plane of x (N, C, H, W) over
	// H×W: y = (x − μ)·r with μ the plane's mean, r = 1/√(σ² + eps) and σ²
	// its biased variance. It returns y and r (N, C, 1, 1).
	InstanceNorm(x *Tensor, eps float64) (y, r *Tensor)
	// InstanceNormBackward returns r·(g − mean(g) − y·mean(g·y)), means
	// over each H×W plane: the gradient of InstanceNorm with respect to x,
	// given its output y, r, and the output gradient g (all (N, C, H, W)
	// but r (N, C, 1, 1)).
	InstanceNormBackward(g, y, r *Tensor) *Tensor
	// AdamStep is one Adam update of a parameter p with gradient g and
	// moments m, v (all of one shape), in PyTorch's order of operations:
	//
	//	m' = β₁m + (1−β₁)g,  v' = β₂v + (1−β₂)g²
	//	p' = p − StepSize · m' / (√v'/SqrtBC2 + Eps)
	//
	// It returns p', m', v'.
	AdamStep(p, g, m, v *Tensor, h AdamHyper) (p2, m2, v2 *Tensor)
}

// AdamHyper are the constants of one Adam step: StepSize = lr/(1−β₁ᵗ) and
// SqrtBC2 = √(1−β₂ᵗ) at step t.
type AdamHyper struct {
	Beta1, Beta2, Eps, StepSize, SqrtBC2 float64
}
