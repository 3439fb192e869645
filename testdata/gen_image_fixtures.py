#!/usr/bin/python3
"""Writes the image fixtures of package cyclegan/data (testdata/images/).

Run with Debian's Python:  /usr/bin/python3 testdata/gen_image_fixtures.py

pytorch-CycleGAN-and-pix2pix opens every image with PIL, converts it with
.convert('RGB'), resizes it with PIL's BICUBIC filter (torchvision's Resize
on a PIL image calls Image.resize), scales it to [-1, 1] with ToTensor and
Normalize(0.5, 0.5), and saves results with util.tensor2im. The files below
are PIL's answers, for the Go code to match. All images are a few pixels.

  src.png                  a 23x19 RGB test card: noise, a gradient, hard edges
  src_up.png, src_down.png src.png resized to 37x29 and to 9x7 (downscaling
                           antialiases) with Image.BICUBIC
  <name> and               images in the modes a data set may hold, and what
  <name>.rgb.png           Image.open(...).convert('RGB') makes of each:
                           gray (L) as PNG and JPEG, gray+alpha (LA), RGBA with
                           transparent pixels, palette (P) with and without
                           transparency, CMYK JPEG, RGB JPEG with full,
                           4:2:0 and 4:2:2 chroma, BMP, TIFF
  ramp.png, ramp.t2i.png   all 256 levels, and what ToTensor, Normalize and
                           tensor2im give back (tensor2im truncates: some
                           levels come back one lower)
"""
import os

import numpy as np
import torch
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")


def test_card(w, h, rng):
    y, x = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), np.float64)
    img[..., 0] = 255 * x / (w - 1)                      # horizontal gradient
    img[..., 1] = np.where((x // 4 + y // 4) % 2, 230, 20)  # checkerboard: hard edges
    img[..., 2] = rng.uniform(0, 255, (h, w))            # noise
    img[h // 3:h // 2, :, :] = [250, 250, 10]            # a yellow band
    return Image.fromarray(img.round().astype(np.uint8), "RGB")


def smooth_card(w, h):
    """A photo-like image: smooth shading and a soft-edged disc."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    disc = 1 / (1 + np.exp((np.hypot(x - w / 2, y - h / 2) - h / 3) * 1.5))
    img = np.stack([60 + 150 * x / w, 90 + 100 * y / h, 120 + 0 * x], -1) * (1 - disc[..., None])
    img += disc[..., None] * np.array([200, 160, 40])
    return Image.fromarray(img.round().astype(np.uint8), "RGB")


def save_with_rgb(img, name, **kw):
    """Saves img as name and PIL's RGB reading of that file as name.rgb.png."""
    path = os.path.join(OUT, name)
    img.save(path, **kw)
    Image.open(path).convert("RGB").save(os.path.join(OUT, name + ".rgb.png"))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.RandomState(0)

    src = test_card(23, 19, rng)
    src.save(os.path.join(OUT, "src.png"))
    src.resize((37, 29), Image.BICUBIC).save(os.path.join(OUT, "src_up.png"))
    src.resize((9, 7), Image.BICUBIC).save(os.path.join(OUT, "src_down.png"))

    small = test_card(12, 10, rng)
    rgba = np.dstack([np.asarray(small), np.tile(np.linspace(0, 255, 12).round().astype(np.uint8), (10, 1))])
    save_with_rgb(Image.fromarray(rgba, "RGBA"), "rgba.png")           # alpha 0 in column 0: colour kept
    save_with_rgb(small.convert("L"), "gray.png")
    save_with_rgb(small.convert("L"), "gray.jpg", quality=95)
    save_with_rgb(Image.fromarray(rgba, "RGBA").convert("LA"), "gray_alpha.png")
    pal = small.convert("P", palette=Image.ADAPTIVE, colors=7)
    save_with_rgb(pal, "palette.png")
    save_with_rgb(pal, "palette_trns.png", transparency=2)
    save_with_rgb(small.convert("CMYK"), "cmyk.jpg", quality=95)
    save_with_rgb(small, "rgb444.jpg", quality=90, subsampling=0)  # full-resolution colour
    save_with_rgb(smooth_card(48, 36), "rgb420.jpg", quality=90, subsampling=2)  # as most photos
    save_with_rgb(smooth_card(17, 13), "rgb422.jpg", quality=90, subsampling=1)  # odd sizes
    save_with_rgb(small, "rgb.bmp")
    save_with_rgb(small, "rgb.tif")

    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    ramp = np.dstack([levels, 255 - levels, levels.T])
    Image.fromarray(ramp, "RGB").save(os.path.join(OUT, "ramp.png"))
    # ToTensor + Normalize((0.5,)*3, (0.5,)*3), as the data loader does ...
    t = torch.from_numpy(ramp).permute(2, 0, 1).float().div(255)
    t = (t - 0.5) / 0.5
    # ... and util.tensor2im, as the test script saves results.
    im = (np.transpose(t.numpy(), (1, 2, 0)) + 1) / 2.0 * 255.0
    Image.fromarray(im.astype(np.uint8), "RGB").save(os.path.join(OUT, "ramp.t2i.png"))


if __name__ == "__main__":
    main()
