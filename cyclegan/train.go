package cyclegan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/tensor"
)

// TrainOptions configure a training run; DefaultTrainOptions gives
// pytorch-CycleGAN-and-pix2pix's train options.
type TrainOptions struct {
	Model Options
	Data  data.Options

	Name           string // experiment name: checkpoints go to CheckpointsDir/Name
	CheckpointsDir string // "./checkpoints"

	NEpochs       int // epochs at the initial learning rate (100)
	NEpochsDecay  int // epochs of linear decay to zero (100)
	EpochCount    int // the number of the first epoch (1); with ContinueTrain, taken from the checkpoint
	SaveEpochFreq int // also keep {epoch}_net_* every this many epochs (5)
	// SaveStateEveryEpoch keeps the training state (optimiser moments,
	// pools, random state: about twice the networks' size) with every
	// epoch snapshot too; by default only the latest checkpoint has it, and
	// a run continued from a snapshot starts with fresh optimisers.
	SaveStateEveryEpoch bool

	ContinueTrain bool   // resume from the checkpoint LoadEpoch in CheckpointsDir/Name
	LoadEpoch     string // which checkpoint to resume from ("latest")
	// Branch allows continuing from a checkpoint earlier than the run's
	// last logged iteration: what was trained after it (the latest
	// checkpoint, later epoch snapshots, the loss log) is moved to a
	// folder branched_TIME of the run, not deleted. Without it such a
	// continuation is an error wrapping ErrBranch.
	Branch bool
	// MaxIters stops the run after this many iterations of this call of Run
	// (a continued run counts from where it resumed) and saves the latest
	// checkpoint; 0 means no limit.
	MaxIters int
	Seed     uint64 // weights, data order, transforms and pool choices

	// BatchSize is the number of pairs of an iteration (--batch_size, 1):
	// an epoch is ⌈max(|A|, |B|)/BatchSize⌉ iterations, the last one
	// smaller when BatchSize does not divide the data set.
	BatchSize int
	// LRPolicy is the learning-rate policy (--lr_policy): linear (the
	// default), step, plateau or cosine (see NewSchedule); LRDecayIters is
	// the step policy's period in epochs (--lr_decay_iters, 50).
	LRPolicy     string
	LRDecayIters int
	// PrintFreq: a line of loss_log.txt every time the run's image count
	// (iterations × BatchSize, the reference's total_iters) is a multiple of
	// it (--print_freq, 100); 0: none. SaveLatestFreq likewise saves the
	// latest checkpoint, with its training state, in the middle of an epoch
	// (--save_latest_freq, 5000); with SaveByIter also as iter_{images}
	// (the networks only, or with the state under SaveStateEveryEpoch).
	PrintFreq, SaveLatestFreq int
	SaveByIter                bool
	// NumThreads goroutines read and transform the images of the coming
	// batches while an iteration computes (--num_threads, 4, the
	// reference's DataLoader workers); 0 reads each batch when it is due.
	NumThreads int

	// InitFrom, when set, is a folder with PyTorch weights
	// {G_A,G_B,D_A,D_B}.pth that replace the initial weights.
	InitFrom string

	// Synthetic, when set, makes Data.Dataroot the built-in synthetic data
	// set: NewTrainer writes it there (data.WriteSynthetic) unless it is
	// there already.
	Synthetic *data.SynthOptions
}

// DefaultTrainOptions returns the reference defaults (docs/method.md §2).
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{
		Model: DefaultOptions(), Data: data.DefaultOptions(),
		Name: "experiment_name", CheckpointsDir: "./checkpoints",
		NEpochs: 100, NEpochsDecay: 100, EpochCount: 1, SaveEpochFreq: 5,
		LoadEpoch: "latest",
		BatchSize: 1, LRPolicy: "linear", LRDecayIters: 50, PrintFreq: 100, SaveLatestFreq: 5000, NumThreads: 4,
	}
}

// Record is one line of loss_log.jsonl: the weighted loss terms of one
// iteration as they enter the sums (means over the batch), and its timings.
type Record struct {
	Iter      int     `json:"iter"`       // iterations done so far in the run, this one included
	Epoch     int     `json:"epoch"`      // 1-based epoch
	EpochIter int     `json:"epoch_iter"` // 1-based position in the epoch, in iterations
	LR        float64 `json:"lr"`
	// Time is the wall time of the iteration's computation, Data the time
	// it waited for its images, in seconds: timings, which differ from run
	// to run.
	Time   float64  `json:"time"`
	Data   float64  `json:"data"`
	GA     float64  `json:"G_A"`
	GB     float64  `json:"G_B"`
	CycleA float64  `json:"cycle_A"`
	CycleB float64  `json:"cycle_B"`
	IdtA   float64  `json:"idt_A"`
	IdtB   float64  `json:"idt_B"`
	DA     float64  `json:"D_A"`
	DB     float64  `json:"D_B"`
	Att    *float64 `json:"att,omitempty"` // only with an attention term
}

// Terms returns the record's loss terms in loss_log.jsonl's order, with
// their names (att only when the run has an attention term).
func (r Record) Terms() (names []string, values []float64) {
	names = []string{"G_A", "G_B", "cycle_A", "cycle_B", "idt_A", "idt_B", "D_A", "D_B"}
	values = []float64{r.GA, r.GB, r.CycleA, r.CycleB, r.IdtA, r.IdtB, r.DA, r.DB}
	if r.Att != nil {
		names, values = append(names, "att"), append(values, *r.Att)
	}
	return names, values
}

// ReferenceTerms returns the loss terms in the order of the reference's
// loss_names (D_A G_A cycle_A idt_A D_B G_B cycle_B idt_B), then att when
// the run has an attention term.
func (r Record) ReferenceTerms() (names []string, values []float64) {
	all, vs := r.Terms()
	for _, n := range []string{"D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B", "att"} {
		if i := slices.Index(all, n); i >= 0 {
			names, values = append(names, n), append(values, vs[i])
		}
	}
	return names, values
}

// LogLine is the record as the reference's print_current_losses prints it
// and writes it to loss_log.txt, for a run of batchSize pairs an
// iteration: "(epoch: 1, iters: 100, time: 0.052, data: 0.003) D_A: 0.251
// G_A: 0.312 … " (a space at the end). iters counts the epoch's images
// (the reference's epoch_iter, which grows by batchSize an iteration); time
// and data are per image, the iteration's time divided by batchSize.
func (r Record) LogLine(batchSize int) string {
	bs := float64(max(batchSize, 1))
	var b strings.Builder
	fmt.Fprintf(&b, "(epoch: %d, iters: %d, time: %.3f, data: %.3f) ", r.Epoch, r.EpochIter*max(batchSize, 1), r.Time/bs, r.Data/bs)
	names, values := r.ReferenceTerms()
	for i, n := range names {
		fmt.Fprintf(&b, "%s: %.3f ", n, values[i])
	}
	return b.String()
}

// LossLog is the name of the per-iteration loss log in a run's folder.
const LossLog = "loss_log.jsonl"

// LossLogText is the reference's loss log, loss_log.txt: a header line
// each time training starts, then LogLine every PrintFreq images.
const LossLogText = "loss_log.txt"

// LossLogHeader is the line the reference writes to loss_log.txt when
// training starts, with the time as C's strftime("%c").
func LossLogHeader(now time.Time) string {
	return "================ Training Loss (" + now.Format("Mon Jan _2 15:04:05 2006") + ") ================"
}

// ReadLossLog reads a loss_log.jsonl file. A missing file gives no records
// and no error; a malformed line is an error naming the file and line.
func ReadLossLog(path string) ([]Record, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var recs []Record
	for i, line := range bytes.Split(raw, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return recs, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// ErrStop, returned by an OnIter hook, stops training after that iteration
// as MaxIters does: the latest checkpoint is saved and Run returns nil.
var ErrStop = errors.New("cyclegan: stop requested")

// Trainer runs the epochs of a training run, logs and saves checkpoints.
type Trainer struct {
	Opts  TrainOptions
	Model *Model
	Data  *data.Unaligned

	// Position: the next iteration is EpochIter+1 of epoch Epoch; Iter
	// iterations have been done in all.
	Epoch, EpochIter, Iter int

	// OnIter, when set, is called after every iteration (after its line is
	// logged); OnEpoch after every epoch (after its checkpoint is saved).
	// A non-nil error stops training; ErrStop from OnIter stops it as
	// MaxIters does.
	OnIter  func(r Record) error
	OnEpoch func(epoch int) error

	// Branched is the folder that holds the history a Branch moved aside
	// ("" when nothing was).
	Branched string

	// FreshState is set by NewTrainer when the checkpoint it continued
	// from held the networks only (an epoch snapshot saved without
	// SaveStateEveryEpoch): the position comes from the networks' files,
	// the optimiser moments, image pools and random state start afresh.
	FreshState bool

	// save writes one checkpoint file; checkpoint.Save unless a test
	// replaces it to make writing fail.
	save func(path string, ts []checkpoint.Named, meta map[string]string) error
}

// Dir returns the run's checkpoint folder, CheckpointsDir/Name.
func (o TrainOptions) Dir() string { return filepath.Join(o.CheckpointsDir, o.Name) }

// LastEpoch is the number of the last epoch, NEpochs + NEpochsDecay.
func (o TrainOptions) LastEpoch() int { return o.NEpochs + o.NEpochsDecay }

// NewTrainer builds the model (its options, the attention loss's
// included, are checked first, before anything is written), opens the data
// and, with ContinueTrain, restores the networks, optimiser state, pools and
// position saved by an earlier run; loss_log.jsonl is then cut back to the
// restored iteration, so that lines logged after that checkpoint (by a run
// that crashed or was stopped by a bad loss) are not repeated. Without it,
// the run starts a new loss log.
func NewTrainer(o TrainOptions) (*Trainer, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	m, err := New(o.Model, o.Seed)
	if err != nil {
		return nil, err
	}
	if o.Synthetic != nil {
		if err := data.WriteSynthetic(o.Data.Dataroot, *o.Synthetic); err != nil {
			return nil, err
		}
	}
	d, err := data.Open(o.Data)
	if err != nil {
		return nil, err
	}
	t := &Trainer{Opts: o, Model: m, Data: d, Epoch: o.EpochCount, save: checkpoint.Save}
	switch {
	case o.ContinueTrain:
		if err := t.restore(o.LoadEpoch); err != nil {
			return nil, err
		}
	case o.InitFrom != "":
		if err := t.Model.LoadPth(o.InitFrom); err != nil {
			return nil, err
		}
	}
	if o.ContinueTrain && o.LoadEpoch != "latest" {
		if err := t.branch(); err != nil {
			return nil, err
		}
	}
	if err := t.trimLog(); err != nil {
		return nil, err
	}
	return t, nil
}

// ErrBranch is wrapped by NewTrainer's error when LoadEpoch is earlier
// than the run's last logged iteration and Branch is not set.
var ErrBranch = errors.New("continuing from an earlier checkpoint would discard the run's later history")

// branch checks a continuation from checkpoint LoadEpoch (restored at
// t.Iter) against the run's loss log; when the log goes further, it needs
// Branch, and the later history is moved to a new folder branched_TIME of
// the run: a copy of the loss log (which trimLog then cuts back), the
// latest checkpoint and the epoch snapshots from epoch t.Epoch on.
func (t *Trainer) branch() error {
	o := t.Opts
	logPath := filepath.Join(o.Dir(), LossLog)
	recs, err := ReadLossLog(logPath)
	if err != nil || len(recs) == 0 || recs[len(recs)-1].Iter <= t.Iter {
		return err
	}
	last := recs[len(recs)-1]
	if !o.Branch {
		return fmt.Errorf("%w: the run %s is at epoch %d (iteration %d of it, %d in all), checkpoint %q at iteration %d",
			ErrBranch, o.Name, last.Epoch, last.EpochIter, last.Iter, o.LoadEpoch, t.Iter)
	}
	base := filepath.Join(o.Dir(), "branched_"+time.Now().Format("20060102T150405"))
	dir := base
	for i := 2; ; i++ {
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return err
		}
		dir = fmt.Sprintf("%s_%d", base, i)
	}
	raw, err := os.ReadFile(logPath)
	if err != nil {
		return err
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, LossLog), func(w io.Writer) error {
		_, err := w.Write(raw)
		return err
	}); err != nil {
		return err
	}
	var moved []string
	moved = append(moved, t.CheckpointFiles("latest")...)
	snaps, _ := filepath.Glob(filepath.Join(o.Dir(), "*_net_G_A.safetensors"))
	for _, p := range snaps {
		label := strings.TrimSuffix(filepath.Base(p), "_net_G_A.safetensors")
		if n, err := strconv.Atoi(label); err == nil && n >= t.Epoch {
			moved = append(moved, t.CheckpointFiles(label)...)
		}
	}
	for _, p := range moved {
		if err := os.Rename(p, filepath.Join(dir, filepath.Base(p))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	t.Branched = dir
	return nil
}

// trimLog keeps the loss log's records up to iteration t.Iter (all of them
// for a fresh run: none).
func (t *Trainer) trimLog() error {
	path := filepath.Join(t.Opts.Dir(), LossLog)
	recs, err := ReadLossLog(path)
	if err != nil {
		return err
	}
	if len(recs) == 0 && t.Iter == 0 {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		for _, r := range recs {
			if r.Iter > t.Iter {
				break
			}
			if err := writeRecord(w, r); err != nil {
				return err
			}
		}
		return nil
	})
}

func writeRecord(w io.Writer, r Record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(line, '\n'))
	return err
}

// check checks the loop's options (the model's are checked by New).
func (o TrainOptions) check() error {
	if o.BatchSize < 1 {
		return fmt.Errorf("batch_size %d: must be at least 1", o.BatchSize)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"print_freq", o.PrintFreq}, {"save_latest_freq", o.SaveLatestFreq}, {"num_threads", o.NumThreads}} {
		if f.v < 0 {
			return fmt.Errorf("%s %d: must not be negative", f.name, f.v)
		}
	}
	_, err := o.schedule()
	return err
}

func (o TrainOptions) schedule() (Schedule, error) {
	return NewSchedule(o.LRPolicy, o.Model.Adam.LR, o.NEpochs, o.NEpochsDecay, o.LRDecayIters)
}

// Schedule returns the learning-rate schedule of the run (LRPolicy).
func (t *Trainer) Schedule() Schedule {
	s, err := t.Opts.schedule()
	if err != nil {
		panic(err) // checked by NewTrainer
	}
	return s
}

// ItersPerEpoch is the number of iterations of one epoch, ⌈Data.Len() /
// BatchSize⌉.
func (t *Trainer) ItersPerEpoch() int {
	b := max(t.Opts.BatchSize, 1)
	return (t.Data.Len() + b - 1) / b
}

// Every reports whether a thing done every freq images (print_freq,
// display_freq, save_latest_freq) is due after the run's iteration iter:
// whether the run's image count iter·BatchSize (the reference's
// total_iters) is a multiple of freq. The count is the run's, not the
// call's (the reference's restarts at 0 on each call), so that a continued
// run does these at the iterations the uninterrupted one does.
func (o TrainOptions) Every(freq, iter int) bool {
	return freq > 0 && iter*max(o.BatchSize, 1)%freq == 0
}

// Done reports whether every epoch has been trained.
func (t *Trainer) Done() bool { return t.Epoch > t.Opts.LastEpoch() }

// Run trains until the last epoch (or MaxIters) and saves the latest
// checkpoint at the end of every epoch and when it stops. A loss that is
// not finite stops training with an error; the checkpoint on disk is then
// the last good one.
func (t *Trainer) Run() error {
	o := t.Opts
	if err := os.MkdirAll(o.Dir(), 0o755); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(o.Dir(), LossLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	log := bufio.NewWriter(logf)
	defer log.Flush()
	textf, err := os.OpenFile(filepath.Join(o.Dir(), LossLogText), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer textf.Close()
	if _, err := fmt.Fprintln(textf, LossLogHeader(time.Now())); err != nil {
		return err
	}
	be := t.Model.backend()

	done := 0        // iterations of this call
	stopped := false // ErrStop at the end of an epoch
	for !t.Done() {
		lr := t.Schedule().At(t.Epoch)
		att := t.Model.Attention.At(t.Epoch)
		batches := data.Batches(t.Data.Epoch(t.Epoch), o.BatchSize)
		loader := t.Data.Loader(batches[min(t.EpochIter, len(batches)):], o.NumThreads)
		defer loader.Close()
		iterSave := false // the epoch's last iteration asked for an iteration save
		for t.EpochIter < len(batches) {
			if o.MaxIters > 0 && done >= o.MaxIters {
				return t.stop(log)
			}
			began := time.Now()
			a, b, _, err := loader.Next()
			if err != nil {
				return err
			}
			loaded := time.Now()
			// The images are float32 as loaded; a float64 model gets
			// them in float64.
			if dt := t.Model.Opts.DType; a.DType() != dt {
				a, b = tensor.CPU.Cast(a, dt), tensor.CPU.Cast(b, dt)
			}
			l, err := t.Model.Step(a.To(be), b.To(be), lr, att)
			if err != nil {
				return fmt.Errorf("epoch %d, iteration %d: %w (the last saved checkpoint in %s is intact)", t.Epoch, t.EpochIter+1, err, o.Dir())
			}
			t.Iter++
			t.EpochIter++
			done++
			r := Record{Iter: t.Iter, Epoch: t.Epoch, EpochIter: t.EpochIter, LR: lr,
				Time: time.Since(loaded).Seconds(), Data: loaded.Sub(began).Seconds(),
				GA: l.GA, GB: l.GB, CycleA: l.CycleA, CycleB: l.CycleB, IdtA: l.IdtA, IdtB: l.IdtB, DA: l.DA, DB: l.DB}
			if att != nil {
				att := l.Att
				r.Att = &att
			}
			if err := writeRecord(log, r); err != nil {
				return err
			}
			if o.Every(o.PrintFreq, t.Iter) {
				if _, err := fmt.Fprintln(textf, r.LogLine(o.BatchSize)); err != nil {
					return err
				}
			}
			if o.Every(o.SaveLatestFreq, t.Iter) {
				// At the epoch's end the epoch's own save comes next, from
				// the next epoch's start (a checkpoint is never at an
				// epoch's end: see setPosition).
				if t.EpochIter < len(batches) {
					if err := t.saveIter(log); err != nil {
						return err
					}
				} else {
					iterSave = true
				}
			}
			if t.OnIter != nil {
				// The hook may read the log (the train page's charts).
				if err := log.Flush(); err != nil {
					return err
				}
				if err := t.OnIter(r); errors.Is(err, ErrStop) {
					if t.EpochIter < len(batches) {
						return t.stop(log)
					}
					// The epoch's last iteration: end the epoch as usual,
					// so that the checkpoint is at the next one's start.
					stopped = true
				} else if err != nil {
					return err
				}
			}
		}
		// The epoch is complete: the next position is the start of the next.
		loader.Close()
		epoch := t.Epoch
		t.Epoch, t.EpochIter = t.Epoch+1, 0
		if err := log.Flush(); err != nil {
			return err
		}
		if iterSave {
			if err := t.saveIter(log); err != nil {
				return err
			}
		} else if err := t.Save("latest"); err != nil {
			return err
		}
		if o.SaveEpochFreq > 0 && epoch%o.SaveEpochFreq == 0 {
			if err := t.Save(strconv.Itoa(epoch)); err != nil {
				return err
			}
		}
		if t.OnEpoch != nil {
			if err := t.OnEpoch(epoch); err != nil {
				return err
			}
		}
		if stopped {
			return nil
		}
	}
	return nil
}

// saveIter is the save of SaveLatestFreq: the latest checkpoint and, with
// SaveByIter, iter_{images}.
func (t *Trainer) saveIter(log *bufio.Writer) error {
	if err := t.stop(log); err != nil {
		return err
	}
	if t.Opts.SaveByIter {
		return t.Save(fmt.Sprintf("iter_%d", t.Iter*t.Opts.BatchSize))
	}
	return nil
}

// stop flushes the log and saves the latest checkpoint mid-epoch.
func (t *Trainer) stop(log *bufio.Writer) error {
	if err := log.Flush(); err != nil {
		return err
	}
	return t.Save("latest")
}

// CheckpointFiles returns the files of checkpoint label in the run's
// folder: the four networks, then the training state (which Save writes
// for "latest", and for the epoch snapshots only with
// SaveStateEveryEpoch).
func (t *Trainer) CheckpointFiles(label string) []string {
	dir := t.Opts.Dir()
	var paths []string
	for _, n := range NetNames {
		paths = append(paths, filepath.Join(dir, fmt.Sprintf("%s_net_%s.safetensors", label, n)))
	}
	return append(paths, filepath.Join(dir, label+"_state.safetensors"))
}

// Save writes the four networks ({label}_net_{G_A,…}.safetensors) and,
// for "latest" or with SaveStateEveryEpoch, the training state
// ({label}_state.safetensors: optimiser moments, pools, random source,
// position) to the run's folder.
//
// The five files are first written in full beside their final names
// (each atomically, see checkpoint.WriteFileAtomic) and only then renamed
// into place, so that a failure while writing (a full disk, an error)
// leaves the previous checkpoint complete and untouched. Every file
// records the position (epoch, epoch_iter, iter) in its metadata, so that a
// checkpoint mixed from two saves is detected when it is loaded.
func (t *Trainer) Save(label string) error {
	if err := os.MkdirAll(t.Opts.Dir(), 0o755); err != nil {
		return err
	}
	pos := map[string]string{
		"epoch": strconv.Itoa(t.Epoch), "epoch_iter": strconv.Itoa(t.EpochIter), "iter": strconv.Itoa(t.Iter),
		"batch_size": strconv.Itoa(t.Opts.BatchSize)}
	paths := t.CheckpointFiles(label)
	withState := label == "latest" || t.Opts.SaveStateEveryEpoch
	if !withState {
		paths = paths[:len(NetNames)]
	}
	var staged []string
	fail := func(err error) error {
		for _, p := range staged {
			os.Remove(p)
		}
		return fmt.Errorf("saving checkpoint %q (the previous one is intact): %w", label, err)
	}
	write := func(path string, ts []checkpoint.Named, meta map[string]string) error {
		for k, v := range pos {
			meta[k] = v
		}
		tmp := path + ".new"
		staged = append(staged, tmp)
		return t.save(tmp, ts, meta)
	}
	for i, n := range t.Model.Nets() {
		if err := write(paths[i], checkpoint.StateDict(n.State()), map[string]string{"format": "pt"}); err != nil {
			return fail(err)
		}
	}
	if withState {
		st, meta, err := t.Model.state()
		if err != nil {
			return fail(err)
		}
		if err := write(paths[4], st, meta); err != nil {
			return fail(err)
		}
	}
	for i, p := range paths {
		if err := os.Rename(staged[i], p); err != nil {
			return fail(err)
		}
	}
	return nil
}

// restore loads the networks and training state saved under label.
func (t *Trainer) restore(label string) error {
	paths := t.CheckpointFiles(label)
	statePath := paths[4]
	ts, meta, err := checkpoint.Load(statePath)
	if errors.Is(err, os.ErrNotExist) {
		// Networks without training state (an epoch snapshot, or files
		// copied from elsewhere): fresh optimisers, from the position the
		// networks were saved at (from EpochCount if they say none).
		t.FreshState = true
		pos, err := t.Model.loadNetsAt(paths[:len(NetNames)])
		if err != nil || pos == nil {
			return err
		}
		return t.setPosition(pos, paths[0])
	}
	if err != nil {
		return err
	}
	for i, n := range t.Model.Nets() {
		nts, nmeta, err := checkpoint.Load(paths[i])
		if err != nil {
			return err
		}
		// Every network must come from the same save as the state.
		if it, ok := nmeta["iter"]; ok && it != meta["iter"] {
			return fmt.Errorf("%s was saved at iteration %s but %s at iteration %s: the checkpoint is mixed from two saves",
				paths[i], it, statePath, meta["iter"])
		}
		if err := checkpoint.LoadParams(n.State(), nts, paths[i]); err != nil {
			return err
		}
	}
	if err := t.Model.setState(ts, meta, statePath); err != nil {
		return err
	}
	return t.setPosition(meta, statePath)
}

// setPosition sets the trainer's position from a checkpoint file's
// metadata (epoch, epoch_iter, iter), checking it against the data set.
func (t *Trainer) setPosition(meta map[string]string, path string) error {
	pos := make([]int, 3)
	for i, k := range []string{"epoch", "epoch_iter", "iter"} {
		var err error
		if pos[i], err = strconv.Atoi(meta[k]); err != nil || pos[i] < 0 {
			return fmt.Errorf("%s: bad %s %q in the metadata", path, k, meta[k])
		}
	}
	t.Epoch, t.EpochIter, t.Iter = pos[0], pos[1], pos[2]
	if t.Epoch < 1 {
		return fmt.Errorf("%s: bad epoch %d in the metadata", path, t.Epoch)
	}
	// A checkpoint in the middle of an epoch counts its iterations in
	// batches of the size it was saved with (1 before there was a choice).
	saved := 1
	if v, ok := meta["batch_size"]; ok {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			return fmt.Errorf("%s: bad batch_size %q in the metadata", path, v)
		} else {
			saved = n
		}
	}
	if b := t.Opts.BatchSize; t.EpochIter > 0 && saved != b {
		if images := t.EpochIter * saved; images%b == 0 {
			t.EpochIter = images / b
		} else {
			return fmt.Errorf("%s: saved after %d images of epoch %d in batches of %d, which batches of %d (-batch_size) cannot continue: "+
				"continue with -batch_size %d, or change it at the start of an epoch", path, images, t.Epoch, saved, b, saved)
		}
	}
	if t.EpochIter > 0 && t.EpochIter >= t.ItersPerEpoch() {
		return fmt.Errorf("%s: saved at iteration %d of epoch %d, but an epoch of %s has %d iterations: the data set changed",
			path, t.EpochIter, t.Epoch, t.Opts.Data.Dataroot, t.ItersPerEpoch())
	}
	return nil
}

// LoadNets loads {label}_net_{G_A,G_B,D_A,D_B}.safetensors from dir.
func (m *Model) LoadNets(dir, label string) error {
	var paths []string
	for _, n := range NetNames {
		paths = append(paths, filepath.Join(dir, fmt.Sprintf("%s_net_%s.safetensors", label, n)))
	}
	_, err := m.loadNetsAt(paths)
	return err
}

// loadNetsAt loads the four networks from paths and returns the position
// their metadata records (nil when they record none), which must be the
// same in all four.
func (m *Model) loadNetsAt(paths []string) (map[string]string, error) {
	var pos map[string]string
	for i, n := range m.Nets() {
		ts, meta, err := checkpoint.Load(paths[i])
		if err != nil {
			return nil, err
		}
		if err := checkpoint.LoadParams(n.State(), ts, paths[i]); err != nil {
			return nil, err
		}
		if _, ok := meta["iter"]; !ok {
			continue
		}
		if pos == nil {
			pos = meta
		} else if meta["iter"] != pos["iter"] {
			return nil, fmt.Errorf("%s was saved at iteration %s but %s at iteration %s: the checkpoint is mixed from two saves",
				paths[i], meta["iter"], paths[0], pos["iter"])
		}
	}
	return pos, nil
}

// LoadPth loads PyTorch weights dir/{G_A,G_B,D_A,D_B}.pth (a missing
// discriminator file is allowed: published models hold generators only).
func (m *Model) LoadPth(dir string) error {
	for i, n := range m.Nets() {
		path := filepath.Join(dir, NetNames[i]+".pth")
		if i >= 2 {
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				continue
			}
		}
		ts, err := checkpoint.LoadPth(path)
		if err != nil {
			return err
		}
		if err := checkpoint.LoadParams(n.State(), ts, path); err != nil {
			return err
		}
	}
	return nil
}

// optimiser is one of the model's two Adams, with the checkpoint name of
// each of its parameters: the network's name and the parameter's PyTorch
// name ("G_A.model.1.weight"), since both generators (and both
// discriminators) have the same parameter names.
type optimiser struct {
	name   string
	a      *Adam
	params []string
}

func (m *Model) optimisers() []optimiser {
	names := func(nets ...int) []string {
		var out []string
		for _, i := range nets {
			for _, p := range m.Nets()[i].Params() {
				out = append(out, NetNames[i]+"."+p.Name)
			}
		}
		return out
	}
	opts := []optimiser{{"opt_G", m.OptG, names(0, 1)}, {"opt_D", m.OptD, names(2, 3)}}
	for _, o := range opts {
		if len(o.params) != len(o.a.Params) {
			panic(fmt.Sprintf("cyclegan: %s has %d parameters, its networks %d", o.name, len(o.a.Params), len(o.params)))
		}
	}
	return opts
}

// state returns the optimiser moments, pool images and random source as
// named tensors and metadata.
func (m *Model) state() ([]checkpoint.Named, map[string]string, error) {
	var ts []checkpoint.Named
	meta := map[string]string{}
	for _, opt := range m.optimisers() {
		meta[opt.name+".step"] = fmt.Sprint(opt.a.Step)
		for i, name := range opt.params {
			if opt.a.M[i] == nil {
				continue
			}
			ts = append(ts,
				checkpoint.Named{Name: opt.name + ".exp_avg." + name, T: opt.a.M[i].To(tensor.CPU)},
				checkpoint.Named{Name: opt.name + ".exp_avg_sq." + name, T: opt.a.V[i].To(tensor.CPU)})
		}
	}
	for _, pool := range []struct {
		name string
		p    *ImagePool
	}{{"pool_A", m.PoolA}, {"pool_B", m.PoolB}} {
		meta[pool.name+".len"] = fmt.Sprint(len(pool.p.Images))
		for i, img := range pool.p.Images {
			ts = append(ts, checkpoint.Named{Name: fmt.Sprintf("%s.%d", pool.name, i), T: img.To(tensor.CPU)})
		}
	}
	rs, err := m.src.MarshalBinary()
	if err != nil {
		return nil, nil, err
	}
	meta["rand"] = fmt.Sprintf("%x", rs)
	return ts, meta, nil
}

// setState restores what state saved.
func (m *Model) setState(ts map[string]*tensor.Tensor, meta map[string]string, path string) error {
	be := m.backend()
	for _, opt := range m.optimisers() {
		if _, err := fmt.Sscan(meta[opt.name+".step"], &opt.a.Step); err != nil {
			return fmt.Errorf("%s: bad %s.step %q", path, opt.name, meta[opt.name+".step"])
		}
		for i, name := range opt.params {
			p := opt.a.Params[i]
			mt, okm := ts[opt.name+".exp_avg."+name]
			vt, okv := ts[opt.name+".exp_avg_sq."+name]
			if !okm || !okv {
				if opt.a.Step > 0 {
					return fmt.Errorf("%s: no optimiser state for %s", path, name)
				}
				continue
			}
			if !mt.Shape().Equal(p.Var.Shape()) || !vt.Shape().Equal(p.Var.Shape()) {
				return fmt.Errorf("%s: optimiser state for %s has shape %v, want %v", path, name, mt.Shape(), p.Var.Shape())
			}
			opt.a.M[i] = be.Cast(mt.To(be), p.Var.DType())
			opt.a.V[i] = be.Cast(vt.To(be), p.Var.DType())
		}
	}
	for _, pool := range []struct {
		name string
		p    *ImagePool
	}{{"pool_A", m.PoolA}, {"pool_B", m.PoolB}} {
		var n int
		fmt.Sscan(meta[pool.name+".len"], &n)
		pool.p.Images = nil
		for i := range n {
			img, ok := ts[fmt.Sprintf("%s.%d", pool.name, i)]
			if !ok {
				return fmt.Errorf("%s: %s image %d missing", path, pool.name, i)
			}
			pool.p.Images = append(pool.p.Images, be.Cast(img.To(be), m.Opts.DType))
		}
	}
	var rs []byte
	if _, err := fmt.Sscanf(meta["rand"], "%x", &rs); err != nil {
		return fmt.Errorf("%s: bad random state: %v", path, err)
	}
	if err := m.src.UnmarshalBinary(rs); err != nil {
		return fmt.Errorf("%s: bad random state: %v", path, err)
	}
	return nil
}
