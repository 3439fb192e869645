package tensor_test

import (
	"testing"

	"github.com/camcycle/camcycle/tensor"
	"github.com/camcycle/camcycle/tensor/backendtest"
)

// The CPU backend passes the conformance suite that every backend must
// pass; its references are plain float64 loops and the reference
// convolutions.
func TestCPUConformance(t *testing.T) { backendtest.Run(t, tensor.CPU) }
