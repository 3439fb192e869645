package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"os"
	"strings"

	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/cyclegan/fid"
	"github.com/camcycle/camcycle/tensor"
)

// fidFlags are the options of fid and eval that say how images are scored.
type fidFlags struct {
	weights   string // pytorch-fid's Inception weights; "" for fid.DefaultWeightsPath()
	batchSize int
	kid       bool // fid: also KID (eval always computes it)
	kidOpts   fid.KIDOptions
}

// register adds the flags to fs; kidFlag adds -kid (fid's choice).
func (f *fidFlags) register(fs *flag.FlagSet, kidFlag bool) {
	fs.StringVar(&f.weights, "weights", "", "pytorch-fid's Inception weights "+fid.InceptionWeightsFile+" (default: "+fid.DefaultWeightsPath()+", where pytorch-fid keeps them)")
	fs.IntVar(&f.batchSize, "batch_size", 50, "images per batch of the Inception network (pytorch-fid's default)")
	d := fid.DefaultKIDOptions()
	f.kidOpts = d
	fs.IntVar(&f.kidOpts.Subsets, "kid_subsets", d.Subsets, "KID: number of random subsets")
	fs.IntVar(&f.kidOpts.SubsetSize, "kid_subset_size", d.SubsetSize, "KID: images per subset (capped at the smaller set)")
	if kidFlag {
		fs.BoolVar(&f.kid, "kid", false, "also print KID (the unbiased MMD² of the polynomial kernel over subsets, mean ± std)")
	}
}

// weightsPath is -weights or the default location.
func (f *fidFlags) weightsPath() string {
	if f.weights != "" {
		return f.weights
	}
	return fid.DefaultWeightsPath()
}

// errNoWeights says the Inception weights are missing.
var errNoWeights = errors.New("no Inception weights")

// loadInception reads the weights, or returns an error wrapping
// errNoWeights that says what the file is and where to put it.
func (f *fidFlags) loadInception(be tensor.Backend) (*fid.Inception, error) {
	path := f.weightsPath()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist. FID and KID use pytorch-fid's Inception-v3 weights, the file %s "+
			"(about 92 MB), from %s: download it and put it there, or pass its path with -weights",
			errNoWeights, path, fid.InceptionWeightsFile, fid.InceptionWeightsURL)
	}
	return fid.LoadInception(path, be)
}

// scoreSet is the features and statistics of one side of a comparison.
type scoreSet struct {
	what  string // the folder or file, for messages
	stats fid.Stats
}

// folderStats computes the statistics of the images of a folder (directly
// in it, as pytorch-fid lists one), keeping the features for KID.
func folderStats(m *fid.Inception, dir string, batch int, bar *progress) (fid.Stats, error) {
	paths, err := data.ListImagesIn(dir)
	if err != nil {
		return fid.Stats{}, err
	}
	return imageStats(m, len(paths), func(i int) (*image.RGBA, error) { return data.ReadImage(paths[i]) }, batch, bar, dir)
}

// imageStats computes the statistics (with the features) of n images.
func imageStats(m *fid.Inception, n int, load func(i int) (*image.RGBA, error), batch int, bar *progress, what string) (fid.Stats, error) {
	bar.start("Inception features of "+what, n, 0)
	last := 0
	feats, err := m.FeaturesOf(n, load, batch, func(done int) {
		for ; last < done; last++ {
			bar.add()
		}
	})
	bar.finish()
	if err != nil {
		return fid.Stats{}, err
	}
	st, err := fid.NewStats(feats)
	if err != nil {
		return fid.Stats{}, fmt.Errorf("%s: %w", what, err)
	}
	st.Features = feats
	return st, nil
}

// loadSet reads a statistics file (.npz) or scores a folder of images.
func loadSet(m func() (*fid.Inception, error), path string, batch int, bar *progress) (scoreSet, error) {
	if strings.HasSuffix(strings.ToLower(path), ".npz") {
		st, err := fid.ReadStats(path)
		return scoreSet{what: path, stats: st}, err
	}
	net, err := m()
	if err != nil {
		return scoreSet{}, err
	}
	st, err := folderStats(net, path, batch, bar)
	return scoreSet{what: path, stats: st}, err
}

// kidOf returns KID between two sets, or an error saying which has no
// features.
func kidOf(a, b scoreSet, o fid.KIDOptions) (fid.KIDResult, error) {
	for _, s := range []scoreSet{a, b} {
		if s.stats.Features == nil {
			return fid.KIDResult{}, fmt.Errorf("KID needs the features of each set, and %s holds only statistics "+
				"(write it with 'cyclegan fid -save_stats', which keeps them)", s.what)
		}
	}
	return fid.KID(a.stats.Features, b.stats.Features, o)
}

func runFID(args []string, stdout, stderr io.Writer) int {
	o := defaultOptions()
	fs := newFlags("fid", gDevice, &o, stderr)
	var f fidFlags
	f.register(fs, true)
	saveStats := fs.Bool("save_stats", false, "write the statistics of the folder PATH1 to the file PATH2 (.npz, as pytorch-fid --save-stats, with the features)")
	paths, st, ok := parseWithArgs(fs, args)
	if !ok {
		return st
	}
	if len(paths) != 2 {
		fmt.Fprintf(stderr, "cyclegan fid: want two paths (folders of images or .npz statistics files), got %d\n", len(paths))
		return 2
	}
	if err := runFIDPaths(&o, &f, *saveStats, paths, stdout, stderr); err != nil {
		return failf(stderr, "fid", "%v", err)
	}
	return 0
}

// runFIDPaths is the fid command on parsed flags.
func runFIDPaths(o *options, f *fidFlags, saveStats bool, paths []string, stdout, stderr io.Writer) error {
	be, err := o.deviceBackend()
	if err != nil {
		return err
	}
	var net *fid.Inception
	model := func() (*fid.Inception, error) {
		if net == nil {
			var err error
			if net, err = f.loadInception(be); err != nil {
				return nil, err
			}
		}
		return net, nil
	}
	// Check the folders before reading 92 MB of weights (with -save_stats
	// the second path is the file to write).
	inputs := paths
	if saveStats {
		inputs = paths[:1]
	}
	for _, p := range inputs {
		if !strings.HasSuffix(strings.ToLower(p), ".npz") {
			if _, err := data.ListImagesIn(p); err != nil {
				return err
			}
		}
	}
	bar := newProgress(stderr, false)
	if saveStats {
		if strings.HasSuffix(strings.ToLower(paths[0]), ".npz") {
			return fmt.Errorf("-save_stats: %s is a statistics file already; give a folder of images", paths[0])
		}
		s, err := loadSet(model, paths[0], f.batchSize, bar)
		if err != nil {
			return err
		}
		if err := s.stats.WriteNPZ(paths[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "statistics of %d images of %s written to %s\n", s.stats.N, paths[0], paths[1])
		return nil
	}
	var sets [2]scoreSet
	for i, p := range paths {
		if sets[i], err = loadSet(model, p, f.batchSize, bar); err != nil {
			return err
		}
	}
	d, err := fid.Frechet(sets[0].stats, sets[1].stats)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "FID: ", d) // pytorch-fid's line, word for word
	if f.kid {
		k, err := kidOf(sets[0], sets[1], f.kidOpts)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "KID:  %v ± %v (×100: %.2f ± %.2f; %d subsets of %d)\n", k.Mean, k.Std, 100*k.Mean, 100*k.Std,
			f.kidOpts.Subsets, k.SubsetSize)
	}
	return nil
}

// parseWithArgs parses flags that may come before, between or after the
// positional arguments (pytorch-fid's "path1 path2 --batch-size 50"), and
// returns those arguments.
func parseWithArgs(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, 0, false
			}
			return nil, 2, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
