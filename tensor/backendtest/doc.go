// Package backendtest is the conformance suite of tensor.Backend: Run checks
// every primitive of a backend, for every dtype it supports, against
// reference computations on the CPU.
//
// The references are written independently of the CPU backend's kernels:
// plain float64 loops over multi-indices for the elementwise, reduction and
// movement primitives, and tensor.Conv2dRef, Conv2dInputGradRef and
// Conv2dWeightGradRef (run in float64) for the convolutions. So the suite
// checks the CPU backend too, and any backend that passes agrees with the
// CPU. Values travel through FromHost and ToHost only.
//
// The fused kernels (InstanceNorm, InstanceNormBackward, AdamStep) are
// checked twice: against float64 loops, and against their composed twins
// (tensor.InstanceNormComposed, InstanceNormBackwardComposed,
// AdamStepComposed), the definitions written with the elementary
// primitives, computed on the backend under test.
//
// Beyond values, every primitive must return a tensor of the operands' dtype
// on the backend itself, leave its operands unchanged, and panic on operands
// that do not fit, naming the shapes. Tolerances: data movement, selection,
// comparisons, max/min are exact; elementwise arithmetic may differ from the
// float64 reference by a few units in the last place; sums and convolutions
// by a small multiple of the dtype's epsilon times Σ|terms|, the size of the
// rounding error of any summation order.
//
// A backend's tests call Run:
//
//	func TestConformance(t *testing.T) { backendtest.Run(t, mybackend) }
package backendtest
