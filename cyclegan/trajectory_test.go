package cyclegan

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/tensor"
)

// The trajectory checks compare 50-iteration runs of a tiny CycleGAN
// (ngf 4, ndf 4, one block, 32×32, random crops, flips and a pool) with
// the attention loss on its last block at order 2, computed in two ways
// (a CUDA run against the CPU's in trajectory_cuda_test.go).
//
// GAN training amplifies a difference of rounding from iteration to
// iteration: measured on the CPU, float32 against float64 differs by
// about 1e-6 of a loss term at iteration 1, 1e-5 at 7, 1e-2 at 10 and by
// the terms' own size from about iteration 15 on (the attention term
// first): after that the two runs are different samples of the same
// training, and no tolerance on the losses can tell a right program from
// a wrong one. So the check is relative to that measured envelope, taken
// in the same test: the float32 run under test may differ from the CPU's
// float32 run by at most trajFactor times the largest difference between
// the CPU's float32 and float64 runs up to the same iteration
// (trajectoryEnvelope). Two correct float32 programs differ by about as
// much as either differs from float64 (√2 times, for independent
// rounding); a program that is wrong by more than rounding — a learning
// rate 0.1% off, in TestTrajectoryEnvelopeCatchesDrift — leaves the
// envelope within the first iterations. The check is strict while the
// envelope is small (the first 10 or so iterations) and loose once it
// has saturated.
const (
	trajIters  = 50
	trajFactor = 10
)

// trajData writes 10 synthetic training images per domain: an epoch is 10
// iterations, the run 5 epochs.
func trajData(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := data.WriteSynthetic(dir, data.SynthOptions{Size: 32, Train: 10, Test: 1, StripePeriod: 4, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// trajRun returns the options of the trajectory run named name on
// dataroot, in dtype dt on backend be.
func trajRun(dataroot, checkpoints, name string, be tensor.Backend, dt tensor.DType) TrainOptions {
	o := tinyRun(dataroot, checkpoints)
	o.Name = name
	o.NEpochs, o.NEpochsDecay, o.SaveEpochFreq = 3, 2, 5
	o.NumThreads = 0
	o.Model.Attention.Layers, o.Model.Attention.Order = gradcam.LastBlock(), gradcam.Second
	o.Model.Backend, o.Model.DType = be, dt
	return o
}

// runLog trains o to its end and returns its loss log.
func runLog(t *testing.T, o TrainOptions) []Record {
	t.Helper()
	train(t, o)
	recs, err := ReadLossLog(filepath.Join(o.Dir(), LossLog))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// trajectoryErrors returns, for each iteration, the largest
// |got − want| of a loss term relative to the mean |want| of that term
// over the run; the logs must be of the same iterations and terms.
func trajectoryErrors(t *testing.T, got, want []Record) []float64 {
	t.Helper()
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("%d iterations logged, %d in the reference", len(got), len(want))
	}
	names, _ := want[0].Terms()
	mean := make([]float64, len(names))
	for _, r := range want {
		_, v := r.Terms()
		for k := range v {
			mean[k] += math.Abs(v[k]) / float64(len(want))
		}
	}
	out := make([]float64, len(want))
	for i := range want {
		gn, g := got[i].Terms()
		_, w := want[i].Terms()
		if len(gn) != len(names) || got[i].Iter != want[i].Iter {
			t.Fatalf("iteration %d: terms %v, reference %v", want[i].Iter, gn, names)
		}
		for k := range w {
			d := math.Abs(g[k]-w[k]) / mean[k]
			if math.IsNaN(d) {
				d = math.Inf(1)
			}
			out[i] = max(out[i], d)
		}
	}
	return out
}

// trajectoryEnvelope checks run against ref32 (the CPU's float32 run):
// at every iteration their difference must be at most factor times the
// largest difference between ref32 and ref64 (the CPU's float64 run) up
// to that iteration. It returns the first iteration that is not (0: none)
// and logs the three curves.
func trajectoryEnvelope(t *testing.T, what string, run, ref32, ref64 []Record, factor float64) int {
	t.Helper()
	d := trajectoryErrors(t, run, ref32)
	e := trajectoryErrors(t, ref32, ref64)
	first, env := 0, 0.0
	for i := range d {
		env = max(env, e[i])
		if i%5 == 0 || i == len(d)-1 {
			t.Logf("%s: iteration %2d: %.2g against the CPU's float32 (envelope: float32 − float64 %.2g, largest so far %.2g)", what, i+1, d[i], e[i], env)
		}
		if first == 0 && !(d[i] <= factor*env) {
			first = i + 1
			t.Logf("%s: iteration %d leaves the envelope: %.3g > %g × %.3g", what, i+1, d[i], factor, env)
		}
	}
	return first
}

// trajRefs runs the CPU's float32 and float64 trajectory runs.
func trajRefs(t *testing.T, root, ck string) (ref32, ref64 []Record) {
	t.Helper()
	ref64 = runLog(t, trajRun(root, ck, "cpu64", tensor.CPU, tensor.Float64))
	ref32 = runLog(t, trajRun(root, ck, "cpu32", tensor.CPU, tensor.Float32))
	if len(ref32) != trajIters {
		t.Fatalf("the run logged %d iterations, want %d", len(ref32), trajIters)
	}
	return ref32, ref64
}

// TestTrajectoryEnvelopeCatchesDrift: the envelope check passes a run
// that computes what the CPU's float32 run computes, and fails one whose
// learning rate is 0.1% off, early (within the first 10 iterations,
// where the envelope is still small).
func TestTrajectoryEnvelopeCatchesDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("three 50-iteration runs")
	}
	root, ck := trajData(t), t.TempDir()
	ref32, ref64 := trajRefs(t, root, ck)
	if n := trajectoryEnvelope(t, "the float64 run", ref64, ref32, ref64, trajFactor); n != 0 {
		t.Errorf("the CPU's float64 run leaves the envelope at iteration %d", n)
	}
	o := trajRun(root, ck, "drift", tensor.CPU, tensor.Float32)
	o.Model.Adam.LR *= 1.001
	n := trajectoryEnvelope(t, "lr × 1.001", runLog(t, o), ref32, ref64, trajFactor)
	if n == 0 || n > 10 {
		t.Errorf("a run with its learning rate 0.1%% off leaves the envelope at iteration %d (0: never); want within 10", n)
	}
}

// safetensorsHeader returns the header of a safetensors file: its 8-byte
// length and the JSON after it (names, dtypes, shapes, offsets, metadata).
func safetensorsHeader(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 8 {
		t.Fatalf("%s: %d bytes, not a safetensors file", path, len(raw))
	}
	n := binary.LittleEndian.Uint64(raw)
	if uint64(len(raw)) < 8+n {
		t.Fatalf("%s: header of %d bytes in a file of %d", path, n, len(raw))
	}
	return raw[:8+n]
}

// sameCheckpointFormat checks that two runs' checkpoints have the same
// format byte for byte: files of the same sizes whose headers (every
// tensor's name, dtype, shape and offsets, and the metadata) are
// identical; only the values may differ.
func sameCheckpointFormat(t *testing.T, got, want []string) {
	t.Helper()
	for i := range want {
		g, w := safetensorsHeader(t, got[i]), safetensorsHeader(t, want[i])
		if !bytes.Equal(g, w) {
			t.Errorf("%s: header differs from %s's:\n%.400s\n%.400s", got[i], want[i], g[8:], w[8:])
		}
		gs, err1 := os.Stat(got[i])
		ws, err2 := os.Stat(want[i])
		if err1 != nil || err2 != nil || gs.Size() != ws.Size() {
			t.Errorf("%s: %v bytes, %s %v (%v, %v)", got[i], gs.Size(), want[i], ws.Size(), err1, err2)
		}
	}
}

// TestCheckpointFormatCheck: sameCheckpointFormat passes two runs'
// latest checkpoints of the same model and position (other values: another
// learning rate), and sees a tensor's dtype differ (a float64 run's files
// against a float32 run's).
func TestCheckpointFormatCheck(t *testing.T) {
	root, ck := tinyData(t), t.TempDir()
	run := func(name string, dt tensor.DType, lr float64) []string {
		o := tinyRun(root, ck)
		o.Name, o.Model.DType, o.Model.Adam.LR, o.MaxIters, o.NumThreads = name, dt, lr, 2, 0
		return train(t, o).CheckpointFiles("latest")
	}
	a, b := run("a", tensor.Float32, 2e-4), run("b", tensor.Float32, 3e-4)
	if bytes.Equal(readFile(t, a[0]), readFile(t, b[0])) {
		t.Fatal("two runs of different learning rates wrote the same G_A")
	}
	sameCheckpointFormat(t, a, b)
	c := run("c", tensor.Float64, 2e-4)
	for i := range a {
		if bytes.Equal(safetensorsHeader(t, a[i]), safetensorsHeader(t, c[i])) {
			t.Errorf("%s and %s: the same header for float32 and float64 tensors", a[i], c[i])
		}
	}
}
