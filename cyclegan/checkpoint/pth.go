package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/camcycle/camcycle/tensor"
)

// LoadPth reads a PyTorch state dict saved with torch.save, in the zip
// format (torch ≥ 1.6) or the legacy format (the published CycleGAN models,
// the FID Inception weights), and returns its tensors as CPU Float32 tensors
// (float16, bfloat16, float64 and integer tensors are converted).
//
// Two common wrappings are undone: a dict whose "state_dict" entry holds the
// state dict, and the "module." prefix that torch.nn.DataParallel puts on
// every name. Errors name the file.
func LoadPth(path string) (map[string]*tensor.Tensor, error) {
	// gopickle opens the file by name and says little when it is missing.
	if st, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	} else if st.Size() == 0 {
		return nil, fmt.Errorf("checkpoint: %s: empty file, not a PyTorch checkpoint", path)
	}
	obj, err := loadPickle(path)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("checkpoint: %s: truncated: the file ends too early: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: not a readable PyTorch checkpoint: %w", path, err)
	}
	entries, err := dictEntries(obj)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	// {"state_dict": {...}, "epoch": …}: descend into the state dict.
	for _, e := range entries {
		if e.key == "state_dict" {
			if inner, err := dictEntries(e.value); err == nil {
				entries = inner
			}
			break
		}
	}
	out := make(map[string]*tensor.Tensor, len(entries))
	for _, e := range entries {
		pt, ok := e.value.(*pytorch.Tensor)
		if !ok {
			return nil, fmt.Errorf("checkpoint: %s: entry %q is a %T, not a tensor: not a state dict", path, e.key, e.value)
		}
		t, err := convertTensor(pt)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %s: tensor %q: %w", path, e.key, err)
		}
		out[e.key] = t
	}
	return stripPrefix(out, "module."), nil
}

// loadPickle calls gopickle, turning its panics on formats it does not
// implement (tar archives of torch < 0.4, storage views) into errors.
func loadPickle(path string) (obj any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unsupported content: %v", r)
		}
	}()
	return pytorch.Load(path)
}

type entry struct {
	key   string
	value any
}

// dictEntries lists the string-keyed entries of a Python dict or
// OrderedDict, in order.
func dictEntries(obj any) ([]entry, error) {
	var out []entry
	add := func(k, v any) error {
		s, ok := k.(string)
		if !ok {
			return fmt.Errorf("a key of the dict is a %T, not a string: not a state dict", k)
		}
		out = append(out, entry{s, v})
		return nil
	}
	switch d := obj.(type) {
	case *types.OrderedDict:
		for el := d.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			if err := add(e.Key, e.Value); err != nil {
				return nil, err
			}
		}
	case *types.Dict:
		for _, e := range *d {
			if err := add(e.Key, e.Value); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("the file holds a %T, not a dict of tensors (a state dict)", obj)
	}
	return out, nil
}

// convertTensor copies a (possibly strided) PyTorch tensor into a new
// row-major Float32 CPU tensor: element (i₀, i₁, …) is
// storage[offset + Σ iₖ·strideₖ].
func convertTensor(pt *pytorch.Tensor) (*tensor.Tensor, error) {
	src, err := storageValues(pt.Source)
	if err != nil {
		return nil, err
	}
	shape := tensor.Shape(pt.Size)
	if len(pt.Stride) != len(shape) {
		return nil, fmt.Errorf("%d strides for shape %v", len(pt.Stride), shape)
	}
	n := shape.Numel()
	out := make([]float32, n)
	if n > 0 {
		// The furthest element must lie inside the storage.
		last := pt.StorageOffset
		for k, d := range shape {
			if pt.Stride[k] < 0 {
				return nil, fmt.Errorf("negative stride %v", pt.Stride)
			}
			last += (d - 1) * pt.Stride[k]
		}
		if pt.StorageOffset < 0 || last >= src.len() {
			return nil, fmt.Errorf("shape %v, strides %v and offset %d reach past its storage of %d elements", shape, pt.Stride, pt.StorageOffset, src.len())
		}
		idx := make([]int, len(shape)) // the multi-index, odometer style
		for i := range out {
			off := pt.StorageOffset
			for k, j := range idx {
				off += j * pt.Stride[k]
			}
			out[i] = src.at(off)
			for k := len(idx) - 1; k >= 0; k-- {
				idx[k]++
				if idx[k] < shape[k] {
					break
				}
				idx[k] = 0
			}
		}
	}
	return tensor.FromFloat32s(out, shape...), nil
}

// values is a storage read as float32.
type values struct {
	len func() int
	at  func(i int) float32
}

func storageOf[T int8 | int16 | int32 | int64 | uint8 | float32 | float64](d []T) values {
	return values{len: func() int { return len(d) }, at: func(i int) float32 { return float32(d[i]) }}
}

// storageValues wraps each of gopickle's storage types.
func storageValues(s pytorch.StorageInterface) (values, error) {
	switch s := s.(type) {
	case *pytorch.FloatStorage:
		return storageOf(s.Data), nil
	case *pytorch.HalfStorage: // gopickle widens half and bfloat16 to float32
		return storageOf(s.Data), nil
	case *pytorch.BFloat16Storage:
		return storageOf(s.Data), nil
	case *pytorch.DoubleStorage:
		return storageOf(s.Data), nil
	case *pytorch.LongStorage:
		return storageOf(s.Data), nil
	case *pytorch.IntStorage:
		return storageOf(s.Data), nil
	case *pytorch.ShortStorage:
		return storageOf(s.Data), nil
	case *pytorch.CharStorage:
		return storageOf(s.Data), nil
	case *pytorch.ByteStorage:
		return storageOf(s.Data), nil
	case *pytorch.BoolStorage:
		return values{len: func() int { return len(s.Data) }, at: func(i int) float32 {
			if s.Data[i] {
				return 1
			}
			return 0
		}}, nil
	case nil:
		return values{}, errors.New("no storage")
	}
	return values{}, fmt.Errorf("unsupported storage %T", s)
}

// stripPrefix removes prefix from every name, if every name has it.
func stripPrefix(m map[string]*tensor.Tensor, prefix string) map[string]*tensor.Tensor {
	if len(m) == 0 {
		return m
	}
	for k := range m {
		if !strings.HasPrefix(k, prefix) {
			return m
		}
	}
	out := make(map[string]*tensor.Tensor, len(m))
	for k, v := range m {
		out[strings.TrimPrefix(k, prefix)] = v
	}
	return out
}
