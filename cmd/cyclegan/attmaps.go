package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/cyclegan/report"
	"github.com/camcycle/camcycle/gradcam"
)

func runAttention(args []string, stdout, stderr io.Writer) int {
	o := defaultOptions()
	fs := newFlags("attention", gDataroot|gCrop|gDirs|gModel|gTest|gAttLayers, &o, stderr)
	fs.Lookup("att_layers").Usage = "the `layers` to draw: 18, 10,14,15,18, all (residual blocks), last, every (every layer of the generator);" +
		" default: the run's attention layers, or last"
	fs.Lookup("num_test").DefValue = "10"
	o.numTest = 10
	if st, ok := parse(fs, args, "attention", stderr); !ok {
		return st
	}
	if err := attentionMaps(fs, &o, stdout); err != nil {
		return failf(stderr, "attention", "%v", err)
	}
	return 0
}

// attentionMaps writes GradCAM heatmap overlays of generator layers: G_A
// scored by D_A on the A images, G_B scored by D_B on the B images (the
// thesis' figure 2.4 draws every layer), and an index.html grid.
func attentionMaps(fs *flag.FlagSet, o *options, stdout io.Writer) error {
	draw, err := testInputs(fs, o)
	if err != nil {
		return err
	}
	if draw.IsZero() {
		draw = gradcam.LastBlock()
	}
	m, err := loadModel(o, "G_A", "G_B", "D_A", "D_B")
	if err != nil {
		return err
	}
	idx, err := draw.Resolve(m.GA.Model)
	if err != nil {
		return fmt.Errorf("GradCAM maps to draw: %w", err)
	}
	d, err := openTestData(o)
	if err != nil {
		return err
	}
	var flat []string
	for _, l := range idx {
		if why := gradcam.FlatMap(m.GA.Model, l); why != "" {
			flat = append(flat, why)
		}
	}
	dir := o.resultDir(fs, "attention_")
	if err := freshImages(dir); err != nil {
		return err
	}
	page := report.Page{Title: fmt.Sprintf("GradCAM maps: %s, %s phase, epoch %s", o.name, o.phase, o.epoch),
		Notes: []string{"Each map: GradCAM of a generator layer, the score being the mean of the discriminator's output on the " +
			"generator's translation (docs/method.md §3); normalised to [0, 1], upsampled bilinearly to the image and coloured with the jet " +
			"colour map (blue low, red high) over it.",
			fmt.Sprintf("Data %s, images resized to %d×%d.", o.dataroot, o.cropSize, o.cropSize)}}
	if len(flat) > 0 {
		page.Notes = append(page.Notes, fmt.Sprintf("Flat maps by construction: %s. There %s (training refuses these layers).",
			strings.Join(flat, "; "), gradcam.ZeroMapWhy))
	}
	be := m.Opts.Backend
	for _, side := range []struct {
		heading, tag string
		g, d         *cyclegan.Network
		paths        []string
	}{
		{"G_A (A → B), scored by D_A, on " + o.phase + "A", "G_A", m.GA, m.DA, d.PathsA()},
		{"G_B (B → A), scored by D_B, on " + o.phase + "B", "G_B", m.GB, m.DB, d.PathsB()},
	} {
		sec := report.Section{Heading: side.heading, Columns: []string{"input", "translation"}}
		for _, l := range idx {
			sec.Columns = append(sec.Columns, fmt.Sprintf("%d %s", l, gradcam.LayerName(side.g.Model.Layers[l])))
		}
		paths := side.paths[:min(o.numTest, len(side.paths))]
		for _, p := range paths {
			x, err := data.LoadImage(p, o.cropSize)
			if err != nil {
				return err
			}
			x = x.To(be)
			overlays := camOverlays(side.g, side.d, x, idx)
			row := report.Row{Label: filepath.Base(p)}
			pics := []report.Picture{
				{Name: "input", Caption: "input", Image: data.TensorToImage(x)},
				{Name: "translation", Caption: "translation", Image: data.TensorToImage(cyclegan.Translate(side.g, x))},
			}
			for i, l := range idx {
				pics = append(pics, report.Picture{Name: fmt.Sprintf("layer%02d", l), Caption: fmt.Sprintf("layer %d", l), Image: overlays[i]})
			}
			for _, pic := range pics {
				src := fmt.Sprintf("images/%s_%s_%s.png", stem(p), side.tag, pic.Name)
				if err := report.SavePNG(filepath.Join(dir, src), pic.Image); err != nil {
					return err
				}
				row.Cells = append(row.Cells, report.Cell{Src: src, Caption: pic.Caption})
			}
			sec.Rows = append(sec.Rows, row)
		}
		fmt.Fprintf(stdout, "%s: %d images × %d layers\n", side.heading, len(paths), len(idx))
		page.Sections = append(page.Sections, sec)
	}
	path := filepath.Join(dir, "index.html")
	if err := page.Write(path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "heatmaps page: %s\n", path)
	return nil
}
