package cuda

// The kernels are CUDA C (kernels/kernels.cu, with the bodies shared with
// the host shim in kernels/body.cuh), compiled to PTX for compute
// capability 8.0 and later, which the driver compiles for the card when the
// module is loaded. The PTX is committed, so building needs no CUDA
// toolkit; regenerate it after changing a .cu or .cuh file (ptx_test.go
// fails while it is stale and nvcc is on PATH):
//
//	go generate ./cuda
//
// -fmad=false keeps every multiply and add rounded on its own, as the CPU
// backend rounds them (no --use_fast_math either); -ccbin g++-11 because
// CUDA 11.8's nvcc refuses newer host compilers.
//
//go:generate nvcc -ptx -arch=compute_80 -fmad=false -ccbin g++-11 -o kernels/kernels.ptx kernels/kernels.cu
