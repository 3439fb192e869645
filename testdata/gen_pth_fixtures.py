#!/usr/bin/python3
"""Writes the PyTorch checkpoint fixtures of package cyclegan/checkpoint (testdata/pth/).

Run with Debian's PyTorch:  /usr/bin/python3 testdata/gen_pth_fixtures.py

torch.save writes two formats: the zip archive of torch >= 1.6 (the default)
and the older "legacy" pickle stream (`_use_new_zipfile_serialization=False`),
which the published pytorch-CycleGAN-and-pix2pix models and the FID Inception
weights use. Both are written here. Files:

  net_zip.pth, net_legacy.pth  the state dict of a tiny generator shaped like
                               pytorch-CycleGAN-and-pix2pix's ResnetGenerator
                               (ngf 2, one residual block, one down- and one
                               up-sampling), plus the InstanceNorm running
                               statistics that old checkpoints carry
  net_wrapped.pth              the same state dict as a training script might
                               save it: {"state_dict": <names with the
                               DataParallel "module." prefix>, "epoch": 7}
  tensors_zip.pth,             tensors that are not plain contiguous float32:
  tensors_legacy.pth           a transposed view, a view with a storage offset,
                               float16, float64, int64 and a 0-d scalar
  expected.json                every tensor's shape and row-major values, a
                               random input and the network's output on it
"""
import collections
import json
import os

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pth")


class ResnetBlock(nn.Module):
    """pytorch-CycleGAN-and-pix2pix's ResnetBlock (reflect padding, instance norm, no dropout)."""

    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class TinyGenerator(nn.Module):
    """Indices: 0 pad, 1 conv, 2 norm, 3 relu, 4 conv s2, 5 norm, 6 relu, 7 block,
    8 conv-transpose s2, 9 norm, 10 relu, 11 pad, 12 conv, 13 tanh."""

    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(3, 2, 7), nn.InstanceNorm2d(2), nn.ReLU(True),
            nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.InstanceNorm2d(4), nn.ReLU(True),
            ResnetBlock(4),
            nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1), nn.InstanceNorm2d(2), nn.ReLU(True),
            nn.ReflectionPad2d(3), nn.Conv2d(2, 3, 7), nn.Tanh())

    def forward(self, x):
        return self.model(x)


def described(t):
    return {"shape": list(t.shape), "values": [float(v) for v in t.detach().double().flatten().tolist()]}


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    net = TinyGenerator()  # PyTorch's default init: non-zero biases, so every tensor matters
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        y = net(x)

    sd = net.state_dict()
    # Old InstanceNorm layers stored running statistics; loaders ignore them.
    sd["model.2.running_mean"] = torch.zeros(2)
    sd["model.2.running_var"] = torch.ones(2)
    sd["model.2.num_batches_tracked"] = torch.tensor(0, dtype=torch.int64)
    torch.save(sd, os.path.join(OUT, "net_zip.pth"))
    torch.save(sd, os.path.join(OUT, "net_legacy.pth"), _use_new_zipfile_serialization=False)
    wrapped = collections.OrderedDict(("module." + k, v) for k, v in sd.items())
    torch.save({"state_dict": wrapped, "epoch": 7}, os.path.join(OUT, "net_wrapped.pth"))

    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8 - 0.5
    long_vec = torch.arange(10, dtype=torch.float32) * 0.25
    odd = collections.OrderedDict([
        ("transposed", base.t()),              # strides (1, 4): not contiguous
        ("offset", long_vec[3:7]),             # storage offset 3
        ("half", torch.tensor([[0.5, -2.0], [1e-3, 65504.0]], dtype=torch.float16)),
        ("double", torch.tensor([1.0 / 3, -2.5], dtype=torch.float64)),
        ("long", torch.tensor([[-3, 0, 7]], dtype=torch.int64)),
        ("scalar", torch.tensor(3.5)),
    ])
    torch.save(odd, os.path.join(OUT, "tensors_zip.pth"))
    torch.save(odd, os.path.join(OUT, "tensors_legacy.pth"), _use_new_zipfile_serialization=False)

    expected = {
        "input": described(x),
        "output": described(y),
        "net": {k: described(v) for k, v in sd.items()},
        "tensors": {k: described(v) for k, v in odd.items()},
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
