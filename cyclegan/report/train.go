package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/checkpoint"
)

// SavePNG writes img to path as PNG, atomically, making missing folders.
func SavePNG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error { return png.Encode(w, img) })
}

// Picture is one sample picture of an epoch.
type Picture struct {
	Name    string // part of the file name: "real_A" → images/epoch003_real_A.png
	Caption string
	Image   image.Image
}

// PictureRow is a labelled row of sample pictures ("translations",
// "GradCAM, layer 18").
type PictureRow struct {
	Label    string
	Pictures []Picture
}

// samplesEntry is the manifest's record of one epoch's samples.
type samplesEntry struct {
	Epoch int    `json:"epoch"`
	Iter  int    `json:"iter"`
	Label string `json:"label"`
	Rows  []Row  `json:"rows"`
}

// manifest is web/samples.json: the samples saved so far, by epoch.
const manifest = "samples.json"

// WebDir is the train page's folder in a run's checkpoint folder.
func WebDir(runDir string) string { return filepath.Join(runDir, "web") }

// SaveSamples saves the sample pictures of epoch (after iteration iter of
// the run) under runDir/web/images/epochNNN_{name}.png and records them in
// runDir/web/samples.json, replacing what an earlier call saved for the
// same epoch (a run stopped part-way through an epoch saves its samples
// then, and again at the epoch's end). label describes the moment
// ("epoch 3", "epoch 4, iteration 20 of 100").
func SaveSamples(runDir string, epoch, iter int, label string, rows []PictureRow) error {
	web := WebDir(runDir)
	e := samplesEntry{Epoch: epoch, Iter: iter, Label: label}
	for _, r := range rows {
		row := Row{Label: r.Label}
		for _, p := range r.Pictures {
			src := fmt.Sprintf("images/epoch%03d_%s.png", epoch, p.Name)
			if err := SavePNG(filepath.Join(web, src), p.Image); err != nil {
				return err
			}
			row.Cells = append(row.Cells, Cell{Src: src, Caption: p.Caption})
		}
		e.Rows = append(e.Rows, row)
	}
	entries, err := readManifest(web)
	if err != nil {
		return err
	}
	entries = slices.DeleteFunc(entries, func(o samplesEntry) bool { return o.Epoch == epoch })
	entries = append(entries, e)
	slices.SortFunc(entries, func(a, b samplesEntry) int { return a.Epoch - b.Epoch })
	raw, err := json.MarshalIndent(entries, "", " ")
	if err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(web, manifest), func(w io.Writer) error {
		_, err := w.Write(append(raw, '\n'))
		return err
	})
}

func readManifest(web string) ([]samplesEntry, error) {
	path := filepath.Join(web, manifest)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var entries []samplesEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return entries, nil
}

// TrainPage returns the train page of the run in runDir: the loss charts
// of its loss_log.jsonl and its saved samples up to the log's last
// iteration, newest epoch first.
func TrainPage(runDir, title string, notes []string) (Page, error) {
	recs, err := cyclegan.ReadLossLog(filepath.Join(runDir, cyclegan.LossLog))
	if err != nil {
		return Page{}, err
	}
	entries, err := readManifest(WebDir(runDir))
	if err != nil {
		return Page{}, err
	}
	p := Page{Title: title, Notes: notes, Charts: LossCharts(recs)}
	if len(recs) > 0 {
		last := recs[len(recs)-1]
		// Samples saved after the log's last iteration belong to a history
		// the run branched away from (-continue_train -epoch N -branch):
		// the page shows one history, the log's.
		entries = slices.DeleteFunc(entries, func(e samplesEntry) bool { return e.Iter > last.Iter })
		p.Notes = append(p.Notes, fmt.Sprintf("%d iterations logged; the last in epoch %d (iteration %d of the epoch).",
			last.Iter, last.Epoch, last.EpochIter))
	}
	for _, e := range slices.Backward(entries) {
		p.Sections = append(p.Sections, Section{Heading: fmt.Sprintf("%s (after iteration %d)", e.Label, e.Iter), Rows: e.Rows})
	}
	return p, nil
}

// WriteTrainPage writes the train page of the run in runDir to
// runDir/web/index.html and returns its path.
func WriteTrainPage(runDir, title string, notes []string) (string, error) {
	p, err := TrainPage(runDir, title, notes)
	if err != nil {
		return "", err
	}
	path := filepath.Join(WebDir(runDir), "index.html")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return path, p.Write(path)
}
