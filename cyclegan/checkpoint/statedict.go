package checkpoint

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// LoadStateDict reads a state dict from a .safetensors file or a PyTorch
// .pth file, recognised by content rather than by name: a zip archive or a
// pickle stream is read by LoadPth, anything else by Load (metadata is
// dropped).
func LoadStateDict(path string) (map[string]*tensor.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	// torch.save writes a zip archive ("PK\x03\x04") or, in the legacy
	// format, a pickle of protocol 2 ("\x80\x02").
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte{0x80, 0x02}) {
		return LoadPth(path)
	}
	m, _, err := Load(path)
	return m, err
}

// LoadNetwork loads the state dict at path (see LoadStateDict) into params
// (see LoadParams): a network's weights from one of this project's
// checkpoints or from a PyTorch one.
func LoadNetwork(path string, params []layers.NamedParam) error {
	m, err := LoadStateDict(path)
	if err != nil {
		return err
	}
	return LoadParams(params, m, path)
}
