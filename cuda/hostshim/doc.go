// Package hostshim runs the CUDA kernels' bodies (cuda/kernels/body.cuh)
// on the host, compiled by g++ through cgo, inside loops that walk the
// grid and blocks as a launch would, so that the kernels' index arithmetic
// is checked against the CPU backend without a GPU or the CUDA toolkit.
// It is for tests only (shim_test.go); it needs cgo and a C++ compiler,
// nothing of CUDA.
package hostshim
