package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/cyclegan"
)

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi   float64
		n        int
		from, to float64
		step     float64
	}{
		{0, 1, 5, 0, 1, 0.2},
		{0, 2.7, 5, 0, 3, 1},
		{0.13, 0.87, 4, 0, 1, 0.2},
		{1, 8000, 6, 0, 8000, 2000},
		{-0.5, 0.5, 5, -0.6, 0.6, 0.2},
	} {
		ticks, from, to := niceTicks(c.lo, c.hi, c.n)
		if math.Abs(from-c.from) > 1e-12 || math.Abs(to-c.to) > 1e-12 {
			t.Errorf("niceTicks(%v, %v, %d): range [%v, %v], want [%v, %v]", c.lo, c.hi, c.n, from, to, c.from, c.to)
		}
		for i := 1; i < len(ticks); i++ {
			if d := ticks[i] - ticks[i-1]; math.Abs(d-c.step) > 1e-9 {
				t.Errorf("niceTicks(%v, %v, %d): ticks %v, want steps of %v", c.lo, c.hi, c.n, ticks, c.step)
				break
			}
		}
		if ticks[0] > c.lo || ticks[len(ticks)-1] < c.hi {
			t.Errorf("niceTicks(%v, %v, %d): ticks %v do not cover the range", c.lo, c.hi, c.n, ticks)
		}
	}
}

func TestSmooth(t *testing.T) {
	got := Smooth([]float64{1, 3, 5, 7, 9}, 2)
	want := []float64{1, 2, 4, 6, 8}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Smooth: %v, want %v", got, want)
		}
	}
	if got := Smooth([]float64{4, 2}, 0); got[0] != 4 || got[1] != 2 {
		t.Errorf("Smooth with window 0 should be the identity, got %v", got)
	}
}

func records(n int, att bool) []cyclegan.Record {
	recs := make([]cyclegan.Record, n)
	for i := range recs {
		v := float64(i)
		recs[i] = cyclegan.Record{Iter: i + 1, Epoch: i/10 + 1, EpochIter: i%10 + 1, GA: 1, GB: 2, CycleA: v, CycleB: 2 * v,
			IdtA: 0.5, IdtB: 0.25, DA: 0.3, DB: 0.2}
		if att {
			a := 0.1
			recs[i].Att = &a
		}
	}
	return recs
}

// TestLossCharts: the generator's terms and the discriminators' go to two
// charts, long logs are thinned to at most maxPoints points ending at the
// last iteration, and constant series stay constant through the smoothing.
func TestLossCharts(t *testing.T) {
	charts := LossCharts(records(1000, true))
	if len(charts) != 2 {
		t.Fatalf("%d charts", len(charts))
	}
	var names []string
	for _, s := range charts[0].Series {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "G_A G_B cycle_A cycle_B idt_A idt_B att" {
		t.Errorf("generator chart series: %s", got)
	}
	if len(charts[1].Series) != 2 || charts[1].Series[0].Name != "D_A" {
		t.Errorf("discriminator chart: %+v", charts[1].Series)
	}
	for _, s := range append(charts[0].Series, charts[1].Series...) {
		if len(s.X) > maxPoints+1 || len(s.X) < 100 {
			t.Errorf("%s: %d points", s.Name, len(s.X))
		}
		if s.X[len(s.X)-1] != 1000 {
			t.Errorf("%s ends at iteration %v, want 1000", s.Name, s.X[len(s.X)-1])
		}
	}
	if y := charts[0].Series[0].Y; y[len(y)/2] != 1 {
		t.Errorf("G_A is constantly 1, its smoothed curve is %v", y[len(y)/2])
	}
	if cs := LossCharts(nil); len(cs) != 2 || len(cs[0].Series) != 0 {
		t.Errorf("LossCharts(nil): %+v", cs)
	}
}

// TestPageRender renders a page with charts and pictures: the result is
// well-formed XML (so also well-formed SVG), text is escaped, and every
// series is a polyline with its points inside the plotting area.
func TestPageRender(t *testing.T) {
	p := Page{Title: "run <a&b>", Notes: []string{"note"},
		Charts: LossCharts(records(30, false)),
		Tables: []Table{{Heading: "FID", Header: []string{"run", "A → B"}, Rows: [][]string{{"h2z <1>", "27.9"}}}},
		Sections: []Section{{Heading: "samples", Columns: []string{"real", "fake"},
			Rows: []Row{{Label: "x.png", Cells: []Cell{{Src: "images/x_real.png", Caption: "real"}, {Src: "images/x_fake.png", Caption: "fake"}}}}}}}
	var buf bytes.Buffer
	if err := p.Render(&buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if strings.Contains(html, "<a&b>") || !strings.Contains(html, "run &lt;a&amp;b&gt;") {
		t.Error("the title is not escaped")
	}
	// Everything after the doctype must parse as XML.
	body := html[strings.Index(html, "<html"):]
	body = strings.ReplaceAll(body, "<meta charset=\"utf-8\">", "<meta charset=\"utf-8\"/>")
	body = regexp.MustCompile(`(<img [^>]*[^/])>`).ReplaceAllString(body, "$1/>")
	d := xml.NewDecoder(strings.NewReader(body))
	d.Strict = true
	for {
		if _, err := d.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("the page is not well-formed: %v\n%s", err, body)
			}
			break
		}
	}
	polylines := regexp.MustCompile(`<polyline [^>]*points="([^"]*)"`).FindAllStringSubmatch(html, -1)
	if len(polylines) != 8 {
		t.Fatalf("%d polylines, want 8 (6 generator terms, 2 discriminators)", len(polylines))
	}
	l := p.Charts[0].layout()
	for _, m := range polylines {
		pts := strings.Fields(m[1])
		if len(pts) != 30 {
			t.Errorf("a polyline of %d points, want 30", len(pts))
		}
		for _, pt := range pts {
			var x, y float64
			if _, err := fmtSscan(pt, &x, &y); err != nil || x < l.Left-0.1 || x > l.Right+0.1 || y < l.Top-0.1 || y > l.Bottom+0.1 {
				t.Errorf("point %q outside the plotting area", pt)
			}
		}
	}
	for _, s := range []string{`src="images/x_real.png"`, "<figcaption>fake</figcaption>", "<th>real</th>",
		`<table class="figures">`, "<th>A → B</th>", "<td>h2z &lt;1&gt;</td><td>27.9</td>"} {
		if !strings.Contains(html, s) {
			t.Errorf("the page has no %s", s)
		}
	}
}

// TestSamplesAndTrainPage saves samples for two epochs (the first twice,
// as a stopped run does) and writes the train page: the newest epoch is
// shown first, each epoch once, and its pictures exist.
func TestSamplesAndTrainPage(t *testing.T) {
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	rows := []PictureRow{{Label: "translations", Pictures: []Picture{{Name: "real_A", Caption: "real_A", Image: img}}}}
	for _, e := range []struct {
		epoch, iter int
		label       string
	}{{1, 5, "epoch 1, iteration 5 of 10"}, {1, 10, "epoch 1"}, {2, 20, "epoch 2"}} {
		if err := SaveSamples(dir, e.epoch, e.iter, e.label, rows); err != nil {
			t.Fatal(err)
		}
	}
	path, err := WriteTrainPage(dir, "run", nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(raw)
	i1, i2 := strings.Index(page, "epoch 1 (after iteration 10)"), strings.Index(page, "epoch 2 (after iteration 20)")
	if i1 < 0 || i2 < 0 || i2 > i1 {
		t.Errorf("want epoch 2 then epoch 1 (after iteration 10):\n%s", page)
	}
	if strings.Contains(page, "iteration 5 of 10") {
		t.Error("the partial epoch's samples were not replaced")
	}
	if _, err := os.Stat(filepath.Join(dir, "web", "images", "epoch002_real_A.png")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(page, "no iterations logged yet") {
		t.Error("a run without a loss log should say so in its charts")
	}
}

// fmtSscan reads a polyline point "x,y".
func fmtSscan(pt string, x, y *float64) (int, error) {
	return fmt.Sscanf(pt, "%g,%g", x, y)
}
