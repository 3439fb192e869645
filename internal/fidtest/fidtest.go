// Package fidtest makes the deterministic stand-in for pytorch-fid's
// Inception weights that the tests use, since the real file cannot be
// downloaded in CI: every tensor of the state dict from a formula that
// testdata/gen_fid_inception_golden.py computes value for value, so that
// PyTorch and Go run bit-identical float32 weights. The convolutions' names
// and shapes are those of PyTorch's state dict, as the script lists them in
// testdata/fid/inception_golden.json.
package fidtest

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/tensor"
)

// GoldenFile is the fixture the script writes, relative to the repository
// root.
const GoldenFile = "testdata/fid/inception_golden.json"

// NamedShape is a state-dict entry's name and shape.
type NamedShape struct {
	Name  string       `json:"name"`
	Shape tensor.Shape `json:"shape"`
}

// ConvWeights reads the names and shapes of the convolutions' weights from
// the fixture at path (GoldenFile, from wherever the test runs).
func ConvWeights(path string) ([]NamedShape, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		ConvWeights []NamedShape `json:"conv_weights"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(f.ConvWeights) == 0 {
		return nil, fmt.Errorf("%s: no conv_weights", path)
	}
	return f.ConvWeights, nil
}

func fnv1a64(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 0x100000001b3
	}
	return h
}

// Unit returns n values in (-1, 1), element i from the hash of (name, i):
// a splitmix64 of the FNV-1a hash of name plus i times the golden ratio,
// its top 24 bits k mapped to (2k − 2²⁴ + 1)/2²⁴.
func Unit(name string, n int) []float64 {
	seed := fnv1a64(name)
	out := make([]float64, n)
	for i := range out {
		z := seed + uint64(i)*0x9E3779B97F4A7C15
		z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
		z = (z ^ z>>27) * 0x94D049BB133111EB
		z ^= z >> 31
		k := int64(z >> 40)
		out[i] = float64(2*k-1<<24+1) / (1 << 24)
	}
	return out
}

// Tensor is state-dict entry name of the given shape, fanIn the fan-in of
// the convolution a bn.* entry belongs to: a float32 CPU tensor, as
// checkpoint.LoadPth returns. The batch norms are scaled so that
// activations neither vanish nor explode through the 94 convolutions.
func Tensor(name string, shape tensor.Shape, fanIn int) *tensor.Tensor {
	n := shape.Numel()
	if strings.HasSuffix(name, ".num_batches_tracked") {
		return tensor.New(tensor.Float32, shape...)
	}
	v := Unit(name, n)
	for i, u := range v {
		switch {
		case strings.HasSuffix(name, ".bn.weight"):
			v[i] = 1 + u/4
		case strings.HasSuffix(name, ".bn.bias"):
			v[i] = u / 8
		case strings.HasSuffix(name, ".bn.running_mean"):
			v[i] = u / 2
		case strings.HasSuffix(name, ".bn.running_var"):
			v[i] = float64(fanIn) * (1 + u/4) / 6
		}
	}
	return tensor.FromValues(tensor.Float32, v, shape...)
}

// StateDict is the state dict of the convolutions listed, each with its
// bn.* entries, from the formula.
func StateDict(convs []NamedShape) map[string]*tensor.Tensor {
	sd := make(map[string]*tensor.Tensor)
	for _, c := range convs {
		sd[c.Name] = Tensor(c.Name, c.Shape, 0)
		prefix := strings.TrimSuffix(c.Name, ".conv.weight")
		fanIn := c.Shape[1] * c.Shape[2] * c.Shape[3]
		for _, n := range []string{"weight", "bias", "running_mean", "running_var"} {
			name := prefix + ".bn." + n
			sd[name] = Tensor(name, tensor.Shape{c.Shape[0]}, fanIn)
		}
		sd[prefix+".bn.num_batches_tracked"] = Tensor(prefix+".bn.num_batches_tracked", tensor.Shape{}, 0)
	}
	return sd
}

// SaveWeights writes the formula's whole state dict, the convolutions read
// from the fixture at golden (GoldenFile), as a .safetensors file at path,
// which fid.LoadInception reads in place of pytorch-fid's .pth.
func SaveWeights(golden, path string) error {
	convs, err := ConvWeights(golden)
	if err != nil {
		return err
	}
	var named []checkpoint.Named
	for k, v := range StateDict(convs) {
		named = append(named, checkpoint.Named{Name: k, T: v})
	}
	return checkpoint.Save(path, named, nil)
}
