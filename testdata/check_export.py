#!/usr/bin/python3
"""Checks `cyclegan export` against PyTorch: loads the exported files as
pytorch-CycleGAN-and-pix2pix does and records what PyTorch computes with them.

Run with Debian's PyTorch (1.13 there):
    /usr/bin/python3 testdata/check_export.py DIR [--ngf 4 --ndf 4 --n_blocks 1 --n_layers_D 3 --epoch latest]

DIR holds {epoch}_net_{G_A,G_B,D_A,D_B}.pth as `cyclegan export` writes them. For each file:

  - torch.load(path, map_location='cpu', weights_only=True) must give a
    collections.OrderedDict of contiguous float32 CPU tensors that do not
    require grad (weights_only=True is the default of torch >= 2.6; it is
    also the strictest loader: only state-dict globals are allowed);
  - it is loaded as the reference's BaseModel.load_networks loads it (drop
    `_metadata` if present, then net.load_state_dict(state_dict), strict)
    into the reference's ResnetGenerator / NLayerDiscriminator (instance
    norm, no dropout), whose definitions in gen_cyclegan_golden.py are
    copies of the reference's, module for module, so the state-dict keys
    must be exactly the reference's; the file's key order must be the
    network's own state_dict() order, as the reference's save_networks writes;
  - each network is run on a fixed input (torch.manual_seed(0), uniform in
    [-1, 1], 1x3x32x32).

Writes DIR/torch_check.json: the torch version, each file's SHA-256 and key
list, the input and each network's output (row-major float values). The Go
test TestExportPyTorchGolden compares its own export of the same weights with
the files this script checked and its own networks' outputs with these.
Exits non-zero, naming the file, when any check fails.
"""
import argparse
import collections
import hashlib
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_cyclegan_golden import NLayerDiscriminator, ResnetGenerator  # noqa: E402


def load_like_reference(net, path):
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    if type(state_dict) is not collections.OrderedDict:
        sys.exit("%s: torch.load gave a %s, want an OrderedDict" % (path, type(state_dict).__name__))
    for k, t in state_dict.items():
        if not isinstance(t, torch.Tensor) or t.dtype != torch.float32 or t.requires_grad or not t.is_contiguous():
            sys.exit("%s: %s is not a contiguous float32 tensor without grad" % (path, k))
    keys = list(state_dict.keys())
    if keys != list(net.state_dict().keys()):
        sys.exit("%s: keys %s\n  want the network's, in order: %s" % (path, keys, list(net.state_dict().keys())))
    if hasattr(state_dict, "_metadata"):
        del state_dict._metadata
    net.load_state_dict(state_dict)  # strict=True: no key missing, none unexpected, every shape right
    return keys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--ngf", type=int, default=4)
    ap.add_argument("--ndf", type=int, default=4)
    ap.add_argument("--n_blocks", type=int, default=1)
    ap.add_argument("--n_layers_D", type=int, default=3)
    ap.add_argument("--epoch", default="latest")
    ap.add_argument("--size", type=int, default=32)
    a = ap.parse_args()

    torch.manual_seed(0)
    x = torch.rand(1, 3, a.size, a.size) * 2 - 1
    out = {"torch": torch.__version__, "input": {"shape": list(x.shape), "values": x.flatten().tolist()}, "files": {}}
    for name in ("G_A", "G_B", "D_A", "D_B"):
        net = ResnetGenerator(a.ngf, a.n_blocks) if name[0] == "G" else NLayerDiscriminator(a.ndf, a.n_layers_D)
        path = os.path.join(a.dir, "%s_net_%s.pth" % (a.epoch, name))
        keys = load_like_reference(net, path)
        with open(path, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        net.eval()
        with torch.no_grad():
            y = net(x)
        out["files"][os.path.basename(path)] = {"sha256": sha, "keys": keys}
        out[name] = {"shape": list(y.shape), "values": y.flatten().tolist()}
        print("%s: %d tensors loaded strictly, output %s" % (path, len(keys), list(y.shape)))
    with open(os.path.join(a.dir, "torch_check.json"), "w") as f:
        json.dump(out, f)
    print("wrote", os.path.join(a.dir, "torch_check.json"), "with torch", torch.__version__)


if __name__ == "__main__":
    main()
