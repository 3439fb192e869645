// Package ops holds the differentiable operations. Each computes its result
// with the primitives of its operands' backend (tensor.Backend) and records
// itself with autograd.Record, together with an autograd.Op: its name and
// its backward rule.
//
// # Rules written in ops
//
// A backward rule computes the gradients of its operands only with
// differentiable ops of this package, applied to the operands, the result
// and grad (the gradient of the result) that autograd hands it. When the
// graph of a gradient is recorded (autograd.Grad with createGraph), those
// are live variables, so everything the rule computes is recorded with ops
// that have rules of their own: the gradient can be differentiated again,
// and so every order of derivative follows. Otherwise they are detached and
// nothing is recorded. Besides ops, a rule uses only constants, which
// have no derivative: the masks of comparisons (GreaterScalar, Equal),
// Abs's Sign, Max's count of ties, LeakyReLU's slope, Where's zero. One
// rule records an op that is not exported: InstanceNorm2d's, whose scale r
// enters as the op instance_norm_scale when the graph is recorded (see
// Normalisation below).
//
// A rule is also told, by its needs argument, which operands' gradients are
// wanted: those that require a gradient and lie on a path to a variable
// autograd.Grad was asked about. It may skip the work for the others and
// return nil for them, and autograd ignores whatever it returns for them.
// So, with the discriminator frozen, Conv2d's rule
// computes the input's gradient (Conv2dInputGrad) but not the weight's
// (Conv2dWeightGrad). Rules of one-operand ops are only called when that
// operand's gradient is wanted.
//
// # Derivative table
//
// Every op's forward and backward rule in one place, as PyTorch's
// derivatives.yaml: for each exported function, the result it computes and,
// for each operand, the gradient its rule returns, written in the ops the
// rule calls. grad is the gradient of the result and result the result;
// SumTo(v, x) stands for SumTo(v, x.Shape()), the sum of v over the axes
// along which x was broadcast. An operand not listed gets no gradient. The
// comment on each rule (the Backward methods) says the same at greater
// length. Functions marked composed have no rule of their own: they are
// written with other ops, and differentiated through them.
//
// Elementwise. Binary ops broadcast (NumPy rules); c, p and α are numbers,
// and in the rules 0, 1 and α are constants shaped (), which broadcast.
//
//	Add(x, y)         x + y            x: SumTo(grad, x)
//	                                   y: SumTo(grad, y)
//	Sub(x, y)         x − y            x: SumTo(grad, x)
//	                                   y: SumTo(Neg(grad), y)
//	Mul(x, y)         x·y              x: SumTo(Mul(grad, y), x)
//	                                   y: SumTo(Mul(grad, x), y)
//	Div(x, y)         x/y              x: SumTo(Div(grad, y), x)
//	                                   y: SumTo(Neg(Div(Mul(grad, result), y)), y)
//	AddScalar(x, c)   x + c            x: grad
//	MulScalar(x, c)   c·x              x: MulScalar(grad, c)
//	PowScalar(x, p)   xᵖ               x: MulScalar(Mul(grad, PowScalar(x, p−1)), p)
//	Neg(x)            −x               x: Neg(grad)
//	Exp(x)            eˣ               x: Mul(grad, result)
//	Log(x)            ln x             x: Div(grad, x)
//	Sqrt(x)           √x               x: Div(MulScalar(grad, 0.5), result)
//	Rsqrt(x)          1/√x             x: MulScalar(Mul(grad, Mul(result, Mul(result, result))), −0.5)
//	Tanh(x)           tanh x           x: Mul(grad, AddScalar(Neg(Mul(result, result)), 1))
//	Abs(x)            |x|              x: Mul(grad, Sign(x))
//	ReLU(x)           max(x, 0)        x: Mul(grad, GreaterScalar(x, 0))
//	LeakyReLU(x, α)   x if x > 0,      x: Mul(grad, Where(GreaterScalar(x, 0), 1, α))
//	                  else αx
//	Where(c, x, y)    x if c ≠ 0,      x: SumTo(Where(c, grad, 0), x)
//	                  else y           y: SumTo(Where(c, 0, grad), y)
//
// Constants. These return a constant (autograd.Const), so they record
// nothing and pass no gradient; the rules of Abs, ReLU, LeakyReLU, Max and
// Min use them as factors.
//
//	Greater(x, y)         [x > y], 1 or 0
//	Equal(x, y)           [x = y]
//	Less(x, y)            [x < y]
//	GreaterScalar(x, c)   [x > c]
//	Sign(x)               −1, 0 or 1
//	Full(x, v)            v, shaped like x
//
// Reductions. The reduced axes stay, with size 1, so that the result
// broadcasts against x; no axes reduces all of them. In Max and Min,
// m = Equal(x, result) marks the extreme elements and n = Σ_axes m counts
// them (a constant), so ties share the gradient evenly.
//
//	Sum(x, axes…)    Σ over axes          x: Expand(grad, x.Shape())
//	Max(x, axes…)    largest over axes    x: Mul(Div(grad, n), m)
//	Min(x, axes…)    smallest over axes   x: Mul(Div(grad, n), m)
//	Mean(x, axes…)   composed: MulScalar(Sum(x, axes…), k/n), k and n the sizes of result and x
//	SumAll(x)        composed: Reshape(Sum(x)), a scalar
//	MeanAll(x)       composed: Reshape(Mean(x)), a scalar
//	SumTo(g, s)      composed: Reshape(Sum(g, axes along which s was broadcast…), s…)
//
// Shape and movement. The adjoint pairs (Slice and Pad, Expand and SumTo,
// ReflectionPad2d and its adjoint) are each other's rules.
//
//	Reshape(x, s…)               x in shape s       x: Reshape(grad, x.Shape()…)
//	Expand(x, s)                 x broadcast to s   x: SumTo(grad, x)
//	Permute(x, perm…)            x's axes, axis i   x: Permute(grad, perm⁻¹…)
//	                             from axis perm[i]
//	Slice(x, start, end)         x[start:end]       x: Pad(grad, start, x.Shape() − end)
//	Pad(x, before, after)        zeros around x     x: Slice(grad, before, before + x.Shape())
//	Concat(axis, x₀, x₁, …)      x₀, x₁, … joined   xᵢ: SliceAxis(grad, axis, oᵢ, oᵢ + nᵢ),
//	                                                    xᵢ's nᵢ elements along axis start at oᵢ
//	ReflectionPad2d(x, p)        x reflected at     x: ReflectionPad2dAdjoint(grad, p)
//	                             its borders
//	ReflectionPad2dAdjoint(g, p) border values      g: ReflectionPad2d(grad, p)
//	                             folded back
//	SliceAxis(x, axis, lo, hi)   composed: Slice of x along axis
//	Stack(axis, x₀, x₁, …)       composed: Concat(axis, xᵢ reshaped with a new axis of size 1…)
//
// Convolution. With A_w for "correlate with w" and B for its transpose in
// w,
//
//	⟨B(x, gy), v⟩ = ⟨gy, A_v x⟩  for every v shaped like w,
//
// the three kernels are linear maps and each one's rule is made of the
// other two. x is (N, C, H, W), w is (O, C, KH, KW) (ConvTranspose2d's is
// (C, O, KH, KW)), p the stride and padding.
//
//	Conv2d(x, w, b, p)                   A_w x + b
//	    x: Conv2dInputGrad(grad, w, p, H, W)
//	    w: Conv2dWeightGrad(x, grad, p, KH, KW)
//	    b: Reshape(Sum(grad, 0, 2, 3), O)
//	Conv2dInputGrad(gy, w, p, H, W)      A_wᵀ gy
//	    gy: Conv2d(grad, w, nil, p)
//	    w:  Conv2dWeightGrad(grad, gy, p, KH, KW)
//	ConvTranspose2d(x, w, b, p, outputPadding)
//	                                     A_wᵀ x + b: Conv2dInputGrad's op, and a bias
//	    x: Conv2d(grad, w, nil, p)
//	    w: Conv2dWeightGrad(grad, x, p, KH, KW)
//	    b: Reshape(Sum(grad, 0, 2, 3), O)
//	Conv2dWeightGrad(x, gy, p, KH, KW)   B(x, gy)
//	    x:  Conv2dInputGrad(gy, grad, p, H, W)
//	    gy: Conv2d(x, grad, nil, p)
//
// Normalisation. InstanceNorm2d normalises each (n, c) plane of x over
// H×W,
//
//	y = (x − μ)·r,  μ the plane's mean,  r = 1/√(σ² + eps),  σ² its biased variance,
//
// then scales and shifts y per channel. It is composed:
// the normalisation is the op instance_norm (not exported), and weight and
// bias enter through Mul and Add, whose rules give their gradients. In
// instance_norm's rule r (N, C, 1, 1) is the forward pass's: a constant
// when the graph of the gradient is not recorded, and otherwise the op
// instance_norm_scale(x, result) (not exported), whose value is that r and
// whose rule is r's derivative. Means are over each H×W plane; HW is its
// size.
//
//	InstanceNorm2d(x, weight, bias, eps)   composed: Add(Mul(instance_norm(x), weight), bias),
//	                                       weight and bias (C) reshaped to (1, C, 1, 1)
//	instance_norm(x)                       (x − μ)·r
//	    x: InstanceNormBackward(grad, result, r)
//	instance_norm_scale(x, y)              r, from the forward pass
//	    x: Mul(y, MulScalar(Mul(grad, Mul(result, result)), −1/HW))
//	InstanceNormBackward(g, y, r)          r·(g − mean(g) − y·mean(g·y))
//	    g: InstanceNormBackward(grad, y, r)
//	    y: Add(Mul(grad, Neg(Mul(r, Mean(Mul(g, y), 2, 3)))),
//	           Mul(g, Neg(Mul(r, Mean(Mul(grad, y), 2, 3)))))
//	    r: Div(Sum(Mul(grad, result), 2, 3), r)
//
// BatchNorm2d, the training mode of torch.nn.BatchNorm2d, normalises each
// channel over N×H×W with the batch's statistics; it is composed
// throughout, so its derivatives of every order are those of its ops (the
// running statistics of evaluation mode belong to layers.BatchNorm2d).
//
//	BatchNorm2d(x, weight, bias, eps)   composed: d = Sub(x, Mean(x, 0, 2, 3)),
//	                                    Mul(d, Rsqrt(AddScalar(Mean(Mul(d, d), 0, 2, 3), eps))),
//	                                    then weight and bias as InstanceNorm2d's
//
// Losses, composed; reduction "mean" as in PyTorch.
//
//	MSELoss(x, y)   composed: MeanAll(Mul(d, d)), d = Sub(x, y)
//	L1Loss(x, y)    composed: MeanAll(Abs(Sub(x, y)))
//	BCEWithLogitsLoss(x, t)
//	                composed: MeanAll(Sub(sp, Mul(x, t))), sp = softplus(x) =
//	                Where(p, Add(xp, Log(AddScalar(Exp(Neg(xp)), 1))), Log(AddScalar(Exp(xn), 1))),
//	                p = GreaterScalar(x, 0), xp = Where(p, x, 0), xn = Where(p, 0, x)
//
// # Fused kernels are ops
//
// Where composing elementary ops would cost many passes over the data, or
// keep many tensors alive in the graph, one op does the work, and it is an
// op like any other: a rule written in ops, itself differentiable.
//
//   - Conv2dInputGrad and Conv2dWeightGrad are Conv2d's gradients, each a
//     kernel of the backend, and their rules are Conv2d and each other, so
//     the three close under differentiation.
//   - InstanceNormBackward is InstanceNorm2d's gradient as one kernel
//     (Backend.InstanceNormBackward) instead of nine ops; its rule for g
//     is itself again, those for y and r are written with Mean, Mul, Neg,
//     Add, Sum and Div.
//   - instance_norm_scale is r as a function of x in the recorded rule of
//     InstanceNorm2d: its value is the forward pass's, its rule one
//     product with y, where recomputing r with Mean, Sub, Mul and Rsqrt
//     would cost four passes over x, and about eight more in their rules.
//   - LeakyReLU is one op (max(x, αx) for 0 ≤ α ≤ 1), where Where and
//     MulScalar would keep a mask and αx of every activation in the graph;
//     its rule's slope is a constant, as ReLU's mask.
//
// The op table (optable_test.go, testdata/ops/table.json) checks every
// exported differentiable op, fused ones included, by central differences
// to the second order and against PyTorch; InstanceNorm2d is also checked against its
// definition composed of Mean, Sub, Mul and Rsqrt, in value and in
// derivatives to the third order (nn_test.go).
package ops
