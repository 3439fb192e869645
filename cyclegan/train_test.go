package cyclegan

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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

// lossLog returns the run's loss_log.jsonl without the timings (time,
// data), which differ from run to run: the rest must be reproducible.
func lossLog(t *testing.T, o TrainOptions) []byte {
	t.Helper()
	recs, err := ReadLossLog(filepath.Join(o.Dir(), LossLog))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, r := range recs {
		r.Time, r.Data = 0, 0
		if err := writeRecord(&b, r); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// sameRun checks that two runs logged the same losses and ended with the
// same networks, byte for byte.
func sameRun(t *testing.T, got, want TrainOptions) {
	t.Helper()
	if g, w := lossLog(t, got), lossLog(t, want); !bytes.Equal(g, w) {
		t.Errorf("loss logs differ:\ninterrupted:\n%s\nuninterrupted:\n%s", g, w)
	}
	for _, n := range NetNames {
		name := "latest_net_" + n + ".safetensors"
		if !bytes.Equal(readFile(t, filepath.Join(got.Dir(), name)), readFile(t, filepath.Join(want.Dir(), name))) {
			t.Errorf("%s differs between the interrupted and the uninterrupted run", name)
		}
	}
}

// TestResumeReproducesRun interrupts a run twice — in the middle of the
// first epoch, then after crossing into the second — and continues it from
// its checkpoints: the loss log (but for its timings) and the final weights
// are those of the uninterrupted run, byte for byte. The run uses random
// crops, flips and a pool that draws at random, so the data order, the
// transforms, the pool's contents and random state, the optimiser moments
// and the learning-rate schedule must all be restored exactly. The same
// holds with batches of two pairs (two iterations an epoch), stopped after
// the first iteration and again in the middle of the second epoch.
func TestResumeReproducesRun(t *testing.T) {
	root := tinyData(t)
	for _, c := range []struct {
		batch, iters int   // batch size, iterations of the run
		stops        []int // -max_iters of the calls before the last
		at           [][2]int
	}{
		{1, 8, []int{3, 3}, [][2]int{{1, 3}, {2, 2}}},
		{2, 4, []int{1, 2}, [][2]int{{1, 1}, {2, 1}}},
	} {
		t.Run(fmt.Sprintf("batch%d", c.batch), func(t *testing.T) {
			full := tinyRun(root, filepath.Join(t.TempDir(), "full"))
			full.BatchSize = c.batch
			train(t, full)
			if recs, _ := ReadLossLog(filepath.Join(full.Dir(), LossLog)); len(recs) != c.iters {
				t.Fatalf("the uninterrupted run logged %d iterations, want %d", len(recs), c.iters)
			}

			split := tinyRun(root, filepath.Join(t.TempDir(), "split"))
			split.BatchSize = c.batch
			for i, n := range c.stops {
				split.MaxIters = n
				split.ContinueTrain = i > 0
				tr := train(t, split)
				if tr.Epoch != c.at[i][0] || tr.EpochIter != c.at[i][1] || tr.Done() {
					t.Fatalf("stop %d: at epoch %d, iteration %d; want %v", i+1, tr.Epoch, tr.EpochIter, c.at[i])
				}
			}
			split.MaxIters, split.ContinueTrain = 0, true
			if tr := train(t, split); !tr.Done() {
				t.Fatal("the continued run did not finish")
			}
			sameRun(t, split, full)
		})
	}
}

// TestSaveLatestFreq: with SaveLatestFreq 2 the latest checkpoint is saved
// after every second iteration, in the middle of an epoch too; a run that
// fails after iteration 3 and is continued from that checkpoint (iteration
// 2) logs what the uninterrupted run logs. With SaveByIter the checkpoint
// is also kept as iter_2, iter_4, ….
func TestSaveLatestFreq(t *testing.T) {
	root := tinyData(t)
	full := tinyRun(root, filepath.Join(t.TempDir(), "full"))
	train(t, full)

	o := tinyRun(root, filepath.Join(t.TempDir(), "crash"))
	o.SaveLatestFreq, o.SaveByIter = 2, true
	tr, err := NewTrainer(o)
	if err != nil {
		t.Fatal(err)
	}
	errCrash := errors.New("crash (simulated)")
	tr.OnIter = func(r Record) error {
		if r.Iter == 3 {
			return errCrash
		}
		return nil
	}
	if err := tr.Run(); !errors.Is(err, errCrash) {
		t.Fatalf("Run: %v", err)
	}
	for _, label := range []string{"iter_2"} {
		if _, err := os.Stat(tr.CheckpointFiles(label)[0]); err != nil {
			t.Errorf("no checkpoint %s: %v", label, err)
		}
	}
	o.ContinueTrain = true
	tr, err = NewTrainer(o)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Iter != 2 || tr.Epoch != 1 || tr.EpochIter != 2 {
		t.Fatalf("continued at iteration %d (epoch %d, %d), want 2 (epoch 1, 2)", tr.Iter, tr.Epoch, tr.EpochIter)
	}
	if err := tr.Run(); err != nil {
		t.Fatal(err)
	}
	sameRun(t, o, full)
	for _, label := range []string{"iter_4", "iter_6", "iter_8"} {
		if _, err := os.Stat(tr.CheckpointFiles(label)[0]); err != nil {
			t.Errorf("no checkpoint %s: %v", label, err)
		}
	}
}

// TestLossLogText: loss_log.txt has the reference's header each time
// training starts, then every PrintFreq images a line in the reference's
// format, iters counting the epoch's images (2 per iteration here).
func TestLossLogText(t *testing.T) {
	o := tinyRun(tinyData(t), t.TempDir())
	o.BatchSize, o.PrintFreq = 2, 2
	o.MaxIters = 3
	train(t, o)
	o.ContinueTrain, o.MaxIters = true, 0
	train(t, o)
	lines := strings.Split(strings.TrimSuffix(string(readFile(t, filepath.Join(o.Dir(), LossLogText))), "\n"), "\n")
	header := regexp.MustCompile(`^================ Training Loss \([A-Z][a-z]{2} [A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d \d{4}\) ================$`)
	line := regexp.MustCompile(`^\(epoch: (\d+), iters: (\d+), time: \d+\.\d{3}, data: \d+\.\d{3}\) D_A: \d+\.\d{3} G_A: \d+\.\d{3} ` +
		`cycle_A: \d+\.\d{3} idt_A: \d+\.\d{3} D_B: \d+\.\d{3} G_B: \d+\.\d{3} cycle_B: \d+\.\d{3} idt_B: \d+\.\d{3} $`)
	var got []string
	for _, l := range lines {
		switch {
		case header.MatchString(l):
			got = append(got, "header")
		case line.MatchString(l):
			m := line.FindStringSubmatch(l)
			got = append(got, m[1]+":"+m[2])
		default:
			t.Errorf("loss_log.txt: line %q is not in the reference's format", l)
		}
	}
	if want := []string{"header", "1:2", "1:4", "2:2", "header", "2:4"}; !slices.Equal(got, want) {
		t.Errorf("loss_log.txt: %v, want %v", got, want)
	}
	if h := LossLogHeader(time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)); h != "================ Training Loss (Tue Dec  1 22:00:00 2026) ================" {
		t.Errorf("header %q", h)
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
	log := func(o TrainOptions) []byte { return lossLog(t, o) }

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

// TestContinueOtherBatchSize: a run stopped after 2 images of an epoch in
// batches of 1 continues in batches of 2 from iteration 1 of the epoch;
// stopped after 1 image, it cannot, and the error names -batch_size.
func TestContinueOtherBatchSize(t *testing.T) {
	root := tinyData(t)
	for _, c := range []struct{ stop, wantIter int }{{2, 1}, {1, -1}} {
		o := tinyRun(root, t.TempDir())
		o.MaxIters = c.stop
		train(t, o)
		o.ContinueTrain, o.BatchSize = true, 2
		tr, err := NewTrainer(o)
		switch {
		case c.wantIter < 0:
			if err == nil || !strings.Contains(err.Error(), "-batch_size") {
				t.Errorf("continuing after %d image in batches of 2: %v", c.stop, err)
			}
		case err != nil:
			t.Errorf("continuing after %d images in batches of 2: %v", c.stop, err)
		case tr.EpochIter != c.wantIter:
			t.Errorf("continuing after %d images in batches of 2: at iteration %d of the epoch, want %d", c.stop, tr.EpochIter, c.wantIter)
		}
	}
}
