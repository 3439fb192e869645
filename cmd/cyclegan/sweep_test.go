package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camcycle/camcycle/cyclegan"
)

// TestSweepPlan: presets × seeds give one complete train line per run,
// named SWEEP_PRESET_sSEED, with the train flags given; the same command
// again keeps the plan, a different one for the same sweep is refused and
// leaves the saved plan as it was.
func TestSweepPlan(t *testing.T) {
	t.Chdir(t.TempDir())
	args := []string{"sweep", "-plan_only", "-sweep", "p", "-presets", "standard,gradcam", "-seeds", "2", "-seed_base", "1",
		"-ngf", "4", "-no_flip", "-dataroot", "my data"}
	out := mustCLI(t, args...)
	raw, err := os.ReadFile(filepath.Join("sweeps", "p", planFile))
	if err != nil {
		t.Fatalf("%v; output %s", err, out)
	}
	want := []string{
		"cyclegan train -name p_standard_s1 -preset standard -seed 1 -dataroot 'my data' -ngf 4 -no_flip",
		"cyclegan train -name p_standard_s2 -preset standard -seed 2 -dataroot 'my data' -ngf 4 -no_flip",
		"cyclegan train -name p_gradcam_s1 -preset gradcam -seed 1 -dataroot 'my data' -ngf 4 -no_flip",
		"cyclegan train -name p_gradcam_s2 -preset gradcam -seed 2 -dataroot 'my data' -ngf 4 -no_flip",
	}
	if got := strings.Split(strings.TrimSpace(string(raw)), "\n"); !slices.Equal(got, want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i, l := range want {
		r, err := parsePlanLine(l)
		if err != nil || r.opts.name != strings.Fields(l)[3] || r.opts.dataroot != "my data" || !r.opts.noFlip || r.opts.seed != uint64(1+i%2) {
			t.Errorf("line %d read back as %+v, %v", i, r.opts, err)
		}
	}
	if out := mustCLI(t, args...); !strings.Contains(out, "the same plan") {
		t.Errorf("the same sweep again: %s", out)
	}
	changed := append(slices.Clone(args), "-ngf", "8")
	code, _, errOut := cli(t, changed...)
	if code != 1 || !strings.Contains(errOut, "different plan") || !strings.Contains(errOut, "-ngf 8") {
		t.Errorf("a changed plan: exit %d, %q", code, errOut)
	}
	if again, _ := os.ReadFile(filepath.Join("sweeps", "p", planFile)); string(again) != string(raw) {
		t.Errorf("the refused plan changed the saved one:\n%s", again)
	}
}

// TestSweepBadInput: a bad preset, a bad train flag or a flag the sweep
// sets itself stops the sweep with a message naming it, and writes
// nothing.
func TestSweepBadInput(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, c := range []struct {
		args   []string
		code   int
		stderr []string
	}{
		{[]string{"-presets", "standard,zebra"}, 1, []string{`"zebra"`, "gradcam_four", "two_stage"}},
		{[]string{"-presets", ""}, 1, []string{"-presets"}},
		{[]string{"-presets", "standard", "-ngf", "many"}, 2, []string{"-ngf"}},
		{[]string{"-presets", "standard", "-n_epoch", "3"}, 2, []string{"n_epoch"}},
		{[]string{"-presets", "standard", "-ngf", "0"}, 1, []string{"-ngf 0"}},
		{[]string{"-presets", "standard", "-n_epochs", "0", "-n_epochs_decay", "0"}, 1, []string{"-n_epochs 0"}},
		{[]string{"-presets", "standard", "-att_layers", "10,x"}, 2, []string{"-att_layers"}},
		{[]string{"-presets", "standard", "-seed", "3"}, 1, []string{"-seed", "-seeds"}},
		{[]string{"-presets", "standard", "-name", "x"}, 1, []string{"-name"}},
		{[]string{"-presets", "standard", "-seeds", "0"}, 1, []string{"-seeds 0"}},
		{[]string{"-presets", "standard", "-sweep", "a/b"}, 1, []string{`-sweep "a/b"`}},
		{[]string{"-presets", "standard", "-fid_ref", "train"}, 1, []string{`-fid_ref "train"`}},
		{[]string{"-presets", "standard", "stray"}, 2, []string{`"stray"`}},
		{[]string{"-task", "0"}, 2, []string{"plan file"}},
		{[]string{"-task", "0", "nosuch/plan.txt"}, 1, []string{"nosuch/plan.txt"}},
	} {
		code, _, errOut := cli(t, append([]string{"sweep"}, c.args...)...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", c.args, code, c.code, errOut)
		}
		for _, s := range c.stderr {
			if !strings.Contains(errOut, s) {
				t.Errorf("%v: stderr %q does not say %q", c.args, errOut, s)
			}
		}
		if _, err := os.Stat("sweeps"); err == nil {
			t.Fatalf("%v: the sweeps folder was written", c.args)
		}
	}
}

// sweepFlags are the flags of a sweep of tiny runs in w (two epochs of 4
// iterations each), evaluated without Inception weights.
func (w world) sweepFlags(name string) []string {
	tiny := w.tiny("x")[1:]
	i := slices.Index(tiny, "-name")
	tiny = slices.Delete(tiny, i, i+2)
	i = slices.Index(tiny, "-seed")
	tiny = slices.Delete(tiny, i, i+2)
	return append([]string{"sweep", "-sweep", name, "-weights", filepath.Join(w.results, "no-weights.pth")}, tiny...)
}

// planLine returns line k of the plan of sweep name, as arguments of train.
func planLine(t *testing.T, name string, k int) []string {
	t.Helper()
	p, err := readPlan(filepath.Join("sweeps", name, planFile))
	if err != nil {
		t.Fatal(err)
	}
	r, err := parsePlanLine(p.Lines[k])
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"train"}, r.args...)
}

// TestSweepResumes: a sweep whose runs are in every state (trained and
// evaluated, half trained, not started, trained but not evaluated) skips
// the first, continues the second, starts the third and only evaluates
// the fourth; run again, it skips them all.
func TestSweepResumes(t *testing.T) {
	w := newWorld(t)
	t.Chdir(filepath.Dir(w.dataroot))
	args := append(w.sweepFlags("r"), "-presets", "standard", "-seeds", "4")
	mustCLI(t, append(args, "-plan_only")...)
	names := []string{"r_standard_s0", "r_standard_s1", "r_standard_s2", "r_standard_s3"}
	evalArgs := func(name string) []string {
		return []string{"eval", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", name, "-quiet",
			"-weights", filepath.Join(w.results, "no-weights.pth")}
	}
	mustCLI(t, planLine(t, "r", 0)...)
	mustCLI(t, evalArgs(names[0])...)
	mustCLI(t, append(planLine(t, "r", 1), "-max_iters", "3")...)
	mustCLI(t, planLine(t, "r", 3)...)
	log0, _ := os.ReadFile(filepath.Join(w.dir(names[0]), cyclegan.LossLog))
	log3, _ := os.ReadFile(filepath.Join(w.dir(names[3]), cyclegan.LossLog))

	out := mustCLI(t, args...)
	for _, s := range []string{
		"[1/4] r_standard_s0: trained and evaluated: skipped",
		"[2/4] r_standard_s1: continuing (epoch 1 of 2, 3 iterations into it)",
		"[3/4] r_standard_s2: training",
		"[4/4] r_standard_s3: trained, not evaluated: evaluating",
		"[4/4] r_standard_s3: trained and evaluated",
		"4 of 4 runs trained and evaluated",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("the sweep's output does not say %q:\n%s", s, out)
		}
	}
	for i, n := range names {
		if recs := readLog(t, filepath.Join(w.dir(n), cyclegan.LossLog)); len(recs) != 8 {
			t.Errorf("%s: %d iterations logged, want 8", n, len(recs))
		}
		if rows, err := readEval(filepath.Join(w.results, n)); err != nil || len(rows) != 1 {
			t.Errorf("%s: %d eval rows (%v), want 1", n, len(rows), err)
		}
		if hist, _ := os.ReadFile(filepath.Join(w.dir(n), "train_history.txt")); strings.Count(string(hist), "  train ") != 1+btoi(i == 1) {
			t.Errorf("%s: train history\n%s", n, hist)
		}
	}
	if now, _ := os.ReadFile(filepath.Join(w.dir(names[0]), cyclegan.LossLog)); string(now) != string(log0) {
		t.Errorf("the finished run was trained again")
	}
	if now, _ := os.ReadFile(filepath.Join(w.dir(names[3]), cyclegan.LossLog)); string(now) != string(log3) {
		t.Errorf("the trained run was trained again")
	}
	out = mustCLI(t, args...)
	if strings.Count(out, "skipped") != 4 {
		t.Errorf("the sweep again:\n%s", out)
	}
	// The sweep's comparison: one group of four seeds.
	mustCLI(t, "compare", "-sweep", "r", "-num_test", "1")
	var agg aggregate
	raw, err := os.ReadFile(filepath.Join("sweeps", "r", "compare", "compare.json"))
	if err != nil || json.Unmarshal(raw, &agg) != nil || len(agg.Groups) != 1 || len(agg.Groups[0].Runs) != 4 ||
		agg.Groups[0].Group != "r_standard" || !slices.Equal(agg.Groups[0].Seeds, []string{"0", "1", "2", "3"}) {
		t.Errorf("compare -sweep: %v\n%s", err, raw)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSweepSlurmScript runs the job-array script as Slurm would run one
// task, with a freshly built binary: task 1 trains and evaluates run 1 and
// nothing else, and run again it skips it.
func TestSweepSlurmScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to run the script with")
	}
	bin := filepath.Join(t.TempDir(), "cyclegan")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Skipf("cannot build the command (%v): %s", err, out)
	}
	w := newWorld(t)
	t.Chdir(filepath.Dir(w.dataroot))
	args := append(w.sweepFlags("j"), "-presets", "standard,gradcam", "-slurm", "-cpus_per_task", "3", "-time", "1:00:00",
		"-slurm_opts", "--partition=debug", "-slurm_opts", "--mem=1G")
	out := mustCLI(t, args...)
	script := filepath.Join("sweeps", "j", sbatchFile)
	if !strings.Contains(out, "sbatch "+script) {
		t.Errorf("output does not say how to submit:\n%s", out)
	}
	raw, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	for _, s := range []string{"#!/bin/bash\n", "#SBATCH --array=0-1\n", "#SBATCH --job-name=cyclegan-j\n",
		"#SBATCH --output=sweeps/j/logs/%A_%a.out\n", "#SBATCH --cpus-per-task=3\n", "#SBATCH --time=1:00:00\n",
		"#SBATCH --partition=debug\n", "#SBATCH --mem=1G\n", "#SBATCH --chdir=" + wd + "\n", "cd " + wd + "\n",
		`"$CYCLEGAN" sweep -task "$SLURM_ARRAY_TASK_ID" sweeps/j/plan.txt`} {
		if !strings.Contains(string(raw), s) {
			t.Errorf("the script has no %q:\n%s", s, raw)
		}
	}
	if _, err := os.Stat(filepath.Join("sweeps", "j", "logs")); err != nil {
		t.Errorf("no logs folder for Slurm's output: %v", err)
	}
	task := func(k string) string {
		cmd := exec.Command(bash, filepath.Join(wd, script))
		cmd.Dir = t.TempDir() // the script goes to the sweep's folder itself
		cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID="+k, "CYCLEGAN="+bin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("task %s: %v\n%s", k, err, out)
		}
		return string(out)
	}
	out = task("1")
	if !strings.Contains(out, "j_gradcam_s0: trained and evaluated") {
		t.Errorf("task 1:\n%s", out)
	}
	if rows, err := readEval(filepath.Join(w.results, "j_gradcam_s0")); err != nil || len(rows) != 1 || rows[0].Preset != "gradcam" {
		t.Errorf("task 1's run: eval rows %+v, %v", rows, err)
	}
	if _, err := os.Stat(w.dir("j_standard_s0")); err == nil {
		t.Errorf("task 1 touched run 0")
	}
	if out = task("1"); !strings.Contains(out, "skipped") {
		t.Errorf("task 1 again:\n%s", out)
	}
}

// TestAggregate: every numeric field of an evaluation row is a metric,
// nested ones named by their path, counts excepted; groups of runs that
// differ by the seed get the mean and the sample standard deviation.
func TestAggregate(t *testing.T) {
	m, err := flattenMetrics(map[string]any{"run": "x", "A2B": map[string]any{"fid": 3.5, "kid": nil, "fakes": 10},
		"gt_B2A": map[string]any{"iou": 0.25, "images": 20, "stripes": map[string]any{"flatness": 2}}, "kid_subsets": 100})
	if want := map[string]float64{"A2B.fid": 3.5, "gt_B2A.iou": 0.25, "gt_B2A.stripes.flatness": 2}; err != nil || len(m) != len(want) ||
		m["A2B.fid"] != 3.5 || m["gt_B2A.iou"] != 0.25 || m["gt_B2A.stripes.flatness"] != 2 {
		t.Errorf("flattenMetrics: %v, %v; want %v", m, err, want)
	}
	if s := summarise([]float64{1, 2, 3, 4}); s.N != 4 || s.Mean != 2.5 || s.Std == nil || math.Abs(*s.Std-math.Sqrt(5.0/3)) > 1e-12 {
		t.Errorf("summarise(1, 2, 3, 4) = %+v", s)
	}
	if s := summarise([]float64{7}); s.Mean != 7 || s.Std != nil {
		t.Errorf("summarise(7) = %+v", s)
	}

	// Runs of a sweep with made-up evaluations, compared.
	w := newWorld(t)
	fids := map[string]float64{"a_standard_s0": 10, "a_standard_s1": 12, "a_standard_s2": 17, "a_gradcam_s0": 5}
	var names []string
	for _, n := range []string{"a_standard_s0", "a_standard_s1", "a_standard_s2", "a_gradcam_s0"} {
		preset, seed := strings.Split(n, "_")[1], n[len(n)-1:]
		mustCLI(t, w.tiny(n, "-preset", preset, "-seed", seed, "-max_iters", "1")...)
		fid, kid := fids[n], fids[n]/1000
		row := evalRow{Time: time.Now().Format(time.RFC3339), Run: n, Epoch: "latest", Reference: "test",
			A2B: evalDirection{FID: &fid, KID: &kid, Fakes: 2}, B2A: evalDirection{FID: &fid}}
		if err := appendEval(filepath.Join(w.results, n), row); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	out := filepath.Join(t.TempDir(), "cmp")
	mustCLI(t, append([]string{"compare", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-out", out, "-num_test", "1"}, names...)...)
	var agg aggregate
	raw, err := os.ReadFile(filepath.Join(out, "compare.json"))
	if err != nil || json.Unmarshal(raw, &agg) != nil || len(agg.Groups) != 2 {
		t.Fatalf("compare.json: %v\n%s", err, raw)
	}
	g := agg.Groups[0]
	fid := g.Metrics["A2B.fid"]
	if g.Group != "a_standard" || len(g.Runs) != 3 || fid.N != 3 || fid.Mean != 13 || fid.Std == nil || math.Abs(*fid.Std-math.Sqrt(13)) > 1e-12 {
		t.Errorf("group %+v, A2B.fid %+v: want mean 13, std √13 over 3 runs", g, fid)
	}
	if kid := g.Metrics["A2B.kid"]; math.Abs(kid.Mean-0.013) > 1e-15 {
		t.Errorf("A2B.kid %+v", kid)
	}
	if _, ok := g.Metrics["A2B.fakes"]; ok {
		t.Errorf("a count is aggregated: %v", g.Metrics)
	}
	if g := agg.Groups[1]; g.Group != "a_gradcam" || g.Metrics["B2A.fid"].Mean != 5 || g.Metrics["B2A.fid"].Std != nil {
		t.Errorf("the one-run group: %+v", g)
	}
	page, _ := os.ReadFile(filepath.Join(out, "index.html"))
	csvText, _ := os.ReadFile(filepath.Join(out, "compare.csv"))
	for _, s := range []string{"<td>a_standard</td><td>standard</td><td>3</td><td>0,1,2</td>", "<td>13 ± 3.6</td>", "<td>1.3 ± 0.36</td>",
		"<td>5 (n = 1)</td>", "A2B.kid×100", "n − 1", "<td>a_standard_s1</td>"} {
		if !strings.Contains(string(page), s) {
			t.Errorf("the page has no %q", s)
		}
	}
	if !strings.Contains(string(csvText), "a_standard,standard,a_standard_s0 a_standard_s1 a_standard_s2,A2B.fid,3,13,3.605551275463989") {
		t.Errorf("compare.csv:\n%s", csvText)
	}
}
