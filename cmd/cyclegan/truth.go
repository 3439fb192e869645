package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/data"
)

// gtDirection is one direction's ground-truth metrics on the synthetic
// set, means over its test images (data.TruthScores defines them).
type gtDirection struct {
	Images        int      `json:"images"`
	Background    float64  `json:"background"`
	IoU           float64  `json:"iou"`
	Stripes       *float64 `json:"stripes,omitempty"`  // A→B only
	Flatness      *float64 `json:"flatness,omitempty"` // B→A only
	RecL1         float64  `json:"rec_l1"`
	RecIoU        float64  `json:"rec_iou"`
	RecBackground float64  `json:"rec_background"`
}

// gtScores are both directions' ground-truth metrics.
type gtScores struct{ A2B, B2A gtDirection }

// groundTruth scores the run's generators on the test sets of a synthetic
// data set against its truth: each test image translated and translated
// back, at size×size, which must be the set's size. It returns nil and no
// error when dataroot holds no synthetic set with ground truth.
func groundTruth(m *cyclegan.Model, dataroot string, size int, btoa bool) (*gtScores, error) {
	so, ok, err := data.ReadSynthetic(dataroot)
	if err != nil || !ok {
		return nil, err
	}
	if so.Size != size {
		return nil, fmt.Errorf("ground truth: the synthetic data set in %s is of %d×%d images and the run's crop size is %d: "+
			"its truth and masks are at the set's size (evaluate with -crop_size %d)", dataroot, so.Size, so.Size, size, so.Size)
	}
	// The set's directions are those of its folders; with -direction BtoA
	// the model's G_B translates testA to testB.
	ga, gb := m.GA, m.GB
	if btoa {
		ga, gb = gb, ga
	}
	var gt gtScores
	for _, side := range []struct {
		d        data.Direction
		g, back  *cyclegan.Network
		out      *gtDirection
		stripesA bool
	}{
		{data.AToB, ga, gb, &gt.A2B, true},
		{data.BToA, gb, ga, &gt.B2A, false},
	} {
		files, err := data.TruthFiles(dataroot, side.d)
		if err != nil {
			return nil, err
		}
		scores := make([]data.TruthScores, len(files))
		for i, f := range files {
			if scores[i], err = scoreTruthFile(m, side.g, side.back, side.d, so.StripePeriod, size, f); err != nil {
				return nil, err
			}
		}
		mean := data.MeanTruth(scores)
		*side.out = gtDirection{Images: mean.N, Background: mean.Background, IoU: mean.IoU,
			RecL1: mean.RecL1, RecIoU: mean.RecIoU, RecBackground: mean.RecBackground}
		if side.stripesA {
			side.out.Stripes = &mean.Stripes
		} else {
			side.out.Flatness = &mean.Flatness
		}
	}
	return &gt, nil
}

// scoreTruthFile translates one test image with g and back with back, and
// scores both against its truth.
func scoreTruthFile(m *cyclegan.Model, g, back *cyclegan.Network, d data.Direction, period, size int, f data.TruthFile) (data.TruthScores, error) {
	x, err := data.LoadImage(f.Input, size)
	if err != nil {
		return data.TruthScores{}, err
	}
	fake := cyclegan.Translate(g, x.To(m.Opts.Backend))
	rec := cyclegan.Translate(back, fake)
	in, err := data.ReadImage(f.Input)
	if err != nil {
		return data.TruthScores{}, err
	}
	truth, err := data.ReadImage(f.Truth)
	if err != nil {
		return data.TruthScores{}, err
	}
	mask, err := data.ReadMask(f.Mask)
	if err != nil {
		return data.TruthScores{}, err
	}
	s, err := data.ScoreTruth(d, period, data.TruthImages{Input: in, Output: data.TensorToImage(fake),
		Rec: data.TensorToImage(rec), Truth: truth, Mask: mask})
	if err != nil {
		return data.TruthScores{}, fmt.Errorf("%s: %w", f.Input, err)
	}
	return s, nil
}

// printGroundTruth prints, at the end of a training run on the synthetic
// set, its ground-truth metrics (nothing on other data). A failure is only
// a note on stderr: the training itself is done and saved.
func printGroundTruth(stdout, stderr io.Writer, m *cyclegan.Model, dataroot string, size int, btoa bool) {
	gt, err := groundTruth(m, dataroot, size, btoa)
	if err != nil {
		fmt.Fprintf(stderr, "cyclegan train: no ground-truth metrics: %v\n", err)
	}
	gt.print(stdout)
}

// print writes a line per direction; nothing for nil.
func (g *gtScores) print(w io.Writer) {
	if g != nil {
		fmt.Fprintln(w, g.A2B.line("A → B"))
		fmt.Fprintln(w, g.B2A.line("B → A"))
	}
}

// line is the direction's metrics in a sentence, what = "A→B" or "B→A".
func (g *gtDirection) line(what string) string {
	style := ""
	if g.Stripes != nil {
		style = fmt.Sprintf(", stripes %.3f", *g.Stripes)
	}
	if g.Flatness != nil {
		style = fmt.Sprintf(", flatness %.3f", *g.Flatness)
	}
	return fmt.Sprintf("ground truth %s (%d images): background %.3f, shape IoU %.3f%s; reconstruction L1 %.3f, IoU %.3f, background %.3f",
		what, g.Images, g.Background, g.IoU, style, g.RecL1, g.RecIoU, g.RecBackground)
}

// gtColumns are the ground-truth columns of eval.csv for direction d
// ("A2B" or "B2A"): stripes for A→B, flatness for B→A.
func gtColumns(d string) []string {
	style := "stripes"
	if d == "B2A" {
		style = "flatness"
	}
	cols := []string{"background", "iou", style, "rec_l1", "rec_iou", "rec_background"}
	for i, c := range cols {
		cols[i] = "gt_" + c + "_" + d
	}
	return cols
}

// csvCells returns the cells of gtColumns, empty for a row without ground
// truth.
func (g *gtDirection) csvCells() []string {
	if g == nil {
		return make([]string, len(gtColumns("A2B")))
	}
	style := g.Stripes
	if style == nil {
		style = g.Flatness
	}
	cells := []string{num(g.Background), num(g.IoU), "", num(g.RecL1), num(g.RecIoU), num(g.RecBackground)}
	if style != nil {
		cells[2] = num(*style)
	}
	return cells
}

// num formats a figure for eval.csv.
func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
