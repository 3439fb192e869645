#!/usr/bin/python3
"""Writes the PyTorch fixtures of the command line's tests (testdata/cli/).

Run with Debian's PyTorch:  /usr/bin/python3 testdata/gen_cli_fixtures.py

  pretrained/{G_A,G_B,D_A,D_B}.pth  a tiny CycleGAN (ngf 4, ndf 4, 2 residual blocks) saved as
                                    pytorch-CycleGAN-and-pix2pix saves its published models: legacy
                                    (non-zip) torch.save of the state dicts; G_A also carries the
                                    InstanceNorm running statistics that old checkpoints hold.
                                    For `cyclegan train -init_from` and `cyclegan test -model_path`.
  input/img_0.png                   a 32×32 test image (the golden CycleGAN test's first A image)
  expected/img_0_fake.png           G_A's translation of it, as the reference's test.py saves it
                                    (util.tensor2im: (x + 1) / 2 · 255 in float32, truncated)
"""
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_cyclegan_golden import NLayerDiscriminator, ResnetGenerator  # noqa: E402

OUT = os.path.join(HERE, "cli")
NGF, NDF, NBLOCKS = 4, 4, 2


def main():
    torch.manual_seed(11)
    nets = {"G_A": ResnetGenerator(NGF, NBLOCKS), "G_B": ResnetGenerator(NGF, NBLOCKS),
            "D_A": NLayerDiscriminator(NDF), "D_B": NLayerDiscriminator(NDF)}
    for net in nets.values():  # init_type normal, gain 0.02, but non-zero biases so that they are checked too
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.normal_(m.bias, 0.0, 0.02)
    os.makedirs(os.path.join(OUT, "pretrained"), exist_ok=True)
    for name, net in nets.items():
        sd = net.state_dict()
        if name == "G_A":
            sd = dict(sd)
            sd["model.2.running_mean"] = torch.zeros(NGF)
            sd["model.2.running_var"] = torch.ones(NGF)
        torch.save(sd, os.path.join(OUT, "pretrained", name + ".pth"), _use_new_zipfile_serialization=False)

    os.makedirs(os.path.join(OUT, "input"), exist_ok=True)
    src = os.path.join(HERE, "cyclegan", "data", "trainA", "img_0.png")
    shutil.copyfile(src, os.path.join(OUT, "input", "img_0.png"))
    img = Image.open(src).convert("RGB")
    x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
    x = ((x - 0.5) / 0.5)[None]
    with torch.no_grad():
        y = nets["G_A"](x)[0]
    arr = ((y.permute(1, 2, 0).numpy() + 1) / 2.0 * 255.0).astype(np.float32)
    arr = np.clip(arr, 0, 255).astype(np.uint8)
    os.makedirs(os.path.join(OUT, "expected"), exist_ok=True)
    Image.fromarray(arr, "RGB").save(os.path.join(OUT, "expected", "img_0_fake.png"))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
