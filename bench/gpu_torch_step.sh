#!/usr/bin/env bash
# PyTorch's CycleGAN training iteration on the lent GPU machine: the GPU
# figures of docs/benchmarks.md. Same iteration as `cyclegan bench` (256x256,
# batch 1, ngf 64, 9 blocks), standard and with the attention loss on one,
# four and nine blocks (order 2), each with cuDNN's default algorithm choice
# and with torch.backends.cudnn.benchmark; --rounds rounds, one process per
# run (5 untimed iterations, then 30 timed). One JSON line per run in
# $OUT/torch_gpu.jsonl, the machine in $OUT/gpu.txt.
#
#   bash bench/gpu_torch_step.sh [rounds]
set -u
OUT=${OUT:-/tmp}
rounds=${1:-2}
py=$(command -v python3)
{
	nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
	"$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())'
	nproc
} >"$OUT/gpu.txt" 2>&1
for r in $(seq "$rounds"); do
	for v in standard 18 10,14,15,18 all; do
		for b in "" --cudnn_benchmark; do
			att=()
			[ "$v" != standard ] && att=(--att_layers "$v")
			"$py" bench/torch_cyclegan.py --device cuda --warmup 5 --iters 30 --threads 4 "${att[@]}" $b \
				>>"$OUT/torch_gpu.jsonl" 2>>"$OUT/errors.txt" || echo "run $r $v $b failed" >>"$OUT/errors.txt"
			tail -1 "$OUT/torch_gpu.jsonl" | grep -o "\"ms_per_iter\": [0-9.]*" | tr -d "\n"
			echo " [$r $v $b]"
		done
	done
done
