package cuda

import "fmt"

// Options selects and configures a CUDA backend (NewWith). The zero value
// is New's: device 0, full-precision float32 products.
type Options struct {
	// Device is the CUDA device ordinal (cuDeviceGet's), as -gpu_ids
	// names it.
	Device int
	// TF32 lets cuBLAS run the float32 GEMMs of the convolutions on the
	// tensor cores in TF32 (10-bit mantissa products, float32
	// accumulation: CUBLAS_TF32_TENSOR_OP_MATH), as PyTorch does by
	// default for cuDNN convolutions. Off, the products are full float32,
	// as the CPU computes them. Float64 GEMMs are never affected.
	TF32 bool
}

// Check reports options that cannot name a device.
func (o Options) Check() error {
	if o.Device < 0 {
		return fmt.Errorf("cuda: device %d: want a device ordinal of at least 0", o.Device)
	}
	return nil
}
