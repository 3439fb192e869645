package cuda

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const ptxPath = "kernels/kernels.ptx"

// The committed PTX must assemble for the H100/H200 (sm_90).
func TestPTXAssembles(t *testing.T) {
	ptxas, err := exec.LookPath("ptxas")
	if err != nil {
		t.Skip("ptxas is not on PATH (scripts/cuda-toolchain.sh installs it): the PTX is not checked")
	}
	out, err := exec.Command(ptxas, "-arch=sm_90", ptxPath, "-o", os.DevNull).CombinedOutput()
	if err != nil {
		t.Fatalf("ptxas -arch=sm_90 %s: %v\n%s", ptxPath, err, out)
	}
}

// The committed PTX must be what go generate makes from the committed
// sources, so that a .cu changed without regenerating shows up.
func TestPTXIsFresh(t *testing.T) {
	if _, err := exec.LookPath("nvcc"); err != nil {
		t.Skip("nvcc is not on PATH: the PTX's freshness is not checked")
	}
	src, err := os.ReadFile("generate.go")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^//go:generate (.*)$`).FindSubmatch(src)
	if line == nil {
		t.Fatal("generate.go has no go:generate line")
	}
	args := strings.Fields(string(line[1]))
	fresh := filepath.Join(t.TempDir(), "kernels.ptx")
	for i, a := range args {
		if a == ptxPath {
			args[i] = fresh
		}
	}
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	want, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(ptxPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		if v, w := nvccVersion(got), nvccVersion(want); v != w {
			t.Skipf("the committed PTX was made by %q, this nvcc is %q: not compared", v, w)
		}
		t.Fatalf("%s is stale: run go generate ./cuda", ptxPath)
	}
}

// nvccVersion returns the compiler line of a PTX file's header.
func nvccVersion(ptx []byte) string {
	m := regexp.MustCompile(`(?m)^// Cuda compilation tools, (.*)$`).FindSubmatch(ptx)
	if m == nil {
		return ""
	}
	return string(m[1])
}
