"""Runs the Go and PyTorch convolution benchmarks alternately and prints the ratios.

Builds bench/convbench, then for each of --rounds rounds runs the Go program and
bench/torch_conv.py one after the other (the order alternating from round to
round), each timing every workload --reps times after a warm-up. A round gives
one median per workload and implementation, and the ratio Go/PyTorch of the
two; the table reports the median over rounds of each, and the range of the
ratio across rounds as a measure of the noise. Other work on the machine only
ever adds time, so it also reports the fastest single run of each side and
their ratio.

Run from the repository root with Debian's PyTorch:

  /usr/bin/python3 bench/compare.py --rounds 7 --reps 20

With --layers, the same for every convolution shape of CycleGAN at 256x256
(forward, input gradient, weight gradient of each).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

def run(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return {r["workload"]: r for r in map(json.loads, out.splitlines())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2, help="PyTorch threads and Go's GOMAXPROCS")
    ap.add_argument("--layers", action="store_true", help="time the CycleGAN layer shapes instead")
    ap.add_argument("--torch-env", action="append", default=[], metavar="KEY=VALUE",
                    help="environment variable for the PyTorch process (repeatable), e.g. "
                         "MALLOC_MMAP_THRESHOLD_=4294967296")
    args = ap.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.path.join(tempfile.mkdtemp(), "convbench")
    subprocess.run(["go", "build", "-o", binary, "./bench/convbench"], check=True, cwd=root)
    env = dict(os.environ, GOMAXPROCS=str(args.threads))
    py_env = dict(os.environ, **dict(kv.split("=", 1) for kv in args.torch_env))
    go_cmd = [binary, "-reps", str(args.reps)]
    py_cmd = [sys.executable, os.path.join(root, "bench", "torch_conv.py"),
              "--reps", str(args.reps), "--threads", str(args.threads)]
    if args.layers:
        go_cmd.append("-layers")
        py_cmd.append("--layers")

    rounds = []
    for i in range(args.rounds):
        if i % 2 == 0:
            g, p = run(go_cmd, env), run(py_cmd, py_env)
        else:
            p, g = run(py_cmd, py_env), run(go_cmd, env)
        rounds.append((g, p))
        workloads = list(g)
        line = "  ".join(f"{w} go {g[w]['median_ms']:.1f} ms, torch {p[w]['median_ms']:.1f} ms" for w in workloads)
        print(f"round {i + 1}: {line}", file=sys.stderr, flush=True)

    version = rounds[0][1][workloads[0]]["version"]
    extra = f", PyTorch environment {' '.join(args.torch_env)}" if args.torch_env else ""
    print(f"{args.rounds} rounds of {args.reps} timed runs each, {args.threads} threads, PyTorch {version}{extra}")
    print()
    print("| workload | Go median (ms) | PyTorch median (ms) | Go/PyTorch | ratio range over rounds "
          "| Go fastest (ms) | PyTorch fastest (ms) | Go/PyTorch fastest |")
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    for w in workloads:
        gm = [g[w]["median_ms"] for g, _ in rounds]
        pm = [p[w]["median_ms"] for _, p in rounds]
        ratios = [a / b for a, b in zip(gm, pm)]
        gmin = min(g[w]["min_ms"] for g, _ in rounds)
        pmin = min(p[w]["min_ms"] for _, p in rounds)
        print(f"| {w} | {statistics.median(gm):.1f} | {statistics.median(pm):.1f} | "
              f"{statistics.median(ratios):.2f} | {min(ratios):.2f}–{max(ratios):.2f} "
              f"| {gmin:.1f} | {pmin:.1f} | {gmin / pmin:.2f} |")


if __name__ == "__main__":
    main()
