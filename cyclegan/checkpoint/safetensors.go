package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"sort"

	"github.com/camcycle/camcycle/tensor"
)

// Named is a tensor with its state-dict name.
type Named struct {
	Name string
	T    *tensor.Tensor
	// Int64 asks WritePth to store the (integral) values as int64, the
	// dtype PyTorch gives a counter such as BatchNorm2d's
	// num_batches_tracked; the tensor itself holds them as floats.
	Int64 bool
}

// metadataKey is the header entry that holds the free-form string map.
const metadataKey = "__metadata__"

// maxHeader bounds the JSON header, as the reference implementation does, so
// that a corrupt length cannot make Load allocate gigabytes.
const maxHeader = 100 << 20

// headerEntry is one tensor's line of the JSON header.
type headerEntry struct {
	DType       string `json:"dtype"`
	Shape       []int  `json:"shape"`
	DataOffsets [2]int `json:"data_offsets"`
}

// dtypeCode is the safetensors name of a tensor dtype.
func dtypeCode(dt tensor.DType) string {
	switch dt {
	case tensor.Float32:
		return "F32"
	case tensor.Float64:
		return "F64"
	}
	panic("checkpoint: no safetensors dtype for " + dt.String())
}

// Save writes tensors and meta (may be nil) to a .safetensors file at path,
// atomically (see WriteFileAtomic). Tensors are stored in the given order
// with their own dtype (F32 or F64), from whatever backend holds them. Names
// must be unique and must not be "__metadata__".
func Save(path string, tensors []Named, meta map[string]string) error {
	header, err := encodeHeader(tensors, meta)
	if err != nil {
		return fmt.Errorf("checkpoint: writing %s: %w", path, err)
	}
	return WriteFileAtomic(path, func(w io.Writer) error {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
		if _, err := w.Write(n[:]); err != nil {
			return err
		}
		if _, err := w.Write(header); err != nil {
			return err
		}
		for _, nt := range tensors {
			if err := writeData(w, nt.T); err != nil {
				return err
			}
		}
		return nil
	})
}

// encodeHeader returns the JSON header, padded with spaces to a multiple of
// 8 bytes so that the data that follows is aligned. Go maps have no order,
// so the object is written entry by entry to keep the tensors' order.
func encodeHeader(tensors []Named, meta map[string]string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if len(meta) > 0 {
		m, err := json.Marshal(meta) // keys sorted: the output is reproducible
		if err != nil {
			return nil, err
		}
		b.WriteString(`"` + metadataKey + `":`)
		b.Write(m)
	}
	seen := make(map[string]bool, len(tensors))
	offset := 0
	for _, nt := range tensors {
		if nt.Name == metadataKey || seen[nt.Name] {
			return nil, fmt.Errorf("tensor name %q used twice or reserved", nt.Name)
		}
		seen[nt.Name] = true
		size := nt.T.Numel() * elemSize(nt.T.DType())
		e := headerEntry{DType: dtypeCode(nt.T.DType()), Shape: nt.T.Shape(), DataOffsets: [2]int{offset, offset + size}}
		if e.Shape == nil {
			e.Shape = []int{} // a scalar: [] rather than null
		}
		offset += size
		k, _ := json.Marshal(nt.Name)
		v, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes(), nil
}

func elemSize(dt tensor.DType) int {
	if dt == tensor.Float64 {
		return 8
	}
	return 4
}

// writeData writes t's elements as little-endian bytes, a chunk at a time.
func writeData(w io.Writer, t *tensor.Tensor) error {
	t = t.To(tensor.CPU)
	defer runtime.KeepAlive(t) // the slices below belong to t (see tensor.Float32s)
	var buf []byte
	const chunk = 1 << 14 // elements per write
	switch t.DType() {
	case tensor.Float32:
		d := t.Float32s()
		for len(d) > 0 {
			n := min(len(d), chunk)
			buf = buf[:0]
			for _, v := range d[:n] {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
			d = d[n:]
		}
	case tensor.Float64:
		d := t.Float64s()
		for len(d) > 0 {
			n := min(len(d), chunk)
			buf = buf[:0]
			for _, v := range d[:n] {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
			d = d[n:]
		}
	}
	return nil
}

// Load reads a .safetensors file: the tensors by name (CPU tensors: F32,
// F16 and BF16 as Float32, F64 as Float64) and the metadata (empty when the
// file has none). Errors name the file and say what is wrong: truncated, a
// bad header, an unsupported dtype, offsets outside the data or leaving
// holes.
func Load(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	list, meta, err := LoadOrdered(path)
	if err != nil {
		return nil, nil, err
	}
	m := make(map[string]*tensor.Tensor, len(list))
	for _, nt := range list {
		m[nt.Name] = nt.T
	}
	return m, meta, nil
}

// LoadOrdered is Load with the tensors in the order of their data in the
// file, which is the order Save was given.
func LoadOrdered(path string) ([]Named, map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	list, meta, err := decode(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return list, meta, nil
}

// errTruncated reports a file shorter than its header says.
var errTruncated = errors.New("truncated: the file is shorter than its header says")

// decode parses a whole safetensors file held in raw.
func decode(raw []byte) ([]Named, map[string]string, error) {
	if len(raw) < 8 {
		if len(raw) == 0 {
			return nil, nil, errors.New("empty file, not a safetensors checkpoint")
		}
		return nil, nil, errTruncated
	}
	n := binary.LittleEndian.Uint64(raw[:8])
	if n > maxHeader {
		return nil, nil, fmt.Errorf("header length %d is implausible: not a safetensors file, or corrupt", n)
	}
	if n > uint64(len(raw)-8) {
		return nil, nil, errTruncated
	}
	hdr := bytes.TrimRight(raw[8:8+n], " ")
	data := raw[8+n:]
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, nil, errors.New("bad header: not a JSON object (not a safetensors file?)")
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &entries); err != nil {
		return nil, nil, fmt.Errorf("bad header: %w", err)
	}

	meta := map[string]string{}
	if m, ok := entries[metadataKey]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, nil, fmt.Errorf("bad header: %s is not a map of strings: %w", metadataKey, err)
		}
		delete(entries, metadataKey)
	}

	type item struct {
		name string
		e    headerEntry
	}
	items := make([]item, 0, len(entries))
	for name, msg := range entries {
		var e headerEntry
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil || e.Shape == nil || e.DType == "" {
			return nil, nil, fmt.Errorf("bad header entry for tensor %q: %s", name, msg)
		}
		items = append(items, item{name, e})
	}
	// The data must be covered exactly: sorted by offset, each tensor starts
	// where the previous one ended and the last ends at the end of the file.
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i].e.DataOffsets, items[j].e.DataOffsets
		if a != b {
			return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1])
		}
		return items[i].name < items[j].name // empty tensors share an offset
	})
	out := make([]Named, 0, len(items))
	pos := 0
	for _, it := range items {
		e := it.e
		size, ok := dtypeSizes[e.DType]
		if !ok {
			return nil, nil, fmt.Errorf("tensor %q has dtype %s; supported: F32, F64, F16, BF16, I64", it.name, e.DType)
		}
		numel := 1
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && numel > math.MaxInt32/d) {
				return nil, nil, fmt.Errorf("tensor %q has a bad shape %v", it.name, e.Shape)
			}
			numel *= d
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		switch {
		case begin != pos || end < begin:
			return nil, nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap another tensor or leave a hole (expected to start at %d)", it.name, begin, end, pos)
		case end > len(data):
			return nil, nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] reach past the end of the data (%d bytes): %w", it.name, begin, end, len(data), errTruncated)
		case end-begin != numel*size:
			return nil, nil, fmt.Errorf("tensor %q: shape %v of %s needs %d bytes but data_offsets [%d, %d] hold %d", it.name, e.Shape, e.DType, numel*size, begin, end, end-begin)
		}
		pos = end
		out = append(out, Named{Name: it.name, T: decodeData(e.DType, data[begin:end], e.Shape)})
	}
	if pos != len(data) {
		return nil, nil, fmt.Errorf("%d bytes of data after the last tensor: corrupt file", len(data)-pos)
	}
	return out, meta, nil
}

// dtypeSizes lists the dtypes Load accepts and their sizes in bytes.
// I64 (BatchNorm2d's num_batches_tracked, as PyTorch saves it) is read as
// Float64.
var dtypeSizes = map[string]int{"F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8}

// decodeData turns little-endian bytes into a CPU tensor.
func decodeData(dtype string, b []byte, shape []int) *tensor.Tensor {
	shape = slices.Clone(shape)
	switch dtype {
	case "F64":
		d := make([]float64, len(b)/8)
		for i := range d {
			d[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return tensor.FromFloat64s(d, shape...)
	case "I64":
		d := make([]float64, len(b)/8)
		for i := range d {
			d[i] = float64(int64(binary.LittleEndian.Uint64(b[8*i:])))
		}
		return tensor.FromFloat64s(d, shape...)
	case "F32":
		d := make([]float32, len(b)/4)
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return tensor.FromFloat32s(d, shape...)
	case "F16":
		d := make([]float32, len(b)/2)
		for i := range d {
			d[i] = halfToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return tensor.FromFloat32s(d, shape...)
	case "BF16":
		// bfloat16 is the top half of a float32.
		d := make([]float32, len(b)/2)
		for i := range d {
			d[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		}
		return tensor.FromFloat32s(d, shape...)
	}
	panic("checkpoint: decodeData: " + dtype)
}

// halfToFloat32 converts an IEEE 754 binary16 value (1 sign bit, 5 exponent
// bits of bias 15, 10 fraction bits) to float32.
func halfToFloat32(h uint16) float32 {
	sign := float32(1)
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0: // zero or subnormal: frac·2⁻²⁴
		return sign * float32(math.Ldexp(frac, -24))
	case 0x1f: // infinity or NaN
		if frac == 0 {
			return sign * float32(math.Inf(1))
		}
		return float32(math.NaN())
	}
	return sign * float32(math.Ldexp(1+frac/1024, exp-15))
}

// ReadMetadata returns the metadata of a .safetensors file from its header
// alone, without reading the tensors: the training position of a large
// checkpoint, for example.
func ReadMetadata(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	var size [8]byte
	if _, err := io.ReadFull(f, size[:]); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, errTruncated)
	}
	n := binary.LittleEndian.Uint64(size[:])
	if n > maxHeader {
		return nil, fmt.Errorf("checkpoint: %s: header length %d is implausible: not a safetensors file, or corrupt", path, n)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, errTruncated)
	}
	var entries struct {
		Meta map[string]string `json:"__metadata__"`
	}
	if err := json.Unmarshal(bytes.TrimRight(hdr, " "), &entries); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: bad header: %w", path, err)
	}
	if entries.Meta == nil {
		entries.Meta = map[string]string{}
	}
	return entries.Meta, nil
}
