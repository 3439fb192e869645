//go:build !amd64 || purego

package tensor

// asmKernels returns no kernels where there is no assembly: the portable
// kernel does all the work.
func asmKernels() []gemmKernel[float32] { return nil }

// asmDotKernels returns no kernels where there is no assembly.
func asmDotKernels() []dotKernel[float32] { return nil }
