#!/usr/bin/env bash
# The CUDA backend's first run on the lent GPU machine (which has no Go):
# build here first, carry .gpu/ (see README.md, "GPU"):
#
#   export CGO_LDFLAGS="-L$PWD/.cudastub -Wl,-rpath,/usr/local/cuda/lib64"
#   for p in cuda ops cyclegan gradcam; do go test -tags cuda -c -o .gpu/$p.test ./$p; done
#   go build -tags cuda -o .gpu/cyclegan ./cmd/cyclegan
#
# then, there: bash bench/gpu_cuda_check.sh. In order, each step with its
# own timeout and the whole within DEADLINE seconds (default 480: the
# device time of a session is 15 minutes in all):
#
#   1. the machine and the binaries' libraries;
#   2. the GPU tests: the conformance suite (float32 and float64, against
#      the CPU references), NewWith and TF32; every row of the op table
#      (first and second order, float64 and float32, against the CPU);
#      the golden CycleGAN and attention steps and the attention gradients
#      against the PyTorch goldens; the 50-iteration trajectories (float32,
#      GPU checkpoints continued on the CPU, TF32). It stops at the first
#      failure: timings of a wrong backend mean nothing;
#   3. cyclegan bench -device cuda at 256×256, batch 1: standard, the
#      attention loss on block 18, on all nine blocks; the same with -tf32;
#   4. the PyTorch peer on the same card (eager, cudnn.benchmark=True,
#      PyTorch's default TF32 for convolutions), the same three;
#   5. a table of ms_per_iter and peak_device_bytes, Go against PyTorch.
#
# Every result is one JSON line in $OUT/cuda_check.jsonl; logs in $OUT/*.log.
set -u
OUT=${OUT:-/tmp}
DEADLINE=${DEADLINE:-480}
start=$(date +%s)
. scripts/cuda-libs.sh >"$OUT/gpu.txt" 2>&1
nvidia-smi >>"$OUT/gpu.txt" 2>&1
export LD_BIND_NOW=1 # a missing symbol fails at once
for b in .gpu/*.test .gpu/cyclegan; do ldd "$b" >>"$OUT/gpu.txt" 2>&1; done
jl="$OUT/cuda_check.jsonl"
note() { printf '{"step": "%s", "rc": %d, "seconds": %d}\n' "$1" "$2" "$3" >>"$jl"; }
# left prints the seconds before DEADLINE, at most $1.
left() { local l=$((DEADLINE - ($(date +%s) - start))); [ "$l" -lt "$1" ] && echo "$l" || echo "$1"; }

# gotest PKG PATTERN TIMEOUT: the package's tagged test binary, run in the
# package's folder (the tests read ../testdata).
gotest() {
	local t0 rc lim
	lim=$(left "$3")
	[ "$lim" -gt 10 ] || { echo "no time left for $1 $2"; exit 124; }
	t0=$(date +%s)
	(cd "$1" && timeout "$lim" "../.gpu/$1.test" -test.v -test.run "$2") >"$OUT/test_$1.log" 2>&1
	rc=$?
	note "$1.test -test.run $2" $rc $(($(date +%s) - t0))
	grep -E '^(--- |FAIL|ok|PASS)|no CUDA device' "$OUT/test_$1.log" | grep -v -- '--- PASS: .*/' | head -40
	[ $rc -eq 0 ] || { echo "$1 failed (rc $rc): see test_$1.log"; exit $rc; }
}

gotest cuda 'TestCUDA' 120
gotest ops 'TestOpTableCUDA' 90
gotest gradcam 'CUDA' 60
gotest cyclegan 'CUDA|TF32' 240

bench() {
	local t0 lim
	lim=$(left "$1")
	shift
	[ "$lim" -gt 10 ] || { echo "no time left for $*"; return; }
	t0=$(date +%s)
	timeout "$lim" "$@" >>"$jl" 2>>"$OUT/bench.log"
	note "$*" $? $(($(date +%s) - t0))
}
for tf in "" "-tf32"; do
	for att in "" "-att_layers 18" "-att_layers all"; do
		bench 60 .gpu/cyclegan bench -device cuda -crop_size 256 -iters 10 $tf $att
	done
done
for att in "" "--att_layers 18" "--att_layers all"; do
	bench 60 python3 bench/torch_cyclegan.py --device cuda --cudnn_benchmark --warmup 3 --iters 10 $att
done
cat "$jl"
python3 - "$jl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"ms_per_iter"')]
key = lambda r: (r.get("att_layers") and len(r["att_layers"])) or 0
torch = {key(r): r for r in rows if "torch" in r}
print("%-10s %-5s %10s %16s %16s %8s" % ("att", "tf32", "go ms", "go peak bytes", "torch peak", "ratio"))
for r in rows:
    if "torch" in r:
        continue
    t = torch.get(key(r), {})
    g, p = r.get("peak_device_bytes"), t.get("peak_device_bytes")
    print("%-10s %-5s %10.1f %16s %16s %8s   torch %s ms" % (key(r) or "none", r.get("tf32"), r["ms_per_iter"], g, p,
          "%.2f" % (g / p) if g and p else "-", "%.1f" % t["ms_per_iter"] if t else "-"))
PY
