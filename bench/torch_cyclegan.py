"""Times the CycleGAN training iteration in PyTorch (CPU): the reference for `cyclegan bench`.

One iteration is pytorch-CycleGAN-and-pix2pix's optimize_parameters for the
default configuration (ResnetGenerator ngf 64 with 9 blocks, the 70x70 PatchGAN,
instance norm, LSGAN, cycle weights 10, identity 0.5, image pools of 50, Adam lr
2e-4, betas (0.5, 0.999)), batch size 1, on two fixed random images in [-1, 1]:

  fake_B = G_A(real_A); rec_A = G_B(fake_B); fake_A = G_B(real_B); rec_B = G_A(fake_A)
  generator step (discriminators frozen): GAN + cycle + identity losses (+ attention)
  discriminator step on the real images and the pooled, detached fakes

The networks are those of testdata/gen_cyclegan_golden.py (copies of the
reference repository's classes), imported from there.

With --att_layers, the attention-consistency loss of docs/method.md section 3 is added to
the generator loss, computed as the Go iteration computes it (gradcam/loss.go):
the four GradCAM map sets reuse the iteration's own passes (the captured block
outputs of the four generator passes, and the predictions D_A(fake_B),
D_B(fake_A) of the GAN loss as the scores of the translation-side maps), one
torch.autograd.grad call per map set, with create_graph=True at order 2 (the
default) and the weights w as constants at order 1.

The script runs --warmup untimed iterations, then --iters timed ones, and prints
one JSON line: ms_per_iter (the median), min_ms, max_ms, every iteration's ms,
and the configuration.

  /usr/bin/python3 bench/torch_cyclegan.py --crop_size 256 --iters 3
  /usr/bin/python3 bench/torch_cyclegan.py --crop_size 128 --att_layers 10,14,15,18

With --device cuda the same iteration runs on the GPU (networks, images and
optimiser state there; the clock stops after torch.cuda.synchronize()), for
the GPU figures in docs/benchmarks.md:

  python3 bench/torch_cyclegan.py --device cuda --warmup 5 --iters 30

glibc's malloc, as installed, gives large blocks back to the kernel on every
free; MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=4294967296 in
the environment make it keep them (see docs/benchmarks.md). The JSON line says
which ("malloc": "keep" or "default").
"""

import argparse
import importlib.util
import itertools
import json
import os
import random
import statistics
import time

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def golden_script(name):
    """testdata/NAME.py, one of the golden-file scripts, imported as a module."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "testdata", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# The networks, run_captured, the GradCAM maps and the discriminator loss
# come from the CycleGAN golden script, which the golden tests check the Go
# iteration against (not from the GradCAM one, which sets float64 as the
# default dtype when imported).
GOLDEN = golden_script("gen_cyclegan_golden")


class ImagePool:
    """pytorch-CycleGAN-and-pix2pix's ImagePool for a batch of one."""

    def __init__(self, size):
        self.size, self.images = size, []

    def query(self, image):
        if self.size == 0:
            return image
        if len(self.images) < self.size:
            self.images.append(image)
            return image
        if random.uniform(0, 1) > 0.5:
            i = random.randint(0, self.size - 1)
            old, self.images[i] = self.images[i].clone(), image
            return old
        return image


def parse_layers(spec, n_blocks):
    """'' (none), '18', '10,14,15,18', 'all' or 'last' → Sequential indices."""
    spec = spec.strip()
    if spec == "":
        return []
    if spec == "all":
        return list(range(10, 10 + n_blocks))
    if spec == "last":
        return [9 + n_blocks]
    return sorted(int(s) for s in spec.split(","))


class CycleGAN:
    def __init__(self, mod, ngf, ndf, n_blocks, att_layers, att_order, pool_size=50, device="cpu"):
        self.G_A, self.G_B = mod.ResnetGenerator(ngf, n_blocks), mod.ResnetGenerator(ngf, n_blocks)
        self.D_A, self.D_B = mod.NLayerDiscriminator(ndf), mod.NLayerDiscriminator(ndf)
        for n in (self.G_A, self.G_B, self.D_A, self.D_B):
            mod.init_weights(n)
            n.to(device)  # before the optimisers see the parameters
        self.opt_G = torch.optim.Adam(itertools.chain(self.G_A.parameters(), self.G_B.parameters()),
                                      lr=2e-4, betas=(0.5, 0.999))
        self.opt_D = torch.optim.Adam(itertools.chain(self.D_A.parameters(), self.D_B.parameters()),
                                      lr=2e-4, betas=(0.5, 0.999))
        self.pool_A, self.pool_B = ImagePool(pool_size), ImagePool(pool_size)
        self.att_layers, self.att_order = att_layers, att_order

    def set_requires_grad(self, nets, on):
        for n in nets:
            for p in n.parameters():
                p.requires_grad_(on)

    def step(self, real_A, real_B):
        G_A, G_B, D_A, D_B = self.G_A, self.G_B, self.D_A, self.D_B
        layers = self.att_layers
        # forward()
        fake_B, acts_fB = GOLDEN.run_captured(G_A, real_A, layers)
        rec_A, acts_rA = GOLDEN.run_captured(G_B, fake_B, layers)
        fake_A, acts_fA = GOLDEN.run_captured(G_B, real_B, layers)
        rec_B, acts_rB = GOLDEN.run_captured(G_A, fake_A, layers)

        # Generator step, discriminators frozen.
        self.set_requires_grad([D_A, D_B], False)
        self.opt_G.zero_grad()
        idt_A = G_A(real_B)
        loss_idt_A = F.l1_loss(idt_A, real_B) * 10 * 0.5
        idt_B = G_B(real_A)
        loss_idt_B = F.l1_loss(idt_B, real_A) * 10 * 0.5
        pred_fB = D_A(fake_B)
        pred_fA = D_B(fake_A)
        loss_G = (F.mse_loss(pred_fB, torch.ones_like(pred_fB)) + F.mse_loss(pred_fA, torch.ones_like(pred_fA))
                  + F.l1_loss(rec_A, real_A) * 10 + F.l1_loss(rec_B, real_B) * 10 + loss_idt_A + loss_idt_B)
        if layers:
            # As gradcam.Attention.Terms: the translation-side maps are
            # scored by the GAN loss' predictions, the reconstruction side
            # by the other discriminator on the reconstruction.
            order = self.att_order
            cam_GA_realA = GOLDEN.score_cams(pred_fB.mean(), acts_fB, order == 2)
            cam_GB_fakeB = GOLDEN.score_cams(D_B(rec_A).mean(), acts_rA, order == 2)
            cam_GB_realB = GOLDEN.score_cams(pred_fA.mean(), acts_fA, order == 2)
            cam_GA_fakeA = GOLDEN.score_cams(D_A(rec_B).mean(), acts_rB, order == 2)
            w = 1.0 / len(layers)
            loss_att = sum(w * (F.mse_loss(a, b) + F.mse_loss(c, d))
                           for a, b, c, d in zip(cam_GA_realA, cam_GB_fakeB, cam_GB_realB, cam_GA_fakeA))
            loss_G = loss_G + loss_att
        loss_G.backward()
        self.opt_G.step()

        # Discriminator step.
        self.set_requires_grad([D_A, D_B], True)
        self.opt_D.zero_grad()
        fB = self.pool_B.query(fake_B.detach())
        fA = self.pool_A.query(fake_A.detach())
        (GOLDEN.d_loss(D_A, real_B, fB) + GOLDEN.d_loss(D_B, real_A, fA)).backward()
        self.opt_D.step()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--crop_size", type=int, default=256)
    ap.add_argument("--ngf", type=int, default=64)
    ap.add_argument("--ndf", type=int, default=64)
    ap.add_argument("--n_blocks", type=int, default=9)
    ap.add_argument("--iters", type=int, default=5, help="timed iterations")
    ap.add_argument("--warmup", type=int, default=1, help="untimed iterations first")
    ap.add_argument("--att_layers", default="", help="18, 10,14,15,18, all or last; empty: standard CycleGAN")
    ap.add_argument("--att_order", type=int, default=2, choices=(1, 2))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--cudnn_benchmark", action="store_true",
                    help="let cuDNN time its algorithms for each shape first (torch.backends.cudnn.benchmark)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    layers = parse_layers(args.att_layers, args.n_blocks)
    dev = torch.device(args.device)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
    model = CycleGAN(GOLDEN, args.ngf, args.ndf, args.n_blocks, layers, args.att_order, device=dev)
    real_A = (torch.rand(1, 3, args.crop_size, args.crop_size) * 2 - 1).to(dev)
    real_B = (torch.rand(1, 3, args.crop_size, args.crop_size) * 2 - 1).to(dev)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def timed():
        sync()
        t0 = time.perf_counter()
        model.step(real_A, real_B)
        sync()
        return (time.perf_counter() - t0) * 1000

    warm = [timed() for _ in range(args.warmup)]
    ms = [timed() for _ in range(args.iters)]
    keep = os.environ.get("MALLOC_MMAP_THRESHOLD_") is not None
    print(json.dumps({
        "ms_per_iter": statistics.median(ms), "min_ms": min(ms), "max_ms": max(ms),
        "warmup_ms": warm[0] if warm else None, "iters": args.iters, "crop_size": args.crop_size,
        "ngf": args.ngf, "ndf": args.ndf, "n_blocks": args.n_blocks, "att_layers": layers,
        "att_order": args.att_order if layers else -1, "threads": args.threads,
        "malloc": "keep" if keep else "default", "torch": torch.__version__, "ms": ms, "device": args.device,
        "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        "cudnn_benchmark": args.cudnn_benchmark if dev.type == "cuda" else None,
        "tf32_conv": torch.backends.cudnn.allow_tf32 if dev.type == "cuda" else None,
        # The caching allocator's peaks over the process, warm-up included,
        # as cyclegan bench reports its own (null on the CPU).
        "peak_device_bytes": torch.cuda.max_memory_allocated(dev) if dev.type == "cuda" else None,
        "peak_reserved_bytes": torch.cuda.max_memory_reserved(dev) if dev.type == "cuda" else None}))


if __name__ == "__main__":
    main()
