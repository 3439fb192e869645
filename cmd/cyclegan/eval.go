package main

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/cyclegan/fid"
	"github.com/camcycle/camcycle/cyclegan/report"
)

// evalDirection is one direction of an evaluation: the translations of one
// test domain scored against the images of the other.
type evalDirection struct {
	FID      *float64 `json:"fid"`     // nil without the Inception weights
	KID      *float64 `json:"kid"`     // unbiased MMD² (×100 in tables)
	KIDStd   *float64 `json:"kid_std"` // its standard deviation over the subsets
	Fakes    int      `json:"fakes"`   // translated images
	Reals    int      `json:"reals"`   // reference images
	FakeDir  string   `json:"fake_dir"`
	RealDirs []string `json:"real_dirs"`
}

// evalRow is one evaluation of a run, a line of results/RUN/eval.csv and
// an element of eval.json.
type evalRow struct {
	Time          string            `json:"time"`
	Run           string            `json:"run"`
	Epoch         string            `json:"epoch"`
	Dataroot      string            `json:"dataroot"`
	Preset        string            `json:"preset"`    // the preset whose attention options the run has ("" for none)
	Attention     map[string]string `json:"attention"` // the run's -att_* options
	Reference     string            `json:"reference"` // test: the target domain's test images; all: all its images
	A2B           evalDirection     `json:"A2B"`       // G_A(testA) against B
	B2A           evalDirection     `json:"B2A"`       // G_B(testB) against A
	KIDSubsets    int               `json:"kid_subsets"`
	KIDSubsetSize int               `json:"kid_subset_size"`
	Weights       string            `json:"weights"`        // the Inception weights file ("" without)
	WeightsSHA256 string            `json:"weights_sha256"` // its SHA-256
	// The ground-truth metrics, on the synthetic data set only.
	GTA2B *gtDirection `json:"gt_A2B,omitempty"`
	GTB2A *gtDirection `json:"gt_B2A,omitempty"`
}

// evalFiles are the names of the evaluation records in results/RUN.
const (
	evalCSV  = "eval.csv"
	evalJSON = "eval.json"
)

func runEval(args []string, stdout, stderr io.Writer) int {
	o := defaultOptions()
	fs := newFlags("eval", gDataroot|gCrop|gDirs|gModel, &o, stderr)
	var f fidFlags
	f.register(fs, false)
	ref := fs.String("fid_ref", "test", "reference images of each target domain: test (its test folder, the usual protocol) or all (all its images, train and test, as the thesis compared)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if st, ok := parse(fs, args, "eval", stderr); !ok {
		return st
	}
	if err := evaluate(fs, &o, &f, *ref, *quiet, stdout, stderr); err != nil {
		return failf(stderr, "eval", "%v", err)
	}
	return 0
}

// evalDir is RESULTS/NAME/eval_{epoch}: the translations scored.
func (o *options) evalDir() string { return filepath.Join(o.resultsDir, o.name, "eval_"+o.epoch) }

// evaluate translates the whole test set of both domains with the run's
// generators, writes the translations as PNG, scores each direction with
// FID and KID against the target domain, on the synthetic data set also
// against the ground truth (groundTruth), and appends the row to the run's
// records. Without the Inception weights it still writes the translations
// and records the row, its FID and KID marked missing.
func evaluate(fs *flag.FlagSet, o *options, f *fidFlags, ref string, quiet bool, stdout, stderr io.Writer) error {
	if ref != "test" && ref != "all" {
		return fmt.Errorf("-fid_ref %q: want test or all", ref)
	}
	if _, err := loadRunOptions(fs, o); err != nil {
		return err
	}
	if o.dataroot == "" {
		return fmt.Errorf("no -dataroot, and %s has no %s naming it", o.checkpointDir(), optFile)
	}
	if err := o.checkDirection(); err != nil {
		return err
	}
	saved, err := readSavedOptions(o.checkpointDir())
	if err != nil {
		return err
	}
	m, err := loadModel(o, "G_A", "G_B")
	if err != nil {
		return err
	}
	d, err := openTestData(o)
	if err != nil {
		return err
	}
	// The Inception network first, so that a bad weights file stops before
	// the translations; a missing one only leaves the metrics out.
	net, err := f.loadInception(m.Opts.Backend)
	noWeights := errors.Is(err, errNoWeights)
	if err != nil && !noWeights {
		return err
	}
	if noWeights {
		fmt.Fprintf(stderr, "cyclegan eval: %v\ncyclegan eval: the translations are written; FID and KID are recorded as \"no weights\"\n", err)
	}
	row := evalRow{Time: time.Now().Format(time.RFC3339), Run: o.name, Epoch: o.epoch, Dataroot: o.dataroot,
		Preset: matchPreset(saved), Attention: savedAttention(saved), Reference: ref}
	if net != nil {
		row.Weights = f.weightsPath()
		if row.WeightsSHA256, err = fileSHA256(row.Weights); err != nil {
			return err
		}
		row.KIDSubsets, row.KIDSubsetSize = f.kidOpts.Subsets, f.kidOpts.SubsetSize
	}
	bar := newProgress(stderr, quiet)
	dir := o.evalDir()
	for _, side := range []struct {
		name      string
		g         *cyclegan.Network
		inputs    []string
		target    string // the target domain's letter
		direction *evalDirection
	}{
		{"fake_B", m.GA, d.PathsA(), "B", &row.A2B},
		{"fake_A", m.GB, d.PathsB(), "A", &row.B2A},
	} {
		fakes, err := translateAll(m, side.g, side.inputs, o.cropSize, filepath.Join(dir, side.name), bar)
		if err != nil {
			return err
		}
		side.direction.Fakes, side.direction.FakeDir = len(fakes), filepath.Join(dir, side.name)
		folder := side.target // the target domain's folder letter: swapped by -direction BtoA
		if o.direction == "BtoA" {
			folder = map[string]string{"A": "B", "B": "A"}[folder]
		}
		realDirs := []string{filepath.Join(o.dataroot, "test"+folder)}
		if ref == "all" {
			realDirs = append([]string{filepath.Join(o.dataroot, "train"+folder)}, realDirs...)
		}
		side.direction.RealDirs = realDirs
		realPaths, err := listImagesIn(realDirs)
		if err != nil {
			return err
		}
		side.direction.Reals = len(realPaths)
		if net == nil {
			continue
		}
		real, err := referenceStats(net, realPaths, row.WeightsSHA256, f.batchSize, filepath.Join(o.resultsDir, "fid_stats"), bar)
		if err != nil {
			return err
		}
		fake, err := imageStats(net, len(fakes), func(i int) (*image.RGBA, error) { return fakes[i], nil }, f.batchSize, bar,
			side.name+" of "+o.name)
		if err != nil {
			return err
		}
		fd, err := fid.Frechet(fake, real)
		if err != nil {
			return err
		}
		k, err := fid.KID(fake.Features, real.Features, f.kidOpts)
		if err != nil {
			return err
		}
		side.direction.FID, side.direction.KID, side.direction.KIDStd = &fd, &k.Mean, &k.Std
		row.KIDSubsetSize = k.SubsetSize
	}
	gt, err := groundTruth(m, o.dataroot, o.cropSize, o.direction == "BtoA")
	if err != nil {
		return err
	}
	if gt != nil {
		row.GTA2B, row.GTB2A = &gt.A2B, &gt.B2A
	}
	if err := appendEval(filepath.Join(o.resultsDir, o.name), row); err != nil {
		return err
	}
	for _, r := range []struct {
		what string
		d    evalDirection
	}{{"A → B", row.A2B}, {"B → A", row.B2A}} {
		fmt.Fprintf(stdout, "%s: %d translations in %s; FID %s, KID×100 %s (against %d images of %v)\n", r.what, r.d.Fakes, r.d.FakeDir,
			metric(r.d.FID, 1), kidText(r.d), r.d.Reals, r.d.RealDirs)
	}
	gt.print(stdout)
	fmt.Fprintf(stdout, "recorded in %s and %s\n", filepath.Join(o.resultsDir, o.name, evalCSV), filepath.Join(o.resultsDir, o.name, evalJSON))
	return nil
}

// translateAll translates the images at paths with generator g (resized to
// size×size, as the test command does), writes each as dir/{stem}.png
// (replacing the folder whole) and returns the translations as 8-bit
// pictures, the values their PNG files hold.
func translateAll(m *cyclegan.Model, g *cyclegan.Network, paths []string, size int, dir string, bar *progress) ([]*image.RGBA, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	bar.start("translating into "+dir, len(paths), 0)
	defer bar.finish()
	out := make([]*image.RGBA, len(paths))
	for i, p := range paths {
		x, err := data.LoadImage(p, size)
		if err != nil {
			return nil, err
		}
		out[i] = data.TensorToImage(cyclegan.Translate(g, x.To(m.Opts.Backend)))
		if err := report.SavePNG(filepath.Join(dir, stem(p)+".png"), out[i]); err != nil {
			return nil, err
		}
		bar.add()
	}
	return out, nil
}

// listImagesIn lists the images directly in each of dirs, in order.
func listImagesIn(dirs []string) ([]string, error) {
	var paths []string
	for _, d := range dirs {
		ps, err := data.ListImagesIn(d)
		if err != nil {
			return nil, err
		}
		paths = append(paths, ps...)
	}
	return paths, nil
}

// referenceStats returns the statistics (with features) of the images at
// paths, from a cache file in cacheDir when the same files were scored with
// the same weights before, else computed and cached.
func referenceStats(net *fid.Inception, paths []string, weightsSHA string, batch int, cacheDir string, bar *progress) (fid.Stats, error) {
	// The cache key: the weights and every file's path, size and time.
	h := sha256.New()
	fmt.Fprintln(h, weightsSHA)
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return fid.Stats{}, err
		}
		abs, _ := filepath.Abs(p)
		fmt.Fprintf(h, "%s\t%d\t%d\n", abs, st.Size(), st.ModTime().UnixNano())
	}
	cache := filepath.Join(cacheDir, hex.EncodeToString(h.Sum(nil))[:20]+".npz")
	if st, err := fid.ReadStats(cache); err == nil && st.Features != nil && st.N == len(paths) {
		return st, nil
	}
	st, err := imageStats(net, len(paths), func(i int) (*image.RGBA, error) { return data.ReadImage(paths[i]) }, batch, bar,
		fmt.Sprintf("%d real images", len(paths)))
	if err != nil {
		return fid.Stats{}, err
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return fid.Stats{}, err
	}
	if err := st.WriteNPZ(cache); err != nil {
		return fid.Stats{}, err
	}
	return st, nil
}

// fileSHA256 returns the SHA-256 of a file, in hex.
func fileSHA256(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// savedAttention returns the -att_* options of a run's saved options.
func savedAttention(saved map[string]string) map[string]string {
	att := map[string]string{}
	for _, f := range attFlags() {
		if v, ok := saved[f.name]; ok {
			att[f.name] = v
		}
	}
	return att
}

// matchPreset returns the name of the preset whose attention options a run
// was trained with (for its depth and length), or "" when none matches.
// Options missing from an old train_opt.json count as their defaults.
func matchPreset(saved map[string]string) string {
	nBlocks, err1 := strconv.Atoi(saved["n_blocks"])
	nEpochs, err2 := strconv.Atoi(saved["n_epochs"])
	decay, err3 := strconv.Atoi(saved["n_epochs_decay"])
	if err1 != nil || err2 != nil || err3 != nil {
		return ""
	}
	def := attFlagValues(cyclegan.DefaultAttention())
	for _, p := range cyclegan.Presets() {
		want := attFlagValues(p.Options(nBlocks, nEpochs+decay))
		same := true
		for _, f := range attFlags() {
			got, ok := saved[f.name]
			if !ok {
				got = def[f.name]
			}
			same = same && got == want[f.name]
		}
		if same {
			return p.Name
		}
	}
	return ""
}

// metric formats a figure, scaled, or "no weights" when it is missing.
func metric(v *float64, scale float64) string {
	if v == nil {
		return "no weights"
	}
	return strconv.FormatFloat(scale**v, 'f', 2, 64)
}

// kidText is KID×100 ± std×100.
func kidText(d evalDirection) string {
	if d.KID == nil {
		return "no weights"
	}
	return metric(d.KID, 100) + " ± " + metric(d.KIDStd, 100)
}

// evalColumns are the columns of eval.csv: the run, its attention flags (in
// attFlags' order), the reference, each direction's figures, and the
// ground-truth metrics (gtColumns).
func evalColumns() []string {
	cols := []string{"time", "run", "epoch", "dataroot", "preset"}
	for _, f := range attFlags() {
		cols = append(cols, f.name)
	}
	cols = append(cols, "reference")
	for _, d := range []string{"A2B", "B2A"} {
		for _, c := range []string{"fid", "kid", "kid_std", "fakes", "reals"} {
			cols = append(cols, c+"_"+d)
		}
	}
	cols = append(cols, "kid_subsets", "kid_subset_size", "weights_sha256")
	return append(append(cols, gtColumns("A2B")...), gtColumns("B2A")...)
}

// csvCells returns the row's cells in evalColumns' order; missing FID and
// KID read "no weights", missing ground-truth metrics are empty.
func (r evalRow) csvCells() []string {
	opt := func(v *float64) string {
		if v == nil {
			return "no weights"
		}
		return num(*v)
	}
	cells := []string{r.Time, r.Run, r.Epoch, r.Dataroot, r.Preset}
	for _, f := range attFlags() {
		cells = append(cells, r.Attention[f.name])
	}
	cells = append(cells, r.Reference)
	for _, d := range []evalDirection{r.A2B, r.B2A} {
		cells = append(cells, opt(d.FID), opt(d.KID), opt(d.KIDStd), strconv.Itoa(d.Fakes), strconv.Itoa(d.Reals))
	}
	cells = append(cells, strconv.Itoa(r.KIDSubsets), strconv.Itoa(r.KIDSubsetSize), r.WeightsSHA256)
	return append(append(cells, r.GTA2B.csvCells()...), r.GTB2A.csvCells()...)
}

// readEval returns the rows of dir/eval.json (none when it does not
// exist).
func readEval(dir string) ([]evalRow, error) {
	path := filepath.Join(dir, evalJSON)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rows []evalRow
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return rows, nil
}

// appendEval adds row to dir/eval.json and dir/eval.csv (with a header
// when new); each file is rewritten whole, atomically, so an error leaves
// the earlier records.
func appendEval(dir string, row evalRow) error {
	rows, err := readEval(dir)
	if err != nil {
		return err
	}
	rows = append(rows, row)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return err
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, evalJSON), func(w io.Writer) error {
		_, err := w.Write(append(raw, '\n'))
		return err
	}); err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, evalCSV), func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(evalColumns())
		for _, r := range rows {
			cw.Write(r.csvCells())
		}
		cw.Flush()
		return cw.Error()
	})
}
