package fid

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/camcycle/camcycle/cyclegan/checkpoint"
)

// Statistics files are those of pytorch-fid, np.savez_compressed(path,
// mu=mu, sigma=sigma): a zip archive holding one .npy file per array,
// mu.npy (D) and sigma.npy (D×D). A .npy file is
//
//	"\x93NUMPY", major and minor version (1.0, 2.0 or 3.0)
//	the header length: uint16 (version 1) or uint32 (2 and 3), little-endian
//	the header, a Python dict literal padded with spaces and ended by "\n":
//	  {'descr': '<f8', 'fortran_order': False, 'shape': (2048, 2048), }
//	the values, row-major unless fortran_order is True
//
// This package reads float64 ('<f8') and float32 ('<f4') arrays in C order
// and refuses anything else. An optional third array, features.npy (N×D,
// float32), carries the feature vectors for KID; pytorch-fid reads only mu
// and sigma and ignores it.

// npyArray is an array of a .npy file: its shape and its values, converted
// to float64, in row-major order.
type npyArray struct {
	shape []int
	data  []float64
}

// ReadStats reads a statistics file written by pytorch-fid (save_fid_stats,
// or `python -m pytorch_fid --save-stats`), by numpy's savez or
// savez_compressed with keys mu and sigma, or by WriteNPZ, with features
// when the file holds them. N is the number of feature rows, or 0 when the
// file has none. sigma must be symmetric to float32 rounding; its upper
// triangle is used. Errors name the file.
func ReadStats(path string) (Stats, error) {
	arrays, err := readNPZ(path, "mu", "sigma", "features")
	if err != nil {
		return Stats{}, err
	}
	fail := func(format string, args ...any) (Stats, error) {
		return Stats{}, fmt.Errorf("fid: reading %s: "+format, append([]any{path}, args...)...)
	}
	for _, key := range []string{"mu", "sigma"} {
		if _, ok := arrays[key]; !ok {
			return fail("no array %q (a statistics file holds mu.npy and sigma.npy)", key)
		}
	}
	mu, sigma := arrays["mu"], arrays["sigma"]
	if len(mu.shape) != 1 || mu.shape[0] == 0 {
		return fail("mu has shape %s, want (D,) with D ≥ 1", shapeString(mu.shape))
	}
	d := mu.shape[0]
	if len(sigma.shape) != 2 || sigma.shape[0] != d || sigma.shape[1] != d {
		return fail("sigma has shape %s, want (%d, %d) to go with mu's %s", shapeString(sigma.shape), d, d, shapeString(mu.shape))
	}
	if i, j, ok := asymmetry(sigma.data, d); !ok {
		return fail("sigma is not symmetric: sigma[%d][%d] = %v but sigma[%d][%d] = %v",
			i, j, sigma.data[i*d+j], j, i, sigma.data[j*d+i])
	}
	s := Stats{Mu: mu.data, Sigma: mat.NewSymDense(d, sigma.data)}
	if f, ok := arrays["features"]; ok {
		if len(f.shape) != 2 || f.shape[1] != d || f.shape[0] == 0 {
			return fail("features has shape %s, want (N, %d) to go with mu's %s", shapeString(f.shape), d, shapeString(mu.shape))
		}
		s.N = f.shape[0]
		s.Features = mat.NewDense(f.shape[0], d, f.data)
	}
	return s, nil
}

// asymmetry returns the first pair i < j where the d×d row-major matrix a is
// not symmetric beyond float32 rounding (relative to its largest entry),
// and ok false; or ok true.
func asymmetry(a []float64, d int) (i, j int, ok bool) {
	var largest float64
	for _, v := range a {
		largest = max(largest, math.Abs(v))
	}
	for i := range d {
		for j := i + 1; j < d; j++ {
			if math.Abs(a[i*d+j]-a[j*d+i]) > 1e-6*largest {
				return i, j, false
			}
		}
	}
	return 0, 0, true
}

// WriteNPZ writes s as pytorch-fid writes statistics: mu.npy and sigma.npy,
// float64, in a deflated zip; and, when s.Features is set, features.npy,
// float32 (the precision of the network's output: other values are
// rounded). The file is written atomically (checkpoint.WriteFileAtomic), and
// equal statistics give equal bytes.
func (s Stats) WriteNPZ(path string) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("fid: writing %s: %w", path, err)
	}
	d := len(s.Mu)
	sigma := make([]float64, d*d)
	for i := range d {
		for j := range d {
			sigma[i*d+j] = s.Sigma.At(i, j)
		}
	}
	type member struct {
		name  string
		shape []int
		data  []float64
		f32   bool // stored as float32
	}
	arrays := []member{
		{"mu", []int{d}, s.Mu, false},
		{"sigma", []int{d, d}, sigma, false},
	}
	if s.Features != nil {
		n, _ := s.Features.Dims()
		arrays = append(arrays, member{"features", []int{n, d}, mat.DenseCopyOf(s.Features).RawMatrix().Data, true})
	}
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		z := zip.NewWriter(w)
		for _, a := range arrays {
			m, err := z.CreateHeader(&zip.FileHeader{
				Name:     a.name + ".npy",
				Method:   zip.Deflate,
				Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), // a fixed time: equal statistics, equal files
			})
			if err != nil {
				return err
			}
			if err := writeNPY(m, a.shape, a.data, a.f32); err != nil {
				return err
			}
		}
		return z.Close()
	})
}

// writeNPY writes a .npy file, version 1.0, of float64 or float32 values in
// C order, with the header padded as numpy pads it (the data starts at a
// multiple of 64 bytes).
func writeNPY(w io.Writer, shape []int, data []float64, f32 bool) error {
	descr, size := "<f8", 8
	if f32 {
		descr, size = "<f4", 4
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shapeString(shape))
	pad := 63 - (10+len(dict))%64 // 10 bytes before the dict, one "\n" after it
	header := dict + strings.Repeat(" ", pad) + "\n"
	bw := bufio.NewWriter(w)
	bw.WriteString("\x93NUMPY\x01\x00")
	binary.Write(bw, binary.LittleEndian, uint16(len(header)))
	bw.WriteString(header)
	buf := make([]byte, size)
	for _, v := range data {
		if f32 {
			binary.LittleEndian.PutUint32(buf, math.Float32bits(float32(v)))
		} else {
			binary.LittleEndian.PutUint64(buf, math.Float64bits(v))
		}
		bw.Write(buf)
	}
	return bw.Flush()
}

// readNPZ reads the arrays key+".npy" of the .npz file path that are there;
// a key that is missing is missing from the map. Errors name the file and
// the member.
func readNPZ(path string, keys ...string) (map[string]npyArray, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		if errors.Is(err, zip.ErrFormat) {
			return nil, fmt.Errorf("fid: reading %s: not a .npz file (a zip archive of .npy files): %w", path, err)
		}
		return nil, fmt.Errorf("fid: reading %s: %w", path, err)
	}
	defer z.Close()
	out := make(map[string]npyArray, len(keys))
	for _, key := range keys {
		zf, err := z.Open(key + ".npy")
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("fid: reading %s: %s.npy: %w", path, key, err)
		}
		st, err := zf.Stat()
		var a npyArray
		if err == nil {
			br := bufio.NewReader(zf)
			a, err = readNPY(br, st.Size())
			if err == nil {
				_, err = io.Copy(io.Discard, br) // reading to the end checks the zip's CRC-32
			}
		}
		zf.Close()
		if err != nil {
			return nil, fmt.Errorf("fid: reading %s: %s.npy: %w", path, key, err)
		}
		out[key] = a
	}
	return out, nil
}

// readNPY reads a .npy file of size bytes.
func readNPY(r io.Reader, size int64) (npyArray, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return npyArray{}, fmt.Errorf("not a .npy file: %w", err)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return npyArray{}, fmt.Errorf("not a .npy file: it starts with %q, not \"\\x93NUMPY\"", pre[:6])
	}
	var hlen, prefix int64 // the header's length, and that of what comes before it
	switch major := pre[6]; major {
	case 1:
		var n uint16
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return npyArray{}, fmt.Errorf("truncated header: %w", err)
		}
		hlen, prefix = int64(n), 10
	case 2, 3:
		var n uint32
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return npyArray{}, fmt.Errorf("truncated header: %w", err)
		}
		hlen, prefix = int64(n), 12
	default:
		return npyArray{}, fmt.Errorf(".npy format version %d.%d is not supported (1.0, 2.0 and 3.0 are)", major, pre[7])
	}
	if prefix+hlen > size {
		return npyArray{}, fmt.Errorf("the header says it is %d bytes long but the file has %d", hlen, size)
	}
	header := make([]byte, hlen)
	if _, err := io.ReadFull(r, header); err != nil {
		return npyArray{}, fmt.Errorf("truncated header: %w", err)
	}
	h, err := parseNPYHeader(string(header))
	if err != nil {
		return npyArray{}, fmt.Errorf("header %q: %w", strings.TrimSpace(string(header)), err)
	}
	var itemSize int64
	switch h.descr {
	case "<f8":
		itemSize = 8
	case "<f4":
		itemSize = 4
	default:
		return npyArray{}, fmt.Errorf("dtype %q is not supported (want little-endian float64 '<f8' or float32 '<f4')", h.descr)
	}
	if h.fortran {
		return npyArray{}, fmt.Errorf("Fortran order is not supported (want C order; np.ascontiguousarray before saving)")
	}
	dataSize := size - prefix - hlen
	count := int64(1)
	for _, n := range h.shape {
		if n != 0 && count > math.MaxInt64/int64(n) {
			return npyArray{}, fmt.Errorf("shape %s is too large", shapeString(h.shape))
		}
		count *= int64(n)
	}
	if dataSize%itemSize != 0 || count != dataSize/itemSize {
		return npyArray{}, fmt.Errorf("shape %s needs %d values but the file holds %d bytes of %s data",
			shapeString(h.shape), count, dataSize, h.descr)
	}
	raw := make([]byte, count*itemSize)
	if _, err := io.ReadFull(r, raw); err != nil {
		return npyArray{}, fmt.Errorf("truncated data: %w", err)
	}
	data := make([]float64, count)
	for i := range data {
		if itemSize == 8 {
			data[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		} else {
			data[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		}
	}
	return npyArray{shape: h.shape, data: data}, nil
}

// npyHeader is what a .npy header says.
type npyHeader struct {
	descr   string
	fortran bool
	shape   []int
}

// parseNPYHeader parses the dict literal of a .npy header, e.g.
// "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }\n": the
// three keys, each once, with a string, a bool and a tuple of ints.
func parseNPYHeader(s string) (npyHeader, error) {
	p := &dictParser{s: strings.TrimRight(s, " \n\x00")}
	var h npyHeader
	seen := map[string]bool{}
	if !p.eat("{") {
		return h, errors.New("not a dict")
	}
	for !p.eat("}") {
		key, err := p.str()
		if err != nil {
			return h, err
		}
		if seen[key] {
			return h, fmt.Errorf("key %q twice", key)
		}
		seen[key] = true
		if !p.eat(":") {
			return h, fmt.Errorf("no ':' after %q", key)
		}
		switch key {
		case "descr":
			h.descr, err = p.str()
		case "fortran_order":
			h.fortran, err = p.boolean()
		case "shape":
			h.shape, err = p.tuple()
		default:
			err = fmt.Errorf("unknown key %q", key)
		}
		if err != nil {
			return h, err
		}
		if !p.eat(",") && !p.peek("}") {
			return h, fmt.Errorf("no ',' or '}' after the value of %q", key)
		}
	}
	if p.pos != len(p.s) {
		return h, fmt.Errorf("%q after the dict", p.s[p.pos:])
	}
	for _, key := range []string{"descr", "fortran_order", "shape"} {
		if !seen[key] {
			return h, fmt.Errorf("no key %q", key)
		}
	}
	return h, nil
}

// dictParser reads the Python literals of a .npy header.
type dictParser struct {
	s   string
	pos int
}

func (p *dictParser) skipSpace() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

// peek reports whether tok comes next.
func (p *dictParser) peek(tok string) bool {
	p.skipSpace()
	return strings.HasPrefix(p.s[p.pos:], tok)
}

// eat consumes tok if it comes next.
func (p *dictParser) eat(tok string) bool {
	if p.peek(tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

// str reads a string in single or double quotes (without escapes, which
// numpy's headers do not use).
func (p *dictParser) str() (string, error) {
	p.skipSpace()
	if p.pos >= len(p.s) || (p.s[p.pos] != '\'' && p.s[p.pos] != '"') {
		return "", fmt.Errorf("a string expected at %q", p.s[p.pos:])
	}
	q := p.s[p.pos]
	end := strings.IndexByte(p.s[p.pos+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at %q", p.s[p.pos:])
	}
	v := p.s[p.pos+1 : p.pos+1+end]
	p.pos += end + 2
	return v, nil
}

func (p *dictParser) boolean() (bool, error) {
	switch {
	case p.eat("True"):
		return true, nil
	case p.eat("False"):
		return false, nil
	}
	return false, fmt.Errorf("True or False expected at %q", p.s[p.pos:])
}

// tuple reads a tuple of non-negative ints: "()", "(3,)", "(3, 4)".
func (p *dictParser) tuple() ([]int, error) {
	if !p.eat("(") {
		return nil, fmt.Errorf("a tuple expected at %q", p.s[p.pos:])
	}
	shape := []int{}
	for !p.eat(")") {
		p.skipSpace()
		start := p.pos
		for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
			p.pos++
		}
		n, err := strconv.Atoi(p.s[start:p.pos])
		if err != nil {
			return nil, fmt.Errorf("a size expected at %q", p.s[start:])
		}
		shape = append(shape, n)
		if !p.eat(",") && !p.peek(")") {
			return nil, fmt.Errorf("no ',' or ')' after size %d", n)
		}
	}
	return shape, nil
}

// shapeString writes a shape as Python writes a tuple: "(3,)", "(3, 4)".
func shapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, n := range shape {
		parts[i] = strconv.Itoa(n)
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
