// Package cuda is the GPU backend: the tensor.Backend primitive list
// implemented with CUDA kernels (kernels/kernels.cu, one per CPU function,
// named alike: binaryND_f32 mirrors tensor's binaryND on float32) and
// cuBLAS, through gorgonia.org/cu for the driver.
//
// Everything that touches the CUDA driver sits behind the "cuda" build
// tag, because gorgonia.org/cu initialises the driver when the program
// starts and exits when it cannot. Without the tag (the default, and CI's
// tests), New returns ErrNotBuilt, so that the command line says so instead
// of falling back to the CPU in silence; the launch geometry, index
// arithmetic and the caching allocator (geom.go, alloc.go) are plain Go and
// tested everywhere, and cuda/hostshim runs the kernels' bodies on the host.
//
// Building with CUDA needs the toolkit's headers and a cuBLAS to link
// against, not a GPU: scripts/cuda-toolchain.sh installs Debian's CUDA
// 11.8 and writes a link stub with the soname of CUDA 13's cuBLAS
// (libcublas.so.13) into .cudastub. Then
//
//	export CGO_LDFLAGS="-L$PWD/.cudastub -Wl,-rpath,/usr/local/cuda/lib64"
//	go vet -tags cuda ./...
//	for p in cuda ops cyclegan gradcam; do go test -tags cuda -c -o .gpu/$p.test ./$p; done
//	go build -tags cuda -o .gpu/cyclegan ./cmd/cyclegan
//
// and bench/gpu_cuda_check.sh runs them where the GPU is. The GPU tests
// (*_cuda_test.go in those packages) skip without a device; none has run on
// hardware yet.
//
// The kernels' PTX (kernels/kernels.ptx) is committed and embedded, so
// nvcc is needed only after changing a kernel: go generate ./cuda.
//
// NewWith(Options{Device, TF32}) selects the device and whether float32
// GEMMs use TF32 tensor cores; New is NewWith(Options{}). The package's one
// piece of mutable state is the registry of opened devices and of one
// Backend per Options (backend.go), made on first use and kept for the
// life of the process. DeviceMemory reports a backend's allocator counters
// (bench's peak_device_bytes), and nothing for a backend that is not CUDA.
//
// Design: per device, one goroutine locked to its OS thread owns the
// context, the one non-blocking stream, the module and the cuBLAS handle,
// and makes every driver call (device.go); each primitive checks its operands in the
// caller with the CPU's checks and hands its launches over in one closure.
// Device memory comes from a caching allocator (alloc.go): free lists by
// size class, cuMemFree only when an allocation fails, and a tensor's
// block returned by a runtime cleanup that makes no CUDA call. Convolutions
// are im2col/col2im kernels and cuBLAS GEMMs (strided-batched over the
// images), float32 with full-precision products unless Options.TF32 (the
// math mode is set before each GEMM, so backends of both kinds share a
// device's handle); float64 works too, for the conformance suite.
package cuda
