package cyclegan

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/tensor"
)

// tinyData writes a synthetic data set of 32×32 images, 4 training images
// per domain (an epoch is 4 iterations), into a temporary folder.
func tinyData(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := data.WriteSynthetic(dir, data.SynthOptions{Size: 32, Train: 4, Test: 1, StripePeriod: 4, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tinyRun returns the options of a small run on dataroot with random crops
// and flips, an image pool smaller than the run (so that it fills and then
// draws at random) and two epochs, the second with a decayed rate.
func tinyRun(dataroot, checkpoints string) TrainOptions {
	o := DefaultTrainOptions()
	o.Model.NGF, o.Model.NDF, o.Model.NBlocks = 4, 4, 1
	o.Model.PoolSize = 1
	o.Data.Dataroot = dataroot
	o.Data.LoadSize, o.Data.CropSize = 36, 32
	o.Data.Seed = 5
	o.Seed = 7
	o.Name = "run"
	o.CheckpointsDir = checkpoints
	o.NEpochs, o.NEpochsDecay = 1, 1
	o.SaveEpochFreq = 1
	return o
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func train(t *testing.T, o TrainOptions) *Trainer {
	t.Helper()
	tr, err := NewTrainer(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(); err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestResumeReproducesRun interrupts a run twice — in the middle of the
// first epoch, then after crossing into the second — and continues it from
// its checkpoints: the loss log and the final weights are those of the
// uninterrupted run, byte for byte. The run uses random crops, flips and a
// pool that draws at random, so the data order, the transforms, the pool's
// contents and random state, the optimiser moments and the learning-rate
// schedule must all be restored exactly.
func TestResumeReproducesRun(t *testing.T) {
	root := tinyData(t)
	full := tinyRun(root, filepath.Join(t.TempDir(), "full"))
	train(t, full)
	want := readFile(t, filepath.Join(full.Dir(), LossLog))
	if n := bytes.Count(want, []byte("\n")); n != 8 {
		t.Fatalf("the uninterrupted run logged %d iterations, want 8", n)
	}

	split := tinyRun(root, filepath.Join(t.TempDir(), "split"))
	split.MaxIters = 3
	tr := train(t, split)
	if tr.Epoch != 1 || tr.EpochIter != 3 || tr.Done() {
		t.Fatalf("after 3 iterations: epoch %d, iteration %d", tr.Epoch, tr.EpochIter)
	}
	split.ContinueTrain = true
	split.MaxIters = 3
	tr = train(t, split)
	if tr.Iter != 6 || tr.Epoch != 2 || tr.EpochIter != 2 {
		t.Fatalf("after continuing for 3 iterations: iteration %d, epoch %d, iteration %d of the epoch", tr.Iter, tr.Epoch, tr.EpochIter)
	}
	split.MaxIters = 0
	tr = train(t, split)
	if !tr.Done() {
		t.Fatal("the continued run did not finish")
	}

	if got := readFile(t, filepath.Join(split.Dir(), LossLog)); !bytes.Equal(got, want) {
		t.Errorf("loss logs differ:\ninterrupted:\n%s\nuninterrupted:\n%s", got, want)
	}
	for _, n := range NetNames {
		name := "latest_net_" + n + ".safetensors"
		if !bytes.Equal(readFile(t, filepath.Join(split.Dir(), name)), readFile(t, filepath.Join(full.Dir(), name))) {
			t.Errorf("%s differs between the interrupted and the uninterrupted run", name)
		}
	}
}

// TestTwoStageSwitch: a two-stage run (the last block in epoch 1, both
// blocks from epoch 2 on) logs exactly what a one-stage run on the last
// block logs when it is stopped after epoch 1 and continued with both
// blocks; and in epoch 2 it differs from the one-stage run left alone. So
// the captured layers change at the given epoch, and continuing a run with
// other layers makes the same switch.
func TestTwoStageSwitch(t *testing.T) {
	root := tinyData(t)
	run := func(dir string) TrainOptions {
		o := tinyRun(root, filepath.Join(t.TempDir(), dir))
		o.Model.NBlocks = 2 // blocks 10 and 11
		o.Model.Attention.Layers = gradcam.LastBlock()
		return o
	}
	log := func(o TrainOptions) []byte { return readFile(t, filepath.Join(o.Dir(), LossLog)) }

	two := run("two")
	two.Model.Attention.Layers2, two.Model.Attention.Stage2Epoch = gradcam.AllBlocks(), 2
	var used []string
	tr, err := NewTrainer(two)
	if err != nil {
		t.Fatal(err)
	}
	tr.OnIter = func(r Record) error {
		used = append(used, fmt.Sprint(tr.Model.Attention.At(r.Epoch).Layers()))
		return nil
	}
	if err := tr.Run(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"[11]", "[11]", "[11]", "[11]", "[10 11]", "[10 11]", "[10 11]", "[10 11]"}; !slices.Equal(used, want) {
		t.Errorf("layers in force per iteration: %v, want %v", used, want)
	}

	cont := run("continued")
	cont.MaxIters = 4 // the end of epoch 1
	train(t, cont)
	cont.MaxIters, cont.ContinueTrain = 0, true
	cont.Model.Attention.Layers = gradcam.AllBlocks()
	train(t, cont)
	if got, want := log(cont), log(two); !bytes.Equal(got, want) {
		t.Errorf("the continued run's log differs from the two-stage run's:\ncontinued:\n%s\ntwo-stage:\n%s", got, want)
	}

	one := run("one")
	train(t, one)
	a, b := bytes.Split(log(one), []byte("\n")), bytes.Split(log(two), []byte("\n"))
	if !bytes.Equal(bytes.Join(a[:4], nil), bytes.Join(b[:4], nil)) {
		t.Error("epoch 1 of the two-stage run differs from the one-stage run's")
	}
	for i := 4; i < 8; i++ {
		if bytes.Equal(a[i], b[i]) {
			t.Errorf("iteration %d (epoch 2) of the two-stage run is the one-stage run's: no switch", i+1)
		}
	}
}

// TestCheckpointNames checks that the network files hold exactly PyTorch's
// state-dict names (docs/method.md §1) and the state file the optimisers' moments.
func TestCheckpointNames(t *testing.T) {
	o := tinyRun(tinyData(t), t.TempDir())
	o.MaxIters = 1
	tr := train(t, o)
	nb := o.Model.NBlocks
	var gen []string
	conv := func(i int) { gen = append(gen, "model."+itoa(i)+".weight", "model."+itoa(i)+".bias") }
	conv(1)
	conv(4)
	conv(7)
	for b := range nb {
		for _, c := range []string{"1", "5"} {
			i := itoa(FirstBlock + b)
			gen = append(gen, "model."+i+".conv_block."+c+".weight", "model."+i+".conv_block."+c+".bias")
		}
	}
	conv(FirstBlock + nb)     // ConvTranspose2d
	conv(FirstBlock + nb + 3) // ConvTranspose2d
	conv(FirstBlock + nb + 7) // the output convolution, after ReflectionPad2d
	var dis []string
	for _, i := range []int{0, 2, 5, 8, 11} {
		dis = append(dis, "model."+itoa(i)+".weight", "model."+itoa(i)+".bias")
	}
	slices.Sort(gen)
	slices.Sort(dis)
	for i, n := range NetNames {
		ts, _, err := checkpoint.Load(tr.CheckpointFiles("latest")[i])
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for k := range ts {
			names = append(names, k)
		}
		slices.Sort(names)
		want := gen
		if strings.HasPrefix(n, "D") {
			want = dis
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: names\n%v\nwant\n%v", n, names, want)
		}
	}
	ts, meta, err := checkpoint.Load(tr.CheckpointFiles("latest")[4])
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"opt_G.exp_avg.G_A.model.1.weight", "opt_G.exp_avg_sq.G_B.model.1.weight",
		"opt_D.exp_avg.D_B.model.11.bias", "pool_A.0", "pool_B.0"} {
		if _, ok := ts[k]; !ok {
			t.Errorf("the state has no %s", k)
		}
	}
	if meta["iter"] != "1" || meta["opt_G.step"] != "1" {
		t.Errorf("state metadata %v: want iter 1 and opt_G.step 1", meta)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// snapshot returns the bytes of every file of checkpoint label.
func snapshot(t *testing.T, tr *Trainer, label string) [][]byte {
	var out [][]byte
	for _, p := range tr.CheckpointFiles(label) {
		out = append(out, readFile(t, p))
	}
	return out
}

func sameSnapshot(t *testing.T, tr *Trainer, label string, want [][]byte) {
	t.Helper()
	for i, p := range tr.CheckpointFiles(label) {
		if !bytes.Equal(readFile(t, p), want[i]) {
			t.Errorf("%s changed", p)
		}
	}
	left, _ := filepath.Glob(filepath.Join(tr.Opts.Dir(), "*.new*"))
	if len(left) > 0 {
		t.Errorf("files left behind: %v", left)
	}
}

// TestFailedSaveKeepsCheckpoint makes writing the checkpoint fail after two
// of its five files: the previous checkpoint stays complete, byte for byte,
// nothing is left behind, and the run can be continued from it.
func TestFailedSaveKeepsCheckpoint(t *testing.T) {
	o := tinyRun(tinyData(t), t.TempDir())
	o.MaxIters = 2
	tr := train(t, o)
	before := snapshot(t, tr, "latest")

	writes := 0
	errDisk := errors.New("no space left on device (simulated)")
	tr.save = func(path string, ts []checkpoint.Named, meta map[string]string) error {
		if writes++; writes > 2 {
			return errDisk
		}
		return checkpoint.Save(path, ts, meta)
	}
	tr.Opts.MaxIters = 1
	err := tr.Run()
	if !errors.Is(err, errDisk) {
		t.Fatalf("Run with a failing disk: %v", err)
	}
	if writes != 3 {
		t.Errorf("%d writes were attempted, want 3 (the third fails)", writes)
	}
	sameSnapshot(t, tr, "latest", before)

	o.ContinueTrain, o.MaxIters = true, 0
	tr = train(t, o)
	if tr.Iter != 8 {
		t.Errorf("the continued run ended at iteration %d, want 8", tr.Iter)
	}
}

// TestNaNStopsTraining: a run that diverges in iteration 6 (a weight of
// G_A becomes NaN after iteration 5, so every loss of iteration 6 is NaN)
// stops with an error saying so; the checkpoint saved at the end of epoch 1
// (iteration 4) is intact, the log holds the good iterations, and
// continuing restarts from iteration 4.
func TestNaNStopsTraining(t *testing.T) {
	o := tinyRun(tinyData(t), t.TempDir())
	tr, err := NewTrainer(o)
	if err != nil {
		t.Fatal(err)
	}
	var atEpoch1 [][]byte
	tr.OnEpoch = func(epoch int) error {
		atEpoch1 = snapshot(t, tr, "latest")
		return nil
	}
	tr.OnIter = func(r Record) error {
		if r.Iter == 5 {
			w := tr.Model.GA.Params()[0].Var
			v := w.Value.Values()
			v[0] = math.NaN()
			w.Value = tensor.CPU.Cast(tensor.FromFloat64s(v, w.Shape()...), w.DType())
		}
		return nil
	}
	err = tr.Run()
	if err == nil || !strings.Contains(err.Error(), "NaN") || !strings.Contains(err.Error(), "intact") {
		t.Fatalf("Run with a NaN loss: %v, want an error naming NaN and the intact checkpoint", err)
	}
	if atEpoch1 == nil {
		t.Fatal("epoch 1 did not end")
	}
	sameSnapshot(t, tr, "latest", atEpoch1)
	recs, err := ReadLossLog(filepath.Join(o.Dir(), LossLog))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 {
		t.Errorf("%d iterations logged, want 5 (the NaN one is not)", len(recs))
	}

	o.ContinueTrain = true
	tr, err = NewTrainer(o)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Iter != 4 || tr.Epoch != 2 || tr.EpochIter != 0 {
		t.Errorf("continued at iteration %d (epoch %d, %d), want 4 (epoch 2, 0)", tr.Iter, tr.Epoch, tr.EpochIter)
	}
	if recs, _ := ReadLossLog(filepath.Join(o.Dir(), LossLog)); len(recs) != 4 {
		t.Errorf("the continued run's log keeps %d records, want the 4 of the checkpoint", len(recs))
	}
}

// TestMixedCheckpointRejected puts back one network file of an older save:
// continuing fails, naming the file, instead of training from a mixture.
func TestMixedCheckpointRejected(t *testing.T) {
	o := tinyRun(tinyData(t), t.TempDir())
	o.MaxIters = 1
	tr := train(t, o)
	old := readFile(t, tr.CheckpointFiles("latest")[1])
	o.ContinueTrain = true
	tr = train(t, o)
	path := tr.CheckpointFiles("latest")[1]
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := NewTrainer(o)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "mixed") {
		t.Errorf("continuing from a mixed checkpoint: %v", err)
	}
}

// TestContinueWrongShapes continues a run with a wider generator: the error
// names the checkpoint file and the parameter.
func TestContinueWrongShapes(t *testing.T) {
	o := tinyRun(tinyData(t), t.TempDir())
	o.MaxIters = 1
	train(t, o)
	o.ContinueTrain = true
	o.Model.NGF = 8
	_, err := NewTrainer(o)
	if err == nil || !strings.Contains(err.Error(), "latest_net_G_A.safetensors") || !strings.Contains(err.Error(), "model.1.weight") {
		t.Errorf("continuing with another ngf: %v", err)
	}
}
