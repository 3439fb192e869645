#!/usr/bin/python3
"""Writes the fixtures of cyclegan/fid's Inception-v3 (testdata/fid/).

Run with Debian's PyTorch:  /usr/bin/python3 testdata/gen_fid_inception_golden.py
The Go tests (cyclegan/fid/inception_test.go) only read what this writes.

The network is pytorch-fid's (mseitzer/pytorch-fid 0.3.0, pytorch_fid/inception.py),
written here as pytorch-fid writes it: torchvision's Inception3(num_classes=1008,
aux_logits=False, init_weights=False) with Mixed_5b..5d, 6b..6e, 7b and 7c replaced by
the FID blocks, and the InceptionV3 wrapper (resize to 299x299, 2x - 1, four blocks).

The real weights (pt_inception-2015-12-05-6726825d.pth) cannot be downloaded here, so
every tensor of the state dict is filled from a formula that the Go test reproduces
bit for bit (formula_tensor below, Tensor in internal/fidtest/fidtest.go):
for tensor `name` and row-major element i,

    z = fnv1a64(name) + i * 0x9E3779B97F4A7C15                  (uint64 arithmetic)
    z = mix64(z)          (splitmix64's output function: z ^= z >> 30, z *= 0xBF58476D1CE4E5B9,
                           z ^= z >> 27, z *= 0x94D049BB133111EB, z ^= z >> 31)
    k = z >> 40                                                  (24 bits)
    u = (2k - 2^24 + 1) / 2^24                                   (in (-1, 1), exact in float32)

and then, by the tensor's last name component, with F = C*KH*KW the fan-in of the
convolution the tensor belongs to:

    conv.weight          u
    bn.weight (gamma)    1 + u/4
    bn.bias (beta)       u/8
    bn.running_mean      u/2
    bn.running_var       F * (1 + u/4) / 6          (float64, then rounded to float32)
    num_batches_tracked  0
    fc.weight, fc.bias   u

u has variance 1/3, so a convolution's output has variance F/3 times its input's second
moment; dividing by sqrt(running_var) ~ sqrt(F/6) doubles that, and the ReLU halves it
again: every layer keeps the scale of its input, as a He initialisation does. The
script prints each block's RMS to show it: 0.6 to 1.0 after blocks 0 to 2, 0.8 to
0.9 for the features.

Files:

  inception_golden.json    the names and shapes of the state dict's convolution weights
                           (PyTorch's, in order; each has its bn.* entries beside it);
                           three input images as bytes (two of 3x24x24 in one batch, one
                           of 3x40x56), values k/255 as torchvision's ToTensor gives;
                           for each image, from the network run in float64 and rounded
                           to float32: the per-channel means of the outputs of blocks 0,
                           1 and 2, 32 elements of each at recorded positions, and the
                           2048 features; and how far PyTorch's own float32 run is from
                           the float64 one. Arrays are base64 of little-endian bytes.
                           Rounding to float32 moves each value by at most 2^-24 of
                           itself, so a float64 run can still be checked to that bound.
  inception_part_legacy.pth  a few entries of the real state dict's names, filled from
                           the formula, in torch.save's legacy format (as the real file):
                           Conv2d_1a_3x3's conv and bn tensors with num_batches_tracked,
                           and fc.bias. The legacy format keys storages by their memory
                           address, so the bytes differ from run to run; the values not.
"""
import base64
import collections
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models.inception as tvi

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fid")


# --- pytorch-fid's network (pytorch_fid/inception.py, 0.3.0) ---------------------------
# The four FID blocks are written as pytorch-fid writes them, statement for statement and
# repetition included, so that they can be compared with it line by line; fid_inception_v3
# and InceptionV3 leave out only the weight download and the options FID does not use.

class FIDInceptionA(tvi.InceptionA):
    """InceptionA block patched for FID computation"""

    def __init__(self, in_channels, pool_features):
        super(FIDInceptionA, self).__init__(in_channels, pool_features)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)

        branch5x5 = self.branch5x5_1(x)
        branch5x5 = self.branch5x5_2(branch5x5)

        branch3x3dbl = self.branch3x3dbl_1(x)
        branch3x3dbl = self.branch3x3dbl_2(branch3x3dbl)
        branch3x3dbl = self.branch3x3dbl_3(branch3x3dbl)

        # Patch: Tensorflow's average pool does not use the padded zero's in
        # its average calculation
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1,
                                   count_include_pad=False)
        branch_pool = self.branch_pool(branch_pool)

        outputs = [branch1x1, branch5x5, branch3x3dbl, branch_pool]
        return torch.cat(outputs, 1)


class FIDInceptionC(tvi.InceptionC):
    """InceptionC block patched for FID computation"""

    def __init__(self, in_channels, channels_7x7):
        super(FIDInceptionC, self).__init__(in_channels, channels_7x7)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)

        branch7x7 = self.branch7x7_1(x)
        branch7x7 = self.branch7x7_2(branch7x7)
        branch7x7 = self.branch7x7_3(branch7x7)

        branch7x7dbl = self.branch7x7dbl_1(x)
        branch7x7dbl = self.branch7x7dbl_2(branch7x7dbl)
        branch7x7dbl = self.branch7x7dbl_3(branch7x7dbl)
        branch7x7dbl = self.branch7x7dbl_4(branch7x7dbl)
        branch7x7dbl = self.branch7x7dbl_5(branch7x7dbl)

        # Patch: Tensorflow's average pool does not use the padded zero's in
        # its average calculation
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1,
                                   count_include_pad=False)
        branch_pool = self.branch_pool(branch_pool)

        outputs = [branch1x1, branch7x7, branch7x7dbl, branch_pool]
        return torch.cat(outputs, 1)


class FIDInceptionE_1(tvi.InceptionE):
    """First InceptionE block patched for FID computation"""

    def __init__(self, in_channels):
        super(FIDInceptionE_1, self).__init__(in_channels)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)

        branch3x3 = self.branch3x3_1(x)
        branch3x3 = [
            self.branch3x3_2a(branch3x3),
            self.branch3x3_2b(branch3x3),
        ]
        branch3x3 = torch.cat(branch3x3, 1)

        branch3x3dbl = self.branch3x3dbl_1(x)
        branch3x3dbl = self.branch3x3dbl_2(branch3x3dbl)
        branch3x3dbl = [
            self.branch3x3dbl_3a(branch3x3dbl),
            self.branch3x3dbl_3b(branch3x3dbl),
        ]
        branch3x3dbl = torch.cat(branch3x3dbl, 1)

        # Patch: Tensorflow's average pool does not use the padded zero's in
        # its average calculation
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1,
                                   count_include_pad=False)
        branch_pool = self.branch_pool(branch_pool)

        outputs = [branch1x1, branch3x3, branch3x3dbl, branch_pool]
        return torch.cat(outputs, 1)


class FIDInceptionE_2(tvi.InceptionE):
    """Second InceptionE block patched for FID computation"""

    def __init__(self, in_channels):
        super(FIDInceptionE_2, self).__init__(in_channels)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)

        branch3x3 = self.branch3x3_1(x)
        branch3x3 = [
            self.branch3x3_2a(branch3x3),
            self.branch3x3_2b(branch3x3),
        ]
        branch3x3 = torch.cat(branch3x3, 1)

        branch3x3dbl = self.branch3x3dbl_1(x)
        branch3x3dbl = self.branch3x3dbl_2(branch3x3dbl)
        branch3x3dbl = [
            self.branch3x3dbl_3a(branch3x3dbl),
            self.branch3x3dbl_3b(branch3x3dbl),
        ]
        branch3x3dbl = torch.cat(branch3x3dbl, 1)

        # Patch: The FID Inception model uses max pooling instead of average
        # pooling. This is likely an error in this specific Inception
        # implementation, as other Inception models use average pooling here
        # (which matches the description in the paper).
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        branch_pool = self.branch_pool(branch_pool)

        outputs = [branch1x1, branch3x3, branch3x3dbl, branch_pool]
        return torch.cat(outputs, 1)


def fid_inception_v3():
    """pytorch-fid's fid_inception_v3, without loading the weights (the caller fills them)."""
    inception = tvi.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
    inception.Mixed_5b = FIDInceptionA(192, pool_features=32)
    inception.Mixed_5c = FIDInceptionA(256, pool_features=64)
    inception.Mixed_5d = FIDInceptionA(288, pool_features=64)
    inception.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    inception.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    inception.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    inception.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    inception.Mixed_7b = FIDInceptionE_1(1280)
    inception.Mixed_7c = FIDInceptionE_2(2048)
    return inception


class InceptionV3(nn.Module):
    """pytorch-fid's InceptionV3 wrapper with use_fid_inception=True, resize_input=True,
    normalize_input=True, requires_grad=False; output_blocks as pytorch-fid's (3 gives
    the 2048-d pool features)."""

    def __init__(self, inception, output_blocks=(3,)):
        super().__init__()
        self.output_blocks = sorted(output_blocks)
        self.last_needed_block = max(output_blocks)
        self.blocks = nn.ModuleList()
        block0 = [
            inception.Conv2d_1a_3x3,
            inception.Conv2d_2a_3x3,
            inception.Conv2d_2b_3x3,
            nn.MaxPool2d(kernel_size=3, stride=2)
        ]
        self.blocks.append(nn.Sequential(*block0))
        if self.last_needed_block >= 1:
            block1 = [
                inception.Conv2d_3b_1x1,
                inception.Conv2d_4a_3x3,
                nn.MaxPool2d(kernel_size=3, stride=2)
            ]
            self.blocks.append(nn.Sequential(*block1))
        if self.last_needed_block >= 2:
            block2 = [
                inception.Mixed_5b,
                inception.Mixed_5c,
                inception.Mixed_5d,
                inception.Mixed_6a,
                inception.Mixed_6b,
                inception.Mixed_6c,
                inception.Mixed_6d,
                inception.Mixed_6e,
            ]
            self.blocks.append(nn.Sequential(*block2))
        if self.last_needed_block >= 3:
            block3 = [
                inception.Mixed_7a,
                inception.Mixed_7b,
                inception.Mixed_7c,
                nn.AdaptiveAvgPool2d(output_size=(1, 1))
            ]
            self.blocks.append(nn.Sequential(*block3))
        for param in self.parameters():
            param.requires_grad = False

    def forward(self, inp):
        outp = []
        x = inp
        x = F.interpolate(x, size=(299, 299), mode='bilinear', align_corners=False)
        x = 2 * x - 1  # Scale from range (0, 1) to range (-1, 1)
        for idx, block in enumerate(self.blocks):
            x = block(x)
            if idx in self.output_blocks:
                outp.append(x)
            if idx == self.last_needed_block:
                break
        return outp


# --- the deterministic weights -------------------------------------------------------

MASK64 = (1 << 64) - 1


def fnv1a64(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001b3) & MASK64
    return h


def unit(name, n):
    """n values in (-1, 1), element i from the hash of (name, i); exact in float32."""
    with np.errstate(over="ignore"):
        z = np.uint64(fnv1a64(name)) + np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    k = (z >> np.uint64(40)).astype(np.int64)
    return (2 * k - (1 << 24) + 1).astype(np.float64) / float(1 << 24)


def formula_tensor(name, shape, fan_in):
    """The value of state-dict entry `name` (see the module comment), in float64."""
    n = int(np.prod(shape, dtype=np.int64))
    if name.endswith(".num_batches_tracked"):
        return np.zeros(shape)
    u = unit(name, n).reshape(shape)
    if name.endswith(".bn.weight"):
        return 1 + u / 4
    if name.endswith(".bn.bias"):
        return u / 8
    if name.endswith(".bn.running_mean"):
        return u / 2
    if name.endswith(".bn.running_var"):
        return fan_in * (1 + u / 4) / 6
    return u


def fan_in_of(sd, name):
    """The fan-in of the convolution that a bn.* entry belongs to (0 for others)."""
    if ".bn." not in name:
        return 0
    w = sd[name.split(".bn.")[0] + ".conv.weight"]
    return int(np.prod(w.shape[1:]))


def fill(sd):
    """The state dict sd (shapes and dtypes) filled from the formula."""
    out = collections.OrderedDict()
    for name, t in sd.items():
        v = formula_tensor(name, tuple(t.shape), fan_in_of(sd, name))
        out[name] = torch.from_numpy(v).to(t.dtype)
    return out


# --- the fixtures --------------------------------------------------------------------

def b64(a, dtype):
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode()


def array(a, dtype):
    a = np.asarray(a)
    return {"dtype": np.dtype(dtype).name, "shape": list(a.shape), "data": b64(a, np.dtype(dtype).newbyteorder("<"))}


def images():
    """Three images as bytes: two of 3x24x24 (one batch) and one of 3x40x56."""
    rng = np.random.default_rng(20151205)
    pix = [rng.integers(0, 256, (2, 3, 24, 24), dtype=np.uint8),
           rng.integers(0, 256, (1, 3, 40, 56), dtype=np.uint8)]
    # A smooth ramp on top of the noise in the second batch, so that not every
    # image is white noise.
    ramp = (np.arange(56)[None, None, None, :] * 4 + np.arange(40)[None, None, :, None] * 2) % 256
    pix[1] = ((pix[1].astype(np.int64) + ramp) // 2).astype(np.uint8)
    return pix


def rel_l2(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    inception = fid_inception_v3()
    sd = fill(inception.state_dict())
    inception.load_state_dict(sd)
    inception.eval()
    net32 = InceptionV3(inception, output_blocks=(0, 1, 2, 3)).eval()
    net64 = InceptionV3(fid_inception_v3().double(), output_blocks=(0, 1, 2, 3)).eval()
    net64.load_state_dict({k: v for k, v in net32.state_dict().items()})  # same values, float64
    for (k, a), b in zip(net32.state_dict().items(), net64.state_dict().values()):
        assert torch.equal(a.double(), b.double()), k

    rng = np.random.default_rng(299)
    batches, worst = [], {"features_rel_l2": 0.0, "features_max_abs": 0.0}
    for pix in images():
        x64 = torch.from_numpy(pix.astype(np.float64) / 255)
        with torch.no_grad():
            outs64 = [o.numpy() for o in net64(x64)]
            outs32 = [o.double().numpy() for o in net32(x64.float())]
        per_image = []
        for n in range(pix.shape[0]):
            img = {}
            for blk in range(3):
                o = outs64[blk][n]
                idx = np.sort(rng.choice(o.size, 32, replace=False))
                img[f"block{blk}"] = {
                    "shape": list(o.shape),
                    "channel_means": array(o.mean(axis=(1, 2)), np.float32),
                    "sample_index": [int(i) for i in idx],
                    "sample_values": array(o.reshape(-1)[idx], np.float32),
                }
                e = rel_l2(outs32[blk][n], o)
                worst[f"block{blk}_rel_l2"] = max(worst.get(f"block{blk}_rel_l2", 0.0), e)
                print(f"image {pix.shape[2:]}[{n}] block{blk} {o.shape}: rms {np.sqrt((o**2).mean()):.3f}, "
                      f"mean {o.mean():.3f}, torch float32 rel L2 {e:.2e}")
            f64, f32 = outs64[3][n].reshape(-1), outs32[3][n].reshape(-1)
            img["features"] = array(f64, np.float32)
            e, m = rel_l2(f32, f64), float(np.abs(f32 - f64).max())
            worst["features_rel_l2"] = max(worst["features_rel_l2"], e)
            worst["features_max_abs"] = max(worst["features_max_abs"], m)
            print(f"image {pix.shape[2:]}[{n}] features: rms {np.sqrt((f64**2).mean()):.3f}, "
                  f"min {f64.min():.3f}, max {f64.max():.3f}, torch float32 rel L2 {e:.2e}, max abs {m:.2e}")
            per_image.append(img)
        batches.append({"pixels": array(pix, np.uint8), "images": per_image})

    golden = {
        "about": "written by testdata/gen_fid_inception_golden.py; values from the float64 network, rounded to float32",
        "conv_weights": [{"name": k, "shape": list(v.shape)} for k, v in sd.items() if k.endswith(".conv.weight")],
        "batches": batches,
        "torch_float32": worst,
    }
    with open(os.path.join(OUT, "inception_golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")

    part = collections.OrderedDict(
        (k, sd[k]) for k in sd if k.startswith("Conv2d_1a_3x3.") or k == "fc.bias")
    torch.save(part, os.path.join(OUT, "inception_part_legacy.pth"), _use_new_zipfile_serialization=False)
    print("wrote", OUT, "with", len(sd), "state-dict entries;", "legacy part:", list(part))


if __name__ == "__main__":
    main()
