package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/camcycle/camcycle/tensor"
)

// WritePth writes tensors to path as torch.save writes a state dict (the
// zip format of torch ≥ 1.6), atomically (see WriteFileAtomic), so that
// torch.load(path) — with weights_only=True too, the default of torch ≥ 2.6
// — returns a collections.OrderedDict of CPU tensors with the given names,
// in the given order, as net.state_dict() does, and LoadPth reads them back
// bit for bit. Float32 tensors are stored as torch.float32, Float64 ones as
// torch.float64, each contiguous in its own storage.
//
// The archive, stored without compression, every record's data aligned to
// 64 bytes as torch aligns them (so that torch.load(mmap=True) works), its
// records under one folder named after the file (torch names it so; any
// name loads):
//
//	STEM/data.pkl     the pickle (protocol 2) of the OrderedDict, each value
//	                  torch._utils._rebuild_tensor_v2(storage, 0, size, stride,
//	                  False, OrderedDict()), the storage a persistent id
//	                  ('storage', torch.FloatStorage, "k", 'cpu', numel)
//	STEM/byteorder    "little"
//	STEM/data/k       tensor k's raw little-endian elements, row-major
//	STEM/version      "3\n"
//
// Names must be unique.
func WritePth(path string, tensors []Named) error {
	seen := make(map[string]bool, len(tensors))
	for _, nt := range tensors {
		if seen[nt.Name] {
			return fmt.Errorf("checkpoint: writing %s: tensor name %q used twice", path, nt.Name)
		}
		seen[nt.Name] = true
		if dt := nt.T.DType(); dt != tensor.Float32 && dt != tensor.Float64 {
			return fmt.Errorf("checkpoint: writing %s: tensor %q: no PyTorch storage for %v", path, nt.Name, dt)
		}
		if nt.Int64 {
			for _, v := range nt.T.Values() {
				if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
					return fmt.Errorf("checkpoint: writing %s: tensor %q is to be stored as int64 but holds %v", path, nt.Name, v)
				}
			}
		}
	}
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if stem == "" {
		stem = "archive"
	}
	pkl := statePickle(tensors)
	return WriteFileAtomic(path, func(w io.Writer) error {
		z := newAlignedZip(w)
		if err := z.add(stem+"/data.pkl", func(w io.Writer) error { _, err := w.Write(pkl); return err }); err != nil {
			return err
		}
		if err := z.add(stem+"/byteorder", func(w io.Writer) error { _, err := io.WriteString(w, "little"); return err }); err != nil {
			return err
		}
		for i, nt := range tensors {
			if err := z.add(stem+"/data/"+strconv.Itoa(i), func(w io.Writer) error { return writePthData(w, nt) }); err != nil {
				return err
			}
		}
		if err := z.add(stem+"/version", func(w io.Writer) error { _, err := io.WriteString(w, "3\n"); return err }); err != nil {
			return err
		}
		return z.Close()
	})
}

// pthAlign is the alignment of every record's data in torch's archives
// (caffe2::serialize::kFieldAlignment).
const pthAlign = 64

// alignedZip writes a zip archive of stored (uncompressed) records whose
// data begin at multiples of pthAlign: the local header of each record gets
// an extra field, id "FB" and 'Z' bytes, as long as that needs, as torch's
// writer does.
type alignedZip struct {
	zw  *zip.Writer
	cw  *countingWriter
	err error
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newAlignedZip(w io.Writer) *alignedZip {
	cw := &countingWriter{w: w}
	return &alignedZip{zw: zip.NewWriter(cw), cw: cw}
}

// add writes the record name whose content write produces. write is called
// twice: once for the CRC-32 and the size, which the local header holds,
// once for the data.
func (z *alignedZip) add(name string, write func(w io.Writer) error) error {
	crc := crc32.NewIEEE()
	size := &countingWriter{w: crc}
	if err := write(size); err != nil {
		return err
	}
	if err := z.zw.Flush(); err != nil { // z.cw.n is now where the local header begins
		return err
	}
	const localHeader = 30 // the fixed part of a zip local file header
	start := z.cw.n + localHeader + int64(len(name)) + 4
	pad := (pthAlign - start%pthAlign) % pthAlign
	extra := make([]byte, 4+pad)
	copy(extra, "FB")
	binary.LittleEndian.PutUint16(extra[2:], uint16(pad))
	for i := 4; i < len(extra); i++ {
		extra[i] = 'Z'
	}
	fh := &zip.FileHeader{Name: name, Method: zip.Store, Extra: extra,
		CRC32: crc.Sum32(), CompressedSize64: uint64(size.n), UncompressedSize64: uint64(size.n)}
	fw, err := z.zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	return write(fw)
}

func (z *alignedZip) Close() error { return z.zw.Close() }

// pickler writes the pickle opcodes (protocol 2) that statePickle needs.
type pickler struct{ bytes.Buffer }

func (p *pickler) op(code byte) { p.WriteByte(code) }

// global pushes module.name (GLOBAL).
func (p *pickler) global(module, name string) {
	p.WriteByte('c')
	p.WriteString(module + "\n" + name + "\n")
}

// str pushes a str (BINUNICODE).
func (p *pickler) str(s string) {
	p.WriteByte('X')
	p.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(s))))
	p.WriteString(s)
}

// int pushes an int as Python's pickler does: BININT1, BININT2, BININT, or
// LONG1 beyond 32 bits.
func (p *pickler) int(v int) {
	switch {
	case v >= 0 && v < 1<<8:
		p.WriteByte('K')
		p.WriteByte(byte(v))
	case v >= 0 && v < 1<<16:
		p.WriteByte('M')
		p.Write(binary.LittleEndian.AppendUint16(nil, uint16(v)))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		p.WriteByte('J')
		p.Write(binary.LittleEndian.AppendUint32(nil, uint32(int32(v))))
	default: // LONG1: little-endian two's complement, 8 bytes suffice
		p.WriteByte(0x8a)
		p.WriteByte(8)
		p.Write(binary.LittleEndian.AppendUint64(nil, uint64(v)))
	}
}

// tuple pushes a tuple of ints.
func (p *pickler) tuple(vs []int) {
	if len(vs) == 0 {
		p.op(')') // EMPTY_TUPLE
		return
	}
	if len(vs) > 3 {
		p.op('(') // MARK
	}
	for _, v := range vs {
		p.int(v)
	}
	switch len(vs) {
	case 1:
		p.op(0x85) // TUPLE1
	case 2:
		p.op(0x86) // TUPLE2
	case 3:
		p.op(0x87) // TUPLE3
	default:
		p.op('t') // TUPLE
	}
}

// emptyOrderedDict pushes collections.OrderedDict().
func (p *pickler) emptyOrderedDict() {
	p.global("collections", "OrderedDict")
	p.op(')') // EMPTY_TUPLE
	p.op('R') // REDUCE
}

// statePickle returns data.pkl: the OrderedDict of tensors, tensor k in
// storage "k".
func statePickle(tensors []Named) []byte {
	var p pickler
	p.Write([]byte{0x80, 2}) // PROTO 2
	p.emptyOrderedDict()
	if len(tensors) > 0 {
		p.op('(') // MARK
	}
	for k, nt := range tensors {
		shape := nt.T.Shape()
		stride := make([]int, len(shape))
		for i, s := len(shape)-1, 1; i >= 0; i-- {
			stride[i] = s
			s *= shape[i]
		}
		storage := "FloatStorage"
		switch {
		case nt.Int64:
			storage = "LongStorage"
		case nt.T.DType() == tensor.Float64:
			storage = "DoubleStorage"
		}
		p.str(nt.Name)
		p.global("torch._utils", "_rebuild_tensor_v2")
		p.op('(') // MARK: the arguments
		p.op('(') // MARK: the persistent id
		p.str("storage")
		p.global("torch", storage)
		p.str(strconv.Itoa(k))
		p.str("cpu")
		p.int(nt.T.Numel())
		p.op('t') // TUPLE
		p.op('Q') // BINPERSID
		p.int(0)  // storage offset
		p.tuple(shape)
		p.tuple(stride)
		p.op(0x89) // NEWFALSE: requires_grad
		p.emptyOrderedDict()
		p.op('t') // TUPLE
		p.op('R') // REDUCE
	}
	if len(tensors) > 0 {
		p.op('u') // SETITEMS
	}
	p.op('.') // STOP
	return p.Bytes()
}

// writePthData writes a tensor's storage: as safetensors lays it out, or
// as little-endian int64 for an Int64 entry.
func writePthData(w io.Writer, nt Named) error {
	if !nt.Int64 {
		return writeData(w, nt.T)
	}
	var buf []byte
	for _, v := range nt.T.Values() {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(int64(v)))
	}
	_, err := w.Write(buf)
	return err
}
