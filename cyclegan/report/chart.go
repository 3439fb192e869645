package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/camcycle/camcycle/cyclegan"
)

// Chart is a line chart: one polyline per series over shared axes.
type Chart struct {
	Title, XLabel string
	Series        []Series
}

// Series is one named line; X and Y have the same length.
type Series struct {
	Name string
	X, Y []float64
}

// palette colours the series in order (Tableau 10).
func palette(i int) string {
	colors := [...]string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
		"#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}
	return colors[i%len(colors)]
}

// chartLayout is a Chart in SVG coordinates, ready for the template.
type chartLayout struct {
	Title, XLabel            string
	W, H                     int
	Left, Right, Top, Bottom float64 // the plotting area
	TickX, TickY             float64 // where tick labels go
	XLabelX, XLabelY, EmptyY float64
	XTicks, YTicks           []tick
	Lines                    []line
	Legend                   []legendEntry
	Empty                    bool
}

type tick struct {
	Pos   float64
	Label string
}

type line struct {
	Name, Color, Points string
}

type legendEntry struct {
	Name, Color        string
	X, Y, TextX, TextY float64
}

// layout places the chart in a 640×300 picture: plotting area, ticks at
// "nice" values (1, 2 or 5 times a power of ten), lines and a legend on the
// right.
func (c Chart) layout() chartLayout {
	l := chartLayout{Title: c.Title, XLabel: c.XLabel, W: 640, H: 300,
		Left: 56, Right: 520, Top: 28, Bottom: 260}
	l.TickX, l.TickY = l.Left-6, l.Bottom+15
	l.XLabelX, l.XLabelY = (l.Left+l.Right)/2, l.Bottom+32
	l.EmptyY = (l.Top + l.Bottom) / 2

	x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for i := range s.X {
			if math.IsNaN(s.Y[i]) || math.IsInf(s.Y[i], 0) {
				continue
			}
			x0, x1 = math.Min(x0, s.X[i]), math.Max(x1, s.X[i])
			y0, y1 = math.Min(y0, s.Y[i]), math.Max(y1, s.Y[i])
		}
	}
	if math.IsInf(x0, 1) {
		l.Empty = true
		x0, x1, y0, y1 = 0, 1, 0, 1
	}
	y0 = math.Min(y0, 0) // losses are drawn from zero
	if x1 == x0 {
		x1 = x0 + 1
	}
	if y1 == y0 {
		y1 = y0 + 1
	}
	var yt, xt []float64
	yt, y0, y1 = niceTicks(y0, y1, 5)
	xt, _, _ = niceTicks(x0, x1, 6)
	px := func(x float64) float64 { return l.Left + (x-x0)/(x1-x0)*(l.Right-l.Left) }
	py := func(y float64) float64 { return l.Bottom - (y-y0)/(y1-y0)*(l.Bottom-l.Top) }
	for _, v := range yt {
		l.YTicks = append(l.YTicks, tick{round1(py(v)), formatTick(v)})
	}
	for _, v := range xt {
		if v >= x0 && v <= x1 {
			l.XTicks = append(l.XTicks, tick{round1(px(v)), formatTick(v)})
		}
	}
	for i, s := range c.Series {
		var pts strings.Builder
		for j := range s.X {
			if math.IsNaN(s.Y[j]) || math.IsInf(s.Y[j], 0) {
				continue
			}
			fmt.Fprintf(&pts, "%s,%s ", fmtCoord(px(s.X[j])), fmtCoord(py(s.Y[j])))
		}
		col := palette(i)
		l.Lines = append(l.Lines, line{Name: s.Name, Color: col, Points: strings.TrimSpace(pts.String())})
		y := l.Top + 4 + float64(i)*16
		l.Legend = append(l.Legend, legendEntry{Name: s.Name, Color: col, X: l.Right + 14, Y: y,
			TextX: l.Right + 30, TextY: y + 5})
	}
	return l
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func fmtCoord(v float64) string { return strconv.FormatFloat(round1(v), 'f', -1, 64) }

func formatTick(v float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// niceTicks returns about n tick values covering [lo, hi] at a step of 1,
// 2 or 5 times a power of ten, and the range widened to whole steps.
func niceTicks(lo, hi float64, n int) (ticks []float64, from, to float64) {
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	from, to = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	for v := from; v <= to+step/2; v += step {
		ticks = append(ticks, math.Round(v/step)*step)
	}
	return ticks, from, to
}

// Smooth returns the trailing moving average of y over window points
// (fewer at the start), the curve a noisy per-iteration loss is read from.
func Smooth(y []float64, window int) []float64 {
	window = max(window, 1)
	out := make([]float64, len(y))
	sum := 0.0
	for i, v := range y {
		sum += v
		if i >= window {
			sum -= y[i-window]
		}
		out[i] = sum / float64(min(i+1, window))
	}
	return out
}

// maxPoints is the most points drawn per line: more would only make the
// page heavier.
const maxPoints = 400

// LossCharts returns the charts of a run's loss log: the generator's terms
// (G_A, G_B, cycle_A, cycle_B, idt_A, idt_B and att) and the
// discriminators' (D_A, D_B), each smoothed over a trailing window of about
// 1/50 of the run (at least one iteration), against the iteration number.
func LossCharts(recs []cyclegan.Record) []Chart {
	window := max(1, len(recs)/50)
	step := max(1, (len(recs)+maxPoints-1)/maxPoints)
	gen := Chart{Title: "Generator loss terms (weighted, smoothed)", XLabel: "iteration"}
	dis := Chart{Title: "Discriminator losses (smoothed)", XLabel: "iteration"}
	if len(recs) == 0 {
		return []Chart{gen, dis}
	}
	if window > 1 {
		suffix := fmt.Sprintf(", moving average of %d iterations", window)
		gen.Title = strings.Replace(gen.Title, "smoothed", "smoothed"+suffix, 1)
		dis.Title = strings.Replace(dis.Title, "smoothed", "smoothed"+suffix, 1)
	} else {
		gen.Title = "Generator loss terms (weighted)"
		dis.Title = "Discriminator losses"
	}
	names, _ := recs[len(recs)-1].Terms()
	x := make([]float64, len(recs))
	cols := make([][]float64, len(names))
	for i, r := range recs {
		x[i] = float64(r.Iter)
		_, v := r.Terms()
		for j := range cols {
			if j < len(v) {
				cols[j] = append(cols[j], v[j])
			} else {
				cols[j] = append(cols[j], math.NaN()) // att before a stage that logs it
			}
		}
	}
	for j, name := range names {
		y := Smooth(zeroNaN(cols[j]), window)
		for i := range y {
			if math.IsNaN(cols[j][i]) {
				y[i] = math.NaN()
			}
		}
		s := Series{Name: name}
		for i := 0; i < len(x); i += step {
			s.X, s.Y = append(s.X, x[i]), append(s.Y, y[i])
		}
		if last := len(x) - 1; last%step != 0 {
			s.X, s.Y = append(s.X, x[last]), append(s.Y, y[last])
		}
		if strings.HasPrefix(name, "D_") {
			dis.Series = append(dis.Series, s)
		} else {
			gen.Series = append(gen.Series, s)
		}
	}
	return []Chart{gen, dis}
}

func zeroNaN(y []float64) []float64 {
	out := make([]float64, len(y))
	for i, v := range y {
		if !math.IsNaN(v) {
			out[i] = v
		}
	}
	return out
}
