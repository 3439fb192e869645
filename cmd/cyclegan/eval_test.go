package main

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camcycle/camcycle/cyclegan/data"
	"github.com/camcycle/camcycle/internal/fidtest"
)

// fidWeights writes the tests' stand-in for pytorch-fid's Inception weights
// (internal/fidtest: every tensor from a formula) as a .safetensors file
// and returns its path.
func fidWeights(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inception.safetensors")
	if err := fidtest.SaveWeights(filepath.Join("..", "..", fidtest.GoldenFile), path); err != nil {
		t.Fatal(err)
	}
	return path
}

// fidValue reads the number of fid's "FID:  v" line.
func fidValue(t *testing.T, out string) float64 {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "FID:  "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("FID line %q: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no FID line in %q", out)
	return 0
}

// TestFIDCommand: FID between two folders, printed as pytorch-fid prints
// it, with the flags before or after the paths; a folder against itself
// gives 0; statistics saved by -save_stats give the same FID as the folder;
// -kid prints KID; a missing weights file is explained.
func TestFIDCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("Inception-v3 forwards")
	}
	w := newWorld(t)
	weights := fidWeights(t)
	a, b := filepath.Join(w.dataroot, "testA"), filepath.Join(w.dataroot, "testB")
	ab := fidValue(t, mustCLI(t, "fid", "-weights", weights, a, b))
	if !(ab > 0) {
		t.Errorf("FID(testA, testB) = %v, want > 0", ab)
	}
	if v := fidValue(t, mustCLI(t, "fid", a, a, "-weights", weights)); math.Abs(v) > 1e-9 {
		t.Errorf("FID of a folder against itself = %v, want 0", v)
	}
	stats := filepath.Join(t.TempDir(), "testB.npz")
	mustCLI(t, "fid", "-weights", weights, "-save_stats", b, stats)
	if v := fidValue(t, mustCLI(t, "fid", "-weights", weights, a, stats)); math.Abs(v-ab) > 1e-9*ab {
		t.Errorf("FID against the saved statistics %v, against the folder %v", v, ab)
	}
	out := mustCLI(t, "fid", "-weights", weights, "-kid", a, stats)
	if !strings.Contains(out, "KID:  ") || !strings.Contains(out, "subsets of 2") {
		t.Errorf("fid -kid printed %q", out)
	}
	missing := filepath.Join(t.TempDir(), "nothing.pth")
	code, _, errOut := cli(t, "fid", "-weights", missing, a, b)
	for _, s := range []string{missing, "pt_inception-2015-12-05-6726825d.pth", "https://github.com/mseitzer/pytorch-fid/releases", "-weights"} {
		if code != 1 || !strings.Contains(errOut, s) {
			t.Errorf("missing weights: exit %d, stderr %q does not say %q", code, errOut, s)
		}
	}
	if code, _, _ := cli(t, "fid", "-weights", weights, a); code != 2 {
		t.Errorf("one path: exit %d, want 2", code)
	}
}

// readEvalCSV reads a run's eval.csv as records keyed by column.
func readEvalCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, k := range recs[0] {
			m[k] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}

// TestEvalCommand evaluates a tiny run: every test image translated and
// written, FID and KID of both directions recorded in eval.csv and
// eval.json, FID equal to that of the fid command on the same folders, the
// run's preset recognised, the real images' statistics cached and reused;
// -fid_ref all adds the training images; without the weights file the
// translations are still written and the metrics read "no weights".
func TestEvalCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("Inception-v3 forwards")
	}
	w := trained(t, "-preset", "gradcam")
	weights := fidWeights(t)
	evalArgs := []string{"eval", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "r", "-weights", weights, "-quiet"}
	out := mustCLI(t, evalArgs...)
	dir := filepath.Join(w.results, "r")
	fakes, _ := filepath.Glob(filepath.Join(dir, "eval_latest", "fake_B", "*.png"))
	if len(fakes) != 2 {
		t.Fatalf("%d translations in fake_B, want the 2 test images; output:\n%s", len(fakes), out)
	}
	rows := readEvalCSV(t, filepath.Join(dir, evalCSV))
	if len(rows) != 1 {
		t.Fatalf("eval.csv holds %d rows, want 1", len(rows))
	}
	r := rows[0]
	if r["preset"] != "gradcam" || r["att_layers"] != "last" || r["reference"] != "test" || r["fakes_A2B"] != "2" || r["reals_A2B"] != "2" {
		t.Errorf("row %v", r)
	}
	fid, err := strconv.ParseFloat(r["fid_A2B"], 64)
	if err != nil || !(fid > 0) {
		t.Fatalf("fid_A2B %q", r["fid_A2B"])
	}
	if _, err := strconv.ParseFloat(r["kid_B2A"], 64); err != nil {
		t.Errorf("kid_B2A %q", r["kid_B2A"])
	}
	sha, err := fileSHA256(weights)
	if err != nil || r["weights_sha256"] != sha {
		t.Errorf("weights_sha256 %q, want %q", r["weights_sha256"], sha)
	}
	direct := fidValue(t, mustCLI(t, "fid", "-weights", weights, filepath.Join(dir, "eval_latest", "fake_B"), filepath.Join(w.dataroot, "testB")))
	if math.Abs(direct-fid) > 1e-9*fid {
		t.Errorf("eval's FID %v, fid's on the same folders %v", fid, direct)
	}
	cached, _ := filepath.Glob(filepath.Join(w.results, "fid_stats", "*.npz"))
	if len(cached) != 2 {
		t.Errorf("%d cached statistics, want 2 (testA, testB)", len(cached))
	}
	// Again: the cached statistics are read, not written anew.
	times := map[string]time.Time{}
	for _, c := range cached {
		st, _ := os.Stat(c)
		times[c] = st.ModTime()
	}
	mustCLI(t, evalArgs...)
	for _, c := range cached {
		if st, _ := os.Stat(c); !st.ModTime().Equal(times[c]) {
			t.Errorf("%s was written again: the cache was not used", c)
		}
	}
	mustCLI(t, append(evalArgs, "-fid_ref", "all")...)
	rows = readEvalCSV(t, filepath.Join(dir, evalCSV))
	if len(rows) != 3 || rows[1]["fid_A2B"] != r["fid_A2B"] || rows[2]["reference"] != "all" || rows[2]["reals_A2B"] != "6" {
		t.Errorf("after a second eval and -fid_ref all: %v", rows)
	}
	cached, _ = filepath.Glob(filepath.Join(w.results, "fid_stats", "*.npz"))
	if len(cached) != 4 {
		t.Errorf("%d cached statistics, want 4", len(cached))
	}
	evals, err := readEval(dir)
	if err != nil || len(evals) != 3 || evals[0].A2B.FID == nil || *evals[0].A2B.FID != fid {
		t.Errorf("eval.json: %v, %+v", err, evals)
	}

	// Without the weights.
	evalArgs[len(evalArgs)-2] = filepath.Join(t.TempDir(), "none.pth")
	code, out, errOut := cli(t, evalArgs...)
	if code != 0 || !strings.Contains(errOut, "none.pth") || !strings.Contains(out, "FID no weights") {
		t.Errorf("eval without weights: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	rows = readEvalCSV(t, filepath.Join(dir, evalCSV))
	if len(rows) != 4 || rows[3]["fid_A2B"] != "no weights" || rows[3]["kid_B2A"] != "no weights" {
		t.Errorf("the row without weights: %v", rows[len(rows)-1])
	}
}

// TestCompareCommand: the comparison page of two runs holds their table
// (FID of the evaluated run, "not evaluated" for the other, the thesis'
// figures only where the data set is one of the thesis'), and for each test
// image the real one, each run's translation and its GradCAM map.
func TestCompareCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("Inception-v3 forwards")
	}
	w := newWorld(t)
	// A data set named as the thesis' one, so that its figures are shown.
	w.dataroot = filepath.Join(filepath.Dir(w.dataroot), "horse2zebra")
	if err := data.WriteSynthetic(w.dataroot, data.SynthOptions{Size: 32, Train: 4, Test: 2, StripePeriod: 4, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, w.tiny("std", "-max_iters", "1")...)
	mustCLI(t, w.tiny("gc", "-max_iters", "1", "-preset", "gradcam")...)
	mustCLI(t, "eval", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "gc", "-weights", fidWeights(t), "-quiet")
	out := mustCLI(t, "compare", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "std", "gc", "-num_test", "1")
	page, err := os.ReadFile(filepath.Join(w.results, "compare", "index.html"))
	if err != nil {
		t.Fatalf("%v; output %s", err, out)
	}
	for _, s := range []string{"<td>std</td><td>standard</td><td>horse2zebra</td><td>not evaluated</td><td>–</td><td>–</td><td>–</td><td>–</td><td>33.66</td><td>64.57</td>",
		"<td>gc</td><td>gradcam</td><td>horse2zebra</td><td>test</td>", "<td>27.94</td><td>61.54</td>", "thesis FID A→B",
		"_real.png", "_gc.png", "_std.png", "_gc_cam10.png", "_std_cam10.png"} {
		if !strings.Contains(string(page), s) {
			t.Errorf("the page has no %q", s)
		}
	}
	imgs, _ := filepath.Glob(filepath.Join(w.results, "compare", "images", "*.png"))
	if len(imgs) != 2*(1+2*2) {
		t.Errorf("%d pictures, want 10 (per domain: the real image, and each run's translation and map)", len(imgs))
	}
	if code, _, errOut := cli(t, "compare", "-checkpoints_dir", w.checkpoints, "nosuch"); code != 1 || !strings.Contains(errOut, "nosuch") {
		t.Errorf("compare of a run that does not exist: exit %d, %q", code, errOut)
	}
}

// TestEvalGroundTruth: a run on the synthetic set prints its ground-truth
// metrics at the end of training, and eval records them in eval.json
// (gt_A2B, gt_B2A) and eval.csv (gt_* columns), in range, and prints them;
// on a data set that is not synthetic they are absent and the cells empty.
func TestEvalGroundTruth(t *testing.T) {
	w := newWorld(t)
	out := mustCLI(t, w.tiny("r", "-max_iters", "2")...)
	for _, s := range []string{"ground truth A → B (2 images): background ", ", stripes ", "ground truth B → A (2 images): ", ", flatness ", "reconstruction L1 "} {
		if !strings.Contains(out, s) {
			t.Errorf("train printed no %q:\n%s", s, out)
		}
	}
	noWeights := filepath.Join(t.TempDir(), "none.pth") // FID is not the point here
	evalArgs := []string{"eval", "-checkpoints_dir", w.checkpoints, "-results_dir", w.results, "-name", "r", "-weights", noWeights, "-quiet"}
	out = mustCLI(t, evalArgs...)
	if !strings.Contains(out, "ground truth A → B (2 images)") || !strings.Contains(out, "ground truth B → A (2 images)") {
		t.Errorf("eval printed no ground truth:\n%s", out)
	}
	dir := filepath.Join(w.results, "r")
	evals, err := readEval(dir)
	if err != nil || len(evals) != 1 {
		t.Fatalf("eval.json: %v, %d rows", err, len(evals))
	}
	a, b := evals[0].GTA2B, evals[0].GTB2A
	if a == nil || b == nil {
		t.Fatalf("eval.json has no gt_A2B or gt_B2A: %+v", evals[0])
	}
	if a.Images != 2 || b.Images != 2 || a.Stripes == nil || a.Flatness != nil || b.Flatness == nil || b.Stripes != nil {
		t.Errorf("gt_A2B %+v, gt_B2A %+v", a, b)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, evalJSON))
	for _, s := range []string{`"gt_A2B": {`, `"gt_B2A": {`, `"stripes": `, `"flatness": `, `"rec_l1": `, `"rec_iou": `, `"rec_background": `} {
		if !strings.Contains(string(raw), s) {
			t.Errorf("eval.json has no %s", s)
		}
	}
	rows := readEvalCSV(t, filepath.Join(dir, evalCSV))
	inRange := func(col string, hi float64) {
		t.Helper()
		v, err := strconv.ParseFloat(rows[len(rows)-1][col], 64)
		if err != nil || v < 0 || v > hi {
			t.Errorf("%s = %q, want a number in [0, %v]", col, rows[len(rows)-1][col], hi)
		}
	}
	for _, d := range []string{"A2B", "B2A"} {
		for _, c := range []string{"background", "iou", "rec_l1", "rec_iou", "rec_background"} {
			inRange("gt_"+c+"_"+d, 1)
		}
	}
	inRange("gt_stripes_A2B", 10)
	inRange("gt_flatness_B2A", 1)
	if v, _ := strconv.ParseFloat(rows[0]["gt_iou_A2B"], 64); v != a.IoU {
		t.Errorf("gt_iou_A2B %v in eval.csv, %v in eval.json", v, a.IoU)
	}

	// The same test images without the marker: not the synthetic set.
	plain := filepath.Join(t.TempDir(), "plain")
	for _, d := range []string{"testA", "testB"} {
		files, _ := data.ListImages(filepath.Join(w.dataroot, d))
		for _, f := range files {
			raw, _ := os.ReadFile(f)
			os.MkdirAll(filepath.Join(plain, d), 0o755)
			os.WriteFile(filepath.Join(plain, d, filepath.Base(f)), raw, 0o644)
		}
	}
	out = mustCLI(t, append(evalArgs, "-dataroot", plain)...)
	if strings.Contains(out, "ground truth") {
		t.Errorf("eval on other data printed ground truth:\n%s", out)
	}
	evals, _ = readEval(dir)
	if len(evals) != 2 || evals[1].GTA2B != nil || evals[1].GTB2A != nil {
		t.Errorf("eval on other data recorded ground truth: %+v", evals)
	}
	raw, _ = os.ReadFile(filepath.Join(dir, evalJSON))
	if n := strings.Count(string(raw), `"gt_A2B"`); n != 1 {
		t.Errorf("eval.json names gt_A2B %d times, want once (omitted for other data)", n)
	}
	rows = readEvalCSV(t, filepath.Join(dir, evalCSV))
	if len(rows) != 2 || rows[1]["gt_iou_A2B"] != "" || rows[1]["gt_flatness_B2A"] != "" || rows[0]["gt_iou_A2B"] == "" {
		t.Errorf("eval.csv: %v", rows)
	}

	// A crop size other than the set's is refused, saying why.
	code, _, errOut := cli(t, append(evalArgs, "-crop_size", "28")...)
	if code != 1 || !strings.Contains(errOut, "crop size is 28") || !strings.Contains(errOut, "-crop_size 32") {
		t.Errorf("eval at another crop size: exit %d, %s", code, errOut)
	}
}
