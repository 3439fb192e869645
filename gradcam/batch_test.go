package gradcam_test

import (
	"math"
	"testing"

	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/tensor"
)

// TestBatchIsMeanOfImages: the attention loss of a batch of two pairs is
// the mean of the losses of each pair alone (same weights), and so is its
// gradient with respect to the generators' parameters, at order 2: each
// image's GradCAM maps are computed and normalised on their own, and the
// batch's MSE averages the images.
func TestBatchIsMeanOfImages(t *testing.T) {
	n := tinyNets(11, 2, 2, 2, 1)
	defer n.freezeD()()
	att, err := gradcam.New(options(gradcam.AllBlocks()), n.GA.Model)
	if err != nil {
		t.Fatal(err)
	}
	const size = 16
	realA, realB := images(12, 2, size), images(13, 2, size)
	one := func(x *tensor.Tensor, i int) *tensor.Tensor {
		return tensor.CPU.Slice(x, []int{i, 0, 0, 0}, []int{i + 1, 3, size, size})
	}
	ps := n.genParams()
	loss := func(a, b *tensor.Tensor) (float64, [][]float64) {
		l := att.Loss(n.inputs(att, a, b, true))
		return l.Item(), grads(l, ps)
	}
	batch, gBatch := loss(realA, realB)
	l0, g0 := loss(one(realA, 0), one(realB, 0))
	l1, g1 := loss(one(realA, 1), one(realB, 1))
	if want := (l0 + l1) / 2; math.Abs(batch-want) > 1e-12*math.Abs(want) {
		t.Errorf("batch loss %.17g, mean of the two images' %.17g (%.17g, %.17g)", batch, want, l0, l1)
	}
	worst := 0.0
	for i := range gBatch {
		for j := range gBatch[i] {
			want := (g0[i][j] + g1[i][j]) / 2
			worst = max(worst, math.Abs(gBatch[i][j]-want)/(1e-6+math.Abs(want)))
		}
	}
	if worst > 1e-9 {
		t.Errorf("batch gradient differs from the mean of the two images' gradients: relative %.3g", worst)
	}
}
