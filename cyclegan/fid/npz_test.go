package fid

import (
	"archive/zip"
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gonum.org/v1/gonum/mat"
)

// The arrays of testdata/fid/npz, by the formulas of gen_fid_stats_golden.py:
// mu[i] = i/4 − 1, sigma[i][j] = 1/(1 + i + j), features[n][i] = n − i/2.
const npzD, npzN = 4, 3

func npzMu(i int) float64       { return float64(i)/4 - 1 }
func npzSigma(i, j int) float64 { return 1 / float64(1+i+j) }
func npzFeature(n, i int) float64 {
	return float64(n) - float64(i)/2
}

// checkFixtureStats compares s with the formulas; float32 files are rounded
// to float32.
func checkFixtureStats(t *testing.T, name string, s Stats, f32 bool) {
	t.Helper()
	round := func(v float64) float64 {
		if f32 {
			return float64(float32(v))
		}
		return v
	}
	if len(s.Mu) != npzD || s.Sigma.SymmetricDim() != npzD {
		t.Fatalf("%s: Mu %d, Sigma %s, want %d and %d×%d", name, len(s.Mu), dims(s.Sigma), npzD, npzD, npzD)
	}
	for i := range npzD {
		if s.Mu[i] != round(npzMu(i)) {
			t.Errorf("%s: mu[%d] = %v, want %v", name, i, s.Mu[i], round(npzMu(i)))
		}
		for j := range npzD {
			if got := s.Sigma.At(i, j); got != round(npzSigma(i, j)) {
				t.Errorf("%s: sigma[%d][%d] = %v, want %v", name, i, j, got, round(npzSigma(i, j)))
			}
		}
	}
}

func TestReadStatsNumpyFiles(t *testing.T) {
	for _, c := range []struct {
		file     string
		f32      bool
		features bool
	}{
		{"compressed_f64.npz", false, false}, // pytorch-fid's save_fid_stats: np.savez_compressed
		{"stored_f32.npz", true, false},      // np.savez: stored, not deflated
		{"npy_v2_v3.npz", false, false},      // .npy format versions 2.0 and 3.0
		{"features.npz", false, true},
	} {
		s, err := ReadStats(filepath.Join(testdata, "npz", c.file))
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		checkFixtureStats(t, c.file, s, c.f32)
		if !c.features {
			if s.Features != nil || s.N != 0 {
				t.Errorf("%s: Features %v, N %d, want none and 0", c.file, s.Features, s.N)
			}
			continue
		}
		if s.Features == nil || s.N != npzN {
			t.Fatalf("%s: Features %v, N %d, want %d×%d", c.file, s.Features, s.N, npzN, npzD)
		}
		for n := range npzN {
			for i := range npzD {
				if got := s.Features.At(n, i); got != npzFeature(n, i) {
					t.Errorf("%s: features[%d][%d] = %v, want %v", c.file, n, i, got, npzFeature(n, i))
				}
			}
		}
	}
}

// TestReadStatsZipMethods checks that the fixtures exercise both zip
// methods: savez stores, savez_compressed deflates.
func TestReadStatsZipMethods(t *testing.T) {
	for file, want := range map[string]uint16{"compressed_f64.npz": zip.Deflate, "stored_f32.npz": zip.Store} {
		z, err := zip.OpenReader(filepath.Join(testdata, "npz", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range z.File {
			if f.Method != want {
				t.Errorf("%s: %s has zip method %d, want %d", file, f.Name, f.Method, want)
			}
		}
		z.Close()
	}
}

func TestReadStatsErrors(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.npz")
	raw, err := os.ReadFile(filepath.Join(testdata, "npz", "stored_f32.npz"))
	if err != nil {
		t.Fatal(err)
	}
	// flip a byte of mu's values: the zip's CRC-32 no longer fits
	npy := bytes.Index(raw, []byte("\x93NUMPY")) // mu.npy, version 1.0, stored
	raw[npy+10+int(raw[npy+8])+int(raw[npy+9])<<8] ^= 0xff
	if err := os.WriteFile(corrupt, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.npz") // numpy writes it; WriteNPZ refuses to
	if err := writeTestNPZ(empty, map[string][]int{"mu": {0}, "sigma": {0, 0}}); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		empty:                      "mu has shape (0,), want (D,) with D ≥ 1",
		"missing.npz":              "no such file",
		"not_a_zip.npz":            "not a .npz file",
		"missing_sigma.npz":        `no array "sigma"`,
		"sigma_not_square.npz":     "sigma has shape (4, 3), want (4, 4) to go with mu's (4,)",
		"mu_wrong_length.npz":      "sigma has shape (4, 4), want (3, 3) to go with mu's (3,)",
		"features_wrong_width.npz": "features has shape (3, 3), want (N, 4)",
		"fortran.npz":              "sigma.npy: Fortran order is not supported",
		"int_mu.npz":               `mu.npy: dtype "<i8" is not supported`,
		"big_endian.npz":           `mu.npy: dtype ">f8" is not supported`,
		"sigma_not_symmetric.npz":  "sigma is not symmetric: sigma[0][1] = 1 but sigma[1][0] = 0.5",
		corrupt:                    "mu.npy: zip: checksum error",
	} {
		path := file
		if !filepath.IsAbs(path) {
			path = filepath.Join(testdata, "npz", file)
		}
		_, err := ReadStats(path)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming the file and saying %q", file, err, want)
		}
	}
}

func TestParseNPYHeader(t *testing.T) {
	for _, c := range []struct {
		header string
		want   npyHeader
	}{
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (2048,), }      \n", npyHeader{"<f8", false, []int{2048}}},
		{"{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4)}\n", npyHeader{"<f4", true, []int{3, 4}}},
		{`{"shape": (), "descr": "<f8", "fortran_order": False}`, npyHeader{"<f8", false, []int{}}},
	} {
		got, err := parseNPYHeader(c.header)
		if err != nil {
			t.Errorf("%q: %v", c.header, err)
			continue
		}
		if diff := cmp.Diff(c.want, got, cmp.AllowUnexported(npyHeader{})); diff != "" {
			t.Errorf("%q: (-want +got)\n%s", c.header, diff)
		}
	}
	for header, want := range map[string]string{
		"['descr']": "not a dict",
		"{'descr': '<f8', 'fortran_order': False}":                            `no key "shape"`,
		"{'descr': '<f8', 'descr': '<f8'}":                                    `key "descr" twice`,
		"{'descr': '<f8', 'fortran_order': 0, 'shape': (3,)}":                 "True or False expected",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3 4)}":            "no ',' or ')' after size 3",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'extra': 1}": `unknown key "extra"`,
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3,)} trailing":    `" trailing" after the dict`,
		"{'descr': '<f8' 'fortran_order': False, 'shape': (3,)}":              `no ',' or '}' after the value of "descr"`,
		"{'descr': '<f8, 'fortran_order': False, 'shape': (3,)}":              `no ',' or '}' after the value of "descr"`,
		"{'descr': '<f8', 'fortran_order': False, 'shape': (-3,)}":            "a size expected",
		"{'descr: '<f8'": "no ':' after",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}": "a size expected",
	} {
		if _, err := parseNPYHeader(header); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %q", header, err, want)
		}
	}
}

// TestWriteNPZRoundTrip writes statistics with features and reads them back:
// float64 values exactly, the features rounded to float32.
func TestWriteNPZRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	f := mat.NewDense(7, 5, nil)
	f.Apply(func(_, _ int, _ float64) float64 { return rng.NormFloat64() }, f)
	s, err := NewStats(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stats.npz")
	if err := s.WriteNPZ(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadStats(path)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(back.Mu, s.Mu) || !mat.Equal(back.Sigma, s.Sigma) || back.Features != nil || back.N != 0 {
		t.Errorf("read back Mu %v, Sigma %v, Features %v, N %d; wrote Mu %v, Sigma %v and no features",
			back.Mu, mat.Formatted(back.Sigma), back.Features, back.N, s.Mu, mat.Formatted(s.Sigma))
	}

	s.Features = f
	if err := s.WriteNPZ(path); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if back, err = ReadStats(path); err != nil {
		t.Fatal(err)
	}
	rounded := mat.DenseCopyOf(f)
	rounded.Apply(func(_, _ int, v float64) float64 { return float64(float32(v)) }, rounded)
	if !cmp.Equal(back.Mu, s.Mu) || !mat.Equal(back.Sigma, s.Sigma) || !mat.Equal(back.Features, rounded) || back.N != 7 {
		t.Errorf("read back Features %v, N %d; wrote %v (as float32), N 7", mat.Formatted(back.Features), back.N, mat.Formatted(f))
	}

	// equal statistics, equal bytes; and nothing left in the folder but the file
	if err := s.WriteNPZ(path); err != nil {
		t.Fatal(err)
	}
	if second, err := os.ReadFile(path); err != nil || !bytes.Equal(first, second) {
		t.Errorf("writing the same statistics twice gave different files (%v)", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("the folder holds %d entries, want only stats.npz", len(entries))
	}
}

// TestWriteNPZLayout checks the file against what numpy writes: deflated
// members mu.npy and sigma.npy, .npy version 1.0, the header padded so that
// the data starts at a multiple of 64 bytes.
func TestWriteNPZLayout(t *testing.T) {
	s := Stats{Mu: []float64{1, 2, 3}, Sigma: mat.NewSymDense(3, []float64{2, 1, 0, 1, 2, 1, 0, 1, 2})}
	path := filepath.Join(t.TempDir(), "stats.npz")
	if err := s.WriteNPZ(path); err != nil {
		t.Fatal(err)
	}
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
		if f.Method != zip.Deflate {
			t.Errorf("%s: zip method %d, want deflate", f.Name, f.Method)
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var head [10]byte
		if _, err := r.Read(head[:]); err != nil {
			t.Fatal(err)
		}
		r.Close()
		hlen := int(head[8]) | int(head[9])<<8
		if string(head[:8]) != "\x93NUMPY\x01\x00" || (10+hlen)%64 != 0 {
			t.Errorf("%s: starts %q with a header of %d bytes, want \"\\x93NUMPY\\x01\\x00\" and data at a multiple of 64", f.Name, head[:8], hlen)
		}
	}
	if !cmp.Equal(names, []string{"mu.npy", "sigma.npy"}) {
		t.Errorf("members %v, want mu.npy, sigma.npy", names)
	}
}

func TestWriteNPZErrors(t *testing.T) {
	dir := t.TempDir()
	good := Stats{Mu: []float64{1, 2}, Sigma: mat.NewSymDense(2, []float64{1, 0, 0, 1})}
	wide := good
	wide.Features = mat.NewDense(3, 4, nil)
	wide.N = 3
	badN := good
	badN.Features = mat.NewDense(3, 2, nil)
	nan := Stats{Mu: []float64{math.NaN(), 0}, Sigma: good.Sigma}
	for _, c := range []struct {
		name string
		s    Stats
		path string
		want string
	}{
		{"features too wide", wide, filepath.Join(dir, "wide.npz"), "Features is 3×4 but Mu has 2 entries"},
		{"N disagrees", badN, filepath.Join(dir, "n.npz"), "N is 0 but Features has 3 rows"},
		{"NaN", nan, filepath.Join(dir, "nan.npz"), "Mu[0] is NaN"},
		{"no folder", good, filepath.Join(dir, "missing", "stats.npz"), "no such file or directory"},
	} {
		err := c.s.WriteNPZ(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: error %v, want one naming %s and saying %q", c.name, err, c.path, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed writes left %d entries in the folder", len(entries))
	}
}

// writeTestNPZ writes a .npz of float64 arrays of the given shapes, all
// zeros.
func writeTestNPZ(path string, shapes map[string][]int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	z := zip.NewWriter(f)
	for name, shape := range shapes {
		w, err := z.Create(name + ".npy")
		if err != nil {
			return err
		}
		n := 1
		for _, s := range shape {
			n *= s
		}
		if err := writeNPY(w, shape, make([]float64, n), false); err != nil {
			return err
		}
	}
	if err := z.Close(); err != nil {
		return err
	}
	return f.Close()
}
