// Command cyclegan trains and tests CycleGAN, with or without the
// second-order GradCAM attention-transfer loss, on the CPU (-device cuda is
// reserved for the GPU backend, not written yet).
//
// Usage:
//
//	cyclegan train     [flags]   train (no -dataroot: a small run on built-in synthetic data)
//	cyclegan test      [flags]   translate test images, write a results page
//	cyclegan attention [flags]   GradCAM heatmaps of generator layers, as pictures
//	cyclegan bench     [flags]   time training iterations, print one JSON line
//	cyclegan fid       [flags] PATH1 PATH2   FID (-kid: and KID) of two image folders or .npz files
//	cyclegan eval      [flags]   translate a run's test sets, score them with FID and KID
//	cyclegan compare   [flags] RUN…   a page comparing runs: table, mean ± std over seeds, translations
//	cyclegan sweep     -presets P1,P2 -seeds N [flags]   train and evaluate presets × seeds, resumably (-slurm: a job array)
//	cyclegan help [command | presets]
//
// Flags are single-dash, named as in pytorch-CycleGAN-and-pix2pix
// (-dataroot, -name, -n_epochs, -lambda_A, …); "cyclegan help train" lists
// them. Outputs: CHECKPOINTS/NAME holds the checkpoints (safetensors with
// PyTorch's state-dict names), loss_log.jsonl, the run's options
// (train_opt.txt, train_opt.json) and the train page web/index.html;
// RESULTS/NAME holds the test and attention pages and the evaluations
// (eval.csv, eval.json). SWEEPS/NAME holds a sweep: plan.txt (one train
// line a run), sweep.json, sweep.sbatch with -slurm, logs/, and compare/.
package main
