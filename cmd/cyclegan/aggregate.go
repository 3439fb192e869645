package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/camcycle/camcycle/cyclegan/report"
)

// The aggregation of a comparison: runs that differ only by their seed
// form a group, and every numeric metric of their evaluations is given as
// mean ± sample standard deviation over the group's runs.

// stdNote says which standard deviation the tables show.
const stdNote = "sample standard deviation over the seeds (n − 1 in the denominator); none for n = 1"

// notMetrics are numbers of an evaluation row that describe the
// evaluation rather than score the run: image counts (the ground truth's
// too), KID's subsets, and KID's spread over its subsets within one run.
func notMetrics() []string {
	return []string{"fakes", "reals", "images", "kid_subsets", "kid_subset_size", "kid_std"}
}

// flattenMetrics returns every numeric field of v's JSON, nested objects
// flattened as "A2B.fid", "gt_A2B.iou", …, except notMetrics; null fields
// (metrics not computed) are left out. It knows no field by name, so that
// new metrics of eval.json are aggregated as they appear.
func flattenMetrics(v any) (map[string]float64, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return nil, err
	}
	out := map[string]float64{}
	var walk func(prefix string, x any)
	walk = func(prefix string, x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, y := range x {
				if prefix != "" {
					k = prefix + "." + k
				}
				walk(k, y)
			}
		case float64:
			if !slices.Contains(notMetrics(), prefix[strings.LastIndex(prefix, ".")+1:]) {
				out[prefix] = x
			}
		}
	}
	walk("", tree)
	return out, nil
}

// summary is the mean and sample standard deviation of one metric over n
// runs; Std is nil for one run.
type summary struct {
	N    int      `json:"n"`
	Mean float64  `json:"mean"`
	Std  *float64 `json:"std"`
}

// summarise returns the mean and sample standard deviation of xs.
func summarise(xs []float64) summary {
	s := summary{N: len(xs)}
	for _, x := range xs {
		s.Mean += x / float64(len(xs))
	}
	if len(xs) > 1 {
		var ss float64
		for _, x := range xs {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		sd := math.Sqrt(ss / float64(len(xs)-1))
		s.Std = &sd
	}
	return s
}

// runMetrics is one run of an aggregation: its group and metrics.
type runMetrics struct {
	Run     string             `json:"run"`
	Group   string             `json:"group"`
	Preset  string             `json:"preset"`
	Seed    string             `json:"seed"`
	Metrics map[string]float64 `json:"metrics"`
}

// group is the runs that differ only by the seed, with their summaries.
type group struct {
	Group   string             `json:"group"`
	Preset  string             `json:"preset"`
	Runs    []string           `json:"runs"`
	Seeds   []string           `json:"seeds"`
	Metrics map[string]summary `json:"metrics"`
}

// aggregate is what compare.json holds.
type aggregate struct {
	Epoch  string       `json:"epoch"`
	Std    string       `json:"std"`
	Groups []group      `json:"groups"`
	Runs   []runMetrics `json:"runs"`
}

// groupName is a run's name without the _sSEED ending of a sweep's runs.
func groupName(run string) string { return regexp.MustCompile(`_s[0-9]+$`).ReplaceAllString(run, "") }

// groupKey is what runs of one group share: every saved option but the
// seed, and the evaluation's reference images.
func groupKey(saved map[string]string, reference string) string {
	keys := make([]string, 0, len(saved))
	for k := range saved {
		if k != "seed" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, saved[k])
	}
	return b.String() + "reference=" + reference
}

// aggregateRuns groups the evaluated runs and summarises their metrics.
// Runs without an evaluation at the epoch are left out.
func aggregateRuns(runs []*comparedRun, epoch string) (aggregate, error) {
	agg := aggregate{Epoch: epoch, Std: stdNote}
	index := map[string]int{}
	var values []map[string][]float64
	for _, r := range runs {
		if r.eval == nil {
			continue
		}
		m, err := flattenMetrics(r.eval)
		if err != nil {
			return agg, err
		}
		key := groupKey(r.saved, r.eval.Reference)
		i, ok := index[key]
		if !ok {
			i = len(agg.Groups)
			index[key] = i
			agg.Groups = append(agg.Groups, group{Group: groupName(r.name), Preset: matchPreset(r.saved)})
			values = append(values, map[string][]float64{})
		}
		g := &agg.Groups[i]
		g.Runs, g.Seeds = append(g.Runs, r.name), append(g.Seeds, r.saved["seed"])
		for k, v := range m {
			values[i][k] = append(values[i][k], v)
		}
		agg.Runs = append(agg.Runs, runMetrics{Run: r.name, Group: g.Group, Preset: g.Preset, Seed: r.saved["seed"], Metrics: m})
	}
	for i := range agg.Groups {
		agg.Groups[i].Metrics = map[string]summary{}
		for k, xs := range values[i] {
			agg.Groups[i].Metrics[k] = summarise(xs)
		}
	}
	return agg, nil
}

// metricNames are the metrics of the groups, sorted.
func (a aggregate) metricNames() []string {
	var names []string
	for _, g := range a.Groups {
		for k := range g.Metrics {
			if !slices.Contains(names, k) {
				names = append(names, k)
			}
		}
	}
	sort.Strings(names)
	return names
}

// metricHeading names a flattened metric in a table: KID scaled ×100, as
// the other tables show it.
func metricHeading(name string) (string, float64) {
	if strings.HasSuffix(name, ".kid") {
		return name + "×100", 100
	}
	return name, 1
}

// table is the page's table of the groups: n and mean ± std of each metric.
func (a aggregate) table() report.Table {
	t := report.Table{Heading: "Over seeds: mean ± standard deviation",
		Note:   "Runs that differ only by their seed, grouped; n runs evaluated at epoch " + a.Epoch + "; ± is the " + stdNote + ".",
		Header: []string{"group", "preset", "n", "seeds"}}
	names := a.metricNames()
	for _, n := range names {
		h, _ := metricHeading(n)
		t.Header = append(t.Header, h)
	}
	for _, g := range a.Groups {
		row := []string{g.Group, orDash(g.Preset), strconv.Itoa(len(g.Runs)), strings.Join(g.Seeds, ",")}
		for _, n := range names {
			s, ok := g.Metrics[n]
			_, scale := metricHeading(n)
			switch {
			case !ok:
				row = append(row, "–")
			case s.Std == nil:
				row = append(row, fmt.Sprintf("%.4g (n = 1)", scale*s.Mean))
			default:
				row = append(row, fmt.Sprintf("%.4g ± %.2g", scale*s.Mean, scale**s.Std))
			}
			if ok && s.N != len(g.Runs) {
				row[len(row)-1] += fmt.Sprintf(" (n = %d)", s.N)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// write saves compare.json and compare.csv (one line per group and
// metric: group, preset, metric, n, mean, std, unscaled) in dir.
func (a aggregate) write(dir string) error {
	raw, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	if err := writeText(filepath.Join(dir, "compare.json"), string(raw)+"\n"); err != nil {
		return err
	}
	var b strings.Builder
	cw := csv.NewWriter(&b)
	cw.Write([]string{"group", "preset", "runs", "metric", "n", "mean", "std"})
	for _, g := range a.Groups {
		for _, n := range a.metricNames() {
			s, ok := g.Metrics[n]
			if !ok {
				continue
			}
			sd := ""
			if s.Std != nil {
				sd = strconv.FormatFloat(*s.Std, 'g', -1, 64)
			}
			cw.Write([]string{g.Group, g.Preset, strings.Join(g.Runs, " "), n, strconv.Itoa(s.N), strconv.FormatFloat(s.Mean, 'g', -1, 64), sd})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return writeText(filepath.Join(dir, "compare.csv"), b.String())
}
