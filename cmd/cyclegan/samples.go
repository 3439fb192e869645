package main

import (
	"fmt"
	"image"
	"path/filepath"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/cyclegan/report"
	"github.com/camcycle/camcycle/gradcam"
	"github.com/camcycle/camcycle/tensor"
)

// cycle holds the translations of one pair of images:
// fake_B = G_A(real_A), rec_A = G_B(fake_B), fake_A = G_B(real_B),
// rec_B = G_A(fake_A). Either side may be nil.
type cycle struct {
	realA, fakeB, recA *tensor.Tensor
	realB, fakeA, recB *tensor.Tensor
}

// translate runs the generators on a (may be nil) and b (may be nil),
// each (1, 3, H, W) on the model's backend.
func translate(m *cyclegan.Model, a, b *tensor.Tensor) cycle {
	c := cycle{realA: a, realB: b}
	if a != nil {
		c.fakeB = cyclegan.Translate(m.GA, a)
		c.recA = cyclegan.Translate(m.GB, c.fakeB)
	}
	if b != nil {
		c.fakeA = cyclegan.Translate(m.GB, b)
		c.recB = cyclegan.Translate(m.GA, c.fakeA)
	}
	return c
}

// camOverlays returns the GradCAM map of each layer of generator g scored
// by discriminator d on x (1, 3, H, W), coloured and laid over x.
func camOverlays(g, d *cyclegan.Network, x *tensor.Tensor, idx []int) []image.Image {
	// In evaluation mode, as Translate: a batch norm's running statistics
	// are not moved by drawing, nor are dropout masks drawn.
	defer g.SetTraining(g.SetTraining(false))
	defer d.SetTraining(d.SetTraining(false))
	maps := gradcam.Heatmaps(g.Model, d.Model, x, idx)
	base := data.TensorToImage(x)
	out := make([]image.Image, len(maps))
	for i, mp := range maps {
		out[i] = gradcam.Overlay(base, mp.To(tensor.CPU), 0.5)
	}
	return out
}

// mapRows returns, for each layer, the row of the four maps the attention
// loss compares: cam_GA(real_A) with cam_GB(fake_B), and cam_GB(real_B)
// with cam_GA(fake_A).
func mapRows(m *cyclegan.Model, c cycle, idx []int) []report.PictureRow {
	type view struct {
		name, caption string
		g, d          *cyclegan.Network
		x             *tensor.Tensor
	}
	views := []view{
		{"G_A_real_A", "cam G_A(real_A)", m.GA, m.DA, c.realA},
		{"G_B_fake_B", "cam G_B(fake_B)", m.GB, m.DB, c.fakeB},
		{"G_B_real_B", "cam G_B(real_B)", m.GB, m.DB, c.realB},
		{"G_A_fake_A", "cam G_A(fake_A)", m.GA, m.DA, c.fakeA},
	}
	rows := make([]report.PictureRow, len(idx))
	for i, l := range idx {
		rows[i].Label = fmt.Sprintf("GradCAM, layer %d", l)
	}
	for _, v := range views {
		if v.x == nil {
			continue
		}
		imgs := camOverlays(v.g, v.d, v.x, idx)
		for i, l := range idx {
			rows[i].Pictures = append(rows[i].Pictures, report.Picture{
				Name: fmt.Sprintf("cam%d_%s", l, v.name), Caption: fmt.Sprintf("%s, layer %d", v.caption, l), Image: imgs[i]})
		}
	}
	return rows
}

// sampler saves the train page's samples: a fixed pair of images (the
// first test images of the data set, or the first training images when it
// has no test folders) translated at the end of every epoch.
type sampler struct {
	t    *cyclegan.Trainer
	a, b *tensor.Tensor
	dir  string
	pair string // the sample files, for the page
}

func newSampler(t *cyclegan.Trainer) (*sampler, error) {
	o := t.Opts.Data
	pa, pb := t.Data.PathsA()[0], t.Data.PathsB()[0]
	to := data.TestOptions(o.Dataroot, o.CropSize)
	to.BToA = o.BToA
	if d, err := data.Open(to); err == nil {
		pa, pb = d.PathsA()[0], d.PathsB()[0]
	}
	a, err := data.LoadImage(pa, o.CropSize)
	if err != nil {
		return nil, err
	}
	b, err := data.LoadImage(pb, o.CropSize)
	if err != nil {
		return nil, err
	}
	be := t.Model.Opts.Backend
	if be == nil {
		be = tensor.CPU
	}
	return &sampler{t: t, a: a.To(be), b: b.To(be), dir: t.Opts.Dir(),
		pair: filepath.Base(pa) + " and " + filepath.Base(pb)}, nil
}

// save translates the pair with the current weights and saves the
// pictures (and the maps of the attention layers in force) for epoch.
func (s *sampler) save(epoch, iter int, label string) error {
	m := s.t.Model
	c := translate(m, s.a, s.b)
	row := report.PictureRow{Label: "translations"}
	for _, p := range []struct {
		name string
		x    *tensor.Tensor
	}{{"real_A", c.realA}, {"fake_B", c.fakeB}, {"rec_A", c.recA}, {"real_B", c.realB}, {"fake_A", c.fakeA}, {"rec_B", c.recB}} {
		row.Pictures = append(row.Pictures, report.Picture{Name: p.name, Caption: p.name, Image: data.TensorToImage(p.x)})
	}
	rows := []report.PictureRow{row}
	if att := m.Attention.At(epoch); att != nil {
		rows = append(rows, mapRows(m, c, att.Layers())...)
	}
	return report.SaveSamples(s.dir, epoch, iter, label+" — "+s.pair, rows)
}
