package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/checkpoint"
)

// A sweep is a plan of independent training runs, presets × seeds, each a
// line "cyclegan train -name SWEEP_PRESET_sSEED -preset PRESET -seed SEED
// FLAGS…" of SWEEPS/SWEEP/plan.txt; its options are in sweep.json beside
// it. Running a line trains the run (continuing it when it was
// interrupted), then evaluates it; a finished and evaluated run is
// skipped, so a sweep, or one task of its Slurm job array, can be run
// again until everything is done.

// sweepPlan is what sweep.json records: the sweep's options and the
// folder it was made in (where its lines are run).
type sweepPlan struct {
	Sweep     string   `json:"sweep"`
	Presets   []string `json:"presets"`
	Seeds     []uint64 `json:"seeds"`
	TrainArgs []string `json:"train_args"` // the train flags given, on every line
	EvalArgs  []string `json:"eval_args"`  // flags added to each run's eval
	Dir       string   `json:"dir"`        // the working folder of the lines
	Created   string   `json:"created"`
	Lines     []string `json:"-"`
}

// Names of a sweep's files in SWEEPS/NAME.
const (
	planFile   = "plan.txt"
	sweepJSON  = "sweep.json"
	sbatchFile = "sweep.sbatch"
)

// sweepSets lists the train flags the sweep sets on each line itself.
func sweepSets() []string { return []string{"name", "preset", "seed", "continue_train"} }

func runSweep(args []string, stdout, stderr io.Writer) int {
	// One flag set: the sweep's own flags and every train flag, so that a
	// train flag is checked by train's parser before anything is written.
	o := defaultOptions()
	fs := newFlags("train", trainGroups, &o, stderr)
	var own []string
	str := func(p *string, name, def, usage string) { fs.StringVar(p, name, def, usage); own = append(own, name) }
	var (
		presets, sweep, dir, timeLimit, weights, fidRef string
		seeds, seedBase, cpus, task                     int
		planOnly, slurm                                 bool
		slurmOpts                                       listFlag
	)
	str(&presets, "presets", "", "comma-separated `presets` to train (see 'cyclegan help presets'); required")
	str(&sweep, "sweep", "sweep", "the sweep's `name`: runs are named NAME_PRESET_sSEED, files go to SWEEPS_DIR/NAME")
	str(&dir, "sweeps_dir", "./sweeps", "the sweeps' folder")
	str(&timeLimit, "time", "24:00:00", "with -slurm: each array task's time limit (#SBATCH --time)")
	str(&weights, "weights", "", "eval: pytorch-fid's Inception weights (default: where pytorch-fid keeps them)")
	str(&fidRef, "fid_ref", "test", "eval: reference images, test or all (see 'cyclegan help eval')")
	fs.IntVar(&seeds, "seeds", 1, "number of seeds per preset: SEED_BASE … SEED_BASE+N−1")
	fs.IntVar(&seedBase, "seed_base", 0, "the first seed")
	fs.IntVar(&cpus, "cpus_per_task", 2, "with -slurm: CPU cores per array task (#SBATCH --cpus-per-task)")
	fs.IntVar(&task, "task", -1, "run only line `K` (from 0) of the plan file given as argument, resumably: what a Slurm array task does")
	fs.BoolVar(&planOnly, "plan_only", false, "write the plan, run nothing")
	fs.BoolVar(&slurm, "slurm", false, "write the plan and a Slurm job-array script (one task per line), print the sbatch command, run nothing")
	fs.Var(&slurmOpts, "slurm_opts", "with -slurm: an extra `option` line #SBATCH OPTION (e.g. --partition=cpu); repeatable")
	own = append(own, "seeds", "seed_base", "cpus_per_task", "task", "plan_only", "slurm", "slurm_opts")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: cyclegan sweep -presets P1,P2,… [-seeds N] [-sweep NAME] [train flags…]\n"+
			"       cyclegan sweep -task K SWEEPS/NAME/%s\n\n%s\nFlags:\n", planFile, commandDoc("sweep"))
		mine := flag.NewFlagSet("", flag.ContinueOnError)
		mine.SetOutput(fs.Output())
		fs.VisitAll(func(f *flag.Flag) {
			if slices.Contains(own, f.Name) {
				mine.Var(f.Value, f.Name, f.Usage)
			}
		})
		mine.PrintDefaults()
		fmt.Fprintf(fs.Output(), "and every train flag ('cyclegan help train'), put on each line, except -%s, which the sweep sets.\n",
			strings.Join(sweepSets(), ", -"))
	}
	pos, st, ok := parseWithArgs(fs, args)
	if !ok {
		return st
	}
	given := explicit(fs)
	if task >= 0 || given["task"] {
		if len(pos) != 1 {
			fmt.Fprintf(stderr, "cyclegan sweep: -task %d needs the plan file: cyclegan sweep -task K SWEEPS/NAME/%s\n", task, planFile)
			return 2
		}
		if err := runTask(pos[0], task, stdout, stderr); err != nil {
			return failf(stderr, "sweep", "%v", err)
		}
		return 0
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "cyclegan sweep: unexpected argument %q (flags are written -name value; a plan file goes with -task)\n", pos[0])
		return 2
	}
	var trainArgs []string
	var bad []string
	fs.Visit(func(f *flag.Flag) {
		switch {
		case slices.Contains(own, f.Name):
		case slices.Contains(sweepSets(), f.Name):
			bad = append(bad, "-"+f.Name)
		default:
			trainArgs = append(trainArgs, flagArg(f)...)
		}
	})
	if len(bad) > 0 {
		return failf(stderr, "sweep", "%s: set by the sweep on each run (use -presets, -seeds, -seed_base, -sweep)", strings.Join(bad, ", "))
	}
	p := sweepPlan{Sweep: sweep, TrainArgs: trainArgs, Created: time.Now().Format(time.RFC3339)}
	if weights != "" {
		p.EvalArgs = append(p.EvalArgs, "-weights", weights)
	}
	if fidRef != "test" {
		p.EvalArgs = append(p.EvalArgs, "-fid_ref", fidRef)
	}
	if err := p.build(presets, seeds, seedBase, fidRef); err != nil {
		return failf(stderr, "sweep", "%v", err)
	}
	if slurm && cpus < 1 {
		return failf(stderr, "sweep", "-cpus_per_task %d: must be at least 1", cpus)
	}
	for _, x := range append(slurmOpts, timeLimit) {
		if strings.ContainsAny(x, "\n\r") || strings.TrimSpace(x) == "" {
			return failf(stderr, "sweep", "-slurm_opts or -time %q: want one line", x)
		}
	}
	folder := filepath.Join(dir, sweep)
	kept, err := p.write(folder)
	if err != nil {
		return failf(stderr, "sweep", "%v", err)
	}
	what := "planned in"
	if kept {
		what = "the same plan as in"
	}
	fmt.Fprintf(stdout, "sweep %s: %d runs (%s × seeds %s), %s %s\n", sweep, len(p.Lines),
		strings.Join(p.Presets, ", "), seedRange(p.Seeds), what, filepath.Join(folder, planFile))
	switch {
	case slurm:
		script, err := writeSbatch(folder, p, cpus, timeLimit, slurmOpts, stdout)
		if err != nil {
			return failf(stderr, "sweep", "%v", err)
		}
		fmt.Fprintf(stdout, "submit the job array (%d tasks) with:\n  sbatch %s\n", len(p.Lines), script)
		return 0
	case planOnly:
		return 0
	}
	if err := runPlan(p, folder, stdout, stderr); err != nil {
		return failf(stderr, "sweep", "%v", err)
	}
	return 0
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// flagArg writes a parsed flag back as arguments: -name value, or -name
// (-name=false) for a boolean flag.
func flagArg(f *flag.Flag) []string {
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		if f.Value.String() == "true" {
			return []string{"-" + f.Name}
		}
		return []string{"-" + f.Name + "=" + f.Value.String()}
	}
	return []string{"-" + f.Name, f.Value.String()}
}

// build checks the sweep's options and makes its lines. Each line is
// checked as train will check it (flags, preset, epochs, network sizes),
// so that a mistake stops the sweep before anything is written.
func (p *sweepPlan) build(presets string, seeds, seedBase int, fidRef string) error {
	if !regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`).MatchString(p.Sweep) {
		return fmt.Errorf("-sweep %q: want a name of letters, digits, _, . and -", p.Sweep)
	}
	if seeds < 1 {
		return fmt.Errorf("-seeds %d: want at least 1", seeds)
	}
	if seedBase < 0 {
		return fmt.Errorf("-seed_base %d: must not be negative", seedBase)
	}
	if fidRef != "test" && fidRef != "all" {
		return fmt.Errorf("-fid_ref %q: want test or all", fidRef)
	}
	var valid []string
	for _, pr := range cyclegan.Presets() {
		valid = append(valid, pr.Name)
	}
	for _, name := range strings.Split(presets, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			continue
		case !slices.Contains(valid, name):
			return fmt.Errorf("-presets: unknown preset %q (want some of %s)", name, strings.Join(valid, ", "))
		case slices.Contains(p.Presets, name):
			return fmt.Errorf("-presets: %q is given twice", name)
		}
		p.Presets = append(p.Presets, name)
	}
	if len(p.Presets) == 0 {
		return fmt.Errorf("-presets: name the presets to train, e.g. -presets standard,gradcam (one of %s)", strings.Join(valid, ", "))
	}
	for s := range seeds {
		p.Seeds = append(p.Seeds, uint64(seedBase+s))
	}
	for _, pr := range p.Presets {
		for _, s := range p.Seeds {
			args := append([]string{"-name", fmt.Sprintf("%s_%s_s%d", p.Sweep, pr, s), "-preset", pr, "-seed", strconv.FormatUint(s, 10)},
				p.TrainArgs...)
			if _, err := parseTrainLine(args, true); err != nil {
				return err
			}
			p.Lines = append(p.Lines, "cyclegan train "+shellJoin(args))
		}
	}
	return nil
}

// parseTrainLine parses the arguments of a train line with train's flag
// set and settles them as train would (without reading a run's saved
// options); check also checks them as train does before it writes
// anything.
func parseTrainLine(args []string, check bool) (*options, error) {
	o := defaultOptions()
	var msg strings.Builder
	fs := newFlags("train", trainGroups, &o, &msg)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("train flags: %v", err)
	}
	if rest := fs.Args(); len(rest) > 0 {
		return nil, fmt.Errorf("train flags: unexpected argument %q", rest[0])
	}
	if !check {
		return &o, nil
	}
	if _, _, err := resolve(fs, &o); err != nil {
		return nil, err
	}
	if _, err := o.checkTrain(); err != nil {
		return nil, err
	}
	return &o, nil
}

// write saves plan.txt and sweep.json in folder. An existing sweep of the
// same name is kept when its plan is the same (the sweep continues) and
// refused when it differs, so that a sweep's runs always come from one plan.
func (p *sweepPlan) write(folder string) (kept bool, err error) {
	text := strings.Join(p.Lines, "\n") + "\n"
	wd, err := os.Getwd()
	if err != nil {
		return false, err
	}
	p.Dir = wd
	if old, err := readPlan(filepath.Join(folder, planFile)); err == nil {
		oldText := strings.Join(old.Lines, "\n") + "\n"
		switch {
		case oldText != text:
			return false, fmt.Errorf("%s holds a different plan for sweep %s (%s): choose another -sweep name, "+
				"or remove the folder to start the sweep again", filepath.Join(folder, planFile), p.Sweep, firstDiff(old.Lines, p.Lines))
		case !slices.Equal(old.EvalArgs, p.EvalArgs):
			return false, fmt.Errorf("%s: sweep %s was planned with the eval flags %q, now %q: give the same, or choose another -sweep name",
				filepath.Join(folder, sweepJSON), p.Sweep, strings.Join(old.EvalArgs, " "), strings.Join(p.EvalArgs, " "))
		case old.Dir != wd:
			return false, fmt.Errorf("sweep %s was made in %s, and its lines run there: run it from that folder", p.Sweep, old.Dir)
		}
		p.Created = old.Created
		return true, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	if err := os.MkdirAll(filepath.Join(folder, "logs"), 0o755); err != nil {
		return false, err
	}
	raw, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return false, err
	}
	if err := writeText(filepath.Join(folder, sweepJSON), string(raw)+"\n"); err != nil {
		return false, err
	}
	return false, writeText(filepath.Join(folder, planFile), text)
}

// firstDiff describes the first line where two plans differ.
func firstDiff(old, now []string) string {
	for i := range max(len(old), len(now)) {
		switch {
		case i >= len(old):
			return fmt.Sprintf("the new plan has %d lines, the saved one %d", len(now), len(old))
		case i >= len(now):
			return fmt.Sprintf("the saved plan has %d lines, the new one %d", len(old), len(now))
		case old[i] != now[i]:
			return fmt.Sprintf("line %d was %q, now %q", i, old[i], now[i])
		}
	}
	return "the same lines"
}

// writeText writes a file atomically.
func writeText(path, text string) error {
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, text)
		return err
	})
}

// readPlan reads a plan file and the sweep.json beside it.
func readPlan(path string) (sweepPlan, error) {
	var p sweepPlan
	raw, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	js := filepath.Join(filepath.Dir(path), sweepJSON)
	meta, err := os.ReadFile(js)
	if err != nil {
		return p, fmt.Errorf("%s has no %s beside it: %w", path, sweepJSON, err)
	}
	if err := json.Unmarshal(meta, &p); err != nil {
		return p, fmt.Errorf("%s: %v", js, err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			p.Lines = append(p.Lines, l)
		}
	}
	return p, nil
}

// seedRange writes seeds as "0…2" (or "5").
func seedRange(s []uint64) string {
	if len(s) == 1 {
		return strconv.FormatUint(s[0], 10)
	}
	return fmt.Sprintf("%d…%d", s[0], s[len(s)-1])
}

// planRun is one line of a plan: its train arguments and the run's
// folders.
type planRun struct {
	args []string // after "cyclegan train"
	opts *options
}

// parsePlanLine reads a line "cyclegan train ARGS…" of a plan.
func parsePlanLine(line string) (planRun, error) {
	words, err := shellSplit(line)
	if err != nil {
		return planRun{}, err
	}
	if len(words) < 2 || words[0] != "cyclegan" || words[1] != "train" {
		return planRun{}, fmt.Errorf("want a line \"cyclegan train FLAGS…\"")
	}
	o, err := parseTrainLine(words[2:], false)
	if err != nil {
		return planRun{}, err
	}
	if o.name == "" {
		return planRun{}, fmt.Errorf("the line has no -name")
	}
	return planRun{args: words[2:], opts: o}, nil
}

// runState is how far a run of a plan has come.
type runState struct {
	started   bool // a checkpoint exists
	trained   bool // every epoch is trained
	evaluated bool // an eval row at epoch latest is newer than the checkpoint
	position  string
}

// stateOf reads a run's state from its checkpoint folder and its
// evaluations.
func stateOf(o *options) (runState, error) {
	var s runState
	dir := o.checkpointDir()
	net, err := os.Stat(filepath.Join(dir, "latest_net_G_A.safetensors"))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	s.started = true
	saved, err := readSavedOptions(dir)
	if err != nil {
		return s, err
	}
	statePath := filepath.Join(dir, "latest_state.safetensors")
	meta, err := checkpoint.ReadMetadata(statePath)
	if errors.Is(err, os.ErrNotExist) || saved == nil {
		s.position = "networks without training state"
		return s, nil
	}
	if err != nil {
		return s, err
	}
	nEpochs, err1 := strconv.Atoi(saved["n_epochs"])
	decay, err2 := strconv.Atoi(saved["n_epochs_decay"])
	epoch, err3 := strconv.Atoi(meta["epoch"])
	iter, err4 := strconv.Atoi(meta["epoch_iter"])
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return s, fmt.Errorf("%s, %s: %v", statePath, optFile, err)
	}
	last := nEpochs + decay
	s.trained = epoch > last
	s.position = fmt.Sprintf("epoch %d of %d, %d iterations into it", min(epoch, last), last, iter)
	if !s.trained {
		return s, nil
	}
	rows, err := readEval(filepath.Join(o.resultsDir, o.name))
	if err != nil {
		return s, err
	}
	for _, r := range rows {
		t, err := time.Parse(time.RFC3339, r.Time)
		if err == nil && r.Epoch == "latest" && !t.Before(net.ModTime().Truncate(time.Second)) {
			s.evaluated = true
		}
	}
	return s, nil
}

// runLine brings the run of a plan line to its end: trains it (or
// continues it), then evaluates it, skipping what is done. It returns
// whether the run is now trained and evaluated.
func runLine(line string, evalArgs []string, label string, stdout, stderr io.Writer) (bool, error) {
	r, err := parsePlanLine(line)
	if err != nil {
		return false, fmt.Errorf("%s: %v", line, err)
	}
	o := r.opts
	s, err := stateOf(o)
	if err != nil {
		return false, err
	}
	switch {
	case s.evaluated:
		fmt.Fprintf(stdout, "%s %s: trained and evaluated: skipped\n", label, o.name)
		return true, nil
	case s.trained:
		fmt.Fprintf(stdout, "%s %s: trained, not evaluated: evaluating\n", label, o.name)
	case s.started:
		fmt.Fprintf(stdout, "%s %s: continuing (%s)\n", label, o.name, s.position)
		if err := sub(runTrain, append(slices.Clip(r.args), "-continue_train"), stdout, stderr); err != nil {
			return false, fmt.Errorf("%s: %v", o.name, err)
		}
	default:
		fmt.Fprintf(stdout, "%s %s: training\n", label, o.name)
		if err := sub(runTrain, r.args, stdout, stderr); err != nil {
			return false, fmt.Errorf("%s: %v", o.name, err)
		}
	}
	if s, err = stateOf(o); err != nil {
		return false, err
	}
	if !s.trained {
		fmt.Fprintf(stdout, "%s %s: stopped at %s; run the sweep again to continue it\n", label, o.name, s.position)
		return false, nil
	}
	args := append([]string{"-name", o.name, "-checkpoints_dir", o.checkpointsDir, "-results_dir", o.resultsDir, "-quiet"}, evalArgs...)
	if err := sub(runEval, args, stdout, stderr); err != nil {
		return false, fmt.Errorf("%s: %v", o.name, err)
	}
	fmt.Fprintf(stdout, "%s %s: trained and evaluated\n", label, o.name)
	return true, nil
}

// sub runs a command in-process and turns its exit status into an error.
func sub(cmd func(args []string, stdout, stderr io.Writer) int, args []string, stdout, stderr io.Writer) error {
	if st := cmd(args, stdout, stderr); st != 0 {
		return fmt.Errorf("exit status %d", st)
	}
	return nil
}

// runPlan runs every line of a plan in turn. Ctrl-C stops the run in
// progress (train saves it) and the sweep after it.
func runPlan(p sweepPlan, folder string, stdout, stderr io.Writer) error {
	var stop atomic.Bool
	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt)
	defer func() {
		signal.Stop(interrupt)
		close(interrupt)
	}()
	go func() {
		if _, ok := <-interrupt; ok {
			stop.Store(true)
			signal.Stop(interrupt) // a second Ctrl-C ends the program
		}
	}()
	complete := 0
	began := time.Now()
	for i, line := range p.Lines {
		done, err := runLine(line, p.EvalArgs, fmt.Sprintf("[%d/%d]", i+1, len(p.Lines)), stdout, stderr)
		if err != nil {
			return fmt.Errorf("line %d of %s: %w", i, filepath.Join(folder, planFile), err)
		}
		if done {
			complete++
		}
		if stop.Load() {
			fmt.Fprintf(stdout, "sweep %s interrupted: run the same command again to continue\n", p.Sweep)
			return nil
		}
	}
	fmt.Fprintf(stdout, "sweep %s: %d of %d runs trained and evaluated (this call: %.0f s); compare them with: cyclegan compare -sweep %s\n",
		p.Sweep, complete, len(p.Lines), time.Since(began).Seconds(), p.Sweep)
	return nil
}

// runTask runs line k of a plan file: one task of the Slurm job array.
func runTask(path string, k int, stdout, stderr io.Writer) error {
	p, err := readPlan(path)
	if err != nil {
		return err
	}
	if k < 0 || k >= len(p.Lines) {
		return fmt.Errorf("-task %d: %s has lines 0…%d", k, path, len(p.Lines)-1)
	}
	if wd, err := os.Getwd(); err != nil || wd != p.Dir {
		return fmt.Errorf("sweep %s was made in %s, and its lines run there: run the task from that folder", p.Sweep, p.Dir)
	}
	_, err = runLine(p.Lines[k], p.EvalArgs, fmt.Sprintf("[task %d of %d]", k, len(p.Lines)), stdout, stderr)
	if err != nil {
		return fmt.Errorf("line %d of %s: %w", k, path, err)
	}
	return nil
}

// writeSbatch writes the Slurm job-array script of a sweep: task k runs
// line k of the plan with "cyclegan sweep -task k", from the folder the
// sweep was made in, with this binary (or $CYCLEGAN).
func writeSbatch(folder string, p sweepPlan, cpus int, timeLimit string, extra []string, stdout io.Writer) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return "", err
	}
	if strings.Contains(exe, "go-build") {
		fmt.Fprintf(stdout, "note: this binary (%s) looks temporary (go run): build one with 'go build -o cyclegan ./cmd/cyclegan' "+
			"and make the sweep with it, or set CYCLEGAN=/path/to/cyclegan when you submit\n", exe)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# cyclegan sweep %s: task k of the array runs line k (from 0) of %s, resumably, then its eval.\n",
		p.Sweep, filepath.Join(folder, planFile))
	fmt.Fprintf(&b, "#SBATCH --job-name=cyclegan-%s\n", p.Sweep)
	fmt.Fprintf(&b, "#SBATCH --array=0-%d\n", len(p.Lines)-1)
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", filepath.Join(folder, "logs", "%A_%a.out"))
	fmt.Fprintf(&b, "#SBATCH --chdir=%s\n", p.Dir)
	fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", cpus)
	fmt.Fprintf(&b, "#SBATCH --time=%s\n", timeLimit)
	for _, x := range extra {
		fmt.Fprintf(&b, "#SBATCH %s\n", x)
	}
	fmt.Fprintf(&b, "set -eu\n")
	fmt.Fprintf(&b, "CYCLEGAN=\"${CYCLEGAN:-%s}\"\n", exe)
	fmt.Fprintf(&b, "cd %s\n", shellQuote(p.Dir))
	fmt.Fprintf(&b, "exec \"$CYCLEGAN\" sweep -task \"$SLURM_ARRAY_TASK_ID\" %s\n", shellQuote(filepath.Join(folder, planFile)))
	path := filepath.Join(folder, sbatchFile)
	if err := writeText(path, b.String()); err != nil {
		return "", err
	}
	return path, os.Chmod(path, 0o755)
}

// shellQuote quotes a word for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && regexp.MustCompile(`^[A-Za-z0-9_./,:=+@%-]+$`).MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellJoin quotes and joins words into a command line.
func shellJoin(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shellQuote(w)
	}
	return strings.Join(q, " ")
}

// shellSplit splits a command line as a POSIX shell does for words with
// single quotes, double quotes and backslashes (no expansions).
func shellSplit(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
			continue
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unclosed ' in %q", line)
			}
			w.WriteString(line[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte(`"\$`+"`", line[i+1]) >= 0 {
					i++
				}
				w.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, fmt.Errorf("unclosed \" in %q", line)
			}
		case c == '\\' && i+1 < len(line):
			i++
			w.WriteByte(line[i])
		default:
			w.WriteByte(c)
		}
		inWord = true
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
