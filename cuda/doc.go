// Package cuda is the place of the GPU backend: the tensor.Backend
// primitive list implemented with CUDA kernels (one per CPU function, named
// alike) and cuBLAS, through gorgonia.org/cu.
//
// That backend is not written yet (it is the subject of a later issue).
// Everything that touches the CUDA driver will sit behind the "cuda" build
// tag, because gorgonia.org/cu initialises the driver when the program
// starts and exits when there is no GPU. Without the tag (the default, and
// CI), this package only reports that the program has no CUDA support, so
// that the command line can say so clearly instead of falling back to the
// CPU in silence.
package cuda
