// Package gradcheck checks the derivatives that package autograd computes
// against finite differences, to first and second order.
//
// Both checks reduce a vector function to scalars with random projections,
// so that one autograd call gives every analytic value and each numeric value
// costs two evaluations:
//
// First order (CheckGrad). For f: x ↦ y and a random cotangent u shaped like
// y, the vector-Jacobian product Jᵀu from autograd.Grad is the gradient of
// the scalar ⟨u, f(x)⟩, so every element i of every input must match the
// central difference
//
//	(Jᵀu)ᵢ ≈ (⟨u, f(x + h·eᵢ)⟩ − ⟨u, f(x − h·eᵢ)⟩) / 2h.
//
// Second order (CheckGradGrad). The backward pass itself is a function
// (x, v) ↦ J(x)ᵀv; autograd.Grad with createGraph returns it as a
// differentiable variable. With random w_k shaped like each input x_k, the
// scalar
//
//	φ(x, v) = Σ_k ⟨w_k, (J(x)ᵀv)_k⟩
//
// is differentiated by autograd (a gradient of a gradient) with respect to
// every x_k and to v, and each element is compared with central differences
// of φ. The derivative with respect to x is what a backward rule gets wrong
// when it computes on raw tensors instead of differentiable operations; the
// derivative with respect to v checks that the rule is linear in the
// incoming gradient and recorded as such.
//
// Checks run in float64: with h ≈ 1e-6 the rounding error of a float32
// difference would swamp the derivative. Inputs may be marked constant (a
// mask, a target) so they are neither differentiated nor perturbed. Points
// where f is not differentiable (ReLU at 0, ties of a max) must be avoided
// by the caller: there the central difference measures the average of two
// one-sided slopes, not the rule's chosen subgradient.
package gradcheck
