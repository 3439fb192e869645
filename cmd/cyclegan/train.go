package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/cyclegan/report"
	"github.com/camcycle/camcycle/gradcam"
)

// mainJobTime is how long the main job takes, as the help and the README
// say it (README.md: 2400 iterations with the attention loss, measured on
// a fresh clone).
const mainJobTime = "two to four minutes on a 2-core CPU"

// mainJobPreset is the attention preset of the main job: the thesis'
// GradCam setting, the last residual block at order 2, so that a newcomer
// sees the method the project exists for (-preset standard: the plain
// CycleGAN).
const mainJobPreset = "gradcam"

// synthDefaults are the options of the main job, "cyclegan train" without
// -dataroot: a small CycleGAN on the synthetic shapes-vs-stripes data set
// (100 + 100 images of 48×48) that trains in mainJobTime and learns to
// paint stripes on the shapes and take them off, keeping outline and
// background (docs/experiments.md has its ground-truth scores). A narrow
// network trained for many iterations (2400) at a higher learning rate
// than the reference's 2e-4 learned the shapes better, in the same time,
// than a wider one trained for fewer. Flags given explicitly win.
func synthDefaults() map[string]string {
	return map[string]string{
		"ngf": "8", "ndf": "8", "n_blocks": "3",
		"load_size": "54", "crop_size": "48",
		"n_epochs": "12", "n_epochs_decay": "12", "lr": "0.0005", "save_epoch_freq": "4",
	}
}

// synthDir is where the synthetic data set of size×size images is
// written: a folder of the checkpoints directory, so that it is made once
// and found again, one per size (the ground truth is scored at the
// images' own size, so the set is drawn at the size the run trains at).
func synthDir(checkpointsDir string, size int) string {
	name := "synthetic_dataset"
	if size != data.DefaultSynthOptions().Size {
		name += "_" + strconv.Itoa(size)
	}
	return filepath.Join(checkpointsDir, name)
}

// synthOptions are the options of the synthetic data set of size×size
// images.
func synthOptions(size int) data.SynthOptions {
	o := data.DefaultSynthOptions()
	o.Size = size
	return o
}

// trainGroups are the flag groups of train.
const trainGroups = gData | gCrop | gDirs | gModel | gTrain | gAtt

func runTrain(args []string, stdout, stderr io.Writer) int {
	return trainCommand(args, stdout, stderr, osInterrupts)
}

// exitInterrupted is the exit status of a run stopped by Ctrl-C (128 +
// SIGINT, as shells report it): scripts and schedulers can tell it from a
// finished run, and continue it with -continue_train.
const exitInterrupted = 130

// errInterrupted is what train returns when Ctrl-C stopped it (after
// saving).
var errInterrupted = errors.New("interrupted")

// interrupts returns a channel that receives Ctrl-C, and a function that
// stops delivering it (so that a second Ctrl-C ends the process).
type interrupts func() (<-chan os.Signal, func())

// osInterrupts delivers the process's os.Interrupt signals.
func osInterrupts() (<-chan os.Signal, func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	return c, func() { signal.Stop(c) }
}

// trainCommand is the train command with its source of interrupts.
func trainCommand(args []string, stdout, stderr io.Writer, notify interrupts) int {
	o := defaultOptions()
	fs := newFlags("train", trainGroups, &o, stderr)
	if st, ok := parse(fs, args, "train", stderr); !ok {
		return st
	}
	if o.preset == "list" {
		printPresets(stdout)
		return 0
	}
	if err := train(fs, &o, args, stdout, stderr, notify); errors.Is(err, errInterrupted) {
		return exitInterrupted
	} else if err != nil {
		return failf(stderr, "train", "%v", err)
	}
	return 0
}

// resolve settles the options of a training run, in order of precedence:
// flags given on the command line; the preset's attention settings; with
// -continue_train, the options the run was started with (train_opt.json);
// without -dataroot, the main job's defaults; the flags' defaults. It
// returns the saved options (nil for a new run) and the notes to print.
func resolve(fs *flag.FlagSet, o *options) (saved map[string]string, notes []string, err error) {
	given := explicit(fs)
	if !given["name"] && !given["dataroot"] {
		fs.Set("name", "synthetic")
	}
	if o.continueTrain {
		if err := o.checkRunExists(); err != nil {
			return nil, nil, err
		}
		saved, err = readSavedOptions(o.checkpointDir())
		if err != nil {
			return nil, nil, err
		}
		if saved == nil {
			notes = append(notes, fmt.Sprintf("%s has no %s: the flags are used as given", o.checkpointDir(), optFile))
		} else {
			set, err := applySaved(fs, saved, given, filepath.Join(o.checkpointDir(), optFile), nil)
			if err != nil {
				return nil, nil, err
			}
			if len(set) > 0 {
				notes = append(notes, fmt.Sprintf("options restored from %s: %d (flags given now take precedence)",
					filepath.Join(o.checkpointDir(), optFile), len(set)))
			}
		}
	}
	if o.dataroot == "" {
		for k, v := range synthDefaults() {
			if !given[k] && (saved == nil || saved[k] == "") {
				fs.Set(k, v)
			}
		}
		// Another -crop_size: the set is drawn at that size, and loaded
		// an eighth larger, as the default 48 is loaded at 54.
		if given["crop_size"] && !given["load_size"] && saved == nil {
			fs.Set("load_size", strconv.Itoa(o.cropSize+o.cropSize/8))
		}
		fs.Set("dataroot", synthDir(o.checkpointsDir, o.cropSize))
		// A new main job trains with the attention loss unless a preset
		// is named; a continued run keeps what it was started with.
		if saved == nil && !given["preset"] {
			fs.Set("preset", mainJobPreset)
		}
		method := "the standard CycleGAN losses"
		if o.preset != "" && o.preset != "standard" {
			method = fmt.Sprintf("the attention loss of preset %s (-preset standard: the plain CycleGAN)", o.preset)
		}
		notes = append(notes, fmt.Sprintf("no -dataroot: training the main job, a small CycleGAN (ngf %d, ndf %d, %d blocks, %d×%d crops, "+
			"%d epochs, lr %g) with %s on the synthetic data set in %s (A: plain shapes, B: striped shapes); "+
			"watch the shapes get stripes in %s",
			o.ngf, o.ndf, o.nBlocks, o.cropSize, o.cropSize, o.nEpochs+o.nEpochsDecay, o.lr, method, o.dataroot,
			filepath.Join(o.checkpointDir(), "web", "index.html")))
	}
	if err := o.resolveNets(given); err != nil {
		return nil, nil, err
	}
	if o.preset != "" {
		if err := applyPreset(&o.att, o.preset, o.nBlocks, o.nEpochs+o.nEpochsDecay, given); err != nil {
			return nil, nil, err
		}
	}
	return saved, notes, nil
}

// checkTrain checks the resolved options of a training run, before
// anything is written, and returns the model's options.
func (o *options) checkTrain() (cyclegan.Options, error) {
	if o.nEpochs < 0 || o.nEpochsDecay < 0 || o.nEpochs+o.nEpochsDecay < 1 {
		return cyclegan.Options{}, fmt.Errorf("-n_epochs %d -n_epochs_decay %d: want at least one epoch", o.nEpochs, o.nEpochsDecay)
	}
	if o.maxIters < 0 {
		return cyclegan.Options{}, fmt.Errorf("-max_iters %d: must not be negative", o.maxIters)
	}
	if o.lr <= 0 {
		return cyclegan.Options{}, fmt.Errorf("-lr %v: must be positive", o.lr)
	}
	if o.branch && !o.continueTrain {
		return cyclegan.Options{}, fmt.Errorf("-branch: only with -continue_train -epoch N (it branches a run from its checkpoint N)")
	}
	if o.epochCount < 1 {
		return cyclegan.Options{}, fmt.Errorf("-epoch_count %d: must be at least 1", o.epochCount)
	}
	if err := o.checkLoop(); err != nil {
		return cyclegan.Options{}, err
	}
	return o.modelOptions()
}

// checkLoop checks the training loop's flags of the reference.
func (o *options) checkLoop() error {
	if err := o.checkDirection(); err != nil {
		return err
	}
	if o.batchSize < 1 {
		return fmt.Errorf("-batch_size %d: must be at least 1", o.batchSize)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"print_freq", o.printFreq}, {"display_freq", o.displayFreq}, {"save_latest_freq", o.saveLatestFreq}, {"num_threads", o.numThreads}} {
		if f.v < 0 {
			return fmt.Errorf("-%s %d: must not be negative (0: never)", f.name, f.v)
		}
	}
	if !slices.Contains(cyclegan.LRPolicies, o.lrPolicy) {
		return fmt.Errorf("-lr_policy %q: want %s", o.lrPolicy, strings.Join(cyclegan.LRPolicies, ", "))
	}
	if o.lrPolicy == "step" && o.lrDecayIters < 1 {
		return fmt.Errorf("-lr_decay_iters %d: -lr_policy step needs at least 1 (epochs between decays)", o.lrDecayIters)
	}
	if o.lrPolicy == "cosine" && o.nEpochs < 1 {
		return fmt.Errorf("-n_epochs %d: -lr_policy cosine anneals over n_epochs, which must be at least 1", o.nEpochs)
	}
	return nil
}

// train runs the train command on parsed flags.
// It returns errInterrupted when Ctrl-C (from notify) stopped it after
// saving.
func train(fs *flag.FlagSet, o *options, args []string, stdout, stderr io.Writer, notify interrupts) error {
	refNote, err := applyRefOptions(fs, "train")
	if err != nil {
		return err
	}
	saved, notes, err := resolve(fs, o)
	if err != nil {
		return err
	}
	if refNote != "" {
		notes = append(notes, refNote)
	}
	for _, n := range notes {
		fmt.Fprintln(stdout, n)
	}
	mo, err := o.checkTrain()
	if err != nil {
		return err
	}
	if mo.InitGain, err = strconv.ParseFloat(refOptionValue(fs, "init_gain"), 64); err != nil {
		return fmt.Errorf("-init_gain: %w", err)
	}
	if name, side, ok := o.trainImageSize(); ok {
		if err := checkImageSize(mo, name, side); err != nil {
			return err
		}
	}
	dir := o.checkpointDir()
	if !o.continueTrain {
		if _, err := os.Stat(filepath.Join(dir, "latest_net_G_A.safetensors")); err == nil {
			return fmt.Errorf("%s already holds a run (latest_net_G_A.safetensors): add -continue_train to resume it, "+
				"or choose another -name, or remove the folder", dir)
		}
	}
	to := cyclegan.TrainOptions{Model: mo, Data: o.dataOptions(), Name: o.name, CheckpointsDir: o.checkpointsDir,
		NEpochs: o.nEpochs, NEpochsDecay: o.nEpochsDecay, EpochCount: o.epochCount, SaveEpochFreq: o.saveEpochFreq,
		SaveStateEveryEpoch: o.saveStateEveryEpoch,
		ContinueTrain:       o.continueTrain, Branch: o.branch, LoadEpoch: o.epoch, MaxIters: o.maxIters, Seed: o.seed, InitFrom: o.initFrom,
		BatchSize: o.batchSize, LRPolicy: o.lrPolicy, LRDecayIters: o.lrDecayIters, PrintFreq: o.printFreq,
		SaveLatestFreq: o.saveLatestFreq, SaveByIter: o.saveByIter, NumThreads: o.numThreads}
	if o.dataroot == synthDir(o.checkpointsDir, o.cropSize) {
		synth := synthOptions(o.cropSize)
		to.Synthetic = &synth
	}
	// The model, its attention loss included, is built and checked before
	// anything is written.
	t, err := cyclegan.NewTrainer(to)
	if errors.Is(err, cyclegan.ErrBranch) {
		return fmt.Errorf("%v: add -branch to train on from checkpoint %s (what the run trained after it, its latest "+
			"checkpoint, later snapshots and loss log, is then moved to %s, not deleted), or leave out -epoch "+
			"to continue from the latest checkpoint", err, o.epoch, filepath.Join(dir, "branched_TIME"))
	}
	if err != nil {
		return err
	}
	if refOptionValue(fs, "verbose") == "true" {
		printNetworks(stdout, t.Model.Nets())
	}
	if t.Branched != "" {
		fmt.Fprintf(stdout, "branched from checkpoint %s (epoch %d, iteration %d in all): what the run trained after it is kept in %s\n",
			o.epoch, t.Epoch, t.Iter, t.Branched)
	}
	if o.continueTrain && t.FreshState {
		fmt.Fprintf(stdout, "note: checkpoint %q holds the networks only (epoch snapshots keep the training state only with "+
			"-save_state_every_epoch): continuing from epoch %d, iteration %d with fresh optimiser moments, empty image pools "+
			"and a fresh random state\n", o.epoch, t.Epoch, t.EpochIter)
	}

	// Record the options (and what changed on a continued run).
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if saved != nil {
		if ch := changes(saved, flagValues(fs)); len(ch) > 0 {
			fmt.Fprintf(stdout, "options changed since the run was started: %s\n", strings.Join(ch, ", "))
		}
	}
	if err := writeOptions(dir, fs); err != nil {
		return err
	}
	appendHistory(dir, fmt.Sprintf("%s  train %s  (from epoch %d, iteration %d of the epoch, %d in all)",
		time.Now().Format(time.RFC3339), strings.Join(args, " "), t.Epoch, t.EpochIter, t.Iter))

	att := t.Model.Attention.String()
	batch := ""
	if o.batchSize > 1 {
		batch = fmt.Sprintf(" (batches of %d)", o.batchSize)
	}
	direction := ""
	if o.direction == "BtoA" {
		direction = fmt.Sprintf(" (-direction BtoA: A from %sB, B from %sA)", o.phase, o.phase)
	}
	fmt.Fprintf(stdout, "run %s: %d images A, %d images B in %s%s; %d iterations per epoch%s; epochs %d…%d; ngf %d, ndf %d, %d blocks, %d×%d; device %s\n",
		o.name, t.Data.SizeA(), t.Data.SizeB(), o.dataroot, direction, t.ItersPerEpoch(), batch, t.Epoch, to.LastEpoch(),
		o.ngf, o.ndf, o.nBlocks, o.cropSize, o.cropSize, o.device)
	fmt.Fprintf(stdout, "attention loss: %s\n", att)
	for _, w := range attentionWarnings(t.Model) {
		fmt.Fprintln(stdout, w)
	}
	fmt.Fprintf(stdout, "checkpoints, loss_log.jsonl and the train page go to %s\n", dir)
	if t.Done() {
		fmt.Fprintf(stdout, "every epoch (%d) is already trained: raise -n_epochs or -n_epochs_decay to train more\n", to.LastEpoch())
		return nil
	}

	s, err := newSampler(t)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("CycleGAN run %s", o.name)
	pageNotes := []string{fmt.Sprintf("Data %s; ngf %d, ndf %d, %d residual blocks, %d×%d crops; attention loss: %s.",
		o.dataroot, o.ngf, o.ndf, o.nBlocks, o.cropSize, o.cropSize, att)}
	writePage := func(epoch int, label string) error {
		if err := s.save(epoch, t.Iter, label); err != nil {
			return err
		}
		path, err := report.WriteTrainPage(dir, title, pageNotes)
		if err == nil {
			fmt.Fprintf(stdout, "train page: %s\n", path)
		}
		return err
	}

	// Ctrl-C stops after the current iteration and saves.
	interrupt, stopInterrupts := notify()
	defer stopInterrupts()
	interrupted := false

	bar := newProgress(stderr, o.quiet)
	sum := newEpochSummary()
	start := t.Iter
	t.OnIter = func(r cyclegan.Record) error {
		if r.EpochIter == 1 || sum.epoch != r.Epoch {
			sum.reset(r.Epoch)
			bar.start(fmt.Sprintf("epoch %d/%d", r.Epoch, to.LastEpoch()), t.ItersPerEpoch(), r.EpochIter-1)
		}
		sum.add(r)
		bar.add()
		// The reference's lines every -print_freq and -save_latest_freq
		// images, and the train page every -display_freq (the epoch's
		// last iteration has the epoch's page): the bar is taken down
		// around them.
		var lines []string
		if to.Every(o.printFreq, r.Iter) {
			lines = append(lines, r.LogLine(o.batchSize))
		}
		if to.Every(o.saveLatestFreq, r.Iter) {
			lines = append(lines, fmt.Sprintf("saving the latest model (epoch %d, total_iters %d)", r.Epoch, r.Iter*o.batchSize))
		}
		page := to.Every(o.displayFreq, r.Iter) && r.EpochIter < t.ItersPerEpoch()
		if len(lines) > 0 || page {
			bar.pause()
			for _, l := range lines {
				fmt.Fprintln(stdout, l)
			}
			if page {
				if err := writePage(r.Epoch, fmt.Sprintf("epoch %d, iteration %d of %d", r.Epoch, r.EpochIter, t.ItersPerEpoch())); err != nil {
					return err
				}
			}
			bar.resume(r.EpochIter)
		}
		select {
		case <-interrupt:
			stopInterrupts()
			interrupted = true
			bar.finish()
			fmt.Fprintln(stdout, "interrupted: saving the latest checkpoint")
			return cyclegan.ErrStop
		default:
			return nil
		}
	}
	t.OnEpoch = func(epoch int) error {
		bar.finish()
		fmt.Fprintln(stdout, sum.line(to.LastEpoch(), t.Schedule().At(epoch)))
		return writePage(epoch, fmt.Sprintf("epoch %d", epoch))
	}
	if err := t.Run(); err != nil {
		bar.finish()
		return err
	}
	bar.finish()
	if !t.Done() {
		if t.EpochIter > 0 {
			fmt.Fprintln(stdout, sum.line(to.LastEpoch(), t.Schedule().At(t.Epoch)))
		}
		fmt.Fprintf(stdout, "stopped after %d iterations (epoch %d, iteration %d of %d): the latest checkpoint is saved; "+
			"continue with -continue_train\n", t.Iter-start, t.Epoch, t.EpochIter, t.ItersPerEpoch())
		if !interrupted {
			printGroundTruth(stdout, stderr, t.Model, o.dataroot, o.cropSize, o.direction == "BtoA")
		}
		if t.EpochIter > 0 {
			if err := writePage(t.Epoch, fmt.Sprintf("epoch %d, iteration %d of %d", t.Epoch, t.EpochIter, t.ItersPerEpoch())); err != nil {
				return err
			}
		}
		if interrupted {
			return errInterrupted
		}
		return nil
	}
	fmt.Fprintf(stdout, "done: %d epochs; models in %s\n", to.LastEpoch(), dir)
	printGroundTruth(stdout, stderr, t.Model, o.dataroot, o.cropSize, o.direction == "BtoA")
	return nil
}

// attentionWarnings returns a warning for each attention layer of m that
// is not a residual block (-att_layers 18 with -n_blocks 3 names a ReLU):
// allowed, but not what the thesis' layers are.
func attentionWarnings(m *cyclegan.Model) []string {
	g := m.GA.Model
	blocks := gradcam.ResidualBlocks(g)
	var out []string
	for _, stage := range []*gradcam.Attention{m.Attention.At(1), m.Attention.At(math.MaxInt)} {
		if stage == nil {
			continue
		}
		for _, l := range stage.Layers() {
			w := fmt.Sprintf("warning: attention layer %d is a %s, not a residual block (this generator's blocks are %d…%d)",
				l, gradcam.LayerName(g.Layers[l]), blocks[0], blocks[len(blocks)-1])
			if !slices.Contains(blocks, l) && !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	return out
}

// changes lists the options whose value now differs from the saved one.
func changes(saved, now map[string]string) []string {
	var ch []string
	for k, v := range now {
		if old, ok := saved[k]; ok && old != v {
			ch = append(ch, fmt.Sprintf("-%s %q → %q", k, old, v))
		}
	}
	sort.Strings(ch)
	return ch
}

// appendHistory adds a line to train_history.txt: when each training
// command ran on the run, with which flags, from where.
func appendHistory(dir, line string) {
	f, err := os.OpenFile(filepath.Join(dir, "train_history.txt"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}

// epochSummary accumulates the losses of an epoch's iterations for the
// line printed at its end.
type epochSummary struct {
	epoch, n int
	names    []string
	sums     []float64
	began    time.Time
}

func newEpochSummary() *epochSummary { return &epochSummary{began: time.Now()} }

func (s *epochSummary) reset(epoch int) {
	*s = epochSummary{epoch: epoch, began: time.Now()}
}

func (s *epochSummary) add(r cyclegan.Record) {
	names, v := r.Terms()
	if s.sums == nil {
		s.names, s.sums = names, make([]float64, len(v))
	}
	for i := range s.sums {
		if i < len(v) {
			s.sums[i] += v[i]
		}
	}
	s.n++
}

// line is "epoch 3/10: 100 iterations in 41.2 s (2.43 it/s), lr 0.0002; means: G_A 0.31 …".
func (s *epochSummary) line(last int, lr float64) string {
	el := time.Since(s.began).Seconds()
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %d/%d: %d iterations in %.1f s (%.2f it/s), lr %.3g; means:", s.epoch, last, s.n, el,
		float64(s.n)/max(el, 1e-9), lr)
	for i, name := range s.names {
		fmt.Fprintf(&b, " %s %.3f", name, s.sums[i]/float64(max(s.n, 1)))
	}
	return b.String()
}
