package tensor

// The CPU backend's convolutions. For now these are the reference loops; the
// fast paths (im2col + blocked GEMM, Winograd) replace them here.

func (cpuBackend) Conv2d(x, w, b *Tensor, p ConvParams) *Tensor { return Conv2dRef(x, w, b, p) }

func (cpuBackend) Conv2dInputGrad(gy, w *Tensor, p ConvParams, h, wd int) *Tensor {
	return Conv2dInputGradRef(gy, w, p, h, wd)
}

func (cpuBackend) Conv2dWeightGrad(x, gy *Tensor, p ConvParams, kh, kw int) *Tensor {
	return Conv2dWeightGradRef(x, gy, p, kh, kw)
}
