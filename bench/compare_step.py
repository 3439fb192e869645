"""Times the full CycleGAN training step in Go and PyTorch, alternately, and prints the tables.

Builds cmd/cyclegan, then for each of --rounds rounds and each variant runs
`cyclegan bench` and bench/torch_cyclegan.py one after the other (which goes
first alternating from round to round), each doing one untimed warm-up and
--iters timed iterations of the same configuration (ngf 64, 9 blocks, batch 1,
random --crop_size images). The variants are the standard network and the
attention loss on one, four and all nine residual blocks (order 2):

  standard   no attention loss
  one        -att_layers 18
  four       -att_layers 10,14,15,18
  nine       -att_layers all (10 ... 18)

PyTorch runs as installed ("default") and with glibc's malloc told to keep its
memory ("keep": MALLOC_MMAP_THRESHOLD_=MALLOC_TRIM_THRESHOLD_=4294967296); pick
with --torch both|default|keep. Each run prints its median ms per iteration;
the tables give, per variant, the median over rounds of those medians, the
ratio Go/PyTorch, and each variant's cost relative to the standard step within
each framework (the issue's "1.2x for one layer, 1.8x for nine").

From the repository root, with Debian's PyTorch:

  /usr/bin/python3 bench/compare_step.py --crop_size 256 --iters 3 --rounds 3
  /usr/bin/python3 bench/compare_step.py --crop_size 128 --iters 3 --rounds 2 --variants standard,one
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

VARIANTS = {"standard": "", "one": "18", "four": "10,14,15,18", "nine": "all"}
KEEP = {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "4294967296"}


def run(cmd, env):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--crop_size", type=int, default=256)
    ap.add_argument("--iters", type=int, default=3, help="timed iterations per run (after one warm-up)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--variants", default="standard,one,four,nine", help="comma-separated: " + ",".join(VARIANTS))
    ap.add_argument("--torch", default="both", choices=("both", "default", "keep"),
                    help="PyTorch's malloc as installed, keeping its memory, or both")
    ap.add_argument("--att_order", type=int, default=2, choices=(1, 2))
    ap.add_argument("--threads", type=int, default=2, help="PyTorch threads and Go's GOMAXPROCS")
    args = ap.parse_args()
    variants = args.variants.split(",")
    for v in variants:
        if v not in VARIANTS:
            sys.exit(f"unknown variant {v!r}: want some of {', '.join(VARIANTS)}")
    configs = ["default", "keep"] if args.torch == "both" else [args.torch]

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.path.join(tempfile.mkdtemp(), "cyclegan")
    subprocess.run(["go", "build", "-o", binary, "./cmd/cyclegan"], check=True, cwd=root)
    go_env = dict(os.environ, GOMAXPROCS=str(args.threads))
    torch_env = {"default": {k: v for k, v in os.environ.items() if k not in KEEP}, "keep": dict(os.environ, **KEEP)}

    def go_cmd(v):
        cmd = [binary, "bench", "-crop_size", str(args.crop_size), "-iters", str(args.iters)]
        if VARIANTS[v]:
            cmd += ["-att_layers", VARIANTS[v], "-att_order", str(args.att_order)]
        return cmd

    def torch_cmd(v):
        cmd = [sys.executable, os.path.join(root, "bench", "torch_cyclegan.py"), "--crop_size", str(args.crop_size),
               "--iters", str(args.iters), "--threads", str(args.threads)]
        if VARIANTS[v]:
            cmd += ["--att_layers", VARIANTS[v], "--att_order", str(args.att_order)]
        return cmd

    # results[impl][variant] = one JSON result per round; impl is "go" or
    # "torch/<config>".
    impls = ["go"] + ["torch/" + c for c in configs]
    results = {i: {v: [] for v in variants} for i in impls}
    for r in range(args.rounds):
        for v in variants:
            order = impls if r % 2 == 0 else impls[::-1]
            for impl in order:
                if impl == "go":
                    res = run(go_cmd(v), go_env)
                else:
                    res = run(torch_cmd(v), torch_env[impl.split("/")[1]])
                results[impl][v].append(res)
                print(f"round {r + 1} {v:8s} {impl:13s} {res['ms_per_iter']:8.0f} ms/iter "
                      f"(min {res['min_ms']:.0f}, warm-up {res['warmup_ms']:.0f})", file=sys.stderr, flush=True)

    def med(impl, v):
        return statistics.median(x["ms_per_iter"] for x in results[impl][v])

    def fastest(impl, v):
        return min(x["min_ms"] for x in results[impl][v])

    torch_version = results[impls[1]][variants[0]][0]["torch"] if len(impls) > 1 else "-"
    print(f"crop {args.crop_size}, ngf 64, 9 blocks, batch 1; {args.rounds} rounds of 1 warm-up + {args.iters} timed "
          f"iterations per run; {args.threads} threads; PyTorch {torch_version}; attention order {args.att_order}")
    print()
    head = "| variant | Go ms/iter |"
    rule = "|---|---:|"
    for c in configs:
        head += f" PyTorch ({c}) ms/iter | Go/PyTorch ({c}) |"
        rule += "---:|---:|"
    print(head)
    print(rule)
    for v in variants:
        row = f"| {v} | {med('go', v):.0f} |"
        for c in configs:
            t = med("torch/" + c, v)
            row += f" {t:.0f} | {med('go', v) / t:.2f} |"
        print(row)
    if "standard" in variants and len(variants) > 1:
        print()
        head = "| variant | Go: variant/standard |" + "".join(f" PyTorch ({c}): variant/standard |" for c in configs)
        print(head)
        print("|---|---:|" + "---:|" * len(configs))
        for v in variants:
            if v == "standard":
                continue
            row = f"| {v} | {med('go', v) / med('go', 'standard'):.2f} |"
            for c in configs:
                row += f" {med('torch/' + c, v) / med('torch/' + c, 'standard'):.2f} |"
            print(row)
    print()
    print("Fastest single iteration (ms): " + "; ".join(
        f"{v}: Go {fastest('go', v):.0f}, " + ", ".join(f"PyTorch ({c}) {fastest('torch/' + c, v):.0f}" for c in configs)
        for v in variants))
    print("Warm-up iteration (ms, median over rounds): " + "; ".join(
        f"{v}: Go {statistics.median(x['warmup_ms'] for x in results['go'][v]):.0f}, " + ", ".join(
            f"PyTorch ({c}) {statistics.median(x['warmup_ms'] for x in results['torch/' + c][v]):.0f}" for c in configs)
        for v in variants))


if __name__ == "__main__":
    main()
