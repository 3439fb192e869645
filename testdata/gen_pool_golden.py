#!/usr/bin/env python3
"""Writes testdata/pool/golden.json: PyTorch's max pools, average pools and bilinear resizes for the cases the
Go test tensor/pool_golden_test.go checks the CPU backend's MaxPool2d, AvgPool2d and ResizeBilinear against.

Run from anywhere with Debian's PyTorch:  /usr/bin/python3 testdata/gen_pool_golden.py

Each case holds its input (rounded to 6 decimals, so that the JSON text is exact) and PyTorch's output in
float64 and in float32 (the float32 run on the float32-rounded input):
  max     F.max_pool2d(x, k, s, p)                                        (ceil_mode False)
  avg     F.avg_pool2d(x, k, s, p, count_include_pad=...)                 (ceil_mode False)
  resize  F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)   (no antialias)
The pools and the resize are those of pytorch-fid's Inception-v3 (3x3 stride 2; 3x3 stride 1 padded by 1
without counting the padding; 256 -> 299 scaled down here to keep the file small) and a few other shapes.
"""

import json
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "pool", "golden.json")

CASES = [
    {"name": "max3s2", "op": "max", "shape": [2, 3, 9, 8], "kernel": 3, "stride": 2, "padding": 0},
    {"name": "max3s1p1", "op": "max", "shape": [1, 2, 7, 6], "kernel": 3, "stride": 1, "padding": 1},
    {"name": "max2s2", "op": "max", "shape": [1, 2, 6, 9], "kernel": 2, "stride": 2, "padding": 0},
    {"name": "avg3s1p1_nopad", "op": "avg", "shape": [2, 3, 7, 6], "kernel": 3, "stride": 1, "padding": 1,
     "count_include_pad": False},
    {"name": "avg3s1p1_pad", "op": "avg", "shape": [2, 3, 7, 6], "kernel": 3, "stride": 1, "padding": 1,
     "count_include_pad": True},
    {"name": "avg4s3p2_nopad", "op": "avg", "shape": [1, 2, 8, 7], "kernel": 4, "stride": 3, "padding": 2,
     "count_include_pad": False},
    {"name": "resize_up", "op": "resize", "shape": [2, 3, 5, 6], "size": [13, 7]},
    {"name": "resize_down", "op": "resize", "shape": [1, 2, 20, 28], "size": [6, 11]},
    {"name": "resize_fid", "op": "resize", "shape": [1, 1, 32, 32], "size": [37, 37]},
    {"name": "resize_one", "op": "resize", "shape": [1, 2, 1, 5], "size": [3, 9]},
]


def run(c, x):
    if c["op"] == "max":
        return F.max_pool2d(x, c["kernel"], c["stride"], c["padding"])
    if c["op"] == "avg":
        return F.avg_pool2d(x, c["kernel"], c["stride"], c["padding"], count_include_pad=c["count_include_pad"])
    return F.interpolate(x, size=tuple(c["size"]), mode="bilinear", align_corners=False)


def main():
    rng = np.random.default_rng(20261201)
    out = {"about": "written by testdata/gen_pool_golden.py with torch " + torch.__version__, "cases": []}
    for c in CASES:
        v = np.round(rng.standard_normal(int(np.prod(c["shape"]))), 6)
        x64 = torch.tensor(v, dtype=torch.float64).reshape(c["shape"])
        y64 = run(c, x64)
        y32 = run(c, x64.float())
        case = dict(c)
        case.update(input=v.tolist(), out_shape=list(y64.shape),
                    float64=y64.flatten().tolist(), float32=[float(f) for f in y32.flatten().tolist()])
        out["cases"].append(case)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f)
        f.write("\n")


if __name__ == "__main__":
    main()
