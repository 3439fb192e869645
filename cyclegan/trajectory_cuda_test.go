//go:build cuda

package cyclegan

import (
	"testing"

	"github.com/camcycle/camcycle/cuda"
	"github.com/camcycle/camcycle/tensor"
)

// onCUDA returns the CUDA backend with options o, or skips the test.
func onCUDA(t *testing.T, o cuda.Options) tensor.Backend {
	t.Helper()
	if !cuda.Available() {
		t.Skip("no CUDA device: the GPU trajectory is not checked")
	}
	be, err := cuda.NewWith(o)
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// TestTrajectoryCUDA: 50 iterations with the attention loss at order 2 on
// the GPU in float32 stay within trajFactor of the CPU's float32-against-
// float64 envelope (see trajectory_test.go). Then the checkpoint format:
// a GPU run stopped after 25 iterations writes latest_* files whose
// headers are byte for byte the CPU's at the same point, and a CPU trainer
// continues it to the end, within the same envelope.
func TestTrajectoryCUDA(t *testing.T) {
	be := onCUDA(t, cuda.Options{})
	root, ck := trajData(t), t.TempDir()
	ref32, ref64 := trajRefs(t, root, ck)
	if n := trajectoryEnvelope(t, "cuda float32", runLog(t, trajRun(root, ck, "gpu", be, tensor.Float32)), ref32, ref64, trajFactor); n != 0 {
		t.Errorf("the GPU's float32 run leaves the envelope at iteration %d", n)
	}

	half := func(name string, be tensor.Backend) []string {
		o := trajRun(root, ck, name, be, tensor.Float32)
		o.MaxIters = trajIters / 2
		return train(t, o).CheckpointFiles("latest")
	}
	sameCheckpointFormat(t, half("gpu_half", be), half("cpu_half", tensor.CPU))
	o := trajRun(root, ck, "gpu_half", tensor.CPU, tensor.Float32)
	o.ContinueTrain = true
	if n := trajectoryEnvelope(t, "cuda then the CPU", runLog(t, o), ref32, ref64, trajFactor); n != 0 {
		t.Errorf("the GPU run continued on the CPU leaves the envelope at iteration %d", n)
	}
}

// TestTrajectoryTF32: the same run with TF32 GEMMs on the GPU. TF32
// rounds each product's operands to 10 mantissa bits instead of 23, a
// rounding unit 2¹³ times float32's, so the envelope is widened by that
// factor; this bound is derived, not measured (the log shows the curve, to
// set it from the first GPU run).
func TestTrajectoryTF32(t *testing.T) {
	be := onCUDA(t, cuda.Options{TF32: true})
	root, ck := trajData(t), t.TempDir()
	ref32, ref64 := trajRefs(t, root, ck)
	if n := trajectoryEnvelope(t, "cuda TF32", runLog(t, trajRun(root, ck, "tf32", be, tensor.Float32)), ref32, ref64, trajFactor*(1<<13)); n != 0 {
		t.Errorf("the TF32 run leaves the widened envelope at iteration %d", n)
	}
}
