package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"github.com/camcycle/camcycle/cuda"
	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/tensor"
)

// benchResult is the JSON line bench prints.
type benchResult struct {
	MsPerIter float64 `json:"ms_per_iter"` // median
	MinMs     float64 `json:"min_ms"`
	MaxMs     float64 `json:"max_ms"`
	WarmupMs  float64 `json:"warmup_ms"`
	Iters     int     `json:"iters"`
	CropSize  int     `json:"crop_size"`
	NGF       int     `json:"ngf"`
	NDF       int     `json:"ndf"`
	NBlocks   int     `json:"n_blocks"`
	AttLayers []int   `json:"att_layers"` // empty: the standard network
	AttOrder  int     `json:"att_order"`  // 2, 1 or 0; -1 without attention
	Preset    string  `json:"preset,omitempty"`
	Device    string  `json:"device"`
	GPUID     *int    `json:"gpu_id,omitempty"` // the CUDA device ordinal; absent on the CPU
	TF32      bool    `json:"tf32"`
	// The CUDA allocator's peaks over the whole process (warm-up
	// included), in bytes of size-class blocks: in use (as PyTorch's
	// torch.cuda.max_memory_allocated) and reserved (in use + cached, as
	// max_memory_reserved). Absent on the CPU.
	PeakDeviceBytes   *int64    `json:"peak_device_bytes,omitempty"`
	PeakReservedBytes *int64    `json:"peak_reserved_bytes,omitempty"`
	DType             string    `json:"dtype"`
	GOMAXPROCS        int       `json:"gomaxprocs"`
	Ms                []float64 `json:"ms"` // every timed iteration
}

func runBench(args []string, stdout, stderr io.Writer) int {
	o := defaultOptions()
	fs := newFlags("bench", gCrop|gModel|gAtt|gBench, &o, stderr)
	if st, ok := parse(fs, args, "bench", stderr); !ok {
		return st
	}
	if o.preset == "list" {
		printPresets(stdout)
		return 0
	}
	r, err := bench(fs, &o)
	if err != nil {
		return failf(stderr, "bench", "%v", err)
	}
	line, _ := json.Marshal(r)
	fmt.Fprintln(stdout, string(line))
	return 0
}

// bench times o.iters training iterations (Model.Step: both generators'
// and both discriminators' updates, with the attention loss when set) on
// random images, after one untimed warm-up iteration.
func bench(fs *flag.FlagSet, o *options) (benchResult, error) {
	r := benchResult{Iters: o.iters, CropSize: o.cropSize, NGF: o.ngf, NDF: o.ndf, NBlocks: o.nBlocks,
		Preset: o.preset, Device: o.device, TF32: o.tf32, DType: "float32", GOMAXPROCS: runtime.GOMAXPROCS(0), AttOrder: -1, AttLayers: []int{}}
	if o.iters < 1 {
		return r, fmt.Errorf("-iters %d: must be at least 1", o.iters)
	}
	if err := o.resolveNets(explicit(fs)); err != nil {
		return r, err
	}
	if o.preset != "" {
		if err := applyPreset(&o.att, o.preset, o.nBlocks, 200, explicit(fs)); err != nil {
			return r, err
		}
	}
	mo, err := o.modelOptions()
	if err != nil {
		return r, err
	}
	r.Device = mo.Backend.Name() // -gpu_ids alone selects cuda too
	if err := checkImageSize(mo, "crop_size", o.cropSize); err != nil {
		return r, err
	}
	m, err := cyclegan.New(mo, o.seed)
	if err != nil {
		return r, err
	}
	att := m.Attention.At(1)
	if att != nil {
		r.AttLayers = att.Layers()
		r.AttOrder = att.Order().Number()
	}
	rng := tensor.NewRand(o.seed + 1)
	img := func() *tensor.Tensor {
		return tensor.RandUniform(rng, tensor.Float32, -1, 1, 1, 3, o.cropSize, o.cropSize).To(mo.Backend)
	}
	a, b := img(), img()
	step := func() (float64, error) {
		t0 := time.Now()
		_, err := m.Step(a, b, mo.Adam.LR, att)
		return float64(time.Since(t0).Microseconds()) / 1000, err
	}
	if r.WarmupMs, err = step(); err != nil {
		return r, err
	}
	for range o.iters {
		ms, err := step()
		if err != nil {
			return r, err
		}
		r.Ms = append(r.Ms, ms)
	}
	if st, id, ok := cuda.DeviceMemory(mo.Backend); ok {
		inUse, reserved := int64(st.PeakInUse), int64(st.Peak)
		r.GPUID, r.PeakDeviceBytes, r.PeakReservedBytes = &id, &inUse, &reserved
	}
	sorted := slices.Clone(r.Ms)
	slices.Sort(sorted)
	n := len(sorted)
	r.MinMs, r.MaxMs = sorted[0], sorted[n-1]
	r.MsPerIter = sorted[n/2]
	if n%2 == 0 {
		r.MsPerIter = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return r, nil
}
