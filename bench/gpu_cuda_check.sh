#!/usr/bin/env bash
# The CUDA backend's first run on the lent GPU machine (which has no Go):
# build here first, carry .gpu/ (see README.md, "GPU"):
#
#   export CGO_LDFLAGS="-L$PWD/.cudastub -Wl,-rpath,/usr/local/cuda/lib64"
#   go test -tags cuda -c -o .gpu/cuda.test ./cuda
#   go build -tags cuda -o .gpu/cyclegan ./cmd/cyclegan
#
# then, there: bash bench/gpu_cuda_check.sh. In order: the machine and the
# binaries' libraries, the conformance suite on the GPU (float32 and
# float64, against the CPU references), then `cyclegan bench -device cuda`
# (standard and with the attention loss) and the PyTorch peer on the same
# card. Every result is one JSON line in $OUT/cuda_check.jsonl; logs in
# $OUT/*.log. Stops after the conformance suite if it fails: timings of a
# wrong backend mean nothing.
set -u
OUT=${OUT:-/tmp}
. scripts/cuda-libs.sh >"$OUT/gpu.txt" 2>&1
export LD_BIND_NOW=1 # a missing symbol fails at once
ldd .gpu/cuda.test >>"$OUT/gpu.txt" 2>&1
jl="$OUT/cuda_check.jsonl"
note() { printf '{"step": "%s", "rc": %d, "seconds": %d}\n' "$1" "$2" "$3" >>"$jl"; }

t0=$(date +%s)
timeout 300 .gpu/cuda.test -test.v -test.run 'TestCUDA' >"$OUT/conformance.log" 2>&1
rc=$?
note conformance $rc $(($(date +%s) - t0))
grep -E '^(--- |FAIL|ok|PASS)' "$OUT/conformance.log" | head -60
[ $rc -eq 0 ] || { echo "conformance failed (rc $rc): see conformance.log"; exit $rc; }

for att in "" "-att_layers 18" "-att_layers all"; do
	t0=$(date +%s)
	timeout 240 .gpu/cyclegan bench -device cuda -iters 10 $att >>"$jl" 2>>"$OUT/bench.log"
	note "cyclegan bench -device cuda $att" $? $(($(date +%s) - t0))
done
for att in "" "--att_layers 18" "--att_layers all"; do
	t0=$(date +%s)
	timeout 240 python3 bench/torch_cyclegan.py --device cuda --warmup 3 --iters 10 $att >>"$jl" 2>>"$OUT/torch.log"
	note "torch_cyclegan --device cuda $att" $? $(($(date +%s) - t0))
done
cat "$jl"
