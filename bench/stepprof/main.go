// Command stepprof times CycleGAN training iterations one by one and
// reports, for each, what the Go runtime and the kernel saw: bytes
// allocated, garbage collections, page faults. With -cpuprofile it writes a
// CPU profile of the timed iterations (after the warm-up) for
// `go tool pprof -top`.
//
//	go run ./bench/stepprof -crop_size 128 -iters 3 -cpuprofile /tmp/step.prof
//	go tool pprof -top /tmp/step.prof
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/tensor"
)

func main() {
	crop := flag.Int("crop_size", 128, "image side")
	iters := flag.Int("iters", 3, "timed iterations after -warmup untimed ones")
	warm := flag.Int("warmup", 1, "untimed iterations first")
	ngf := flag.Int("ngf", 64, "generator width")
	blocks := flag.Int("n_blocks", 9, "residual blocks")
	o := cyclegan.DefaultOptions()
	flag.Var(&o.Attention.Layers, "att_layers", "attention layers (18, 10,14,15,18, all); empty: standard")
	flag.Var(&o.Attention.Order, "att_order", "attention order (2, 1, 0)")
	cpuprof := flag.String("cpuprofile", "", "write a CPU profile of the timed iterations here")
	memprof := flag.String("memprofile", "", "write an allocation profile here at the end")
	flag.Parse()

	o.NGF, o.NBlocks = *ngf, *blocks
	m, err := cyclegan.New(o, 1)
	if err != nil {
		log.Fatal(err)
	}
	att := m.Attention.At(1)
	rng := tensor.NewRand(2)
	a := tensor.RandUniform(rng, tensor.Float32, -1, 1, 1, 3, *crop, *crop)
	b := tensor.RandUniform(rng, tensor.Float32, -1, 1, 1, 3, *crop, *crop)
	gcCPU := func() float64 {
		s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
		metrics.Read(s)
		return s[0].Value.Float64()
	}
	step := func(label string, i int) {
		var ms0, ms1 runtime.MemStats
		gc0 := gcCPU()
		var ru0, ru1 syscall.Rusage
		runtime.ReadMemStats(&ms0)
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		t0 := time.Now()
		if _, err := m.Step(a, b, 2e-4, att); err != nil {
			log.Fatal(err)
		}
		d := time.Since(t0)
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		gc1 := gcCPU()
		runtime.ReadMemStats(&ms1)
		tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
		fmt.Printf("%s %d: %7.0f ms  user %5.2f s  sys %5.2f s  faults %7d  alloc %6.0f MB  gcs %2d (%4.0f ms CPU)  heap_sys %5.0f MB  released %5.0f MB\n",
			label, i, float64(d.Microseconds())/1000,
			tv(ru1.Utime)-tv(ru0.Utime), tv(ru1.Stime)-tv(ru0.Stime), ru1.Minflt-ru0.Minflt,
			float64(ms1.TotalAlloc-ms0.TotalAlloc)/(1<<20), ms1.NumGC-ms0.NumGC, (gc1-gc0)*1000,
			float64(ms1.HeapSys)/(1<<20), float64(ms1.HeapReleased)/(1<<20))
	}
	for i := range *warm {
		step("warmup", i)
	}
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	for i := range *iters {
		step("step", i)
	}
	if *memprof != "" {
		f, err := os.Create(*memprof)
		if err != nil {
			log.Fatal(err)
		}
		pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
	}
}
