// Package autograd records computations on variables and differentiates
// them in reverse mode, to any order.
//
// A Var holds a tensor and, when it was computed from variables that need a
// gradient, the Op that made it and that Op's inputs: the graph. Grad walks
// the graph from outputs back to chosen inputs, calling each Op's Backward
// rule. Those rules are written with differentiable operations (package
// ops), never with raw tensors, so when Grad is asked to create a graph the
// gradients it returns are variables of the same kind, and can themselves
// be differentiated: the gradient of a gradient, which the second-order
// GradCAM loss needs. Without createGraph the rules run on detached copies
// and record nothing.
//
// The package knows no concrete operation except accumulateOp, the sum of
// two gradients of one variable. There is no global "grad mode": a
// computation records a graph exactly when one of its inputs requires a
// gradient, so freezing a network means SetRequiresGrad(false) on its
// parameters, and Detach cuts the graph at a variable.
package autograd
