package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/cyclegan/data"
)

// cli runs the command in-process and returns its exit status and output.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// mustCLI runs the command and fails the test unless it exits with 0.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := cli(t, args...)
	if code != 0 {
		t.Fatalf("cyclegan %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// world is a temporary folder with a tiny synthetic data set (32×32, 4
// training and 2 test images per domain) and folders for checkpoints and
// results.
type world struct {
	dataroot, checkpoints, results string
}

func newWorld(t *testing.T) world {
	t.Helper()
	dir := t.TempDir()
	w := world{filepath.Join(dir, "data"), filepath.Join(dir, "checkpoints"), filepath.Join(dir, "results")}
	if err := data.WriteSynthetic(w.dataroot, data.SynthOptions{Size: 32, Train: 4, Test: 2, StripePeriod: 4, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	return w
}

// tiny returns the flags of a tiny training run named name: ngf 4, one
// residual block, random 32×32 crops of 36×36 images, flips, a pool of 2,
// two epochs of 4 iterations.
func (w world) tiny(name string, extra ...string) []string {
	args := []string{"train", "-dataroot", w.dataroot, "-checkpoints_dir", w.checkpoints, "-results_dir", w.results,
		"-name", name, "-ngf", "4", "-ndf", "4", "-n_blocks", "1", "-load_size", "36", "-crop_size", "32",
		"-pool_size", "2", "-n_epochs", "1", "-n_epochs_decay", "1", "-seed", "3", "-quiet"}
	return append(args, extra...)
}

func (w world) dir(name string) string { return filepath.Join(w.checkpoints, name) }

func readLog(t *testing.T, path string) []cyclegan.Record {
	t.Helper()
	recs, err := cyclegan.ReadLossLog(path)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// lossLog returns the records of a loss_log.jsonl without their timings
// (time, data), which differ from run to run, one JSON line each.
func lossLog(t *testing.T, path string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, r := range readLog(t, path) {
		r.Time, r.Data = 0, 0
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	return b.Bytes()
}

// checkPNG checks that path is a PNG of the given size.
func checkPNG(t *testing.T, path string, size int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
		t.Errorf("%s is %dx%d, want %dx%d", path, b.Dx(), b.Dy(), size, size)
	}
}

// TestResumeCLI: a run stopped by -max_iters in the first epoch, continued
// with -continue_train (and nothing else: the run's options come from
// train_opt.json) past the epoch boundary, stopped again, and continued to
// the end logs exactly what the uninterrupted run logs. The run has the
// attention loss, random crops and flips, and an image pool.
func TestResumeCLI(t *testing.T) {
	w := newWorld(t)
	mustCLI(t, w.tiny("full", "-att_layers", "last")...)
	want := lossLog(t, filepath.Join(w.dir("full"), cyclegan.LossLog))
	if recs := readLog(t, filepath.Join(w.dir("full"), cyclegan.LossLog)); len(recs) != 8 || recs[0].Att == nil {
		t.Fatalf("the uninterrupted run logged %d iterations (att %v), want 8 with att", len(recs), recs[0].Att)
	}

	out := mustCLI(t, w.tiny("split", "-att_layers", "last", "-max_iters", "3")...)
	if !strings.Contains(out, "stopped after 3 iterations") {
		t.Errorf("stopping output:\n%s", out)
	}
	cont := []string{"train", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "split", "-continue_train", "-quiet"}
	mustCLI(t, append(cont, "-max_iters", "3")...)
	out = mustCLI(t, cont...)
	if !strings.Contains(out, "done: 2 epochs") {
		t.Errorf("final output:\n%s", out)
	}
	if got := lossLog(t, filepath.Join(w.dir("split"), cyclegan.LossLog)); !bytes.Equal(got, want) {
		t.Errorf("loss logs differ:\ninterrupted:\n%s\nuninterrupted:\n%s", got, want)
	}
	for _, n := range cyclegan.NetNames {
		f := "latest_net_" + n + ".safetensors"
		a, _ := os.ReadFile(filepath.Join(w.dir("split"), f))
		b, _ := os.ReadFile(filepath.Join(w.dir("full"), f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs", f)
		}
	}
	// The train page: loss charts and every epoch's samples with maps.
	page, err := os.ReadFile(filepath.Join(w.dir("split"), "web", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"<svg", "<polyline", "cycle_A", "D_B", "att", "epoch 2", "epoch002_fake_B.png", "epoch001_cam10_G_B_fake_B.png"} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("the train page has no %q", s)
		}
	}
	checkPNG(t, filepath.Join(w.dir("split"), "web", "images", "epoch002_rec_A.png"), 32)
	checkPNG(t, filepath.Join(w.dir("split"), "web", "images", "epoch002_cam10_G_A_real_A.png"), 32)
}

// TestEveryPresetTrains trains each preset for two iterations: presets with
// an attention loss log it, the standard one does not.
func TestEveryPresetTrains(t *testing.T) {
	w := newWorld(t)
	for _, p := range cyclegan.Presets() {
		mustCLI(t, w.tiny(p.Name, "-preset", p.Name, "-max_iters", "2", "-n_blocks", "2")...)
		recs := readLog(t, filepath.Join(w.dir(p.Name), cyclegan.LossLog))
		if len(recs) != 2 {
			t.Errorf("preset %s: %d iterations logged, want 2", p.Name, len(recs))
			continue
		}
		if hasAtt := recs[1].Att != nil; hasAtt != p.Options(2, 2).Enabled() {
			t.Errorf("preset %s: att logged %v", p.Name, hasAtt)
		}
		opts, err := readSavedOptions(w.dir(p.Name))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range attFlagValues(p.Options(2, 2)) {
			if opts[k] != v {
				t.Errorf("preset %s: saved -%s %q, want %q", p.Name, k, opts[k], v)
			}
		}
	}
}

// TestNetOptionsTrain: a tiny run with each of -norm, -no_dropout,
// -netG, -netD and -gan_mode trains 2 iterations, saves the option in
// train_opt.json (and -netG resnet_Nblocks for -n_blocks N), and test
// loads the run with it: networks of the saved kind, weights and running
// statistics included.
func TestNetOptionsTrain(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		name  string
		flags []string
		saved map[string]string
	}{
		{"batch", []string{"-norm", "batch"}, map[string]string{"norm": "batch", "netG": "resnet_1blocks", "netD": "basic"}},
		{"nonorm", []string{"-norm", "none", "-netG", "resnet_1blocks"}, map[string]string{"norm": "none", "n_blocks": "1"}},
		{"dropout", []string{"-no_dropout=false", "-att_layers", "last"}, map[string]string{"no_dropout": "false"}},
		{"pixel", []string{"-netD", "pixel", "-norm", "batch"}, map[string]string{"netD": "pixel"}},
		{"nlayers", []string{"-n_layers_D", "2"}, map[string]string{"netD": "n_layers", "n_layers_D": "2"}},
		{"vanilla", []string{"-gan_mode", "vanilla", "-att_layers", "last"}, map[string]string{"gan_mode": "vanilla"}},
		{"unet", []string{"-netG", "unet_128", "-ngf", "2", "-load_size", "128", "-crop_size", "128", "-no_dropout=false"},
			map[string]string{"netG": "unet_128"}},
	} {
		mustCLI(t, w.tiny(c.name, append(c.flags, "-max_iters", "2")...)...)
		recs := readLog(t, filepath.Join(w.dir(c.name), cyclegan.LossLog))
		if len(recs) != 2 {
			t.Fatalf("%s: %d iterations logged, want 2", c.name, len(recs))
		}
		opts, err := readSavedOptions(w.dir(c.name))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c.saved {
			if opts[k] != v {
				t.Errorf("%s: saved -%s %q, want %q", c.name, k, opts[k], v)
			}
		}
		mustCLI(t, "test", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", c.name, "-num_test", "1")
		if c.name != "unet" {
			// The ResNet generator's norm and dropout are read off its file.
			mustCLI(t, "test", "-model_path", filepath.Join(w.dir(c.name), "latest_net_G_A.safetensors"),
				"-dataroot", filepath.Join(w.dataroot, "testA"), "-crop_size", "32", "-results_dir", w.results, "-num_test", "1")
		}
	}
}

// TestRunWithoutNetOptions: a run saved before -netG, -netD, -norm,
// -no_dropout and -gan_mode existed (its train_opt.json without them, and
// -n_blocks 1, -n_layers_D 2) is tested and continued as it trained:
// ResNet of its -n_blocks, PatchGAN of its -n_layers_D, instance norm, no
// dropout.
func TestRunWithoutNetOptions(t *testing.T) {
	w := newWorld(t)
	mustCLI(t, w.tiny("old", "-n_layers_D", "2", "-max_iters", "1")...)
	path := filepath.Join(w.dir("old"), optFile)
	opts, err := readSavedOptions(w.dir("old"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"netG", "netD", "norm", "no_dropout", "gan_mode"} {
		delete(opts, k)
	}
	raw, _ := json.Marshal(opts)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "test", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "old", "-num_test", "1")
	mustCLI(t, "train", "-checkpoints_dir", w.checkpoints, "-name", "old", "-continue_train", "-max_iters", "1", "-quiet")
	if opts, _ := readSavedOptions(w.dir("old")); opts["netG"] != "resnet_1blocks" || opts["netD"] != "n_layers" || opts["no_dropout"] != "true" {
		t.Errorf("the continued run saved netG %q, netD %q, no_dropout %q", opts["netG"], opts["netD"], opts["no_dropout"])
	}
}

// TestPresetFlagsOverride: flags given with a preset win over it.
func TestPresetFlagsOverride(t *testing.T) {
	w := newWorld(t)
	mustCLI(t, w.tiny("p", "-preset", "gradcam_coeff", "-lambda_att", "0.5", "-max_iters", "1")...)
	opts, err := readSavedOptions(w.dir("p"))
	if err != nil {
		t.Fatal(err)
	}
	if opts["lambda_att"] != "0.5" || opts["att_layers"] != "last" {
		t.Errorf("saved options %v: want lambda_att 0.5 (given) and att_layers last (the preset's)", opts)
	}
}

// TestSavedOptionsAreWhatRan: for presets and explicit attention flags,
// the options a run saves in train_opt.json, read back as a continued run
// reads them, are the options the command line gave, field for field, and
// build the attention loss the run printed it trained with.
func TestSavedOptionsAreWhatRan(t *testing.T) {
	w := newWorld(t)
	for i, args := range [][]string{
		{"-preset", "gradcam"},
		{"-preset", "gradcam_coeff", "-lambda_att", "0.5"},
		{"-preset", "gradcam_four", "-n_blocks", "2"},
		{"-preset", "gradcam_weighted", "-n_blocks", "3", "-att_order", "0"},
		{"-preset", "two_stage", "-n_blocks", "2"},
		{"-att_layers", "11, 10", "-att_weights", "1,3", "-lambda_att", "0.25", "-att_order", "1", "-att_direction", "a2b",
			"-att_detach", "-n_blocks", "2"},
	} {
		name := fmt.Sprintf("run%d", i)
		args := w.tiny(name, append(args, "-max_iters", "1")...)
		out := mustCLI(t, args...)
		_, ran, ok := strings.Cut(out, "attention loss: ")
		if !ok {
			t.Fatalf("%v: no attention line in\n%s", args, out)
		}
		ran, _, _ = strings.Cut(ran, "\n")

		given := defaultOptions()
		fs := newFlags("train", trainGroups, &given, io.Discard)
		if err := fs.Parse(args[1:]); err != nil {
			t.Fatal(err)
		}
		if _, _, err := resolve(fs, &given); err != nil {
			t.Fatal(err)
		}
		saved, err := readSavedOptions(w.dir(name))
		if err != nil {
			t.Fatal(err)
		}
		read := defaultOptions()
		fs = newFlags("train", trainGroups, &read, io.Discard)
		if _, err := applySaved(fs, saved, nil, optFile, nil); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(given.att, read.att); d != "" {
			t.Errorf("%v: the saved attention options differ from those given (-given +saved):\n%s", args, d)
		}
		mo, err := read.modelOptions()
		if err != nil {
			t.Fatal(err)
		}
		m, err := cyclegan.New(mo, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Attention.String(); got != ran {
			t.Errorf("%v: the saved options build\n%s\nbut the run trained with\n%s", args, got, ran)
		}
	}
}

// TestTwoStageByContinuing continues a run with other attention layers:
// allowed, and the change is reported.
func TestTwoStageByContinuing(t *testing.T) {
	w := newWorld(t)
	mustCLI(t, w.tiny("two", "-att_layers", "last", "-max_iters", "2", "-n_blocks", "2")...)
	out := mustCLI(t, "train", "-checkpoints_dir", w.checkpoints, "-name", "two", "-continue_train", "-quiet",
		"-att_layers", "all", "-max_iters", "1")
	if !strings.Contains(out, `-att_layers "last" → "all"`) || !strings.Contains(out, "layers [10 11]") {
		t.Errorf("continuing with other layers:\n%s", out)
	}
	if recs := readLog(t, filepath.Join(w.dir("two"), cyclegan.LossLog)); len(recs) != 3 {
		t.Errorf("%d iterations logged, want 3", len(recs))
	}
}

// trained returns a world with a tiny run "r" trained for two iterations
// (with args added).
func trained(t *testing.T, args ...string) world {
	w := newWorld(t)
	mustCLI(t, w.tiny("r", append([]string{"-max_iters", "2"}, args...)...)...)
	return w
}

// TestTestCommand translates the test images of a trained run: PNGs named
// after the inputs, real | fake | reconstruction, GradCAM maps of the
// run's attention layer, and the page.
func TestTestCommand(t *testing.T) {
	w := trained(t, "-att_layers", "last")
	out := mustCLI(t, "test", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "r")
	dir := filepath.Join(w.results, "r", "test_latest")
	if !strings.Contains(out, filepath.Join(dir, "index.html")) {
		t.Errorf("output:\n%s", out)
	}
	names := map[string][]string{
		"testA": {"real_A", "fake_B", "rec_A", "cam10_G_A_real_A", "cam10_G_B_fake_B"},
		"testB": {"real_B", "fake_A", "rec_B", "cam10_G_B_real_B", "cam10_G_A_fake_A"},
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for folder, kinds := range names {
		inputs, err := data.ListImages(filepath.Join(w.dataroot, folder))
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range inputs {
			for _, k := range kinds {
				f := stem(in) + "_" + k + ".png"
				checkPNG(t, filepath.Join(dir, "images", f), 32)
				if !bytes.Contains(page, []byte("images/"+f)) {
					t.Errorf("the page does not show %s", f)
				}
			}
		}
	}
}

// TestTestModelPath runs one generator file on a folder of images, as the
// reference's test with --model_path: ngf and the number of blocks are
// read from the file.
func TestTestModelPath(t *testing.T) {
	w := trained(t)
	model := filepath.Join(w.dir("r"), "latest_net_G_A.safetensors")
	in := filepath.Join(w.dataroot, "testA")
	out := mustCLI(t, "test", "-model_path", model, "-dataroot", in, "-results_dir", w.results, "-crop_size", "32")
	if !strings.Contains(out, "translated 2 images") {
		t.Errorf("output:\n%s", out)
	}
	inputs, _ := data.ListImages(in)
	for _, p := range inputs {
		for _, k := range []string{"real", "fake"} {
			checkPNG(t, filepath.Join(w.results, "latest_net_G_A", "test_latest", "images", stem(p)+"_"+k+".png"), 32)
		}
	}
}

// TestAttentionCommand draws every layer of both generators.
func TestAttentionCommand(t *testing.T) {
	w := trained(t)
	mustCLI(t, "attention", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "r",
		"-att_layers", "every", "-num_test", "1")
	dir := filepath.Join(w.results, "r", "attention_test_latest_n1_layers-every")
	n := 0
	for _, side := range []struct{ folder, tag string }{{"testA", "G_A"}, {"testB", "G_B"}} {
		inputs, _ := data.ListImages(filepath.Join(w.dataroot, side.folder))
		for l := range 1 + 9 + 1 + 6 + 3 { // a one-block generator has 20 layers
			checkPNG(t, filepath.Join(dir, "images", stem(inputs[0])+"_"+side.tag+"_layer"+twoDigits(l)+".png"), 32)
			n++
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(page, []byte("_layer")); got < n {
		t.Errorf("the page shows %d maps, want %d", got, n)
	}
	if !bytes.Contains(page, []byte("ResnetBlock")) {
		t.Error("the page does not name the layers")
	}
	for _, s := range []string{"Flat maps by construction", "layer 11 (ConvTranspose2d) feeds the InstanceNorm2d at layer 12",
		"layer 0 (ReflectionPad2d) feeds, through the unpadded Conv2d at layer 1", "mean_HW(∂s/∂A) are zero"} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("the page does not explain the flat maps: no %q", s)
		}
	}
}

// TestAttentionLayerChecks: training refuses a layer whose map is zero by
// construction, saying why, and warns of a layer that is not a residual
// block.
func TestAttentionLayerChecks(t *testing.T) {
	w := newWorld(t)
	code, _, errOut := cli(t, w.tiny("flat", "-att_layers", "10,12", "-n_blocks", "2")...)
	for _, s := range []string{"layer 12 (ConvTranspose2d) feeds the InstanceNorm2d at layer 13", "zero by construction", "residual blocks are [10 11]"} {
		if code != 1 || !strings.Contains(errOut, s) {
			t.Errorf("a flat layer: exit %d, stderr %q; want 1 and %q", code, errOut, s)
		}
	}
	if _, err := os.Stat(w.dir("flat")); err == nil {
		t.Error("the refused run left its folder")
	}
	out := mustCLI(t, w.tiny("relu", "-att_layers", "14", "-n_blocks", "2", "-max_iters", "1")...)
	if want := "warning: attention layer 14 is a ReLU, not a residual block (this generator's blocks are 10…11)"; !strings.Contains(out, want) {
		t.Errorf("no warning %q in\n%s", want, out)
	}
	if out := mustCLI(t, w.tiny("block", "-att_layers", "11", "-n_blocks", "2", "-max_iters", "1")...); strings.Contains(out, "warning") {
		t.Errorf("a warning for a residual block:\n%s", out)
	}
}

// TestResultsOfOneConfiguration: test and attention calls with other
// settings write their own folders and leave the others' alone; a call
// with the same settings replaces its folder's images whole.
func TestResultsOfOneConfiguration(t *testing.T) {
	w := trained(t)
	flags := []string{"-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "r"}
	results := func(folder string) []string {
		m, _ := filepath.Glob(filepath.Join(w.results, "r", folder, "images", "*.png"))
		return m
	}
	mustCLI(t, append([]string{"test"}, flags...)...)
	all := results("test_latest")
	if len(all) != 12 { // 2 + 2 images, 3 pictures each
		t.Fatalf("test: %d pictures, want 12", len(all))
	}
	out := mustCLI(t, append([]string{"test", "-num_test", "1"}, flags...)...)
	if !strings.Contains(out, filepath.Join(w.results, "r", "test_latest_n1", "index.html")) {
		t.Errorf("test -num_test 1:\n%s", out)
	}
	if got := results("test_latest"); len(got) != 12 {
		t.Errorf("test -num_test 1 changed test_latest: %d pictures, want 12", len(got))
	}
	if got := results("test_latest_n1"); len(got) != 6 {
		t.Errorf("test -num_test 1: %d pictures, want 6", len(got))
	}

	attention := append([]string{"attention", "-num_test", "1"}, flags...)
	mustCLI(t, append(attention, "-att_layers", "every")...)
	every := results("attention_test_latest_n1_layers-every")
	stale := filepath.Join(w.results, "r", "attention_test_latest_n1_layers-every", "images", "old_G_A_layer99.png")
	if err := os.WriteFile(stale, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, append(attention, "-att_layers", "every")...)
	if _, err := os.Stat(stale); err == nil {
		t.Error("attention left the image of an earlier call in its folder")
	}
	if got := results("attention_test_latest_n1_layers-every"); len(got) != len(every) {
		t.Errorf("attention again: %d pictures, want %d", len(got), len(every))
	}
	mustCLI(t, append(attention, "-att_layers", "10")...)
	if got := results("attention_test_latest_n1_layers-10"); len(got) != 2*3 {
		t.Errorf("attention -att_layers 10: %d pictures, want 6", len(got))
	}
	if got := results("attention_test_latest_n1_layers-every"); len(got) != len(every) {
		t.Errorf("attention -att_layers 10 changed the folder of -att_layers every: %d pictures, want %d", len(got), len(every))
	}
}

func twoDigits(i int) string { return string([]byte{byte('0' + i/10), byte('0' + i%10)}) }

// TestBenchJSON: bench prints one JSON line with the timings and the
// configuration, attention included.
func TestBenchJSON(t *testing.T) {
	out := mustCLI(t, "bench", "-crop_size", "32", "-ngf", "4", "-ndf", "4", "-n_blocks", "2", "-iters", "3", "-preset", "gradcam_four")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("bench printed %d lines:\n%s", len(lines), out)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil {
		t.Fatalf("bench output %q: %v", lines[0], err)
	}
	if ms, _ := r["ms_per_iter"].(float64); ms <= 0 || ms < r["min_ms"].(float64) {
		t.Errorf("ms_per_iter %v, min_ms %v", r["ms_per_iter"], r["min_ms"])
	}
	want := map[string]any{"iters": 3.0, "crop_size": 32.0, "ngf": 4.0, "n_blocks": 2.0, "att_order": 2.0, "device": "cpu", "tf32": false}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("%s = %v, want %v", k, r[k], v)
		}
	}
	// The device's memory and ordinal are the CUDA backend's: on the CPU
	// they are left out, not reported as zero.
	for _, k := range []string{"peak_device_bytes", "peak_reserved_bytes", "gpu_id"} {
		if v, ok := r[k]; ok {
			t.Errorf("bench on the CPU reports %s = %v", k, v)
		}
	}
	if l, _ := r["att_layers"].([]any); len(l) != 2 || l[0] != 10.0 || l[1] != 11.0 {
		t.Errorf("att_layers %v, want [10 11] (the four-layer preset on two blocks)", r["att_layers"])
	}
	_, out, _ = cli(t, "bench", "-crop_size", "32", "-ngf", "4", "-ndf", "4", "-n_blocks", "1", "-iters", "1")
	if !strings.Contains(out, `"att_layers":[]`) || !strings.Contains(out, `"att_order":-1`) {
		t.Errorf("standard bench: %s", out)
	}
}

// TestBadInput: mistakes give a clear message naming the culprit and a
// non-zero exit status, and write no checkpoint.
func TestBadInput(t *testing.T) {
	w := newWorld(t)
	empty := filepath.Join(t.TempDir(), "empty")
	os.MkdirAll(filepath.Join(empty, "trainA"), 0o755)
	os.MkdirAll(filepath.Join(empty, "trainB"), 0o755)

	corrupt := filepath.Join(t.TempDir(), "corrupt")
	if err := data.WriteSynthetic(corrupt, data.SynthOptions{Size: 32, Train: 2, Test: 1, StripePeriod: 4, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	good, _ := data.ListImages(filepath.Join(corrupt, "trainA"))
	raw, _ := os.ReadFile(good[0])
	os.WriteFile(filepath.Join(corrupt, "trainA", "a_truncated.png"), raw[:len(raw)/2], 0o644)

	emptyFile := filepath.Join(t.TempDir(), "emptyfile")
	data.WriteSynthetic(emptyFile, data.SynthOptions{Size: 32, Train: 1, Test: 1, StripePeriod: 4, Seed: 2})
	os.WriteFile(filepath.Join(emptyFile, "trainB", "0_empty.jpg"), nil, 0o644)

	textFile := filepath.Join(t.TempDir(), "text")
	data.WriteSynthetic(textFile, data.SynthOptions{Size: 32, Train: 1, Test: 1, StripePeriod: 4, Seed: 2})
	os.WriteFile(filepath.Join(textFile, "trainA", "0_notes.jpg"), []byte("not an image\n"), 0o644)

	gifFile := filepath.Join(t.TempDir(), "gif")
	data.WriteSynthetic(gifFile, data.SynthOptions{Size: 32, Train: 1, Test: 1, StripePeriod: 4, Seed: 2})
	var gifBytes bytes.Buffer
	gif.Encode(&gifBytes, image.NewPaletted(image.Rect(0, 0, 32, 32), color.Palette{color.Black, color.White}), nil)
	os.WriteFile(filepath.Join(gifFile, "trainB", "0_anim.png"), gifBytes.Bytes(), 0o644)

	wrongName := filepath.Join(t.TempDir(), "wrong.safetensors")
	os.WriteFile(wrongName, []byte("this is not a checkpoint"), 0o644)

	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stderr []string
		noRun  string // a run folder that must hold no checkpoint
	}{
		{"unknown command", []string{"fly"}, 2, []string{`unknown command "fly"`}, ""},
		{"unknown flag", []string{"train", "-n_epoch", "3"}, 2, []string{"n_epoch"}, ""},
		{"stray argument", []string{"train", "-quiet", "horse2zebra"}, 2, []string{`"horse2zebra"`}, ""},
		{"bad number", []string{"train", "-ngf", "many"}, 2, []string{"-ngf"}, ""},
		{"cuda without the tag", w.tiny("cuda", "-device", "cuda"), 1, []string{"-device cuda", "without CUDA support"}, "cuda"},
		{"unknown device", w.tiny("tpu", "-device", "tpu"), 1, []string{`-device "tpu"`}, "tpu"},
		{"batch size 0", w.tiny("bs", "-batch_size", "0"), 1, []string{"-batch_size 0", "at least 1"}, "bs"},
		{"unknown direction", w.tiny("dir", "-direction", "AtoC"), 1, []string{`-direction "AtoC"`, "AtoB or BtoA"}, "dir"},
		{"unknown lr policy", w.tiny("lrp", "-lr_policy", "exponential"), 1, []string{`-lr_policy "exponential"`, "linear, step, plateau, cosine"}, "lrp"},
		{"step of 0 epochs", w.tiny("lrd", "-lr_policy", "step", "-lr_decay_iters", "0"), 1, []string{"-lr_decay_iters 0", "-lr_policy step"}, "lrd"},
		{"negative print_freq", w.tiny("pf", "-print_freq", "-1"), 1, []string{"-print_freq -1"}, "pf"},
		{"negative display_freq", w.tiny("df", "-display_freq", "-4"), 1, []string{"-display_freq -4"}, "df"},
		{"negative save_latest_freq", w.tiny("sf", "-save_latest_freq", "-1"), 1, []string{"-save_latest_freq -1"}, "sf"},
		{"negative num_threads", w.tiny("nt", "-num_threads", "-2"), 1, []string{"-num_threads -2"}, "nt"},
		{"bad gpu ids", w.tiny("g1", "-gpu_ids", "zero"), 2, []string{"-gpu_ids", `"zero"`, "-1 for the CPU"}, "g1"},
		{"a GPU without CUDA", w.tiny("g2", "-gpu_ids", "0"), 1, []string{"-gpu_ids 0 names GPU 0", "without CUDA support", "-gpu_ids -1"}, "g2"},
		{"the CPU and cuda", w.tiny("g3", "-gpu_ids", "-1", "-device", "cuda"), 1, []string{"-gpu_ids -1", "-device cuda", "disagree"}, "g3"},
		{"two GPUs", w.tiny("g4", "-gpu_ids", "0,1"), 1, []string{"-gpu_ids 0,1", "one GPU"}, "g4"},
		{"TF32 on the CPU", w.tiny("tf", "-tf32"), 1, []string{"-tf32", "the CPU computes full float32"}, "tf"},
		{"TF32 without the tag", w.tiny("tf2", "-tf32", "-device", "cuda"), 1, []string{"-device cuda", "without CUDA support"}, "tf2"},
		{"bench TF32 on the CPU", []string{"bench", "-crop_size", "32", "-ngf", "1", "-ndf", "1", "-n_blocks", "1", "-iters", "1", "-tf32"},
			1, []string{"-tf32", "the CPU computes full float32"}, ""},
		{"unknown preset", w.tiny("p", "-preset", "zebra"), 1, []string{`"zebra"`, "gradcam_four"}, "p"},
		{"layer outside", w.tiny("l", "-att_layers", "40"), 1, []string{"attention loss: layers 40: layer 40 is outside the generator (indices 0…19)"}, "l"},
		{"bad layer", w.tiny("l", "-att_layers", "10,x"), 2, []string{"-att_layers", `"x" is not a layer index`}, "l"},
		{"bad order", w.tiny("o", "-att_layers", "last", "-att_order", "3"), 2, []string{"-att_order"}, "o"},
		{"lambda 0", w.tiny("z", "-att_layers", "last", "-lambda_att", "0"), 1, []string{"λ_att 0 must be a positive number", "order 0"}, "z"},
		{"stage 2 outside", w.tiny("s", "-att_layers", "last", "-att_layers2", "33", "-att_stage2_epoch", "2"), 1,
			[]string{"attention stage 2: layers 33"}, "s"},
		{"missing dataroot", w.tiny("m", "-dataroot", filepath.Join(w.dataroot, "nope")), 1, []string{filepath.Join(w.dataroot, "nope", "trainA"), "does not exist"}, "m"},
		{"empty folder", w.tiny("e", "-dataroot", empty), 1, []string{filepath.Join(empty, "trainA"), "no images"}, "e"},
		{"truncated image", w.tiny("t", "-dataroot", corrupt), 1, []string{"a_truncated.png"}, "t"},
		{"empty image file", w.tiny("z", "-dataroot", emptyFile), 1, []string{"0_empty.jpg", "empty"}, "z"},
		{"text named .jpg", w.tiny("x", "-dataroot", textFile), 1, []string{"0_notes.jpg"}, "x"},
		{"GIF named .png", w.tiny("g", "-dataroot", gifFile), 1, []string{"0_anim.png", "GIF"}, "g"},
		{"no run", []string{"test", "-checkpoints_dir", w.checkpoints, "-name", "none", "-dataroot", w.dataroot},
			1, []string{"no run named none in " + w.checkpoints}, ""},
		{"not a checkpoint", []string{"test", "-model_path", wrongName, "-dataroot", w.dataroot}, 1, []string{wrongName}, ""},
		{"continue without a run", w.tiny("c", "-continue_train"), 1, []string{"no run named c in " + w.checkpoints}, "c"},
		{"bad netG", w.tiny("n", "-netG", "unet_64"), 1, []string{`-netG "unet_64"`, "resnet_9blocks", "unet_128"}, "n"},
		{"netG and n_blocks disagree", w.tiny("n", "-netG", "resnet_6blocks"), 1, []string{"-netG resnet_6blocks", "-n_blocks 1"}, "n"},
		{"bad netD", w.tiny("d", "-netD", "patch"), 1, []string{`-netD "patch"`, "basic, n_layers or pixel"}, "d"},
		{"netD basic and n_layers_D disagree", w.tiny("d", "-netD", "basic", "-n_layers_D", "2"), 1, []string{"-netD basic", "-n_layers_D 2"}, "d"},
		{"bad norm", w.tiny("b", "-norm", "group"), 1, []string{`-norm "group"`, "instance, batch or none"}, "b"},
		{"bad gan_mode", w.tiny("v", "-gan_mode", "hinge"), 1, []string{`-gan_mode "hinge"`, "lsgan or vanilla"}, "v"},
		{"wgangp", w.tiny("v", "-gan_mode", "wgangp"), 1, []string{"-gan_mode wgangp", "not supported"}, "v"},
		{"U-Net with attention layers", w.tiny("u", "-netG", "unet_128", "-att_layers", "last"), 1,
			[]string{"-att_layers last", "residual blocks of the ResNet generator", "-netG unet_128 has none"}, "u"},
		{"U-Net with a preset", w.tiny("u", "-netG", "unet_256", "-preset", "gradcam"), 1, []string{"-preset gradcam", "-netG unet_256 has none"}, "u"},
		{"U-Net image size", w.tiny("u", "-netG", "unet_128"), 1, []string{"-crop_size 32", "unet_128 generator needs a multiple of 128"}, "u"},
		{"eval without a run", []string{"eval", "-checkpoints_dir", w.checkpoints, "-name", "none", "-dataroot", w.dataroot},
			1, []string{"no run named none in " + w.checkpoints}, ""},
		{"eval with a bad reference", []string{"eval", "-checkpoints_dir", w.checkpoints, "-name", "none", "-fid_ref", "train"},
			1, []string{`-fid_ref "train"`}, ""},
		{"fid of a missing folder", []string{"fid", filepath.Join(w.dataroot, "nope"), filepath.Join(w.dataroot, "testA"), "-weights", wrongName},
			1, []string{"nope"}, ""},
		{"fid with a bad weights file", []string{"fid", filepath.Join(w.dataroot, "testA"), filepath.Join(w.dataroot, "testB"), "-weights", wrongName},
			1, []string{wrongName, "pt_inception-2015-12-05-6726825d.pth"}, ""},
	} {
		code, _, errOut := cli(t, c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d (stderr %q)", c.name, code, c.code, errOut)
		}
		for _, s := range c.stderr {
			if !strings.Contains(errOut, s) {
				t.Errorf("%s: stderr %q does not say %q", c.name, errOut, s)
			}
		}
		if c.noRun != "" {
			if m, _ := filepath.Glob(filepath.Join(w.dir(c.noRun), "*.safetensors")); len(m) > 0 {
				t.Errorf("%s: checkpoint files written: %v", c.name, m)
			}
		}
	}
}

// TestNoSuchRun: a run name that is not in -checkpoints_dir is reported
// before anything is read or written: no synthetic data set, no run
// folder, no results folder.
func TestNoSuchRun(t *testing.T) {
	w := trained(t)
	for _, args := range [][]string{
		{"train", "-name", "nosuch", "-continue_train", "-quiet"},
		{"test", "-name", "nosuch"},
		{"attention", "-name", "nosuch"},
		{"eval", "-name", "nosuch", "-quiet"},
	} {
		args = append(args, "-checkpoints_dir", w.checkpoints, "-results_dir", w.results)
		code, out, errOut := cli(t, args...)
		if want := "no run named nosuch in " + w.checkpoints + " (its runs: r;"; code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", args, code, errOut, want)
		}
		if out != "" {
			t.Errorf("%v: printed %q before failing", args, out)
		}
		for _, p := range []string{synthDir(w.checkpoints, data.DefaultSynthOptions().Size), w.dir("nosuch"), filepath.Join(w.results, "nosuch")} {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%v: wrote %s", args, p)
			}
		}
	}
}

// TestFlagTypo: a mistyped flag prints the error, the flags meant and how
// to list them, in a few lines, not the whole usage; -h still prints it.
func TestFlagTypo(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"train", "-n_epoch", "3"}, []string{"-n_epoch", "did you mean -n_epochs?", "cyclegan help train"}},
		{[]string{"test", "-num_tests", "3"}, []string{"did you mean -num_test?"}},
		{[]string{"train", "-lambda", "3"}, []string{"did you mean -lambda_A or -lambda_B or -lambda_att or -lambda_identity?"}},
		{[]string{"fid", "-kdi", "a", "b"}, []string{"did you mean -kid?", "cyclegan help fid"}},
		{[]string{"train", "-zzzzzz"}, []string{"-zzzzzz", "cyclegan help train"}},
		{[]string{"train", "-ngf", "many"}, []string{"-ngf", "cyclegan help train"}},
	} {
		code, out, errOut := cli(t, c.args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", c.args, code)
		}
		for _, s := range c.want {
			if !strings.Contains(errOut, s) {
				t.Errorf("%v: stderr %q does not say %q", c.args, errOut, s)
			}
		}
		if n := strings.Count(errOut, "\n"); n > 3 || out != "" {
			t.Errorf("%v: %d lines on stderr (want at most 3), stdout %q:\n%s", c.args, n, out, errOut)
		}
	}
	_, _, errOut := cli(t, "train", "-h")
	if !strings.Contains(errOut, "-lambda_identity") || strings.Count(errOut, "\n") < 40 {
		t.Errorf("train -h does not print the usage:\n%s", errOut)
	}
}

// interruptNow is interrupts that deliver Ctrl-C at once: the run
// stops after its first iteration, as it does when Ctrl-C comes during it.
func interruptNow() (<-chan os.Signal, func()) {
	c := make(chan os.Signal, 1)
	c <- os.Interrupt
	return c, func() {}
}

// TestInterruptExitStatus: Ctrl-C saves and exits with status 130, in the
// middle of an epoch and at its last iteration, and the run continues from
// there to the end.
func TestInterruptExitStatus(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		name  string
		extra []string
		iter  string // where the latest checkpoint is: epoch_iter
	}{
		{"mid-epoch", nil, "1"},
		{"epoch end", []string{"-max_dataset_size", "1"}, "0"},
	} {
		var out, errOut bytes.Buffer
		args := w.tiny(c.name, c.extra...)[1:]
		code := trainCommand(args, &out, &errOut, interruptNow)
		if code != exitInterrupted {
			t.Errorf("%s: exit %d, want %d\n%s%s", c.name, code, exitInterrupted, out.String(), errOut.String())
		}
		if !strings.Contains(out.String(), "interrupted: saving the latest checkpoint") || errOut.Len() != 0 {
			t.Errorf("%s: stdout %q, stderr %q", c.name, out.String(), errOut.String())
		}
		_, meta, err := checkpoint.Load(filepath.Join(w.dir(c.name), "latest_state.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if meta["iter"] != "1" || meta["epoch_iter"] != c.iter {
			t.Errorf("%s: the latest checkpoint is at iteration %s (epoch_iter %s), want 1 (%s)", c.name, meta["iter"], meta["epoch_iter"], c.iter)
		}
		out2 := mustCLI(t, "train", "-checkpoints_dir", w.checkpoints, "-name", c.name, "-continue_train", "-quiet")
		if !strings.Contains(out2, "done: 2 epochs") {
			t.Errorf("%s: continuing:\n%s", c.name, out2)
		}
	}
}

// TestEpochSnapshotsWithoutState: epoch snapshots hold the networks only,
// the latest checkpoint the training state too; -save_state_every_epoch
// keeps the state with every snapshot. A run continued from a snapshot
// without state says it starts fresh optimisers, from the snapshot's
// position.
func TestEpochSnapshotsWithoutState(t *testing.T) {
	w := newWorld(t)
	mustCLI(t, w.tiny("nets", "-save_epoch_freq", "1")...)
	mustCLI(t, w.tiny("state", "-save_epoch_freq", "1", "-save_state_every_epoch")...)
	for _, c := range []struct {
		run, file string
		want      bool
	}{
		{"nets", "1_net_G_A.safetensors", true}, {"nets", "2_net_D_B.safetensors", true},
		{"nets", "1_state.safetensors", false}, {"nets", "2_state.safetensors", false},
		{"nets", "latest_state.safetensors", true},
		{"state", "1_state.safetensors", true}, {"state", "2_state.safetensors", true},
	} {
		if _, err := os.Stat(filepath.Join(w.dir(c.run), c.file)); (err == nil) != c.want {
			t.Errorf("%s: %s exists: %v, want %v", c.run, c.file, err == nil, c.want)
		}
	}
	out := mustCLI(t, "train", "-checkpoints_dir", w.checkpoints, "-name", "nets", "-continue_train", "-epoch", "1", "-branch", "-quiet")
	for _, s := range []string{`checkpoint "1" holds the networks only`, "continuing from epoch 2, iteration 0 with fresh optimiser moments", "done: 2 epochs"} {
		if !strings.Contains(out, s) {
			t.Errorf("continuing from a snapshot without state: no %q in\n%s", s, out)
		}
	}
	recs := readLog(t, filepath.Join(w.dir("nets"), cyclegan.LossLog))
	if len(recs) != 8 || recs[4].Iter != 5 || recs[4].Epoch != 2 {
		t.Errorf("the log has %d records (the fifth %+v), want 8, the fifth iteration 5 of epoch 2", len(recs), recs[min(4, len(recs)-1)])
	}
	out = mustCLI(t, "train", "-checkpoints_dir", w.checkpoints, "-name", "state", "-continue_train", "-epoch", "1", "-branch", "-quiet")
	if strings.Contains(out, "holds the networks only") {
		t.Errorf("continuing from a snapshot with state:\n%s", out)
	}
}

// TestBranch: continuing from an earlier epoch's checkpoint is refused
// without -branch, touching nothing; with it, what the run trained later
// (loss log, latest checkpoint, later snapshots) is moved to a
// branched_TIME folder, the log goes on from the checkpoint, and the train
// page shows that one history.
func TestBranch(t *testing.T) {
	w := newWorld(t)
	mustCLI(t, w.tiny("b", "-save_epoch_freq", "1", "-n_epochs", "2")...)
	logPath := filepath.Join(w.dir("b"), cyclegan.LossLog)
	latest := filepath.Join(w.dir("b"), "latest_net_G_A.safetensors")
	logBefore, _ := os.ReadFile(logPath)
	latestBefore, _ := os.ReadFile(latest)
	cont := []string{"train", "-checkpoints_dir", w.checkpoints, "-name", "b", "-continue_train", "-epoch", "1", "-quiet"}

	code, out, errOut := cli(t, cont...)
	for _, s := range []string{"the run b is at epoch 3 (iteration 4 of it, 12 in all)", `checkpoint "1" at iteration 4`, "add -branch"} {
		if code != 1 || !strings.Contains(errOut, s) {
			t.Errorf("without -branch: exit %d, stderr %q; want 1 and %q", code, errOut, s)
		}
	}
	logNow, _ := os.ReadFile(logPath)
	latestNow, _ := os.ReadFile(latest)
	if !bytes.Equal(logNow, logBefore) || !bytes.Equal(latestNow, latestBefore) {
		t.Error("the refused branch changed the loss log or the latest checkpoint")
	}
	if m, _ := filepath.Glob(filepath.Join(w.dir("b"), "branched_*")); len(m) > 0 || strings.Contains(out, "branched") {
		t.Errorf("the refused branch made %v, printed %q", m, out)
	}

	out = mustCLI(t, append(cont, "-branch", "-max_iters", "2")...)
	branched, _ := filepath.Glob(filepath.Join(w.dir("b"), "branched_*"))
	if len(branched) != 1 || !strings.Contains(out, "branched from checkpoint 1") || !strings.Contains(out, branched[0]) {
		t.Fatalf("branch folders %v; output:\n%s", branched, out)
	}
	for _, f := range []string{cyclegan.LossLog, "latest_net_G_A.safetensors", "latest_state.safetensors", "2_net_D_B.safetensors", "3_net_G_A.safetensors"} {
		if _, err := os.Stat(filepath.Join(branched[0], f)); err != nil {
			t.Errorf("the discarded history lacks %s: %v", f, err)
		}
	}
	if old, _ := os.ReadFile(filepath.Join(branched[0], cyclegan.LossLog)); !bytes.Equal(old, logBefore) {
		t.Error("the kept loss log is not the run's old one")
	}
	if old, _ := os.ReadFile(filepath.Join(branched[0], "latest_net_G_A.safetensors")); !bytes.Equal(old, latestBefore) {
		t.Error("the kept latest checkpoint is not the run's old one")
	}
	if _, err := os.Stat(filepath.Join(w.dir("b"), "1_net_G_A.safetensors")); err != nil {
		t.Errorf("the checkpoint branched from was moved: %v", err)
	}
	recs := readLog(t, logPath)
	if len(recs) != 6 || recs[5].Iter != 6 || recs[5].Epoch != 2 {
		t.Errorf("the branched log has %d records, want 6 ending at iteration 6 of epoch 2", len(recs))
	}
	page, err := os.ReadFile(filepath.Join(w.dir("b"), "web", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(page, []byte("after iteration 12")) || bytes.Contains(page, []byte("after iteration 8")) ||
		!bytes.Contains(page, []byte("after iteration 6")) ||
		!bytes.Contains(page, []byte("6 iterations logged")) {
		t.Error("the train page does not show the branch's history alone")
	}
	if code, _, errOut := cli(t, w.tiny("nb", "-branch")...); code != 1 || !strings.Contains(errOut, "-branch: only with -continue_train") {
		t.Errorf("-branch on a new run: exit %d, %q", code, errOut)
	}
}

// TestCheckpointMismatch: a model with other shapes than the checkpoint,
// or a checkpoint with other names, fails naming the file, and a new run
// refuses to overwrite an existing one.
func TestCheckpointMismatch(t *testing.T) {
	w := trained(t)
	code, _, errOut := cli(t, "test", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "r", "-ngf", "8")
	if code != 1 || !strings.Contains(errOut, "latest_net_G_A.safetensors") || !strings.Contains(errOut, "model.1.weight") {
		t.Errorf("test with another ngf: exit %d, %q", code, errOut)
	}
	// A discriminator's file where a generator's belongs: other names.
	d := filepath.Join(w.dir("r"), "latest_net_D_A.safetensors")
	code, _, errOut = cli(t, "test", "-model_path", d, "-dataroot", filepath.Join(w.dataroot, "testA"),
		"-results_dir", w.results, "-ngf", "4", "-n_blocks", "1")
	if code != 1 || !strings.Contains(errOut, d) {
		t.Errorf("test with a discriminator as generator: exit %d, %q", code, errOut)
	}
	before, _ := os.ReadFile(filepath.Join(w.dir("r"), "latest_net_G_A.safetensors"))
	code, _, errOut = cli(t, w.tiny("r", "-max_iters", "1")...)
	if code != 1 || !strings.Contains(errOut, "-continue_train") {
		t.Errorf("a new run over an old one: exit %d, %q", code, errOut)
	}
	after, _ := os.ReadFile(filepath.Join(w.dir("r"), "latest_net_G_A.safetensors"))
	if !bytes.Equal(before, after) {
		t.Error("the old run's checkpoint changed")
	}
}

// TestHelp: help, the presets table and -h exit 0 and say what they list.
func TestHelp(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"help"}, []string{"train", "test", "attention", "bench", "fid", "eval", "compare"}},
		{[]string{"help", "eval"}, []string{"-fid_ref", "-weights", "eval.csv"}},
		{[]string{"help", "presets"}, []string{"gradcam_four", "-att_layers 10,14,15,18", "two_stage"}},
		{[]string{"train", "-preset", "list"}, []string{"gradcam_detach", "-att_detach true"}},
		{[]string{"help", "train"}, []string{"-lambda_identity", "-att_order", "-max_iters", "-init_from"}},
		{[]string{"test", "-h"}, []string{"-model_path", "-num_test"}},
	} {
		code, out, errOut := cli(t, c.args...)
		if code != 0 {
			t.Errorf("%v: exit %d", c.args, code)
		}
		out += errOut // -h prints the flags on stderr, as Go's flag package does
		for _, s := range c.want {
			if !strings.Contains(out, s) {
				t.Errorf("%v: output does not contain %q", c.args, s)
			}
		}
	}
	if code, _, _ := cli(t); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
}

// TestHelpAgrees: the help says what the README says of the main job's
// duration, and the help of the commands that read a run's options gives
// "the run's" as their default, not numbers the run overrides.
func TestHelpAgrees(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte(mainJobTime)) {
		t.Errorf("README.md does not say the main job takes %q", mainJobTime)
	}
	for _, args := range [][]string{{"help"}, {"help", "train"}} {
		_, out, _ := cli(t, args...)
		if !strings.Contains(out, mainJobTime) {
			t.Errorf("%v does not say the main job takes %q:\n%s", args, mainJobTime, out)
		}
		for _, other := range []string{"five minutes", "few minutes"} {
			if strings.Contains(out, other) {
				t.Errorf("%v says %q", args, other)
			}
		}
	}
	usageOf := func(cmd, flag string) string {
		_, out, _ := cli(t, "help", cmd)
		_, after, ok := strings.Cut(out, "\n  -"+flag+" ")
		if !ok {
			t.Fatalf("help %s has no -%s", cmd, flag)
		}
		line, _, _ := strings.Cut(after, "\n  -")
		return line
	}
	for _, cmd := range []string{"test", "attention", "eval"} {
		for _, f := range []string{"ngf", "ndf", "n_blocks", "n_layers_D", "crop_size"} {
			if u := usageOf(cmd, f); !strings.Contains(u, "(default the run's, from its train_opt.json") {
				t.Errorf("help %s: -%s:%s", cmd, f, u)
			}
		}
	}
	if u := usageOf("test", "crop_size"); !strings.Contains(u, "with -model_path, 256") {
		t.Errorf("help test: -crop_size:%s", u)
	}
	if u := usageOf("train", "ngf"); !strings.Contains(u, "(default 64)") {
		t.Errorf("help train: -ngf:%s", u)
	}
}

// fixtures is testdata/cli, written by testdata/gen_cli_fixtures.py.
const fixtures = "../../testdata/cli"

// TestModelPathPyTorch runs a PyTorch generator saved as the published
// models are (legacy .pth, with InstanceNorm running statistics to ignore)
// on an image: ngf and the number of blocks are read from the file, and
// the translation matches PyTorch's to a level or two of 255.
func TestModelPathPyTorch(t *testing.T) {
	results := t.TempDir()
	mustCLI(t, "test", "-model_path", filepath.Join(fixtures, "pretrained", "G_A.pth"),
		"-dataroot", filepath.Join(fixtures, "input"), "-crop_size", "32", "-results_dir", results)
	got := decodePNG(t, filepath.Join(results, "G_A", "test_latest", "images", "img_0_fake.png"))
	want := decodePNG(t, filepath.Join(fixtures, "expected", "img_0_fake.png"))
	if got.Bounds() != want.Bounds() {
		t.Fatalf("size %v, want %v", got.Bounds(), want.Bounds())
	}
	worst, sum, n := 0, 0, 0
	b := want.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, _ := got.At(x, y).RGBA()
			r2, g2, b2, _ := want.At(x, y).RGBA()
			for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				d = max(d, -d)
				worst = max(worst, d)
				sum += d
				n++
			}
		}
	}
	if worst > 2 || float64(sum)/float64(n) > 0.1 {
		t.Errorf("the translation differs from PyTorch's by up to %d levels (mean %.3f)", worst, float64(sum)/float64(n))
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// TestInitFrom starts a run from PyTorch weights: after one iteration every
// weight is within one Adam step (lr) of the file's, where a fresh
// initialisation would be a typical 0.02 away.
func TestInitFrom(t *testing.T) {
	w := newWorld(t)
	mustCLI(t, w.tiny("init", "-init_from", filepath.Join(fixtures, "pretrained"), "-n_blocks", "2", "-max_iters", "1")...)
	for _, n := range cyclegan.NetNames {
		want, err := checkpoint.LoadPth(filepath.Join(fixtures, "pretrained", n+".pth"))
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := checkpoint.Load(filepath.Join(w.dir("init"), "latest_net_"+n+".safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		moved := false
		for name, g := range got {
			wt, ok := want[name]
			if !ok {
				t.Errorf("%s: %s is not in the .pth", n, name)
				continue
			}
			gv, wv := g.Values(), wt.Values()
			for i := range gv {
				d := math.Abs(gv[i] - wv[i])
				if d > 2.5e-4 {
					t.Errorf("%s %s[%d] = %v, the .pth has %v", n, name, i, gv[i], wv[i])
					break
				}
				moved = moved || d > 0
			}
		}
		if !moved {
			t.Errorf("%s did not train", n)
		}
	}
}

// TestImageSizeRefused: a size the networks cannot take is refused before
// anything is written, naming the flag and the nearest sizes that work, by
// every command that runs the networks.
func TestImageSizeRefused(t *testing.T) {
	w := trained(t)
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"train, crop", w.tiny("odd", "-load_size", "40", "-crop_size", "34"), []string{"-crop_size 34", "multiple of 4", "32 and 36"}},
		{"train, resize", w.tiny("odd", "-preprocess", "resize", "-load_size", "30"), []string{"-load_size 30", "28 and 32"}},
		{"train, discriminator", w.tiny("odd", "-load_size", "20", "-crop_size", "16"), []string{"-crop_size 16", "-n_layers_D 3", "smallest size that works is 24"}},
		{"bench", []string{"bench", "-crop_size", "66", "-ngf", "4", "-ndf", "4", "-n_blocks", "1"}, []string{"-crop_size 66", "64 and 68"}},
		{"test", []string{"test", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "r", "-crop_size", "30"},
			[]string{"-crop_size 30", "28 and 32"}},
		{"attention", []string{"attention", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "r", "-crop_size", "30"},
			[]string{"-crop_size 30", "28 and 32"}},
		{"eval", []string{"eval", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "r", "-crop_size", "30", "-quiet"},
			[]string{"-crop_size 30", "28 and 32"}},
	} {
		code, _, errOut := cli(t, c.args...)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1 (stderr %q)", c.name, code, errOut)
		}
		for _, s := range c.want {
			if !strings.Contains(errOut, s) {
				t.Errorf("%s: stderr %q does not say %q", c.name, errOut, s)
			}
		}
	}
	if _, err := os.Stat(w.dir("odd")); err == nil {
		t.Errorf("a refused training run left its folder %s", w.dir("odd"))
	}
	if _, err := os.Stat(filepath.Join(w.results, "r")); err == nil {
		t.Errorf("a refused test left %s", filepath.Join(w.results, "r"))
	}
}

// TestMainJobDefaults: the main job (no -dataroot) trains with the
// attention loss of mainJobPreset unless a preset is named, draws its data
// set at the crop size given, loaded an eighth larger, and a continued
// run keeps the preset it was started with.
func TestMainJobDefaults(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "checkpoints")
	main := func(name string, extra ...string) (map[string]string, []cyclegan.Record) {
		t.Helper()
		args := append([]string{"train", "-checkpoints_dir", ck, "-results_dir", filepath.Join(dir, "results"), "-name", name,
			"-ngf", "2", "-ndf", "2", "-n_blocks", "1", "-crop_size", "32", "-max_iters", "1", "-quiet"}, extra...)
		mustCLI(t, args...)
		opts, err := readSavedOptions(filepath.Join(ck, name))
		if err != nil {
			t.Fatal(err)
		}
		return opts, readLog(t, filepath.Join(ck, name, cyclegan.LossLog))
	}
	opts, recs := main("att")
	if matchPreset(opts) != mainJobPreset || recs[0].Att == nil {
		t.Errorf("main job: options of preset %q, att logged %v; want %s and the attention loss", matchPreset(opts), recs[0].Att != nil, mainJobPreset)
	}
	if opts["load_size"] != "36" || opts["dataroot"] != synthDir(ck, 32) {
		t.Errorf("main job at -crop_size 32: load_size %s, dataroot %s; want 36 and %s", opts["load_size"], opts["dataroot"], synthDir(ck, 32))
	}
	if got, ok, err := data.ReadSynthetic(synthDir(ck, 32)); err != nil || !ok || got.Size != 32 {
		t.Errorf("the data set in %s: %+v, %v, %v; want size 32", synthDir(ck, 32), got, ok, err)
	}
	opts, recs = main("std", "-preset", "standard")
	if matchPreset(opts) != "standard" || recs[0].Att != nil {
		t.Errorf("-preset standard: options of preset %q, att logged %v", matchPreset(opts), recs[0].Att != nil)
	}
	opts, recs = main("std", "-continue_train")
	if matchPreset(opts) != "standard" || len(recs) != 2 || recs[1].Att != nil {
		t.Errorf("continued standard run: options of preset %q, %d iterations, the last with att %v", matchPreset(opts), len(recs), recs[len(recs)-1].Att != nil)
	}
}

// TestReferenceLoopOptions trains with the reference's loop options: two
// pairs an iteration, the domains swapped, the step policy, a console line
// and a loss_log.txt line and the train page every 2 images, the latest
// checkpoint every 4, loading in the loop. They are saved with the run and
// restored by -continue_train (which ends where the uninterrupted run
// ends); test and eval read the direction from the run.
func TestReferenceLoopOptions(t *testing.T) {
	w := newWorld(t)
	flags := []string{"-batch_size", "2", "-direction", "BtoA", "-lr_policy", "step", "-lr_decay_iters", "1",
		"-print_freq", "2", "-display_freq", "2", "-save_latest_freq", "4", "-num_threads", "0", "-gpu_ids", "-1"}
	out := mustCLI(t, w.tiny("full", flags...)...)
	for _, s := range []string{"2 iterations per epoch (batches of 2)", "-direction BtoA", "(epoch: 1, iters: 2, time: ",
		"(epoch: 2, iters: 4, time: ", "saving the latest model (epoch 1, total_iters 4)", "D_A: "} {
		if !strings.Contains(out, s) {
			t.Errorf("the output does not say %q:\n%s", s, out)
		}
	}
	// The page after each epoch's first iteration, then the epoch's own.
	if n := strings.Count(out, "train page: "); n != 4 {
		t.Errorf("the train page was written %d times, want 4:\n%s", n, out)
	}
	recs := readLog(t, filepath.Join(w.dir("full"), cyclegan.LossLog))
	if len(recs) != 4 || recs[3].EpochIter != 2 || recs[2].LR != recs[0].LR*0.1 {
		t.Errorf("the log: %d records (want 4 of 2 an epoch), lr %v then %v (want ×0.1 in epoch 2)", len(recs), recs[0].LR, recs[len(recs)-1].LR)
	}
	text, err := os.ReadFile(filepath.Join(w.dir("full"), cyclegan.LossLogText))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(text), "(epoch: "); n != 4 || !strings.HasPrefix(string(text), "================ Training Loss (") {
		t.Errorf("loss_log.txt: %d lines, want a header and 4:\n%s", n, text)
	}
	saved, err := readSavedOptions(w.dir("full"))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"batch_size": "2", "direction": "BtoA", "lr_policy": "step", "lr_decay_iters": "1",
		"print_freq": "2", "display_freq": "2", "save_latest_freq": "4", "save_by_iter": "false", "tf32": "false"} {
		if saved[k] != v {
			t.Errorf("train_opt.json: %s = %q, want %q", k, saved[k], v)
		}
	}
	for _, k := range []string{"gpu_ids", "num_threads"} {
		if _, ok := saved[k]; ok {
			t.Errorf("train_opt.json holds %s, an option of one call", k)
		}
	}

	mustCLI(t, w.tiny("split", append(flags, "-max_iters", "1")...)...)
	mustCLI(t, "train", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "split", "-continue_train", "-quiet")
	if got, want := lossLog(t, filepath.Join(w.dir("split"), cyclegan.LossLog)), lossLog(t, filepath.Join(w.dir("full"), cyclegan.LossLog)); !bytes.Equal(got, want) {
		t.Errorf("the continued run's log differs:\n%s\nuninterrupted:\n%s", got, want)
	}

	// A bad value on continuing stops before anything is written.
	before, _ := os.ReadFile(filepath.Join(w.dir("full"), "latest_state.safetensors"))
	opts, _ := os.ReadFile(filepath.Join(w.dir("full"), optFile))
	code, _, errOut := cli(t, "train", "-checkpoints_dir", w.checkpoints, "-name", "full", "-continue_train", "-quiet", "-n_epochs_decay", "2", "-lr_policy", "exp")
	after, _ := os.ReadFile(filepath.Join(w.dir("full"), "latest_state.safetensors"))
	optsAfter, _ := os.ReadFile(filepath.Join(w.dir("full"), optFile))
	if code != 1 || !strings.Contains(errOut, `-lr_policy "exp"`) || !bytes.Equal(before, after) || !bytes.Equal(opts, optsAfter) {
		t.Errorf("continuing with -lr_policy exp: exit %d, %q; state unchanged %v, options unchanged %v", code, errOut,
			bytes.Equal(before, after), bytes.Equal(opts, optsAfter))
	}

	// test reads the run's direction: domain A is testB.
	mustCLI(t, "test", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "full", "-num_test", "1")
	testB, _ := data.ListImages(filepath.Join(w.dataroot, "testB"))
	if _, err := os.Stat(filepath.Join(w.results, "full", "test_latest_n1", "images", stem(testB[0])+"_real_A.png")); err != nil {
		t.Errorf("test with the run's -direction BtoA: %v", err)
	}
}
