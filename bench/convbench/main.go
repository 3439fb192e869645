// Command convbench times the convolution benchmarks of docs/benchmarks.md
// on the CPU backend, as bench/torch_conv.py does in PyTorch:
//
//	conv_forward   Conv2d of x (1, 256, 64, 64) with w (256, 256, 3, 3), padding 1
//	conv_backward  its input gradient and weight gradient for a given gy
//	resnet_block   a CycleGAN ResnetBlock(256) forward and backward on (1, 256,
//	               64, 64) with an MSE loss against a fixed target
//
// Each workload runs -warmup times, then -reps times; convbench prints one
// JSON line per workload with the median, min and max in milliseconds. It
// uses GOMAXPROCS threads (all cores unless set).
//
// With -layers it times instead every convolution shape of the CycleGAN
// generator and discriminator at 256×256 (layerShapes): forward, input
// gradient and weight gradient of each.
//
//	go run ./bench/convbench -reps 20
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/camcycle/camcycle/autograd"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/ops"
	"github.com/camcycle/camcycle/tensor"
)

func workloads() map[string]func() {
	r := tensor.NewRand(1)
	x := tensor.RandNormal(r, tensor.Float32, 0, 1, 1, 256, 64, 64)
	w := tensor.RandNormal(r, tensor.Float32, 0, 0.02, 256, 256, 3, 3)
	b := tensor.RandNormal(r, tensor.Float32, 0, 0.02, 256)
	gy := tensor.RandNormal(r, tensor.Float32, 0, 1, 1, 256, 64, 64)
	p := tensor.ConvParams{Stride: 1, Padding: 1}

	block := layers.NewResnetBlock(layers.Init{Rand: r, DType: tensor.Float32}, 256)
	params := layers.Vars(block)
	xb := autograd.Param(tensor.RandNormal(r, tensor.Float32, 0, 1, 1, 256, 64, 64))
	target := autograd.Const(tensor.RandNormal(r, tensor.Float32, 0, 1, 1, 256, 64, 64))

	return map[string]func(){
		"conv_forward": func() { tensor.CPU.Conv2d(x, w, b, p) },
		"conv_backward": func() {
			tensor.CPU.Conv2dInputGrad(gy, w, p, 64, 64)
			tensor.CPU.Conv2dWeightGrad(x, gy, p, 3, 3)
		},
		"resnet_block": func() {
			autograd.ZeroGrad(append(params, xb))
			autograd.Backward(ops.MSELoss(block.Forward(xb), target))
		},
	}
}

// layers are the convolutions of the generator (the residual ones on their
// reflection-padded input) and of the PatchGAN discriminator at 256×256, as
// in bench/torch_conv.py. The generator's transposed convolutions are the
// input gradients of down1 and down2.
var layerShapes = []struct {
	name                  string
	c, o, h, k, stride, p int
}{
	{"G_stem_3to64_k7", 3, 64, 262, 7, 1, 0},
	{"G_down1_64to128_k3s2", 64, 128, 256, 3, 2, 1},
	{"G_down2_128to256_k3s2", 128, 256, 128, 3, 2, 1},
	{"G_res_256_k3", 256, 256, 66, 3, 1, 0},
	{"G_last_64to3_k7", 64, 3, 262, 7, 1, 0},
	{"D1_3to64_k4s2", 3, 64, 256, 4, 2, 1},
	{"D2_64to128_k4s2", 64, 128, 128, 4, 2, 1},
	{"D3_128to256_k4s2", 128, 256, 64, 4, 2, 1},
	{"D4_256to512_k4", 256, 512, 32, 4, 1, 1},
	{"D5_512to1_k4", 512, 1, 31, 4, 1, 1},
}

// layerWorkloads returns the layer workloads and their names in order.
func layerWorkloads() (map[string]func(), []string) {
	r := tensor.NewRand(1)
	ws := map[string]func(){}
	var names []string
	for _, l := range layerShapes {
		x := tensor.RandNormal(r, tensor.Float32, 0, 1, 1, l.c, l.h, l.h)
		w := tensor.RandNormal(r, tensor.Float32, 0, 0.02, l.o, l.c, l.k, l.k)
		b := tensor.New(tensor.Float32, l.o)
		p := tensor.ConvParams{Stride: l.stride, Padding: l.p}
		gy := tensor.RandNormal(r, tensor.Float32, 0, 1, tensor.CPU.Conv2d(x, w, b, p).Shape()...)
		ws[l.name+"/forward"] = func() { tensor.CPU.Conv2d(x, w, b, p) }
		ws[l.name+"/input_grad"] = func() { tensor.CPU.Conv2dInputGrad(gy, w, p, l.h, l.h) }
		ws[l.name+"/weight_grad"] = func() { tensor.CPU.Conv2dWeightGrad(x, gy, p, l.k, l.k) }
		names = append(names, l.name+"/forward", l.name+"/input_grad", l.name+"/weight_grad")
	}
	return ws, names
}

type result struct {
	Impl     string  `json:"impl"`
	Workload string  `json:"workload"`
	Median   float64 `json:"median_ms"`
	Min      float64 `json:"min_ms"`
	Max      float64 `json:"max_ms"`
	Reps     int     `json:"reps"`
	Threads  int     `json:"threads"`
}

func main() {
	reps := flag.Int("reps", 20, "timed runs per workload")
	warmup := flag.Int("warmup", 10, "untimed runs first")
	names := flag.String("workloads", "conv_forward,conv_backward,resnet_block", "comma-separated workloads")
	layerMode := flag.Bool("layers", false, "time the CycleGAN layer shapes instead")
	flag.Parse()
	if *reps < 1 {
		fmt.Fprintln(os.Stderr, "convbench: -reps must be at least 1")
		os.Exit(2)
	}
	ws, order := workloads(), strings.Split(*names, ",")
	if *layerMode {
		ws, order = layerWorkloads()
	}
	enc := json.NewEncoder(os.Stdout)
	for _, name := range order {
		f, ok := ws[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "convbench: unknown workload %q\n", name)
			os.Exit(2)
		}
		for range *warmup {
			f()
		}
		ms := make([]float64, *reps)
		for i := range ms {
			t0 := time.Now()
			f()
			ms[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
		}
		slices.Sort(ms)
		median := ms[len(ms)/2]
		if len(ms)%2 == 0 {
			median = (ms[len(ms)/2-1] + ms[len(ms)/2]) / 2
		}
		if err := enc.Encode(result{"go", name, median, ms[0], ms[len(ms)-1], *reps, runtime.GOMAXPROCS(0)}); err != nil {
			fmt.Fprintln(os.Stderr, "convbench:", err)
			os.Exit(1)
		}
	}
}
