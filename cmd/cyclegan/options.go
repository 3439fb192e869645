package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/camcycle/camcycle/cuda"
	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// options holds every flag of every subcommand; each subcommand registers
// the groups it uses (see newFlags). Names and defaults follow
// pytorch-CycleGAN-and-pix2pix's options/*.py.
type options struct {
	// Data.
	dataroot, phase, preprocess string
	loadSize, cropSize          int
	noFlip, serialBatches       bool
	maxDatasetSize              int
	direction                   string // AtoB or BtoA

	// Where things go.
	name, checkpointsDir, resultsDir string

	// Networks and computation.
	ngf, ndf, nBlocks, nLayersD int
	netG, netD, norm, ganMode   string
	noDropout                   bool
	device                      string
	gpuIDs                      gpuIDs // the reference's -gpu_ids
	tf32                        bool   // TF32 tensor cores for the CUDA backend's float32 GEMMs
	seed                        uint64

	// Training.
	nEpochs, nEpochsDecay, epochCount, saveEpochFreq int
	lr, beta1                                        float64
	poolSize                                         int
	lambdaA, lambdaB, lambdaIdentity                 float64
	continueTrain, branch, saveStateEveryEpoch       bool
	epoch                                            string
	maxIters                                         int
	initFrom                                         string
	quiet                                            bool

	// The training loop's options of the reference.
	batchSize, numThreads                  int
	printFreq, displayFreq, saveLatestFreq int
	saveByIter                             bool
	lrPolicy                               string
	lrDecayIters                           int

	// The attention loss (docs/method.md §3–4): each -att_* flag of train
	// and bench is bound to its field of att (see attFlags); -preset sets
	// the fields whose flags are not given.
	att    cyclegan.AttentionOptions
	preset string

	// Test, attention pictures and bench. drawLayers are the layers whose
	// GradCAM maps test and attention draw (their -att_layers).
	numTest    int
	modelPath  string
	drawLayers gradcam.Layers
	iters      int
}

// flag groups.
const (
	gData     = 1 << iota // the training data's options: dataroot, phase, preprocess, load_size, ...
	gDataroot             // dataroot and phase only
	gCrop                 // crop_size
	gDirs
	gModel
	gTrain
	gAtt       // every attention flag and -preset
	gAttLayers // -att_layers only
	gTest
	gBench
	gDevice // -device alone (gModel has it too)
)

// defaultOptions returns the options with every flag's default, so that a
// subcommand that does not register a flag still gets its default value.
func defaultOptions() options {
	var o options
	newFlags("all", -1, &o, io.Discard)
	return o
}

// newFlags returns the flag set of subcommand cmd with the groups it uses,
// writing its messages to stderr.
func newFlags(cmd string, groups int, o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("cyclegan "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: cyclegan %s [flags]\n\n%s\nFlags:\n", cmd, commandDoc(cmd))
		fs.PrintDefaults()
	}
	// The defaults are the library's (pytorch-CycleGAN-and-pix2pix's).
	d := cyclegan.DefaultTrainOptions()
	if groups&(gData|gDataroot) != 0 {
		if cmd == "train" {
			fs.StringVar(&o.dataroot, "dataroot", "", "path to images (should have subfolders trainA, trainB, testA, testB); empty: the built-in synthetic data set")
			fs.StringVar(&o.phase, "phase", "train", "train, test, etc: the image folders read are {phase}A and {phase}B")
		} else {
			fs.StringVar(&o.dataroot, "dataroot", "", "path to images (should have subfolders testA, testB); empty: the run's, from its train_opt.json")
			fs.StringVar(&o.phase, "phase", "test", "train, test, etc: the image folders read are {phase}A and {phase}B")
		}
		fs.StringVar(&o.direction, "direction", "AtoB", "AtoB or BtoA: BtoA swaps the domains (A is read from {phase}B, B from {phase}A)")
	}
	if groups&gData != 0 {
		fs.StringVar(&o.preprocess, "preprocess", d.Data.Preprocess, "scaling and cropping of images at load time [resize_and_crop | crop | scale_width | scale_width_and_crop | resize | none]")
		fs.IntVar(&o.loadSize, "load_size", d.Data.LoadSize, "scale images to this size")
		fs.BoolVar(&o.noFlip, "no_flip", false, "if specified, do not flip the images for data augmentation")
		fs.BoolVar(&o.serialBatches, "serial_batches", false, "if true, takes images in order to make batches, otherwise takes them randomly")
		fs.IntVar(&o.maxDatasetSize, "max_dataset_size", 0, "maximum number of images per domain (the first ones in sorted order); 0: all")
	}
	if groups&gCrop != 0 {
		switch cmd {
		case "train":
			fs.IntVar(&o.cropSize, "crop_size", d.Data.CropSize, "then crop to this size")
		case "bench":
			fs.IntVar(&o.cropSize, "crop_size", d.Data.CropSize, "side of the random training images")
		default:
			fs.IntVar(&o.cropSize, "crop_size", d.Data.CropSize, "image size: images are resized to crop_size × crop_size")
		}
	}
	if groups&gDirs != 0 {
		fs.StringVar(&o.name, "name", d.Name, "name of the experiment: where samples and models are stored (with no -dataroot: synthetic)")
		fs.StringVar(&o.checkpointsDir, "checkpoints_dir", d.CheckpointsDir, "models are saved here")
		fs.StringVar(&o.resultsDir, "results_dir", "./results/", "results pages and images are saved here")
		fs.StringVar(&o.epoch, "epoch", d.LoadEpoch, "which epoch to load? set to latest to use latest cached model")
	}
	if groups&gModel != 0 {
		fs.IntVar(&o.ngf, "ngf", d.Model.NGF, "# of gen filters in the last conv layer")
		fs.IntVar(&o.ndf, "ndf", d.Model.NDF, "# of discrim filters in the first conv layer")
		fs.IntVar(&o.nBlocks, "n_blocks", d.Model.NBlocks, "# of residual blocks of the generator (resnet_9blocks: 9)")
		fs.IntVar(&o.nLayersD, "n_layers_D", d.Model.NLayersD, "# of strided convolutions of the PatchGAN discriminator (only used if netD==n_layers)")
		fs.StringVar(&o.netG, "netG", "resnet_9blocks", "specify generator architecture [resnet_9blocks | resnet_6blocks | unet_256 | unet_128]"+
			" (resnet_Nblocks: N residual blocks, as -n_blocks N; the attention loss needs a resnet)")
		fs.StringVar(&o.netD, "netD", "basic", "specify discriminator architecture [basic | n_layers | pixel]. The basic model is a 70x70 PatchGAN"+
			" (n_layers with -n_layers_D 3). n_layers allows you to specify the layers in the discriminator")
		fs.StringVar(&o.norm, "norm", string(d.Model.Norm), "instance normalization or batch normalization [instance | batch | none]")
		fs.BoolVar(&o.noDropout, "no_dropout", true, "no dropout for the generator (CycleGAN's default, as the reference's cycle_gan model sets it;"+
			" -no_dropout=false adds Dropout(0.5) to the generator's blocks)")
		fs.StringVar(&o.ganMode, "gan_mode", d.Model.GANMode, "the type of GAN objective [lsgan | vanilla]. vanilla GAN loss is the cross-entropy objective used in the original GAN paper")
		fs.Uint64Var(&o.seed, "seed", 0, "seed of the weights, data order, crops, flips and image pool")
	}
	if groups&(gModel|gDevice) != 0 {
		fs.StringVar(&o.device, "device", "cpu", "cpu or cuda (cuda needs a build with -tags cuda; without it, it stops with an error)")
		o.gpuIDs = gpuIDs{text: "0", ids: []int{0}}
		fs.Var(&o.gpuIDs, "gpu_ids", "gpu ids: e.g. 0  0,1,2, 0,2; use -1 for CPU. Given explicitly, a GPU id selects the CUDA "+
			"backend on those devices (needs a build with -tags cuda); left out, -device decides. The CUDA backend runs on the first id "+
			"(-device cuda -gpu_ids 1: device 1); more than one is refused (there is no data parallelism)")
		switch cmd {
		case "train", "test", "attention", "bench":
			fs.BoolVar(&o.tf32, "tf32", false, "CUDA only: run the float32 convolution GEMMs on TF32 tensor cores (as PyTorch's cuDNN "+
				"does by default); off, full float32 products as on the CPU. With train it is the run's option: saved in train_opt.json "+
				"and restored by -continue_train (give -tf32=false to continue a TF32 run on the CPU)")
		}
	}
	if groups&gTrain != 0 {
		fs.IntVar(&o.nEpochs, "n_epochs", d.NEpochs, "number of epochs with the initial learning rate")
		fs.IntVar(&o.nEpochsDecay, "n_epochs_decay", d.NEpochsDecay, "number of epochs to linearly decay learning rate to zero")
		fs.IntVar(&o.epochCount, "epoch_count", d.EpochCount, "the starting epoch count (with -continue_train, taken from the checkpoint)")
		fs.IntVar(&o.saveEpochFreq, "save_epoch_freq", d.SaveEpochFreq, "frequency of saving checkpoints {epoch}_net_* at the end of epochs")
		fs.BoolVar(&o.saveStateEveryEpoch, "save_state_every_epoch", false, "keep the training state (optimiser moments, pools, random state: "+
			"twice the networks' size) with every {epoch}_net_* snapshot, not only with latest, so that -continue_train -epoch N resumes exactly")
		fs.Float64Var(&o.lr, "lr", d.Model.Adam.LR, "initial learning rate for adam")
		fs.Float64Var(&o.beta1, "beta1", d.Model.Adam.Beta1, "momentum term of adam")
		fs.IntVar(&o.poolSize, "pool_size", d.Model.PoolSize, "the size of image buffer that stores previously generated images")
		fs.Float64Var(&o.lambdaA, "lambda_A", d.Model.LambdaA, "weight for cycle loss (A -> B -> A)")
		fs.Float64Var(&o.lambdaB, "lambda_B", d.Model.LambdaB, "weight for cycle loss (B -> A -> B)")
		fs.Float64Var(&o.lambdaIdentity, "lambda_identity", d.Model.LambdaIdentity, "use identity mapping; scales the identity loss relative to lambda_A, lambda_B")
		fs.BoolVar(&o.continueTrain, "continue_train", false, "continue training: load the checkpoint -epoch and the run's saved options")
		fs.BoolVar(&o.branch, "branch", false, "with -continue_train -epoch N: train on from checkpoint N although the run went further; "+
			"what it trained after N (latest checkpoint, later snapshots, loss log) is moved to CHECKPOINTS/NAME/branched_TIME/")
		fs.IntVar(&o.maxIters, "max_iters", 0, "stop after this many iterations (of this call) and save; 0: no limit")
		fs.StringVar(&o.initFrom, "init_from", "", "folder with PyTorch weights {G_A,G_B,D_A,D_B}.pth to start from")
		fs.BoolVar(&o.quiet, "quiet", false, "no progress bar")
		fs.IntVar(&o.batchSize, "batch_size", d.BatchSize, "input batch size: pairs of images per iteration")
		fs.IntVar(&o.numThreads, "num_threads", d.NumThreads, "# threads for loading data: goroutines that read and augment the "+
			"coming batches while an iteration computes (0: read each batch when it is due)")
		fs.IntVar(&o.printFreq, "print_freq", d.PrintFreq, "frequency of showing training results on console and in loss_log.txt "+
			"(in images, as the reference's total_iters; 0: never)")
		fs.IntVar(&o.displayFreq, "display_freq", 400, "frequency of saving the train page's samples (in images; besides the end of each epoch; 0: only then)")
		fs.IntVar(&o.saveLatestFreq, "save_latest_freq", d.SaveLatestFreq, "frequency of saving the latest results (in images; besides the end of each epoch; 0: only then)")
		fs.BoolVar(&o.saveByIter, "save_by_iter", false, "whether saves by iteration: with -save_latest_freq also keep iter_{N}_net_* (N images)")
		fs.StringVar(&o.lrPolicy, "lr_policy", d.LRPolicy, "learning rate policy. [linear | step | plateau | cosine]")
		fs.IntVar(&o.lrDecayIters, "lr_decay_iters", d.LRDecayIters, "multiply by a gamma (0.1) every lr_decay_iters epochs (-lr_policy step)")
	}
	if groups&gAtt != 0 {
		o.att = d.Model.Attention
		for _, f := range attFlags() {
			f.bind(fs, &o.att)
		}
		fs.StringVar(&o.preset, "preset", "", "an experiment of the thesis (see 'cyclegan help presets'; 'list' prints them); explicit flags override it")
	}
	if groups&(gAtt|gAttLayers) == gAttLayers {
		fs.Var(&o.drawLayers, "att_layers", "generator `layers` to show GradCAM maps of: 18, 10,14,15,18, all, last"+
			" (default: the run's attention layers)")
	}
	if groups&gTest != 0 {
		fs.IntVar(&o.numTest, "num_test", 50, "how many test images to run (per domain)")
		if cmd == "test" {
			fs.StringVar(&o.modelPath, "model_path", "", "a single generator (.pth or .safetensors): translate the images of -dataroot in one direction")
		}
	}
	if groups&gBench != 0 {
		fs.IntVar(&o.iters, "iters", 5, "timed training iterations (after one warm-up)")
	}
	registerRefOptions(fs, cmd)
	markRunDefaults(fs, cmd)
	return fs
}

// markRunDefaults makes the usage of test, attention and eval show "the
// run's" as the default of the options they take from the run's
// train_opt.json (runOptions), instead of the library's numbers (ngf 64,
// crop_size 256) that the run's own options override.
func markRunDefaults(fs *flag.FlagSet, cmd string) {
	if cmd != "test" && cmd != "attention" && cmd != "eval" && cmd != "export" {
		return
	}
	for _, name := range runOptions() {
		f := fs.Lookup(name)
		if f == nil || f.DefValue == "" {
			continue
		}
		f.DefValue = "the run's, from its " + optFile
		if cmd == "test" {
			switch name {
			case "ngf", "n_blocks":
				f.DefValue += "; with -model_path, the file's"
			case "crop_size":
				f.DefValue += "; with -model_path, " + f.Value.String()
			}
		}
	}
}

// commandDoc is the text above a command's flags in its usage.
func commandDoc(cmd string) string {
	switch cmd {
	case "train":
		return `Trains a CycleGAN (docs/method.md §2), with the GradCAM attention loss when -att_layers or -preset asks for it.
Without -dataroot it runs the main job: a small model on a synthetic data set (plain shapes vs striped
shapes) written into CHECKPOINTS/synthetic_dataset, with the attention loss of -preset ` + mainJobPreset + `
(-preset standard: without), in ` + mainJobTime + `; it ends by scoring the test translations
against their ground truth.
Writes CHECKPOINTS/NAME/: latest_net_{G_A,G_B,D_A,D_B}.safetensors (PyTorch state-dict names),
latest_state.safetensors (optimisers, pools, random state, position), {epoch}_net_* every
-save_epoch_freq epochs (the networks only, unless -save_state_every_epoch), loss_log.jsonl, train_opt.txt/.json and the train page web/index.html.
-continue_train resumes exactly where the run stopped, with the options it was started with
(flags given now override them); -continue_train -epoch N from a run that went further needs -branch,
which moves the later history to CHECKPOINTS/NAME/branched_TIME/. Ctrl-C stops after the current iteration, saves and exits with status 130.

Examples:
  cyclegan train
  cyclegan train -dataroot datasets/horse2zebra -name h2z -preset gradcam
  cyclegan train -name h2z -continue_train
`
	case "test":
		return `Translates test images with a trained run (-name; its size and data come from its train_opt.json)
and writes RESULTS/NAME/{phase}_{epoch}/index.html with images/{file}_{real_A,fake_B,rec_A,...}.png,
and the GradCAM maps of the run's attention layers (or of -att_layers) beside them. Another -num_test
or -att_layers writes its own folder ({phase}_{epoch}_n2, …_layers-18); a call replaces its folder whole.
With -model_path FILE (a generator .pth or .safetensors, e.g. a published latest_net_G_A.pth) it
translates the images of the folder -dataroot in one direction; -model test -model_suffix _A does the
same with CHECKPOINTS/NAME/{epoch}_net_G_A.pth, as the reference's --model test.

Examples:
  cyclegan test -name h2z -num_test 120
  cyclegan test -model_path horse2zebra.pth -dataroot datasets/horse2zebra/testA
  cyclegan test --dataroot datasets/horse2zebra/testA --name h2z --model test --model_suffix _A
`
	case "export":
		return `Writes the run's four networks at -epoch as PyTorch state dicts, in torch.save's zip format,
named and laid out as pytorch-CycleGAN-and-pix2pix's save_networks writes them:
OUT/{epoch}_net_G_A.pth, _G_B, _D_A, _D_B (OUT: the run's folder unless -out is given).
torch.load reads them (weights_only=True too) and the reference's code loads them as they are:
  python test.py --dataroot DATA --checkpoints_dir PARENT --name NAME --model cycle_gan
  python test.py --dataroot DATA/testA --checkpoints_dir PARENT --name NAME --model test --model_suffix _A --no_dropout
  python train.py --dataroot DATA --checkpoints_dir PARENT --name NAME --model cycle_gan --continue_train
where OUT is PARENT/NAME. Give the reference the run's --ngf, --ndf and --netG resnet_Nblocks.

Examples:
  cyclegan export -name h2z
  cyclegan export -name h2z -epoch 100 -out exported/h2z
`
	case "attention":
		return `Writes GradCAM heatmaps of generator layers, coloured and laid over the input images: G_A scored
by D_A on {phase}A, G_B scored by D_B on {phase}B, and an index.html grid, in
RESULTS/NAME/attention_{phase}_{epoch}/ (with _nN and _layers-L when -num_test and -att_layers
are given; a call replaces its folder whole). -att_layers every draws every layer of the generator.

Examples:
  cyclegan attention -name h2z -att_layers every -num_test 4
`
	case "fid":
		return `Prints the FID between two sets of images, as pytorch-fid does ("python -m pytorch_fid PATH1 PATH2"):
each PATH is a folder of images (those directly in it) or a statistics file (.npz, as pytorch-fid
writes them with --save-stats, or as -save_stats does here). Images are read as they are (RGB, any
size), resized to 299×299 bilinearly and scored with pytorch-fid's Inception-v3; its weights file
pt_inception-2015-12-05-6726825d.pth must be supplied (see -weights). -kid also prints KID.

Examples:
  cyclegan fid results/h2z/eval_latest/fake_B datasets/horse2zebra/testB
  cyclegan fid -kid results/h2z/eval_latest/fake_B datasets/horse2zebra/testB
  cyclegan fid -save_stats datasets/horse2zebra/testB testB.npz
`
	case "eval":
		return `Evaluates a trained run (-name): translates every test image of both domains (PNG, into
RESULTS/NAME/eval_{epoch}/fake_B and fake_A), scores each direction with FID and KID against the
target domain's test images (-fid_ref all: against all its images, train and test, as the thesis
did), and appends a row to RESULTS/NAME/eval.csv and eval.json: the run, its preset and attention
options, the epoch, both directions' FID and KID, the images used, the weights file's SHA-256.
Without the Inception weights the translations are still written and the metrics read "no weights".
The statistics of the real images are cached in RESULTS/fid_stats.

Examples:
  cyclegan eval -name h2z_gradcam
  cyclegan eval -name h2z_gradcam -epoch 100 -fid_ref all
`
	case "compare":
		return `Writes a page comparing runs (RESULTS/compare/index.html, or -out): a table of their latest
evaluations at -epoch (cyclegan eval), in the layout of the thesis' table 3.1 with the thesis' own
FID beside runs whose attention options are one of its experiments, and the same test images
translated by each run with the run's GradCAM map under each translation. Runs that differ only by
their seed are grouped: every numeric metric of their evaluations as mean ± sample standard
deviation (n − 1) over the seeds, also in compare.json and compare.csv beside the page.
-sweep NAME compares the runs of a sweep (those started), into SWEEPS_DIR/NAME/compare.

Examples:
  cyclegan compare h2z h2z_gradcam h2z_gradcam_four
  cyclegan compare -sweep h2z
`
	case "sweep":
		return `Plans independent runs, one per preset and seed, each a line of SWEEPS_DIR/NAME/plan.txt:
  cyclegan train -name NAME_PRESET_sSEED -preset PRESET -seed SEED [the train flags given]
(the options in sweep.json beside it), then runs them one after another here: each is trained,
then evaluated (cyclegan eval). It is resumable: a run trained and evaluated is skipped, an
interrupted one continued (-continue_train), a trained one only evaluated; run the same command
again to go on. A different plan under an existing sweep name is refused. -plan_only writes the
plan only; -slurm writes SWEEPS_DIR/NAME/sweep.sbatch, a job array whose task k runs line k
("cyclegan sweep -task k PLAN"), and prints the sbatch command. Ctrl-C stops the run in progress
(it is saved) and the sweep. Compare the runs with "cyclegan compare -sweep NAME".

Examples:
  cyclegan sweep -sweep h2z -presets standard,gradcam -seeds 3 -dataroot datasets/horse2zebra
  cyclegan sweep -sweep h2z -presets standard,gradcam -seeds 3 -dataroot datasets/horse2zebra -slurm -slurm_opts --partition=cpu
  cyclegan sweep -task 0 sweeps/h2z/plan.txt
`
	case "bench":
		return `Times -iters training iterations (both generator and discriminator updates, the attention
loss included) on random images after one warm-up, and prints one JSON line: ms_per_iter (the
median), min_ms, iters, crop_size, ngf, n_blocks, att_layers, att_order, device, ...

Examples:
  cyclegan bench -crop_size 256 -iters 5
  cyclegan bench -crop_size 128 -preset gradcam_all -att_order 1
`
	}
	return ""
}

// explicit returns the names of the flags given on the command line.
func explicit(fs *flag.FlagSet) map[string]bool {
	m := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m[f.Name] = true })
	return m
}

// isPerCall reports whether a train flag belongs to one call of the
// command rather than to the run: such flags are neither saved with the
// run's options nor restored.
func isPerCall(name string) bool {
	switch name {
	case "name", "checkpoints_dir", "results_dir", "continue_train", "branch", "epoch", "max_iters",
		"init_from", "quiet", "device", "gpu_ids", "preset", "epoch_count", "num_threads":
		return true
	}
	return isRefPerCall(name)
}

// flagValues returns the values of fs's flags, except perCall ones.
func flagValues(fs *flag.FlagSet) map[string]string {
	m := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if !isPerCall(f.Name) {
			m[f.Name] = f.Value.String()
		}
	})
	return m
}

// optFile is the JSON record of a run's options in its checkpoint folder.
const optFile = "train_opt.json"

// readSavedOptions reads CHECKPOINTS/NAME/train_opt.json; a missing file
// gives nil and no error.
func readSavedOptions(dir string) (map[string]string, error) {
	path := filepath.Join(dir, optFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return m, nil
}

// applySaved sets every flag of fs that was not given explicitly and that
// saved holds (the options a run was started with), so that a continued
// run or a test uses the run's configuration; only the flags named in only,
// when it is not nil. It returns the names set.
func applySaved(fs *flag.FlagSet, saved map[string]string, given map[string]bool, path string, only []string) ([]string, error) {
	var set []string
	for k, v := range saved {
		if given[k] || isPerCall(k) || fs.Lookup(k) == nil || (only != nil && !slices.Contains(only, k)) {
			continue
		}
		if err := fs.Set(k, v); err != nil {
			return nil, fmt.Errorf("%s: option %s: %v", path, k, err)
		}
		set = append(set, k)
	}
	sort.Strings(set)
	return set, nil
}

// writeOptions saves the run's options as train_opt.json and, in the
// reference's layout, train_opt.txt ("name: value [default: d]").
func writeOptions(dir string, fs *flag.FlagSet) error {
	vals := flagValues(fs)
	raw, err := json.MarshalIndent(vals, "", "  ")
	if err != nil {
		return err
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, optFile), func(w io.Writer) error {
		_, err := w.Write(append(raw, '\n'))
		return err
	}); err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, "train_opt.txt"), func(w io.Writer) error {
		fmt.Fprintln(w, "----------------- Options ---------------")
		fs.VisitAll(func(f *flag.Flag) {
			if isPerCall(f.Name) && f.Name != "name" && f.Name != "checkpoints_dir" {
				return
			}
			def := ""
			if f.Value.String() != f.DefValue {
				def = fmt.Sprintf("\t[default: %s]", f.DefValue)
			}
			fmt.Fprintf(w, "%25s: %-30s%s\n", f.Name, f.Value.String(), def)
		})
		fmt.Fprintln(w, "----------------- End -------------------")
		return nil
	})
}

// attFlag is one attention flag of train and bench, bound to its field of
// cyclegan.AttentionOptions: bind registers the field with a flag set (its
// current value the default), copy sets the field from other options (a
// preset's).
type attFlag struct {
	name string
	bind func(fs *flag.FlagSet, a *cyclegan.AttentionOptions)
	copy func(dst, src *cyclegan.AttentionOptions)
}

// attField returns the attFlag of the field that field picks, registered by
// register.
func attField[T any](name, usage string, field func(a *cyclegan.AttentionOptions) *T,
	register func(fs *flag.FlagSet, p *T, name, usage string)) attFlag {
	return attFlag{name: name,
		bind: func(fs *flag.FlagSet, a *cyclegan.AttentionOptions) { register(fs, field(a), name, usage) },
		copy: func(dst, src *cyclegan.AttentionOptions) { *field(dst) = *field(src) }}
}

// Registering a field with its current value as the default: one that is a
// flag.Value itself (gradcam's option types), a float, a bool, an int.
func valueFlag[T any, P interface {
	*T
	flag.Value
}](fs *flag.FlagSet, p *T, name, usage string) {
	fs.Var(P(p), name, usage)
}

func floatFlag(fs *flag.FlagSet, p *float64, name, usage string) { fs.Float64Var(p, name, *p, usage) }
func boolFlag(fs *flag.FlagSet, p *bool, name, usage string)     { fs.BoolVar(p, name, *p, usage) }
func intFlag(fs *flag.FlagSet, p *int, name, usage string)       { fs.IntVar(p, name, *p, usage) }

// attFlags lists the attention flags.
func attFlags() []attFlag {
	type A = cyclegan.AttentionOptions
	return []attFlag{
		attField("att_layers", "attention loss on these generator `layers`: 18, 10,14,15,18, all (every residual block), last; empty: standard CycleGAN",
			func(a *A) *gradcam.Layers { return &a.Layers }, valueFlag[gradcam.Layers]),
		attField("att_weights", "relative `weights` of -att_layers, one each (default uniform)",
			func(a *A) *gradcam.Weights { return &a.Weights }, valueFlag[gradcam.Weights]),
		attField("lambda_att", "weight of the attention-consistency loss, positive (-att_order 0 computes and logs the loss without training on it)",
			func(a *A) *float64 { return &a.Lambda }, floatFlag),
		attField("att_direction", "`direction`: both (default), or A2B: only the A -> B -> A term",
			func(a *A) *gradcam.Direction { return &a.Direction }, valueFlag[gradcam.Direction]),
		attField("att_detach", "detach the translation-side maps cam_GA(real_A), cam_GB(real_B)",
			func(a *A) *bool { return &a.Detach }, boolFlag),
		attField("att_order", "`order` 2 (default): full second order; 1: GradCAM weights as constants; 0: logged only, as the thesis' code",
			func(a *A) *gradcam.Order { return &a.Order }, valueFlag[gradcam.Order]),
		attField("att_layers2", "two-stage schedule: the `layers` used from -att_stage2_epoch on",
			func(a *A) *gradcam.Layers { return &a.Layers2 }, valueFlag[gradcam.Layers]),
		attField("att_weights2", "relative `weights` of -att_layers2",
			func(a *A) *gradcam.Weights { return &a.Weights2 }, valueFlag[gradcam.Weights]),
		attField("att_stage2_epoch", "first `epoch` of the second stage",
			func(a *A) *int { return &a.Stage2Epoch }, intFlag),
	}
}

// attFlagValues returns a's fields as the values of their flags.
func attFlagValues(a cyclegan.AttentionOptions) map[string]string {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	for _, f := range attFlags() {
		f.bind(fs, &a)
	}
	m := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { m[f.Name] = f.Value.String() })
	return m
}

// applyPreset sets the fields of a from preset name, except those whose
// flags were given explicitly. The preset's options depend on the
// generator's depth and the run's length, so it is applied after those are
// known.
func applyPreset(a *cyclegan.AttentionOptions, name string, nBlocks, lastEpoch int, given map[string]bool) error {
	p, err := cyclegan.LookupPreset(name)
	if err != nil {
		return err
	}
	src := p.Options(nBlocks, lastEpoch)
	for _, f := range attFlags() {
		if !given[f.name] {
			f.copy(a, &src)
		}
	}
	return nil
}

// presetSummary returns the flags preset p sets that differ from the
// defaults, for a generator of nBlocks blocks and lastEpoch epochs.
func presetSummary(p cyclegan.Preset, nBlocks, lastEpoch int) string {
	def := attFlagValues(cyclegan.DefaultAttention())
	set := attFlagValues(p.Options(nBlocks, lastEpoch))
	var parts []string
	for _, f := range attFlags() {
		if set[f.name] != def[f.name] {
			parts = append(parts, fmt.Sprintf("-%s %s", f.name, set[f.name]))
		}
	}
	if len(parts) == 0 {
		return "(no attention flags)"
	}
	return strings.Join(parts, " ")
}

// printPresets writes the table of presets.
func printPresets(w io.Writer) {
	fmt.Fprintln(w, "Presets (-preset NAME): the experiments of the thesis (docs/method.md §4), then its future work.")
	fmt.Fprintln(w, "Flags are shown for a 9-block generator trained 200 epochs; explicit flags override them.")
	fmt.Fprintln(w)
	for _, p := range cyclegan.Presets() {
		fmt.Fprintf(w, "  %-17s %s\n  %-17s sets: %s\n", p.Name, p.Doc, "", presetSummary(p, 9, 200))
	}
}

// modelOptions returns the networks' options from the flags.
func (o *options) modelOptions() (cyclegan.Options, error) {
	m := cyclegan.DefaultOptions()
	m.NGF, m.NDF, m.NBlocks, m.NLayersD = o.ngf, o.ndf, o.nBlocks, o.nLayersD
	m.LambdaA, m.LambdaB, m.LambdaIdentity = o.lambdaA, o.lambdaB, o.lambdaIdentity
	m.PoolSize = o.poolSize
	m.Adam.LR, m.Adam.Beta1 = o.lr, o.beta1
	m.Attention = o.att
	for _, c := range []struct {
		name string
		v    int
	}{{"ngf", o.ngf}, {"ndf", o.ndf}, {"n_blocks", o.nBlocks}, {"n_layers_D", o.nLayersD}} {
		if c.v < 1 {
			return m, fmt.Errorf("-%s %d: must be at least 1", c.name, c.v)
		}
	}
	if err := o.netOptions(&m); err != nil {
		return m, err
	}
	if o.poolSize < 0 {
		return m, fmt.Errorf("-pool_size %d: must not be negative", o.poolSize)
	}
	be, err := o.deviceBackend()
	if err != nil {
		return m, err
	}
	m.Backend = be
	return m, nil
}

// checkImageSize checks that side×side images, the size flag name sets,
// fit the networks of mo: every command that runs the networks asks here
// before it writes anything.
func checkImageSize(mo cyclegan.Options, name string, side int) error {
	if err := mo.CheckImageSize(side); err != nil {
		return fmt.Errorf("-%s %d: %w", name, side, err)
	}
	return nil
}

// trainImageSize returns the flag that sets the side of the training
// images the networks get, and its value: -load_size when the images are
// resized or scaled to it without a crop, -crop_size when they are
// cropped; ok is false for -preprocess none, which rounds each image's
// sides to a multiple of 4 itself.
func (o *options) trainImageSize() (name string, side int, ok bool) {
	switch o.preprocess {
	case "none":
		return "", 0, false
	case "resize", "scale_width":
		return "load_size", o.loadSize, true
	}
	return "crop_size", o.cropSize, true
}

// gpuIDs is the value of -gpu_ids, read as the reference reads it:
// comma-separated ids, the negative ones dropped ("-1": none, the CPU).
// given records that the flag was set, since the reference's default "0"
// is implied by every command line that leaves it out.
type gpuIDs struct {
	text  string
	ids   []int // the GPUs, for the CUDA backend
	given bool
}

func (g *gpuIDs) String() string { return g.text }

func (g *gpuIDs) Set(s string) error {
	var ids []int
	for _, f := range strings.Split(s, ",") {
		id, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("%q: want comma-separated GPU ids (0, 0,1,2) or -1 for the CPU", s)
		}
		if id >= 0 && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	g.text, g.ids, g.given = s, ids, true
	return nil
}

// deviceBackend settles -device, -gpu_ids and -tf32: -gpu_ids given
// explicitly with GPU ids means the CUDA backend on the first of them (in
// a build without it, an error naming -gpu_ids), -gpu_ids -1 the CPU;
// left out, -device decides, on device 0. -tf32 is refused on the CPU.
func (o *options) deviceBackend() (tensor.Backend, error) {
	be, err := o.pickBackend()
	if err == nil && o.tf32 && be == tensor.CPU {
		err = fmt.Errorf("-tf32: TF32 is a mode of the CUDA backend's tensor cores; the CPU computes full float32 " +
			"(use -device cuda in a build with -tags cuda, or -tf32=false)")
	}
	return be, err
}

func (o *options) pickBackend() (tensor.Backend, error) {
	g := o.gpuIDs
	if len(g.ids) > 1 && (g.given || o.device == "cuda" || o.device == "gpu") {
		return nil, fmt.Errorf("-gpu_ids %s: this program trains on one GPU; give one id", g.text)
	}
	co := cuda.Options{TF32: o.tf32}
	if len(g.ids) > 0 {
		co.Device = g.ids[0]
	}
	if !g.given {
		return backend(o.device, co)
	}
	if len(g.ids) == 0 {
		if o.device != "cpu" && o.device != "" {
			return nil, fmt.Errorf("-gpu_ids %s (the CPU) and -device %s disagree: give one of them", g.text, o.device)
		}
		return tensor.CPU, nil
	}
	be, err := cuda.NewWith(co)
	if err != nil {
		return nil, fmt.Errorf("-gpu_ids %s names GPU %d: %w; use -gpu_ids -1, or leave it out, to train on the CPU", g.text, g.ids[0], err)
	}
	return be, nil
}

// backend returns the backend named by -device, with the CUDA options co
// for cuda. Without the cuda build tag, "cuda" is an error: the program
// never falls back to the CPU silently.
func backend(device string, co cuda.Options) (tensor.Backend, error) {
	switch device {
	case "cpu", "":
		return tensor.CPU, nil
	case "cuda", "gpu":
		be, err := cuda.NewWith(co)
		if err != nil {
			return nil, fmt.Errorf("-device %s: %w", device, err)
		}
		return be, nil
	}
	return nil, fmt.Errorf("-device %q: want cpu or cuda", device)
}

// dataOptions returns the training data's options from the flags.
func (o *options) dataOptions() data.Options {
	return data.Options{Dataroot: o.dataroot, Phase: o.phase, Preprocess: o.preprocess, LoadSize: o.loadSize,
		CropSize: o.cropSize, NoFlip: o.noFlip, SerialBatches: o.serialBatches, Seed: o.seed,
		MaxDatasetSize: o.maxDatasetSize, BToA: o.direction == "BtoA"}
}

// checkDirection checks -direction.
func (o *options) checkDirection() error {
	if o.direction != "AtoB" && o.direction != "BtoA" {
		return fmt.Errorf("-direction %q: want AtoB or BtoA", o.direction)
	}
	return nil
}

// checkRunExists returns an error unless the run -name has a folder in
// -checkpoints_dir: "no run named NAME in DIR", with the runs that are
// there, so that a mistyped name is reported before anything is read or
// written.
func (o *options) checkRunExists() error {
	if st, err := os.Stat(o.checkpointDir()); err == nil && st.IsDir() {
		return nil
	}
	var runs []string
	entries, _ := os.ReadDir(o.checkpointsDir)
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(o.checkpointsDir, e.Name(), optFile)); err == nil {
			runs = append(runs, e.Name())
		}
	}
	msg := fmt.Sprintf("no run named %s in %s", o.name, o.checkpointsDir)
	switch {
	case len(runs) > 10:
		msg += fmt.Sprintf(" (it holds %d runs: %s, …; check -name and -checkpoints_dir)", len(runs), strings.Join(runs[:10], ", "))
	case len(runs) > 0:
		msg += fmt.Sprintf(" (its runs: %s; check -name and -checkpoints_dir)", strings.Join(runs, ", "))
	default:
		msg += " (it holds no run: train one first, or check -checkpoints_dir)"
	}
	return errors.New(msg)
}

// checkpointDir is CHECKPOINTS/NAME.
func (o *options) checkpointDir() string { return filepath.Join(o.checkpointsDir, o.name) }

// netGBlocks returns N for a -netG of the form resnet_Nblocks.
func netGBlocks(netG string) (int, bool) {
	mid, ok := strings.CutPrefix(netG, "resnet_")
	if mid, ok = strings.CutSuffix(mid, "blocks"); !ok {
		return 0, false
	}
	n, err := strconv.Atoi(mid)
	return n, err == nil && n >= 1
}

const (
	validNetG = "want resnet_9blocks, resnet_6blocks (resnet_Nblocks: N residual blocks), unet_128 or unet_256"
	validNetD = "want basic, n_layers or pixel"
)

// resolveNets settles -netG against -n_blocks and -netD against
// -n_layers_D, given the flags given on the command line: resnet_Nblocks
// is -n_blocks N and basic is -n_layers_D 3, so the one given sets the
// other; given both, they must agree. When -netG or -netD is not given,
// -n_blocks and -n_layers_D (given, restored from a run or defaults) win,
// so runs saved before these flags existed load as they trained (a U-Net
// leaves -n_blocks unused, a pixel discriminator -n_layers_D). The
// settled values are written back to the flags, so that a run's
// train_opt.json holds them consistently.
func (o *options) resolveNets(given map[string]bool) error {
	if n, ok := netGBlocks(o.netG); ok {
		switch {
		case given["netG"] && given["n_blocks"] && n != o.nBlocks:
			return fmt.Errorf("-netG %s has %d residual blocks but -n_blocks %d asks for %d: give one of them", o.netG, n, o.nBlocks, o.nBlocks)
		case given["netG"]:
			o.nBlocks = n
		default:
			o.netG = fmt.Sprintf("resnet_%dblocks", o.nBlocks)
		}
	} else if o.netG != cyclegan.NetUnet128 && o.netG != cyclegan.NetUnet256 {
		return fmt.Errorf("-netG %q: %s", o.netG, validNetG)
	}
	switch o.netD {
	case "basic":
		switch {
		case given["netD"] && given["n_layers_D"] && o.nLayersD != 3:
			return fmt.Errorf("-netD basic has 3 layers but -n_layers_D %d asks for %d: use -netD n_layers", o.nLayersD, o.nLayersD)
		case given["netD"]:
			o.nLayersD = 3
		case o.nLayersD != 3:
			o.netD = "n_layers"
		}
	case "n_layers":
	case cyclegan.NetPixel:
	default:
		return fmt.Errorf("-netD %q: %s", o.netD, validNetD)
	}
	return nil
}

// netOptions sets the networks' kinds of m from -netG, -netD, -norm,
// -no_dropout and -gan_mode, and refuses those that do not fit together.
// -netG and -netD must have been checked and settled by resolveNets, the
// one place that knows their values; anything else here is a programmer
// error.
func (o *options) netOptions(m *cyclegan.Options) error {
	switch _, resnet := netGBlocks(o.netG); {
	case resnet:
		m.NetG = cyclegan.NetResnet
	case o.netG == cyclegan.NetUnet128 || o.netG == cyclegan.NetUnet256:
		m.NetG = o.netG
	default:
		panic(fmt.Sprintf("netOptions: -netG %q was not settled by resolveNets", o.netG))
	}
	switch o.netD {
	case "basic", "n_layers":
		m.NetD = cyclegan.NetNLayers
	case cyclegan.NetPixel:
		m.NetD = cyclegan.NetPixel
	default:
		panic(fmt.Sprintf("netOptions: -netD %q was not settled by resolveNets", o.netD))
	}
	m.Norm = layers.Norm(o.norm)
	if m.Norm.Check() != nil {
		return fmt.Errorf("-norm %q: want instance, batch or none", o.norm)
	}
	m.Dropout = !o.noDropout
	switch o.ganMode {
	case cyclegan.GANLSGAN, cyclegan.GANVanilla:
		m.GANMode = o.ganMode
	case "wgangp":
		return fmt.Errorf("-gan_mode wgangp: not supported here (its gradient penalty is not implemented); want lsgan or vanilla")
	default:
		return fmt.Errorf("-gan_mode %q: want lsgan or vanilla", o.ganMode)
	}
	if m.Attention.Enabled() && m.NetG != cyclegan.NetResnet {
		what := "-att_layers " + m.Attention.Layers.String()
		if o.preset != "" {
			what = "-preset " + o.preset
		}
		return fmt.Errorf("%s: the attention loss's layers are residual blocks of the ResNet generator (the layer indices of the reference's "+
			"ResnetGenerator, docs/method.md §1), and -netG %s has none; use -netG resnet_9blocks (or resnet_Nblocks) with the attention loss", what, o.netG)
	}
	return nil
}

// refOption is an option of pytorch-CycleGAN-and-pix2pix (options/*.py)
// that train or test accept so that the reference's command lines run
// unchanged, beyond the flags registered in newFlags. status says what
// happens to it (the README's table of the reference's options is checked
// against this table by TestReferenceOptionsTable):
//
//	"implemented"  it does what the reference's does
//	"ignored"      accepted and ignored, with a one-line note when given:
//	               the reference's visdom, wandb and HTML display
//	"default only" the reference's default is accepted (it is what this
//	               program does); any other value is refused, naming it
type refOption struct {
	name, def, usage string
	isBool           bool
	status           string
	cmds             []string // the commands that accept it
	// check returns an error for a value that cmd does not take; nil: any.
	check func(cmd, v string) error
	// perCall: a setting of one call (like -name), not saved with the run.
	perCall bool
	// why an ignored option is ignored, for the note.
	why string
}

// oneOf returns a check that accepts the values listed for each command
// (cmds[cmd]; "" for the others), explaining a refusal with why.
func oneOf(why string, cmds map[string][]string) func(cmd, v string) error {
	return func(cmd, v string) error {
		ok := cmds[cmd]
		if ok == nil {
			ok = cmds[""]
		}
		if slices.Contains(ok, v) {
			return nil
		}
		return fmt.Errorf("%q is not available: %s (accepted here: %s)", v, why, strings.Join(ok, ", "))
	}
}

// refOptions is the table of the reference's options that newFlags does not
// register itself. The flags of the networks and of the schedule that the
// reference also has (netG, norm, no_dropout, netD, gan_mode, batch_size,
// direction, lr_policy, …) are registered with the others in newFlags.
func refOptions() []refOption {
	trainTest := []string{"train", "test"}
	display := func(name, def, usage string, isBool bool) refOption {
		return refOption{name: name, def: def, usage: usage + " (the reference's display: accepted and ignored)",
			isBool: isBool, status: "ignored", cmds: trainTest, perCall: true,
			why: "the reference's visdom/wandb/HTML display; this program writes its own pages"}
	}
	// The data options of train that the reference's test.py also takes,
	// where it sets serial_batches and no_flip itself.
	atTest := func(name, def string, isBool bool) refOption {
		return refOption{name: name, def: def, usage: "accepted for the reference's command lines and ignored: test resizes each image to -crop_size, in order, unflipped",
			isBool: isBool, status: "ignored at test", cmds: []string{"test"}, // train's own flags, saved with the run
			why: "test resizes each image to -crop_size, in order, unflipped"}
	}
	isFloat := func(want float64, what string) func(cmd, v string) error {
		return func(cmd, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f != want {
				return fmt.Errorf("%q is not available: %s", v, what)
			}
			return nil
		}
	}
	return []refOption{
		{name: "model", def: "cycle_gan", usage: "chooses which model to use: cycle_gan (test: also test, one generator, {epoch}_net_G{model_suffix}.pth); " +
			"only CycleGAN is implemented", status: "implemented", cmds: trainTest, perCall: true,
			check: oneOf("only CycleGAN is implemented (pix2pix, colorization and template are not)",
				map[string][]string{"train": {"cycle_gan"}, "test": {"cycle_gan", "test"}})},
		{name: "model_suffix", usage: "with -model test: CHECKPOINTS/NAME/{epoch}_net_G{model_suffix}.pth is the generator (_A: G_A, _B: G_B)",
			status: "implemented", cmds: []string{"test"}, perCall: true},
		{name: "dataset_mode", def: "unaligned", usage: "how data sets are loaded: unaligned (test with -model test: single)",
			status: "implemented", cmds: trainTest, perCall: true,
			check: oneOf("only unpaired data sets are implemented (aligned and colorization are pix2pix's and colorization's)",
				map[string][]string{"train": {"unaligned"}, "test": {"unaligned", "single"}})},
		{name: "input_nc", def: "3", usage: "# of input image channels: 3 for RGB", status: "default only", cmds: trainTest,
			check: oneOf("images are RGB here (1, grayscale, is not implemented)", map[string][]string{"": {"3"}})},
		{name: "output_nc", def: "3", usage: "# of output image channels: 3 for RGB", status: "default only", cmds: trainTest,
			check: oneOf("images are RGB here (1, grayscale, is not implemented)", map[string][]string{"": {"3"}})},
		{name: "init_type", def: "normal", usage: "network initialization: normal, N(0, init_gain²) weights and zero biases", status: "default only",
			cmds: trainTest, check: oneOf("only normal is implemented (xavier, kaiming and orthogonal are not)", map[string][]string{"": {"normal"}})},
		{name: "init_gain", def: "0.02", usage: "standard deviation of the normal initialization", status: "implemented", cmds: trainTest,
			check: func(cmd, v string) error {
				if f, err := strconv.ParseFloat(v, 64); err != nil || !(f > 0) || math.IsInf(f, 0) {
					return fmt.Errorf("%q: want a positive number", v)
				}
				return nil
			}},
		{name: "load_iter", def: "0", usage: "which iteration to load: 0, by -epoch (checkpoints are saved by epoch here)", status: "default only",
			cmds: trainTest, perCall: true, check: oneOf("checkpoints are saved by epoch here (-epoch N)", map[string][]string{"": {"0"}})},
		{name: "suffix", usage: "customized suffix: -name becomes NAME_SUFFIX; {option} is replaced by its value, e.g. {model}_size{load_size}",
			status: "implemented", cmds: trainTest, perCall: true},
		{name: "verbose", def: "false", usage: "print the networks and their numbers of parameters", isBool: true, status: "implemented",
			cmds: trainTest, perCall: true},
		{name: "eval", def: "false", usage: "use eval mode during test time (the same here: no dropout, instance norm)", isBool: true,
			status: "implemented", cmds: []string{"test"}, perCall: true},
		{name: "aspect_ratio", def: "1", usage: "aspect ratio of result images: 1 (results are crop_size × crop_size)", status: "default only",
			cmds: []string{"test"}, perCall: true, check: isFloat(1, "results are square here (aspect ratio 1)")},
		atTest("load_size", "286", false),
		atTest("preprocess", "resize_and_crop", false),
		atTest("no_flip", "false", true),
		atTest("serial_batches", "false", true),
		atTest("max_dataset_size", "0", false),
		display("display_id", "1", "window id of the web display", false),
		display("display_server", "http://localhost", "visdom server of the web display", false),
		display("display_env", "main", "visdom display environment name", false),
		display("display_port", "8097", "visdom port of the web display", false),
		display("display_winsize", "256", "display window size for both visdom and HTML", false),
		display("display_ncols", "4", "if positive, display all images in a single visdom web panel with certain number of images per row", false),
		display("update_html_freq", "1000", "frequency of saving training results to html", false),
		display("no_html", "false", "do not save intermediate training results to CHECKPOINTS/NAME/web/", true),
		display("use_wandb", "false", "use wandb", true),
		display("wandb_project_name", "CycleGAN-and-pix2pix", "wandb project name", false),
	}
}

// refValue is the flag.Value of a refOption.
type refValue struct {
	v      string
	isBool bool
}

func (r *refValue) String() string { return r.v }
func (r *refValue) Set(v string) error {
	if r.isBool {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		v = strconv.FormatBool(b)
	}
	r.v = v
	return nil
}
func (r *refValue) IsBoolFlag() bool { return r.isBool }

// registerRefOptions registers the refOptions that cmd accepts.
func registerRefOptions(fs *flag.FlagSet, cmd string) {
	for _, r := range refOptions() {
		if slices.Contains(r.cmds, cmd) {
			fs.Var(&refValue{v: r.def, isBool: r.isBool}, r.name, r.usage)
		}
	}
}

// refOptionValue returns the value of the refOption name in fs, or its
// default when fs does not have it.
func refOptionValue(fs *flag.FlagSet, name string) string {
	if f := fs.Lookup(name); f != nil {
		return f.Value.String()
	}
	for _, r := range refOptions() {
		if r.name == name {
			return r.def
		}
	}
	return ""
}

// applyRefOptions checks the reference's options given to cmd, refusing a
// value this program does not implement with an error naming the flag and
// the value; applies -suffix to -name; and returns the note to print for
// the display options given, which are ignored ("" when none is given).
func applyRefOptions(fs *flag.FlagSet, cmd string) (note string, err error) {
	given := explicit(fs)
	var reasons []string
	ignored := map[string][]string{} // by reason
	for _, r := range refOptions() {
		// The rows of other commands: in train, -load_size is train's
		// own flag, not test's ignored one.
		if !given[r.name] || !slices.Contains(r.cmds, cmd) {
			continue
		}
		v := fs.Lookup(r.name).Value.String()
		if r.check != nil {
			if err := r.check(cmd, v); err != nil {
				return "", fmt.Errorf("-%s %w", r.name, err)
			}
		}
		if r.why != "" {
			if ignored[r.why] == nil {
				reasons = append(reasons, r.why)
			}
			ignored[r.why] = append(ignored[r.why], "-"+r.name+" "+v)
		}
	}
	if s := refOptionValue(fs, "suffix"); s != "" {
		name, err := expandSuffix(fs, s)
		if err != nil {
			return "", err
		}
		fs.Set("name", fs.Lookup("name").Value.String()+"_"+name)
	}
	if len(reasons) > 0 {
		var parts []string
		for _, why := range reasons {
			parts = append(parts, fmt.Sprintf("%s (%s)", strings.Join(ignored[why], ", "), why))
		}
		note = "note: accepted and ignored: " + strings.Join(parts, "; ")
	}
	return note, nil
}

// expandSuffix replaces each {option} of -suffix s by the option's value,
// as the reference's opt.suffix.format(**vars(opt)).
func expandSuffix(fs *flag.FlagSet, s string) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("-suffix %q: a { without its }", s)
		}
		key := s[i+1 : i+j]
		f := fs.Lookup(key)
		if f == nil {
			return "", fmt.Errorf("-suffix %q: no option %q", s, key)
		}
		b.WriteString(s[:i] + f.Value.String())
		s = s[i+j+1:]
	}
}

// isRefPerCall reports whether name is a refOption that belongs to one call.
func isRefPerCall(name string) bool {
	for _, r := range refOptions() {
		if r.name == name {
			return r.perCall
		}
	}
	return false
}
