#!/usr/bin/python3
"""Writes testdata/gradcam/golden.json, the golden file of package gradcam.

Run with Debian's PyTorch:  /usr/bin/python3 testdata/gen_gradcam_golden.py

Tiny copies of pytorch-CycleGAN-and-pix2pix's ResnetGenerator (ngf 2, one
residual block) and NLayerDiscriminator (ndf 2, n_layers 1), with the same
state-dict names, get random weights; two 16x16 images real_A, real_B are
drawn too. For several settings of the attention-consistency loss (docs/method.md
section 3) the file holds the loss, its two directions and the gradient of
the loss with respect to every parameter of both generators. The GradCAM
weights come from torch.autograd.grad(s, A, create_graph=True) (order 2) or
the same without a graph, detached (order 1). The discriminators are frozen
(requires_grad False), as in the generator step.

Layers 6 (the ReLU after the first downsampling, 4 channels at 8x8) and 10
(the residual block, 8 channels at 4x4) are used, with relative weights 1 and
3, so that maps of two sizes come from one backward pass per pass.

Tensors are stored as {"shape": [...], "f64": base64 of little-endian
float64}, exact, keyed by "G_A.model.1.weight" and the like.
"""
import base64
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gradcam", "golden.json")
NGF, NBLOCKS, NDF, NLAYERS, SIZE = 2, 1, 2, 1, 16
LAYERS = [6, 10]
EPS = 1e-8

torch.set_default_dtype(torch.float64)


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, ngf, n_blocks):
        super().__init__()
        model = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU()]
        for i in range(2):
            mult = 2 ** i
            model += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1),
                      nn.InstanceNorm2d(ngf * mult * 2), nn.ReLU()]
        for _ in range(n_blocks):
            model += [ResnetBlock(ngf * 4)]
        for i in range(2):
            mult = 2 ** (2 - i)
            model += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, stride=2, padding=1, output_padding=1),
                      nn.InstanceNorm2d(ngf * mult // 2), nn.ReLU()]
        model += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*model)


class NLayerDiscriminator(nn.Module):
    def __init__(self, ndf, n_layers):
        super().__init__()
        seq = [nn.Conv2d(3, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2 ** n, 8)
            seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=2, padding=1),
                    nn.InstanceNorm2d(ndf * mult), nn.LeakyReLU(0.2)]
        prev, mult = mult, min(2 ** n_layers, 8)
        seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=1, padding=1),
                nn.InstanceNorm2d(ndf * mult), nn.LeakyReLU(0.2),
                nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*seq)

    def forward(self, x):
        return self.model(x)


def capture(g, x, idx):
    """Runs generator g on x; returns its output and the outputs of layers idx."""
    acts = []
    for i, m in enumerate(g.model):
        x = m(x)
        if i in idx:
            acts.append(x)
    return x, acts


def gradcam(score, acts, order):
    """The normalised GradCAM maps (N, H, W) of acts for the scalar score."""
    grads = torch.autograd.grad(score, acts, create_graph=(order == 2), retain_graph=True)
    maps = []
    for a, g in zip(acts, grads):
        if order < 2:
            g = g.detach()
        if order == 0:
            a = a.detach()
        w = g.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((w * a).sum(dim=1))
        lo = torch.amin(cam, dim=(1, 2), keepdim=True)  # ties share the gradient evenly
        hi = torch.amax(cam, dim=(1, 2), keepdim=True)
        maps.append((cam - lo) / (hi - lo + EPS))
    return maps


def attention_loss(nets, real_A, real_B, case):
    G_A, G_B, D_A, D_B = nets
    order, lam = case["order"], case["lambda"]
    omega = np.array(case["weights"], dtype=np.float64)
    omega = omega / omega.sum()
    trans = 0 if case["detach"] else order

    fake_B, acts_fake_B = capture(G_A, real_A, LAYERS)
    rec_A, acts_rec_A = capture(G_B, fake_B, LAYERS)
    fake_A, acts_fake_A = capture(G_B, real_B, LAYERS)
    rec_B, acts_rec_B = capture(G_A, fake_A, LAYERS)

    def term(x, y):
        return lam * sum(float(o) * F.mse_loss(a, b) for o, a, b in zip(omega, x, y))

    cam_GA_real_A = gradcam(D_A(fake_B).mean(), acts_fake_B, trans)
    cam_GB_fake_B = gradcam(D_B(rec_A).mean(), acts_rec_A, order)
    a2b = term(cam_GA_real_A, cam_GB_fake_B)
    b2a = None
    total = a2b
    if case["direction"] == "both":
        cam_GB_real_B = gradcam(D_B(fake_A).mean(), acts_fake_A, trans)
        cam_GA_fake_A = gradcam(D_A(rec_B).mean(), acts_rec_B, order)
        b2a = term(cam_GB_real_B, cam_GA_fake_A)
        total = a2b + b2a
    return total, a2b, b2a


def enc(t):
    a = t.detach().cpu().numpy().astype("<f8")
    return {"shape": list(a.shape), "f64": base64.b64encode(a.tobytes()).decode()}


def main():
    torch.manual_seed(20200707)
    G_A, G_B = ResnetGenerator(NGF, NBLOCKS), ResnetGenerator(NGF, NBLOCKS)
    D_A, D_B = NLayerDiscriminator(NDF, NLAYERS), NLayerDiscriminator(NDF, NLAYERS)
    nets = {"G_A": G_A, "G_B": G_B, "D_A": D_A, "D_B": D_B}
    # Weights larger than CycleGAN's N(0, 0.02) and nonzero biases, so that
    # every path carries a visible signal.
    with torch.no_grad():
        for net in nets.values():
            for name, p in net.named_parameters():
                p.normal_(0.0, 0.3 if name.endswith("weight") else 0.1)
    for d in (D_A, D_B):
        d.requires_grad_(False)
    real_A = torch.rand(1, 3, SIZE, SIZE) * 2 - 1
    real_B = torch.rand(1, 3, SIZE, SIZE) * 2 - 1

    tensors = {"real_A": enc(real_A), "real_B": enc(real_B)}
    for net_name, net in nets.items():
        for name, p in net.state_dict().items():
            tensors[net_name + "." + name] = enc(p)

    cases = [
        {"name": "order2", "order": 2, "direction": "both", "detach": False, "lambda": 1.0, "weights": [1, 3]},
        {"name": "order1", "order": 1, "direction": "both", "detach": False, "lambda": 1.0, "weights": [1, 3]},
        {"name": "order2_detach", "order": 2, "direction": "both", "detach": True, "lambda": 1.0, "weights": [1, 3]},
        {"name": "order2_A2B", "order": 2, "direction": "A2B", "detach": False, "lambda": 0.1, "weights": [1, 3]},
    ]
    g_params = [("G_A." + n, p) for n, p in G_A.named_parameters()] + \
               [("G_B." + n, p) for n, p in G_B.named_parameters()]
    for case in cases:
        total, a2b, b2a = attention_loss((G_A, G_B, D_A, D_B), real_A, real_B, case)
        grads = torch.autograd.grad(total, [p for _, p in g_params], allow_unused=True)
        case["layers"] = LAYERS
        case["loss"] = total.item()
        case["a2b"] = a2b.item()
        case["b2a"] = None if b2a is None else b2a.item()
        case["grads"] = {n: enc(g if g is not None else torch.zeros_like(p)) for (n, p), g in zip(g_params, grads)}
        norm = sum(float(g.norm() ** 2) for g in grads if g is not None) ** 0.5
        print(f"{case['name']}: loss {case['loss']:.6g} (A2B {case['a2b']:.6g}), |grad| {norm:.6g}")

    golden = {
        "about": "written by testdata/gen_gradcam_golden.py with torch " + torch.__version__,
        "ngf": NGF, "n_blocks": NBLOCKS, "ndf": NDF, "n_layers": NLAYERS, "size": SIZE,
        "tensors": tensors, "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
