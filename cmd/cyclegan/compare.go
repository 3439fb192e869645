package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/cyclegan/report"
	"github.com/camcycle/camcycle/gradcam"
)

func runCompare(args []string, stdout, stderr io.Writer) int {
	o := defaultOptions()
	fs := newFlags("compare", gDirs|gTest, &o, stderr)
	fs.Lookup("num_test").DefValue = "4"
	o.numTest = 4
	fs.Lookup("num_test").Usage = "test images per domain in the picture grids"
	out := fs.String("out", "", "the comparison's folder (default RESULTS/compare; with -sweep, SWEEPS_DIR/NAME/compare)")
	sweep := fs.String("sweep", "", "compare the runs of this sweep (cyclegan sweep): those of its plan that exist")
	sweepsDir := fs.String("sweeps_dir", "./sweeps", "the sweeps' folder")
	runs, st, ok := parseWithArgs(fs, args)
	if !ok {
		return st
	}
	var notes []string
	if *sweep != "" {
		if len(runs) > 0 {
			fmt.Fprintf(stderr, "cyclegan compare: -sweep %s compares the sweep's runs: name no runs (%q)\n", *sweep, runs[0])
			return 2
		}
		var err error
		if runs, notes, err = sweepRuns(fs, &o, filepath.Join(*sweepsDir, *sweep)); err != nil {
			return failf(stderr, "compare", "%v", err)
		}
		if *out == "" {
			*out = filepath.Join(*sweepsDir, *sweep, "compare")
		}
	}
	if len(runs) == 0 {
		fmt.Fprintln(stderr, "cyclegan compare: name the runs to compare: cyclegan compare RUN1 RUN2 …, or -sweep NAME")
		return 2
	}
	if *out == "" {
		*out = filepath.Join(o.resultsDir, "compare")
	}
	if err := compare(&o, runs, *out, notes, stdout); err != nil {
		return failf(stderr, "compare", "%v", err)
	}
	return 0
}

// sweepRuns returns the runs of the sweep in folder that have been
// started, in the plan's order, with notes on those that have not; the
// checkpoint and results folders are the plan's unless given.
func sweepRuns(fs *flag.FlagSet, o *options, folder string) (runs, notes []string, err error) {
	p, err := readPlan(filepath.Join(folder, planFile))
	if err != nil {
		return nil, nil, fmt.Errorf("-sweep: %w", err)
	}
	given := explicit(fs)
	for i, line := range p.Lines {
		r, err := parsePlanLine(line)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d of %s: %v", i, filepath.Join(folder, planFile), err)
		}
		if i == 0 {
			for k, v := range map[string]string{"checkpoints_dir": r.opts.checkpointsDir, "results_dir": r.opts.resultsDir} {
				if !given[k] {
					fs.Set(k, v)
				}
			}
		}
		if _, err := os.Stat(filepath.Join(o.checkpointsDir, r.opts.name, optFile)); err != nil {
			notes = append(notes, fmt.Sprintf("%s: not started", r.opts.name))
			continue
		}
		runs = append(runs, r.opts.name)
	}
	if len(runs) == 0 {
		return nil, nil, fmt.Errorf("no run of sweep %s has started yet (%d planned in %s)", p.Sweep, len(p.Lines), filepath.Join(folder, planFile))
	}
	return runs, notes, nil
}

// comparedRun is one run of a comparison: its options, its latest
// evaluation at the epoch, and its networks.
type comparedRun struct {
	name   string
	opts   options
	saved  map[string]string
	eval   *evalRow // nil when the run has not been evaluated at the epoch
	model  *cyclegan.Model
	layers []int // the GradCAM layer drawn under its translations
}

// compare writes the comparison page of runs: the table of their
// evaluations, in the layout of the thesis' table 3.1 with its figures
// beside ours where a run's preset is one of its experiments, and grids of
// the same test images translated by each run, its GradCAM map under each
// translation.
func compare(o *options, names []string, out string, notes []string, stdout io.Writer) error {
	if o.numTest < 1 {
		return fmt.Errorf("-num_test %d: must be at least 1", o.numTest)
	}
	var runs []*comparedRun
	for _, name := range names {
		r, err := openComparedRun(o, name)
		if err != nil {
			return err
		}
		runs = append(runs, r)
	}
	// The pictures come from the first run's test images, at its size.
	first := runs[0].opts
	d, err := openTestData(&first)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(out, "images")); err != nil {
		return err
	}
	agg, err := aggregateRuns(runs, o.epoch)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := agg.write(out); err != nil {
		return err
	}
	// The pictures: each group's first run when some group has several.
	pictured := runs
	if len(agg.Groups) < len(agg.Runs) {
		pictured = nil
		for _, r := range runs {
			if r.eval == nil || slices.ContainsFunc(agg.Groups, func(g group) bool { return g.Runs[0] == r.name }) {
				pictured = append(pictured, r)
			}
		}
		notes = append(notes, "The pictures show the first run of each group.")
	}
	page := report.Page{Title: "Comparison: " + strings.Join(names, ", "),
		Notes: append([]string{fmt.Sprintf("Epoch %s. FID and KID from each run's latest 'cyclegan eval' at that epoch (results/RUN/%s); "+
			"the thesis' figures beside those of runs whose attention options are one of its experiments. Lower is better. "+
			"The groups' figures are also in compare.json and compare.csv beside this page.", o.epoch, evalJSON)}, notes...),
		Tables: []report.Table{compareTable(runs), agg.table()}}
	var picturedNames []string
	for _, r := range pictured {
		picturedNames = append(picturedNames, r.name)
	}
	for _, side := range []struct {
		heading, suffix string
		fromA           bool
		paths           []string
	}{
		{"A → B: real_A, then G_A(real_A) of each run; under it cam G_A(real_A)", "A", true, d.PathsA()},
		{"B → A: real_B, then G_B(real_B) of each run; under it cam G_B(real_B)", "B", false, d.PathsB()},
	} {
		sec := report.Section{Heading: side.heading, Columns: append([]string{"real"}, picturedNames...)}
		for _, p := range side.paths[:min(o.numTest, len(side.paths))] {
			x, err := data.LoadImage(p, first.cropSize)
			if err != nil {
				return err
			}
			base := stem(p) + "_" + side.suffix
			realSrc := "images/" + base + "_real.png"
			if err := report.SavePNG(filepath.Join(out, realSrc), data.TensorToImage(x)); err != nil {
				return err
			}
			pics := report.Row{Label: filepath.Base(p), Cells: []report.Cell{{Src: realSrc, Caption: "real"}}}
			maps := report.Row{Label: "GradCAM", Cells: []report.Cell{{}}}
			for _, r := range pictured {
				g, dsc := r.model.GA, r.model.DA
				if !side.fromA {
					g, dsc = r.model.GB, r.model.DB
				}
				xr := x.To(r.model.Opts.Backend)
				src := fmt.Sprintf("images/%s_%s.png", base, r.name)
				if err := report.SavePNG(filepath.Join(out, src), data.TensorToImage(cyclegan.Translate(g, xr))); err != nil {
					return err
				}
				pics.Cells = append(pics.Cells, report.Cell{Src: src, Caption: r.name})
				cam := camOverlays(g, dsc, xr, r.layers)[0]
				src = fmt.Sprintf("images/%s_%s_cam%d.png", base, r.name, r.layers[0])
				if err := report.SavePNG(filepath.Join(out, src), cam); err != nil {
					return err
				}
				maps.Cells = append(maps.Cells, report.Cell{Src: src, Caption: fmt.Sprintf("layer %d", r.layers[0])})
			}
			sec.Rows = append(sec.Rows, pics, maps)
		}
		page.Sections = append(page.Sections, sec)
	}
	path := filepath.Join(out, "index.html")
	if err := page.Write(path); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(stdout, n)
	}
	fmt.Fprintf(stdout, "comparison page: %s (the groups' figures in compare.json, compare.csv)\n", path)
	return nil
}

// openComparedRun reads run name's options and latest evaluation at
// o.epoch and loads its networks.
func openComparedRun(base *options, name string) (*comparedRun, error) {
	// The run's own options, as test reads them, in the folders of the call.
	o := defaultOptions()
	fs := newFlags("compare", gDataroot|gCrop|gDirs|gModel, &o, io.Discard)
	for k, v := range map[string]string{"name": name, "checkpoints_dir": base.checkpointsDir, "results_dir": base.resultsDir,
		"epoch": base.epoch} {
		fs.Set(k, v)
	}
	runLayers, err := loadRunOptions(fs, &o)
	if err != nil {
		return nil, err
	}
	saved, err := readSavedOptions(o.checkpointDir())
	if err != nil {
		return nil, err
	}
	if saved == nil {
		return nil, fmt.Errorf("no run named %s in %s (no %s)", name, o.checkpointsDir, optFile)
	}
	r := &comparedRun{name: name, opts: o, saved: saved}
	rows, err := readEval(filepath.Join(o.resultsDir, name))
	if err != nil {
		return nil, err
	}
	for i := range rows {
		if rows[i].Epoch == o.epoch {
			r.eval = &rows[i]
		}
	}
	if r.model, err = loadModel(&o, "G_A", "G_B", "D_A", "D_B"); err != nil {
		return nil, err
	}
	// The map drawn: the deepest of the run's attention layers, or the last
	// residual block for a run without the loss.
	if runLayers.IsZero() {
		runLayers = gradcam.LastBlock()
	}
	idx, err := runLayers.Resolve(r.model.GA.Model)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.layers = []int{idx[len(idx)-1]}
	return r, nil
}

// compareTable is the thesis' table 3.1 for the runs: FID of each
// direction, KID×100, and the thesis' FID where the run's preset is one of
// its experiments on the same data set.
func compareTable(runs []*comparedRun) report.Table {
	t := report.Table{Heading: "FID and KID (lower is better)",
		Header: []string{"run", "preset", "data", "reference", "FID A→B", "FID B→A", "KID×100 A→B", "KID×100 B→A",
			"thesis FID A→B", "thesis FID B→A"}}
	presets := map[string]cyclegan.Preset{}
	for _, p := range cyclegan.Presets() {
		presets[p.Name] = p
	}
	for _, r := range runs {
		preset, dataset := matchPreset(r.saved), filepath.Base(r.opts.dataroot)
		row := []string{r.name, orDash(preset), dataset}
		if r.eval == nil {
			row = append(row, "not evaluated", "–", "–", "–", "–")
		} else {
			e := r.eval
			row = append(row, e.Reference, metric(e.A2B.FID, 1), metric(e.B2A.FID, 1), kidText(e.A2B), kidText(e.B2A))
		}
		if f, ok := presets[preset].ThesisFID[dataset]; ok {
			row = append(row, strconv.FormatFloat(f[0], 'f', 2, 64), strconv.FormatFloat(f[1], 'f', 2, 64))
		} else {
			row = append(row, "–", "–")
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
