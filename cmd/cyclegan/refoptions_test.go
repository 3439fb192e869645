package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/cyclegan/checkpoint"
)

// TestReferenceCommandLines: the command lines of pytorch-CycleGAN-and-
// pix2pix's README, double dashes and all, with a tiny data set and tiny
// sizes appended, train and test a run; the run's networks, exported, are
// read back by the reference's one-generator test (--model test
// --model_suffix _A) as its test.py reads them.
func TestReferenceCommandLines(t *testing.T) {
	w := newWorld(t)
	tinySizes := []string{"--checkpoints_dir", w.checkpoints, "--results_dir", w.results, "--ngf", "4", "--ndf", "4",
		"--n_blocks", "1", "--load_size", "36", "--crop_size", "32"}
	// python train.py --dataroot ./datasets/maps --name maps_cyclegan --model cycle_gan
	mustCLI(t, append([]string{"train", "--dataroot", w.dataroot, "--name", "maps_cyclegan", "--model", "cycle_gan",
		"--display_id", "0", "--max_iters", "2", "--quiet", "--pool_size", "2"}, tinySizes...)...)
	// python test.py --dataroot ./datasets/maps --name maps_cyclegan --model cycle_gan
	out := mustCLI(t, append([]string{"test", "--dataroot", w.dataroot, "--name", "maps_cyclegan", "--model", "cycle_gan",
		"--num_test", "1", "--eval"}, tinySizes...)...)
	if !strings.Contains(out, "results page:") {
		t.Errorf("test wrote no results page:\n%s", out)
	}
	checkPNGs(t, filepath.Join(w.results, "maps_cyclegan", "test_latest_n1", "images", "*_fake_B.png"), 32)

	// python test.py --dataroot datasets/maps/testA --name maps_cyclegan --model test --model_suffix _A --no_dropout
	// (the reference README's pretrained-model line)
	mustCLI(t, "export", "--checkpoints_dir", w.checkpoints, "--name", "maps_cyclegan")
	out = mustCLI(t, "test", "--dataroot", filepath.Join(w.dataroot, "testA"), "--name", "maps_cyclegan", "--model", "test",
		"--model_suffix", "_A", "--no_dropout", "--checkpoints_dir", w.checkpoints, "--results_dir", w.results, "--crop_size", "32")
	pth := filepath.Join(w.checkpoints, "maps_cyclegan", "latest_net_G_A.pth")
	if !strings.Contains(out, pth) {
		t.Errorf("-model test -model_suffix _A did not translate with %s:\n%s", pth, out)
	}
	checkPNGs(t, filepath.Join(w.results, "maps_cyclegan", "test_latest", "images", "*_fake.png"), 32)

	// A run of the reference's, with .pth files only, is tested as it is.
	ref := filepath.Join(w.checkpoints, "ref_run")
	if err := os.MkdirAll(ref, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"G_A", "G_B"} {
		b, err := os.ReadFile(filepath.Join(w.checkpoints, "maps_cyclegan", "latest_net_"+n+".pth"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(ref, "latest_net_"+n+".pth"), b, 0o644)
	}
	mustCLI(t, append([]string{"test", "--dataroot", w.dataroot, "--name", "ref_run", "--model", "cycle_gan", "--num_test", "1"},
		tinySizes...)...)
	checkPNGs(t, filepath.Join(w.results, "ref_run", "test_latest_n1", "images", "*_rec_A.png"), 32)
}

// checkPNGs checks that pattern matches files, PNGs of the given size.
func checkPNGs(t *testing.T, pattern string, size int) {
	t.Helper()
	paths, _ := filepath.Glob(pattern)
	if len(paths) == 0 {
		t.Errorf("no file %s", pattern)
	}
	for _, p := range paths {
		checkPNG(t, p, size)
	}
}

// TestReferenceOptions: the reference's options that only concern its
// display are accepted with a one-line note; the values this program does
// not implement are refused before anything is written, naming the flag
// and the value; -suffix and -init_gain do what the reference's do.
func TestReferenceOptions(t *testing.T) {
	w := trained(t)
	noteArgs := []string{"--display_id", "0", "--no_html", "--display_port", "8098", "--use_wandb", "--update_html_freq", "10",
		"--display_winsize", "128", "--display_ncols", "2", "--display_env", "x", "--display_server", "http://h", "--wandb_project_name", "p"}
	out := mustCLI(t, w.tiny("noted", append(noteArgs, "-max_iters", "1", "--verbose")...)...)
	var notes []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "accepted and ignored:") {
			notes = append(notes, l)
		}
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "-display_id 0") || !strings.Contains(notes[0], "-use_wandb true") {
		t.Errorf("want one note naming the display options given, got %q", notes)
	}
	// -load_size (given by tiny) is train's own flag: only test ignores it.
	if len(notes) == 1 && strings.Contains(notes[0], "load_size") {
		t.Errorf("train's note names -load_size, which train uses: %q", notes[0])
	}
	if !strings.Contains(out, "[Network D_B] Total number of parameters") {
		t.Errorf("--verbose printed no networks:\n%s", out)
	}
	// Per-call options are not saved with the run.
	saved, err := readSavedOptions(w.dir("noted"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"display_id", "model", "suffix", "verbose"} {
		if _, ok := saved[k]; ok {
			t.Errorf("train_opt.json holds the per-call option %s", k)
		}
	}

	for _, c := range []struct {
		args []string
		want []string
	}{
		{w.tiny("x", "--model", "pix2pix"), []string{"-model \"pix2pix\"", "only CycleGAN is implemented"}},
		{w.tiny("x", "--model", "test"), []string{"-model \"test\"", "cycle_gan"}},
		{w.tiny("x", "--dataset_mode", "aligned"), []string{"-dataset_mode \"aligned\"", "unaligned"}},
		{w.tiny("x", "--input_nc", "1"), []string{"-input_nc \"1\"", "RGB"}},
		{w.tiny("x", "--output_nc", "4"), []string{"-output_nc \"4\""}},
		{w.tiny("x", "--init_type", "xavier"), []string{"-init_type \"xavier\"", "only normal"}},
		{w.tiny("x", "--init_gain", "-1"), []string{"-init_gain \"-1\"", "positive"}},
		{w.tiny("x", "--load_iter", "5"), []string{"-load_iter \"5\"", "by epoch"}},
		{w.tiny("x", "--suffix", "{nope}"), []string{"-suffix \"{nope}\"", "no option \"nope\""}},
		{[]string{"test", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "r", "--model", "pix2pix"}, []string{"-model \"pix2pix\""}},
		{[]string{"test", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "r", "--aspect_ratio", "1.5"}, []string{"-aspect_ratio \"1.5\"", "square"}},
		{[]string{"test", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "r", "--dataset_mode", "single"}, []string{"-dataset_mode single", "-model test"}},
		{[]string{"test", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "r", "--model_suffix", "_A"}, []string{"-model_suffix _A", "only with -model test"}},
		{[]string{"test", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "r", "--model", "test", "--model_suffix", "_C", "-dataroot", w.dataroot},
			[]string{"latest_net_G_C.pth", "-model_suffix"}},
	} {
		code, _, errOut := cli(t, c.args...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1 (stderr %q)", c.args, code, errOut)
		}
		for _, s := range c.want {
			if !strings.Contains(errOut, s) {
				t.Errorf("%v: stderr %q does not say %q", c.args, errOut, s)
			}
		}
	}
	if _, err := os.Stat(w.dir("x")); err == nil {
		t.Error("a refused train call created its run folder")
	}

	// --suffix {model}_n{ngf}: the run is named NAME_cycle_gan_n4.
	mustCLI(t, w.tiny("s", "--suffix", "{model}_n{ngf}", "-max_iters", "1")...)
	if _, err := os.Stat(filepath.Join(w.dir("s_cycle_gan_n4"), "latest_net_G_A.safetensors")); err != nil {
		t.Errorf("--suffix: %v", err)
	}

	// --init_gain 0.5: the initial weights have a standard deviation of
	// about 0.5 (0.02 by default).
	mustCLI(t, w.tiny("g", "--init_type", "normal", "--init_gain", "0.5", "-max_iters", "1", "-lr", "1e-9")...)
	m, _, err := checkpoint.Load(filepath.Join(w.dir("g"), "latest_net_G_A.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	v := m["model.10.conv_block.1.weight"].Values()
	ss := 0.0
	for _, x := range v {
		ss += x * x
	}
	if std := math.Sqrt(ss / float64(len(v))); std < 0.4 || std > 0.6 {
		t.Errorf("--init_gain 0.5: weights of std %.3f", std)
	}
}

// TestReferenceOptionsTable: the README's table of the reference's options
// has a row for every option of refOptions, with its status.
func TestReferenceOptionsTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(string(readme), "\n") {
		if !strings.HasPrefix(l, "| `--") {
			continue
		}
		cells := strings.Split(l, "|")
		if len(cells) < 4 {
			continue
		}
		for _, f := range strings.Fields(strings.ReplaceAll(cells[1], "`", " ")) {
			if name, ok := strings.CutPrefix(f, "--"); ok {
				rows[name] = strings.TrimSpace(cells[2])
			}
		}
	}
	for _, r := range refOptions() {
		status, ok := rows[r.name]
		switch {
		case !ok:
			t.Errorf("README.md's table of the reference's options has no row for --%s", r.name)
		case !strings.Contains(status, r.status):
			t.Errorf("README.md: --%s is %q, refOptions says %q", r.name, status, r.status)
		}
	}
}
