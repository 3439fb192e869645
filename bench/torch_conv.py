"""Times the convolution benchmarks of docs/benchmarks.md in PyTorch (CPU).

The same three workloads as bench/convbench (the Go side):

  conv_forward   F.conv2d(x, w, b, padding=1), x (1, 256, 64, 64), w (256, 256, 3, 3)
  conv_backward  the input and weight gradients of that convolution for a given gy
                 (aten.convolution_backward, what autograd calls)
  resnet_block   a CycleGAN ResnetBlock(256) forward and backward on (1, 256, 64, 64):
                 x + [ReflectionPad(1), Conv 3x3, InstanceNorm, ReLU, ReflectionPad(1),
                 Conv 3x3, InstanceNorm](x), MSE loss against a fixed target, gradients
                 of x and of the parameters

Each workload runs --warmup times, then --reps times; the script prints one JSON
line per workload with the median, min and max in milliseconds.

With --layers it times instead every convolution shape of the CycleGAN generator
and discriminator at 256x256 (LAYERS below): forward, input gradient and weight
gradient of each, one JSON line per layer and primitive.

Run with Debian's PyTorch: /usr/bin/python3 bench/torch_conv.py --threads 2
"""

import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def resnet_block(dim):
    """pytorch-CycleGAN-and-pix2pix's ResnetBlock with instance norm, no dropout."""
    block = nn.Sequential(
        nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), nn.InstanceNorm2d(dim), nn.ReLU(True),
        nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), nn.InstanceNorm2d(dim))
    for m in block.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
    return block


def workloads():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 256, 64, 64, generator=g)
    w = torch.randn(256, 256, 3, 3, generator=g) * 0.02
    b = torch.randn(256, generator=g) * 0.02
    gy = torch.randn(1, 256, 64, 64, generator=g)

    def conv_forward():
        with torch.no_grad():
            F.conv2d(x, w, b, padding=1)

    def conv_backward():
        torch.ops.aten.convolution_backward(gy, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
                                            [True, True, False])

    torch.manual_seed(1)
    block = resnet_block(256)
    xb = torch.randn(1, 256, 64, 64, generator=g, requires_grad=True)
    target = torch.randn(1, 256, 64, 64, generator=g)

    def block_step():
        xb.grad = None
        block.zero_grad(set_to_none=True)
        loss = F.mse_loss(xb + block(xb), target)
        loss.backward()

    return {"conv_forward": conv_forward, "conv_backward": conv_backward, "resnet_block": block_step}


# name, in channels, out channels, input size, kernel, stride, padding: the
# convolutions of the generator (the residual ones on their reflection-padded
# input) and of the PatchGAN discriminator at 256x256. The generator's
# transposed convolutions are the input gradients of down1 and down2.
LAYERS = [
    ("G_stem_3to64_k7", 3, 64, 262, 7, 1, 0),
    ("G_down1_64to128_k3s2", 64, 128, 256, 3, 2, 1),
    ("G_down2_128to256_k3s2", 128, 256, 128, 3, 2, 1),
    ("G_res_256_k3", 256, 256, 66, 3, 1, 0),
    ("G_last_64to3_k7", 64, 3, 262, 7, 1, 0),
    ("D1_3to64_k4s2", 3, 64, 256, 4, 2, 1),
    ("D2_64to128_k4s2", 64, 128, 128, 4, 2, 1),
    ("D3_128to256_k4s2", 128, 256, 64, 4, 2, 1),
    ("D4_256to512_k4", 256, 512, 32, 4, 1, 1),
    ("D5_512to1_k4", 512, 1, 31, 4, 1, 1),
]


def layer_workloads():
    g = torch.Generator().manual_seed(1)
    out = {}
    for name, c, o, h, k, s, p in LAYERS:
        x = torch.randn(1, c, h, h, generator=g)
        w = torch.randn(o, c, k, k, generator=g) * 0.02
        b = torch.zeros(o)
        gy = torch.randn_like(F.conv2d(x, w, b, stride=s, padding=p))

        def fwd(x=x, w=w, b=b, s=s, p=p):
            with torch.no_grad():
                F.conv2d(x, w, b, stride=s, padding=p)

        def grad(mask, x=x, w=w, gy=gy, s=s, p=p):
            torch.ops.aten.convolution_backward(gy, x, w, None, [s, s], [p, p], [1, 1], False, [0, 0], 1, mask)

        out[name + "/forward"] = fwd
        out[name + "/input_grad"] = lambda grad=grad: grad([True, False, False])
        out[name + "/weight_grad"] = lambda grad=grad: grad([False, True, False])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--reps", type=int, default=20, help="timed runs per workload")
    ap.add_argument("--warmup", type=int, default=10, help="untimed runs first")
    ap.add_argument("--workloads", default="conv_forward,conv_backward,resnet_block")
    ap.add_argument("--layers", action="store_true", help="time the CycleGAN layer shapes instead")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ws = layer_workloads() if args.layers else workloads()
    names = list(ws) if args.layers else args.workloads.split(",")
    for name in names:
        f = ws[name]
        for _ in range(args.warmup):
            f()
        times = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            f()
            times.append((time.perf_counter() - t0) * 1e3)
        print(json.dumps({"impl": "pytorch", "workload": name, "median_ms": statistics.median(times),
                          "min_ms": min(times), "max_ms": max(times), "reps": args.reps,
                          "threads": args.threads, "version": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
