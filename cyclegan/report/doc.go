// Package report writes the results pages of CycleGAN runs: static HTML
// files, hand-written with html/template, that need no JavaScript and no
// server (open index.html in a browser).
//
// A Page is a title, notes, loss charts and sections of picture grids.
// Three pages use it:
//
//	train      CHECKPOINTS/NAME/web/index.html: the loss curves (inline SVG,
//	           one polyline per logged loss term) and, for every epoch, the
//	           translations of a fixed sample pair (real_A | fake_B | rec_A |
//	           real_B | fake_A | rec_B) and, with the attention loss, its
//	           GradCAM maps; see WriteTrainPage and SaveSamples
//	test       RESULTS/NAME/{phase}_{epoch}/index.html: one row per test image
//	attention  RESULTS/NAME/attention_{phase}_{epoch}/index.html: heatmaps of
//	           generator layers
//
// (cmd/cyclegan adds _nN and _layers-L to those folders' names for other
// settings of -num_test and -att_layers.)
//
// Every file is written atomically (checkpoint.WriteFileAtomic), so a page
// being rewritten while it is open in a browser is never half there.
package report
