package cyclegan

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

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

	ContinueTrain bool   // resume from the checkpoint LoadEpoch in CheckpointsDir/Name
	LoadEpoch     string // which checkpoint to resume from ("latest")
	MaxIters      int    // stop after this many iterations in total and save (0: no limit)
	Seed          uint64 // weights, data order, transforms and pool choices

	// InitFrom, when set, is a folder with PyTorch weights
	// {G_A,G_B,D_A,D_B}.pth that replace the initial weights.
	InitFrom string
}

// DefaultTrainOptions returns the reference defaults (SPEC §2).
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{
		Model: DefaultOptions(), Data: data.DefaultOptions(),
		Name: "experiment_name", CheckpointsDir: "./checkpoints",
		NEpochs: 100, NEpochsDecay: 100, EpochCount: 1, SaveEpochFreq: 5,
		LoadEpoch: "latest",
	}
}

// Record is one line of loss_log.jsonl: the weighted loss terms of one
// iteration as they enter the sums.
type Record struct {
	Iter      int      `json:"iter"`       // iterations done so far in the run, this one included
	Epoch     int      `json:"epoch"`      // 1-based epoch
	EpochIter int      `json:"epoch_iter"` // 1-based position in the epoch
	LR        float64  `json:"lr"`
	GA        float64  `json:"G_A"`
	GB        float64  `json:"G_B"`
	CycleA    float64  `json:"cycle_A"`
	CycleB    float64  `json:"cycle_B"`
	IdtA      float64  `json:"idt_A"`
	IdtB      float64  `json:"idt_B"`
	DA        float64  `json:"D_A"`
	DB        float64  `json:"D_B"`
	Att       *float64 `json:"att,omitempty"` // only with an attention term
}

// EpochStarter is implemented by a GeneratorTerm that changes with the
// epoch (the two-stage attention schedule); the trainer calls StartEpoch
// before each epoch's first iteration.
type EpochStarter interface {
	StartEpoch(epoch int)
}

// Trainer runs the epochs of a training run, logs and saves checkpoints.
type Trainer struct {
	Opts  TrainOptions
	Model *Model
	Data  *data.Unaligned

	// Position: the next iteration is EpochIter+1 of epoch Epoch; Iter
	// iterations have been done in all.
	Epoch, EpochIter, Iter int

	// OnIter, when set, is called after every iteration; OnEpoch after
	// every epoch (after its checkpoint is saved). A non-nil error stops
	// training.
	OnIter  func(r Record) error
	OnEpoch func(epoch int) error
}

// Dir returns the run's checkpoint folder, CheckpointsDir/Name.
func (o TrainOptions) Dir() string { return filepath.Join(o.CheckpointsDir, o.Name) }

// LastEpoch is the number of the last epoch, NEpochs + NEpochsDecay.
func (o TrainOptions) LastEpoch() int { return o.NEpochs + o.NEpochsDecay }

// NewTrainer opens the data and builds or restores the model. With
// ContinueTrain it loads the networks, optimiser state, pools and position
// saved by an earlier run.
func NewTrainer(o TrainOptions, extra GeneratorTerm) (*Trainer, error) {
	d, err := data.Open(o.Data)
	if err != nil {
		return nil, err
	}
	t := &Trainer{Opts: o, Data: d, Epoch: o.EpochCount}
	t.Model = New(o.Model, o.Seed)
	t.Model.Extra = extra
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
	return t, nil
}

// Schedule returns the learning-rate schedule of the run.
func (t *Trainer) Schedule() LinearDecay {
	return LinearDecay{LR: t.Opts.Model.Adam.LR, NEpochs: t.Opts.NEpochs, NEpochsDecay: t.Opts.NEpochsDecay}
}

// ItersPerEpoch is the number of iterations of one epoch.
func (t *Trainer) ItersPerEpoch() int { return t.Data.Len() }

// Run trains until the last epoch (or MaxIters) and saves the latest
// checkpoint at the end of every epoch and when it stops. A loss that is
// not finite stops training with an error; the checkpoint on disk is then
// the last good one.
func (t *Trainer) Run() error {
	o := t.Opts
	if err := os.MkdirAll(o.Dir(), 0o755); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(o.Dir(), "loss_log.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	log := bufio.NewWriter(logf)
	defer log.Flush()
	be := t.Model.backend()

	for t.Epoch <= o.LastEpoch() {
		lr := t.Schedule().At(t.Epoch)
		if s, ok := t.Model.Extra.(EpochStarter); ok {
			s.StartEpoch(t.Epoch)
		}
		pairs := t.Data.Epoch(t.Epoch)
		for t.EpochIter < len(pairs) {
			if o.MaxIters > 0 && t.Iter >= o.MaxIters {
				return t.Save("latest")
			}
			a, b, err := t.Data.Load(pairs[t.EpochIter])
			if err != nil {
				return err
			}
			l, err := t.Model.Step(a.To(be), b.To(be), lr)
			if err != nil {
				return fmt.Errorf("epoch %d, iteration %d: %w (the last saved checkpoint in %s is intact)", t.Epoch, t.EpochIter+1, err, o.Dir())
			}
			t.Iter++
			t.EpochIter++
			r := Record{Iter: t.Iter, Epoch: t.Epoch, EpochIter: t.EpochIter, LR: lr,
				GA: l.GA, GB: l.GB, CycleA: l.CycleA, CycleB: l.CycleB, IdtA: l.IdtA, IdtB: l.IdtB, DA: l.DA, DB: l.DB}
			if t.Model.Extra != nil {
				att := l.Att
				r.Att = &att
			}
			line, _ := json.Marshal(r)
			log.Write(append(line, '\n'))
			if t.OnIter != nil {
				if err := t.OnIter(r); err != nil {
					return err
				}
			}
		}
		// The epoch is complete: the next position is the start of the next.
		done := t.Epoch
		t.Epoch, t.EpochIter = t.Epoch+1, 0
		if err := log.Flush(); err != nil {
			return err
		}
		if err := t.Save("latest"); err != nil {
			return err
		}
		if o.SaveEpochFreq > 0 && done%o.SaveEpochFreq == 0 {
			if err := t.Save(fmt.Sprint(done)); err != nil {
				return err
			}
		}
		if t.OnEpoch != nil {
			if err := t.OnEpoch(done); err != nil {
				return err
			}
		}
	}
	return nil
}

// Save writes the four networks ({label}_net_{G_A,…}.safetensors) and the
// training state ({label}_state.safetensors: optimiser moments, pools,
// random source, position) to the run's folder, each file atomically.
func (t *Trainer) Save(label string) error {
	dir := t.Opts.Dir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, n := range t.Model.Nets() {
		path := filepath.Join(dir, fmt.Sprintf("%s_net_%s.safetensors", label, NetNames[i]))
		if err := checkpoint.Save(path, checkpoint.StateDict(n.Params()), map[string]string{"format": "pt"}); err != nil {
			return err
		}
	}
	st, meta, err := t.Model.state()
	if err != nil {
		return err
	}
	meta["epoch"] = fmt.Sprint(t.Epoch)
	meta["epoch_iter"] = fmt.Sprint(t.EpochIter)
	meta["iter"] = fmt.Sprint(t.Iter)
	return checkpoint.Save(filepath.Join(dir, label+"_state.safetensors"), st, meta)
}

// restore loads the networks and training state saved under label.
func (t *Trainer) restore(label string) error {
	dir := t.Opts.Dir()
	if err := t.Model.LoadNets(dir, label); err != nil {
		return err
	}
	path := filepath.Join(dir, label+"_state.safetensors")
	ts, meta, err := checkpoint.Load(path)
	if errors.Is(err, os.ErrNotExist) {
		// Networks without training state (e.g. copied from elsewhere):
		// continue with fresh optimisers from EpochCount.
		return nil
	}
	if err != nil {
		return err
	}
	if err := t.Model.setState(ts, meta, path); err != nil {
		return err
	}
	var e, ei, it int
	if _, err := fmt.Sscan(meta["epoch"], &e); err != nil {
		return fmt.Errorf("%s: bad epoch %q", path, meta["epoch"])
	}
	fmt.Sscan(meta["epoch_iter"], &ei)
	fmt.Sscan(meta["iter"], &it)
	t.Epoch, t.EpochIter, t.Iter = e, ei, it
	return nil
}

// LoadNets loads {label}_net_{G_A,G_B,D_A,D_B}.safetensors from dir.
func (m *Model) LoadNets(dir, label string) error {
	for i, n := range m.Nets() {
		path := filepath.Join(dir, fmt.Sprintf("%s_net_%s.safetensors", label, NetNames[i]))
		ts, _, err := checkpoint.Load(path)
		if err != nil {
			return err
		}
		if err := checkpoint.LoadParams(n.Params(), ts, path); err != nil {
			return err
		}
	}
	return nil
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
		if err := checkpoint.LoadParams(n.Params(), ts, path); err != nil {
			return err
		}
	}
	return nil
}

// state returns the optimiser moments, pool images and random source as
// named tensors and metadata.
func (m *Model) state() ([]checkpoint.Named, map[string]string, error) {
	var ts []checkpoint.Named
	meta := map[string]string{}
	for _, opt := range []struct {
		name string
		a    *Adam
	}{{"opt_G", m.OptG}, {"opt_D", m.OptD}} {
		meta[opt.name+".step"] = fmt.Sprint(opt.a.Step)
		for i, p := range opt.a.Params {
			if opt.a.M[i] == nil {
				continue
			}
			ts = append(ts,
				checkpoint.Named{Name: opt.name + ".exp_avg." + p.Name, T: opt.a.M[i].To(tensor.CPU)},
				checkpoint.Named{Name: opt.name + ".exp_avg_sq." + p.Name, T: opt.a.V[i].To(tensor.CPU)})
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
	for _, opt := range []struct {
		name string
		a    *Adam
	}{{"opt_G", m.OptG}, {"opt_D", m.OptD}} {
		if _, err := fmt.Sscan(meta[opt.name+".step"], &opt.a.Step); err != nil {
			return fmt.Errorf("%s: bad %s.step %q", path, opt.name, meta[opt.name+".step"])
		}
		for i, p := range opt.a.Params {
			mt, okm := ts[opt.name+".exp_avg."+p.Name]
			vt, okv := ts[opt.name+".exp_avg_sq."+p.Name]
			if !okm || !okv {
				if opt.a.Step > 0 {
					return fmt.Errorf("%s: no optimiser state for %s", path, p.Name)
				}
				continue
			}
			if !mt.Shape().Equal(p.Var.Shape()) || !vt.Shape().Equal(p.Var.Shape()) {
				return fmt.Errorf("%s: optimiser state for %s has shape %v, want %v", path, p.Name, mt.Shape(), p.Var.Shape())
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
