package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/cyclegan/report"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// runOptions are the options test and attention take from the run's
// train_opt.json when they are not given: those that shape the networks,
// the data set and the image size.
func runOptions() []string {
	return []string{"dataroot", "direction", "ngf", "ndf", "n_blocks", "n_layers_D", "netG", "netD", "norm", "no_dropout", "crop_size"}
}

// loadRunOptions fills the flags of fs not given explicitly from the run's
// saved options, and returns the run's attention layers (none when it has
// none; att_layers2 when it has a second stage, else att_layers).
func loadRunOptions(fs *flag.FlagSet, o *options) (gradcam.Layers, error) {
	given := explicit(fs)
	runLayers, err := loadSavedRunOptions(fs, o, given)
	if err != nil {
		return runLayers, err
	}
	return runLayers, o.resolveNets(given)
}

// loadSavedRunOptions is loadRunOptions before -netG and -netD are
// settled.
func loadSavedRunOptions(fs *flag.FlagSet, o *options, given map[string]bool) (gradcam.Layers, error) {
	var runLayers gradcam.Layers
	if !given["name"] && !given["dataroot"] && !given["model_path"] {
		fs.Set("name", "synthetic")
	}
	if err := o.checkRunExists(); err != nil {
		return runLayers, err
	}
	saved, err := readSavedOptions(o.checkpointDir())
	if err != nil || saved == nil {
		return runLayers, err
	}
	path := filepath.Join(o.checkpointDir(), optFile)
	if _, err := applySaved(fs, saved, given, path, runOptions()); err != nil {
		return runLayers, err
	}
	key := "att_layers"
	if saved["att_layers2"] != "" {
		key = "att_layers2"
	}
	if err := runLayers.Set(saved[key]); err != nil {
		return runLayers, fmt.Errorf("%s: option %s: %v", path, key, err)
	}
	return runLayers, nil
}

// loadModel returns a model with the options o whose networks named in
// nets ("G_A", …) are loaded from the run's checkpoint -epoch.
func loadModel(o *options, nets ...string) (*cyclegan.Model, error) {
	mo, err := o.modelOptions()
	if err != nil {
		return nil, err
	}
	if err := checkImageSize(mo, "crop_size", o.cropSize); err != nil {
		return nil, err
	}
	m, err := cyclegan.New(mo, 0)
	if err != nil {
		return nil, err
	}
	for i, n := range m.Nets() {
		name := cyclegan.NetNames[i]
		if !slices.Contains(nets, name) {
			continue
		}
		path := filepath.Join(o.checkpointDir(), fmt.Sprintf("%s_net_%s.safetensors", o.epoch, name))
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			// A run of the reference (or one exported) has .pth files.
			pth := strings.TrimSuffix(path, ".safetensors") + ".pth"
			if _, err := os.Stat(pth); err != nil {
				return nil, fmt.Errorf("no checkpoint %s (train first, or check -name, -epoch and -checkpoints_dir)", path)
			}
			path = pth
		}
		if err := checkpoint.LoadNetwork(path, n.State()); err != nil {
			return nil, fmt.Errorf("%w (are -ngf, -n_blocks, -ndf, -netG, -netD, -norm, -no_dropout those of the run?)", err)
		}
	}
	m.SetTraining(false)
	return m, nil
}

// stem is an image file's name without its extension: the outputs are
// named after their input.
func stem(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

func runTest(args []string, stdout, stderr io.Writer) int {
	o := defaultOptions()
	fs := newFlags("test", gDataroot|gCrop|gDirs|gModel|gTest|gAttLayers, &o, stderr)
	if st, ok := parse(fs, args, "test", stderr); !ok {
		return st
	}
	note, err := testModel(fs, &o)
	if err != nil {
		return failf(stderr, "test", "%v", err)
	}
	if note != "" {
		fmt.Fprintln(stdout, note)
	}
	if o.modelPath != "" {
		err = testSingle(fs, &o, stdout)
	} else {
		err = testRun(fs, &o, stdout)
	}
	if err != nil {
		return failf(stderr, "test", "%v", err)
	}
	return 0
}

// testModel checks the reference's options given to test (see
// refOptions) and settles what -model chooses: cycle_gan, both generators
// of the run -name; test, the reference's TestModel: the one generator
// CHECKPOINTS/NAME/{epoch}_net_G{model_suffix}.pth (or .safetensors) on
// the images of -dataroot, which becomes -model_path. It returns the note
// on ignored options.
func testModel(fs *flag.FlagSet, o *options) (string, error) {
	note, err := applyRefOptions(fs, "test")
	if err != nil {
		return "", err
	}
	given := explicit(fs)
	model, mode := refOptionValue(fs, "model"), refOptionValue(fs, "dataset_mode")
	single := model == "test" || o.modelPath != ""
	switch {
	case given["model_suffix"] && model != "test":
		return "", fmt.Errorf("-model_suffix %s: only with -model test", refOptionValue(fs, "model_suffix"))
	case given["dataset_mode"] && mode == "single" && !single:
		return "", fmt.Errorf("-dataset_mode single: only with -model test or -model_path (one generator, one folder of images)")
	case given["dataset_mode"] && mode == "unaligned" && single:
		return "", fmt.Errorf("-dataset_mode unaligned: -model test and -model_path translate one folder of images (single)")
	}
	if model != "test" || o.modelPath != "" {
		return note, nil
	}
	if !given["name"] {
		return "", fmt.Errorf("-model test needs -name: it loads CHECKPOINTS/NAME/%s_net_G%s.pth", o.epoch, refOptionValue(fs, "model_suffix"))
	}
	base := filepath.Join(o.checkpointDir(), fmt.Sprintf("%s_net_G%s", o.epoch, refOptionValue(fs, "model_suffix")))
	o.modelPath = base + ".pth"
	if _, err := os.Stat(o.modelPath); err != nil {
		if _, err := os.Stat(base + ".safetensors"); err != nil {
			return "", fmt.Errorf("-model test: no generator %s (nor .safetensors): check -name, -epoch, -model_suffix and -checkpoints_dir", o.modelPath)
		}
		o.modelPath = base + ".safetensors"
	}
	return note, nil
}

// printNetworks prints each network and its number of parameters, as the
// reference's print_networks with --verbose.
func printNetworks(w io.Writer, nets []*cyclegan.Network) {
	fmt.Fprintln(w, "---------- Networks initialized -------------")
	for i, n := range nets {
		count := 0
		for _, p := range n.Params() {
			count += p.Var.Value.Numel()
		}
		fmt.Fprintf(w, "%s\n[Network %s] Total number of parameters : %.3f M\n", n, cyclegan.NetNames[i], float64(count)/1e6)
	}
	fmt.Fprintln(w, "-----------------------------------------------")
}

// resultDir is the folder of a test or attention call's results:
// RESULTS/NAME/{prefix}{phase}_{epoch}, the reference's layout, with a
// suffix for each setting that makes another set of results: _nN for a
// -num_test other than the command's default, _layers-L for the layers
// drawn when -att_layers is given ("_n2", "_layers-every"). A call
// replaces its folder's results whole (see freshImages), so a folder holds
// the results of one configuration, and a call with another configuration
// leaves the others' folders alone.
func (o *options) resultDir(fs *flag.FlagSet, prefix string) string {
	base := fmt.Sprintf("%s%s_%s", prefix, o.phase, o.epoch)
	if f := fs.Lookup("num_test"); f != nil && f.Value.String() != f.DefValue {
		base += "_n" + f.Value.String()
	}
	if explicit(fs)["att_layers"] {
		base += "_layers-" + strings.ReplaceAll(o.drawLayers.String(), ",", "-")
	}
	return filepath.Join(o.resultsDir, o.name, base)
}

// freshImages removes the images of an earlier call with the same
// configuration from dir, so that its folder holds no image that its new
// page does not show. It is called once everything has been checked, just
// before the new images are written.
func freshImages(dir string) error {
	return os.RemoveAll(filepath.Join(dir, "images"))
}

// testInputs reads the run's saved options into o (loadRunOptions), checks
// what test and attention share, and returns the layers whose maps to draw:
// -att_layers if given, else the run's attention layers.
func testInputs(fs *flag.FlagSet, o *options) (gradcam.Layers, error) {
	runAtt, err := loadRunOptions(fs, o)
	if err != nil {
		return runAtt, err
	}
	if o.dataroot == "" {
		return runAtt, fmt.Errorf("no -dataroot, and %s has no %s naming it", o.checkpointDir(), optFile)
	}
	if o.numTest < 1 {
		return runAtt, fmt.Errorf("-num_test %d: must be at least 1", o.numTest)
	}
	if err := o.checkDirection(); err != nil {
		return runAtt, err
	}
	if !o.drawLayers.IsZero() {
		return o.drawLayers, nil
	}
	return runAtt, nil
}

// openTestData opens the -phase images of -dataroot, resized to
// -crop_size and not flipped, as the reference's test.
func openTestData(o *options) (*data.Unaligned, error) {
	do := data.TestOptions(o.dataroot, o.cropSize)
	do.Phase, do.BToA = o.phase, o.direction == "BtoA"
	return data.Open(do)
}

// testRun translates the test images of both domains with the run's
// generators: real | fake | reconstruction per image, and the GradCAM maps
// of the attention layers next to them.
func testRun(fs *flag.FlagSet, o *options, stdout io.Writer) error {
	draw, err := testInputs(fs, o)
	if err != nil {
		return err
	}
	nets := []string{"G_A", "G_B"}
	if !draw.IsZero() {
		nets = append(nets, "D_A", "D_B") // GradCAM scores with the discriminators
	}
	m, err := loadModel(o, nets...)
	if err != nil {
		return err
	}
	if refOptionValue(fs, "verbose") == "true" {
		printNetworks(stdout, m.Nets()[:2])
	}
	var idx []int
	if !draw.IsZero() {
		if idx, err = draw.Resolve(m.GA.Model); err != nil {
			return fmt.Errorf("GradCAM maps to draw: %w", err)
		}
	}
	d, err := openTestData(o)
	if err != nil {
		return err
	}
	be := m.Opts.Backend
	dir := o.resultDir(fs, "")
	if err := freshImages(dir); err != nil {
		return err
	}
	page := report.Page{Title: fmt.Sprintf("Test results: %s, %s phase, epoch %s", o.name, o.phase, o.epoch),
		Notes: []string{fmt.Sprintf("Data %s, images resized to %d×%d. Each row: the real image, its translation and the reconstruction from the translation.",
			o.dataroot, o.cropSize, o.cropSize)}}
	if len(idx) > 0 {
		page.Notes = append(page.Notes, fmt.Sprintf("GradCAM maps of layers %v, scored by the discriminator of the target domain: "+
			"the attention loss compares the map of the translation with that of the reconstruction.", idx))
	}
	for _, side := range []struct {
		heading          string
		paths            []string
		names            [3]string
		fromA            bool
		camNames, camCap [2]string
	}{
		{"A → B (G_A), reconstructed by G_B", d.PathsA(), [3]string{"real_A", "fake_B", "rec_A"}, true,
			[2]string{"G_A_real_A", "G_B_fake_B"}, [2]string{"cam G_A(real_A)", "cam G_B(fake_B)"}},
		{"B → A (G_B), reconstructed by G_A", d.PathsB(), [3]string{"real_B", "fake_A", "rec_B"}, false,
			[2]string{"G_B_real_B", "G_A_fake_A"}, [2]string{"cam G_B(real_B)", "cam G_A(fake_A)"}},
	} {
		sec := report.Section{Heading: side.heading, Columns: side.names[:]}
		for _, l := range idx {
			sec.Columns = append(sec.Columns, fmt.Sprintf("%s, layer %d", side.camCap[0], l), fmt.Sprintf("%s, layer %d", side.camCap[1], l))
		}
		paths := side.paths[:min(o.numTest, len(side.paths))]
		for _, p := range paths {
			x, err := data.LoadImage(p, o.cropSize)
			if err != nil {
				return err
			}
			x = x.To(be)
			var c cycle
			var imgs []*tensor.Tensor
			if side.fromA {
				c = translate(m, x, nil)
				imgs = []*tensor.Tensor{c.realA, c.fakeB, c.recA}
			} else {
				c = translate(m, nil, x)
				imgs = []*tensor.Tensor{c.realB, c.fakeA, c.recB}
			}
			row := report.Row{Label: filepath.Base(p)}
			for i, t := range imgs {
				src := fmt.Sprintf("images/%s_%s.png", stem(p), side.names[i])
				if err := report.SavePNG(filepath.Join(dir, src), data.TensorToImage(t)); err != nil {
					return err
				}
				row.Cells = append(row.Cells, report.Cell{Src: src, Caption: side.names[i]})
			}
			if len(idx) > 0 {
				for _, r := range mapRows(m, c, idx) {
					for _, pic := range r.Pictures {
						src := fmt.Sprintf("images/%s_%s.png", stem(p), pic.Name)
						if err := report.SavePNG(filepath.Join(dir, src), pic.Image); err != nil {
							return err
						}
						row.Cells = append(row.Cells, report.Cell{Src: src, Caption: pic.Caption})
					}
				}
			}
			sec.Rows = append(sec.Rows, row)
		}
		fmt.Fprintf(stdout, "%s: %d images\n", side.heading, len(paths))
		page.Sections = append(page.Sections, sec)
	}
	path := filepath.Join(dir, "index.html")
	if err := page.Write(path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "results page: %s\n", path)
	return nil
}

// inferGenerator reads ngf and the number of residual blocks from a
// generator's state dict: model.1.weight is (ngf, 3, 7, 7) and block i has
// model.{10+i}.conv_block.1.weight.
func inferGenerator(ts map[string]*tensor.Tensor) (ngf, nBlocks int, ok bool) {
	w, found := ts["model.1.weight"]
	if !found || w.Rank() != 4 {
		return 0, 0, false
	}
	for {
		if _, found := ts[fmt.Sprintf("model.%d.conv_block.1.weight", cyclegan.FirstBlock+nBlocks)]; !found {
			break
		}
		nBlocks++
	}
	return w.Dim(0), nBlocks, nBlocks > 0
}

// testSingle is the reference's test with --model_path and --dataset_mode
// single: one generator translates the images of a folder (-dataroot, or
// its {phase}A folder when it has one).
func testSingle(fs *flag.FlagSet, o *options, stdout io.Writer) error {
	given := explicit(fs)
	if !o.drawLayers.IsZero() {
		return fmt.Errorf("-att_layers needs the run's discriminators: use -name instead of -model_path")
	}
	if o.dataroot == "" {
		return fmt.Errorf("-model_path needs -dataroot, the folder of images to translate")
	}
	ts, err := checkpoint.LoadStateDict(o.modelPath)
	if err != nil {
		return err
	}
	if ngf, nb, ok := inferGenerator(ts); ok {
		if !given["ngf"] {
			o.ngf = ngf
		}
		if !given["n_blocks"] {
			o.nBlocks = nb
		}
	}
	// The norm and dropout show in the state dict: a batch norm has a
	// weight (an instance norm none, though old PyTorch versions saved its
	// running statistics), no norm leaves the convolutions without a bias,
	// and dropout moves a block's second convolution (a 4-d weight) to
	// conv_block.6.
	if w, ok := ts["model.2.weight"]; ok && w.Rank() == 1 && !given["norm"] {
		o.norm = string(layers.Batch)
	} else if _, ok := ts["model.1.bias"]; !ok && !given["norm"] {
		o.norm = string(layers.NoNorm)
	}
	if w, ok := ts[fmt.Sprintf("model.%d.conv_block.6.weight", cyclegan.FirstBlock)]; ok && w.Rank() == 4 && !given["no_dropout"] {
		o.noDropout = false
	}
	if err := o.resolveNets(given); err != nil {
		return err
	}
	if !given["name"] {
		o.name = stem(o.modelPath)
	}
	mo, err := o.modelOptions()
	if err != nil {
		return err
	}
	if err := checkImageSize(mo, "crop_size", o.cropSize); err != nil {
		return err
	}
	g := cyclegan.NewGenerator(layers.Init{Rand: tensor.NewRand(0), DType: mo.DType}, mo, tensor.NewRand(0))
	if err := checkpoint.LoadParams(g.State(), ts, o.modelPath); err != nil {
		return err
	}
	if mo.Backend != tensor.CPU {
		layers.MoveTo(g, mo.Backend, mo.DType)
	}
	folder := o.dataroot
	paths, err := data.ListImages(folder)
	if err != nil {
		sub := filepath.Join(o.dataroot, o.phase+"A")
		if st, serr := os.Stat(sub); serr == nil && st.IsDir() {
			folder = sub
			paths, err = data.ListImages(sub)
		}
		if err != nil {
			return err
		}
	}
	if o.numTest < 1 {
		return fmt.Errorf("-num_test %d: must be at least 1", o.numTest)
	}
	paths = paths[:min(o.numTest, len(paths))]
	dir := o.resultDir(fs, "")
	if err := freshImages(dir); err != nil {
		return err
	}
	sec := report.Section{Heading: "real → fake", Columns: []string{"real", "fake"}}
	for _, p := range paths {
		x, err := data.LoadImage(p, o.cropSize)
		if err != nil {
			return err
		}
		y := cyclegan.Translate(g, x.To(mo.Backend))
		row := report.Row{Label: filepath.Base(p)}
		for _, im := range []struct {
			name string
			t    *tensor.Tensor
		}{{"real", x}, {"fake", y}} {
			src := fmt.Sprintf("images/%s_%s.png", stem(p), im.name)
			if err := report.SavePNG(filepath.Join(dir, src), data.TensorToImage(im.t)); err != nil {
				return err
			}
			row.Cells = append(row.Cells, report.Cell{Src: src, Caption: im.name})
		}
		sec.Rows = append(sec.Rows, row)
	}
	page := report.Page{Title: fmt.Sprintf("Test results: %s", o.modelPath),
		Notes:    []string{fmt.Sprintf("Generator %s (ngf %d, %d blocks) on the images of %s, resized to %d×%d.", o.modelPath, o.ngf, o.nBlocks, folder, o.cropSize, o.cropSize)},
		Sections: []report.Section{sec}}
	path := filepath.Join(dir, "index.html")
	if err := page.Write(path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "translated %d images of %s with %s\nresults page: %s\n", len(paths), folder, o.modelPath, path)
	return nil
}
