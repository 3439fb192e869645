// Package tensor holds dense n-dimensional arrays and the backends that
// compute on them.
//
// A Tensor is row-major storage with a Shape and a DType (Float32 for
// training, Float64 for gradient checks) that lives on one Backend. The
// Backend interface (backend.go) is the complete list of primitives the rest
// of the project needs: elementwise maps with NumPy broadcasting, reductions,
// data movement (expand, permute, slice, pad, concat, reflection padding),
// the three convolution kernels (forward, input gradient, weight gradient),
// and three fused kernels (instance normalisation, its input gradient, an
// Adam step), each defined by a composed twin (fused.go) written with the
// elementary primitives. The CPU backend is the reference: its loops are
// plain enough to check by hand, with fast paths where the time goes
// (convolutions). A CUDA backend (package cuda, not written yet) is to
// implement the same list, and the conformance suite (tensor/backendtest)
// runs against every backend.
//
// Primitives are not differentiable; package ops builds differentiable
// operations from them, and package autograd records and differentiates
// those.
package tensor
