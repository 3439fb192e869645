#!/usr/bin/python3
"""Writes the golden files of the CycleGAN step test (testdata/cyclegan/).

Run with Debian's PyTorch:  /usr/bin/python3 testdata/gen_cyclegan_golden.py

A tiny CycleGAN (ngf 8, ndf 8, 2 residual blocks, 32x32 images) is trained
for 2 iterations exactly as pytorch-CycleGAN-and-pix2pix does with
`--preprocess none --no_flip --serial_batches --pool_size 0` (iteration i uses
A[i mod |A|] and B[i mod |B|] in sorted file-name order). The networks below
are copies of that repository's ResnetGenerator, ResnetBlock and
NLayerDiscriminator (norm 'instance', no dropout), so the state-dict names are
the same. Written:

  data/{trainA,trainB}/*.png      the images (made here, deterministic)
  init_net_{G_A,G_B,D_A,D_B}.safetensors   the initial weights
  <variant>/losses.json           the weighted loss terms of each iteration
  <variant>/final_net_*.safetensors        the weights after the 2 updates

for four variants: "standard" and "att" in float32, the training dtype, "att"
with the attention-consistency loss of docs/method.md section 3 on the last residual
block (index 11), order 2; and "standard64" and "att64", the two runs again
in float64, where the two programs agree to rounding (about 1e-13): the
second-order gradient is the same computation, not merely a close one, and
the biases before an InstanceNorm, whose gradient is zero but for rounding,
stay put on both sides instead of taking noise-driven steps of about lr.

The output is the same on every run on one machine; another CPU or PyTorch
build changes the float32 files at the level of rounding.
"""
import itertools
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cyclegan")
NGF, NDF, NBLOCKS, SIZE, ITERS = 8, 8, 2, 32, 2
LR, BETAS = 2e-4, (0.5, 0.999)
LAMBDA_A = LAMBDA_B = 10.0
LAMBDA_IDT = 0.5


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), nn.InstanceNorm2d(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), nn.InstanceNorm2d(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, ngf, n_blocks):
        super().__init__()
        model = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7, padding=0, bias=True), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
        for i in range(2):
            mult = 2 ** i
            model += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1, bias=True),
                      nn.InstanceNorm2d(ngf * mult * 2), nn.ReLU(True)]
        for _ in range(n_blocks):
            model += [ResnetBlock(ngf * 4)]
        for i in range(2):
            mult = 2 ** (2 - i)
            model += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, stride=2, padding=1, output_padding=1, bias=True),
                      nn.InstanceNorm2d(ngf * mult // 2), nn.ReLU(True)]
        model += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, x):
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    def __init__(self, ndf, n_layers=3):
        super().__init__()
        seq = [nn.Conv2d(3, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2 ** n, 8)
            seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=2, padding=1, bias=True),
                    nn.InstanceNorm2d(ndf * mult), nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2 ** n_layers, 8)
        seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=1, padding=1, bias=True),
                nn.InstanceNorm2d(ndf * mult), nn.LeakyReLU(0.2, True),
                nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*seq)

    def forward(self, x):
        return self.model(x)


def init_weights(net):
    # init_type 'normal', gain 0.02, as networks.init_weights.
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.constant_(m.bias, 0.0)


def save_safetensors(path, tensors, metadata=None):
    """Writes a .safetensors file (F32, F64 or I64, as the tensors are) without
    the safetensors package."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        code, np_type = {torch.float64: ("F64", "<f8"), torch.int64: ("I64", "<i8")}.get(t.dtype, ("F32", "<f4"))
        a = t.detach().contiguous().cpu().numpy().astype(np_type)
        b = a.tobytes()
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def make_images():
    """Smooth random images, different per domain, saved as PNG."""
    g = torch.Generator().manual_seed(7)
    for dom, n in (("trainA", 2), ("trainB", 3)):
        d = os.path.join(HERE, "data", dom)
        os.makedirs(d, exist_ok=True)
        for i in range(n):
            low = torch.rand(3, 4, 4, generator=g)
            img = F.interpolate(low[None], size=(SIZE, SIZE), mode="bilinear", align_corners=False)[0]
            img = (img + 0.2 * torch.rand(3, SIZE, SIZE, generator=g)).clamp(0, 1)
            arr = (img.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            Image.fromarray(arr, "RGB").save(os.path.join(d, "img_%d.png" % i))


def load_domain(dom):
    d = os.path.join(HERE, "data", dom)
    out = []
    for name in sorted(os.listdir(d)):
        img = Image.open(os.path.join(d, name)).convert("RGB")
        t = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
        out.append(((t - 0.5) / 0.5)[None])  # ToTensor + Normalize((0.5,)*3, (0.5,)*3)
    return out


def run_captured(G, x, layers):
    """G(x), keeping the outputs of the given Sequential indices."""
    acts, h = [], x
    for i, m in enumerate(G.model):
        h = m(h)
        if i in layers:
            acts.append(h)
    return h, acts


def cams(D, out, acts):
    """docs/method.md section 3: s = mean D(G(x)); w_k = mean_ij ds/dA_kij (create_graph);
    cam = relu(sum_k w_k A_k), min-max normalised per image."""
    return score_cams(D(out).mean(), acts)


def score_cams(score, acts, create_graph=True):
    """The normalised GradCAM maps of acts for the scalar score, all from one
    backward pass; with create_graph the weights w stay differentiable
    functions of the parameters (order 2), without it they are constants
    (order 1)."""
    grads = torch.autograd.grad(score, acts, create_graph=create_graph, retain_graph=True)
    res = []
    for A, g in zip(acts, grads):
        w = g.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((w * A).sum(dim=1))
        mn = cam.amin(dim=(1, 2), keepdim=True)
        mx = cam.amax(dim=(1, 2), keepdim=True)
        res.append((cam - mn) / (mx - mn + 1e-8))
    return res


def d_loss(D, real, fake):
    pr, pf = D(real), D(fake)
    return 0.5 * (F.mse_loss(pr, torch.ones_like(pr)) + F.mse_loss(pf, torch.zeros_like(pf)))


def train(variant, nets, A, B):
    G_A, G_B, D_A, D_B = nets
    att_layers = [9 + NBLOCKS] if variant.startswith("att") else []
    opt_G = torch.optim.Adam(itertools.chain(G_A.parameters(), G_B.parameters()), lr=LR, betas=BETAS)
    opt_D = torch.optim.Adam(itertools.chain(D_A.parameters(), D_B.parameters()), lr=LR, betas=BETAS)
    log = []
    for it in range(ITERS):
        real_A, real_B = A[it % len(A)], B[it % len(B)]
        fake_B, acts_fB = run_captured(G_A, real_A, att_layers)
        rec_A, acts_rA = run_captured(G_B, fake_B, att_layers)
        fake_A, acts_fA = run_captured(G_B, real_B, att_layers)
        rec_B, acts_rB = run_captured(G_A, fake_A, att_layers)

        for p in itertools.chain(D_A.parameters(), D_B.parameters()):
            p.requires_grad_(False)
        opt_G.zero_grad()
        idt_A = G_A(real_B)
        loss_idt_A = F.l1_loss(idt_A, real_B) * LAMBDA_B * LAMBDA_IDT
        idt_B = G_B(real_A)
        loss_idt_B = F.l1_loss(idt_B, real_A) * LAMBDA_A * LAMBDA_IDT
        pred_fB = D_A(fake_B)
        pred_fA = D_B(fake_A)
        loss_G_A = F.mse_loss(pred_fB, torch.ones_like(pred_fB))
        loss_G_B = F.mse_loss(pred_fA, torch.ones_like(pred_fA))
        loss_cycle_A = F.l1_loss(rec_A, real_A) * LAMBDA_A
        loss_cycle_B = F.l1_loss(rec_B, real_B) * LAMBDA_B
        loss_G = loss_G_A + loss_G_B + loss_cycle_A + loss_cycle_B + loss_idt_A + loss_idt_B
        terms = {"G_A": loss_G_A, "G_B": loss_G_B, "cycle_A": loss_cycle_A, "cycle_B": loss_cycle_B,
                 "idt_A": loss_idt_A, "idt_B": loss_idt_B}
        if att_layers:
            cam_GA_realA = cams(D_A, fake_B, acts_fB)
            cam_GB_fakeB = cams(D_B, rec_A, acts_rA)
            cam_GB_realB = cams(D_B, fake_A, acts_fA)
            cam_GA_fakeA = cams(D_A, rec_B, acts_rB)
            w = 1.0 / len(att_layers)
            loss_att = sum(w * (F.mse_loss(a, b) + F.mse_loss(c, d))
                           for a, b, c, d in zip(cam_GA_realA, cam_GB_fakeB, cam_GB_realB, cam_GA_fakeA))
            loss_G = loss_G + loss_att
            terms["att"] = loss_att
        loss_G.backward()
        opt_G.step()
        for p in itertools.chain(D_A.parameters(), D_B.parameters()):
            p.requires_grad_(True)

        opt_D.zero_grad()
        loss_D_A = d_loss(D_A, real_B, fake_B.detach())
        loss_D_B = d_loss(D_B, real_A, fake_A.detach())
        (loss_D_A + loss_D_B).backward()
        opt_D.step()
        terms["D_A"], terms["D_B"] = loss_D_A, loss_D_B
        log.append({"iter": it + 1, **{k: float(v) for k, v in terms.items()}})
    d = os.path.join(HERE, variant)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "losses.json"), "w") as f:
        json.dump(log, f, indent=1)
    for name, net in zip(("G_A", "G_B", "D_A", "D_B"), nets):
        save_safetensors(os.path.join(d, "final_net_%s.safetensors" % name), net.state_dict())


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(HERE, exist_ok=True)
    make_images()
    A, B = load_domain("trainA"), load_domain("trainB")
    torch.manual_seed(0)
    init = [ResnetGenerator(NGF, NBLOCKS), ResnetGenerator(NGF, NBLOCKS),
            NLayerDiscriminator(NDF), NLayerDiscriminator(NDF)]
    for n in init:
        init_weights(n)
    for name, net in zip(("G_A", "G_B", "D_A", "D_B"), init):
        save_safetensors(os.path.join(HERE, "init_net_%s.safetensors" % name), net.state_dict())
    states = [{k: v.clone() for k, v in n.state_dict().items()} for n in init]
    for variant in ("standard", "att", "standard64", "att64"):
        nets = [ResnetGenerator(NGF, NBLOCKS), ResnetGenerator(NGF, NBLOCKS),
                NLayerDiscriminator(NDF), NLayerDiscriminator(NDF)]
        dt = torch.float64 if variant.endswith("64") else torch.float32
        for n, s in zip(nets, states):
            n.load_state_dict(s)
            n.to(dt)
        train(variant, nets, [a.to(dt) for a in A], [b.to(dt) for b in B])
    print("wrote", HERE)


if __name__ == "__main__":
    main()
