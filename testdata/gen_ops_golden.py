#!/usr/bin/env python3
"""Writes testdata/ops/golden/<case>.json: PyTorch's values for every case of testdata/ops/table.json.

Run from anywhere with Debian's PyTorch:  /usr/bin/python3 testdata/gen_ops_golden.py
The Go test ops/optable_test.go only reads what this writes.

For each case, in float64:
  inputs  drawn from the case's domain (seeded by the case name, rounded to 6 decimals so that the JSON text is
          exact), written out so Go uses the very same values;
  output  y = op(inputs);
  u       a random cotangent shaped like y;
  vjp     Jᵀu for each differentiable input, by torch.autograd.grad(create_graph=True);
  w       a random tensor shaped like each differentiable input;
  gradgrad the gradient of φ = Σ_k ⟨w_k, vjp_k⟩ with respect to each differentiable input, and gradgrad_u the
          one with respect to u: the double-backward values.
Gradients PyTorch reports as None (not connected) are written as zeros. Ops whose result is a constant
(comparisons, Sign, Full) only get the forward value.
"""

import json
import os
import zlib

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, "ops", "table.json")
OUT = os.path.join(HERE, "ops", "golden")

# Functions of package ops whose result is a constant (no gradient); the Go test keeps the same list.
FORWARD_ONLY = {"Greater", "Equal", "Less", "GreaterScalar", "Sign", "Full"}


def draw(rng, domain, shape):
    n = int(np.prod(shape, dtype=np.int64))
    if domain == "normal":
        v = rng.standard_normal(n)
    elif domain == "positive":
        v = rng.uniform(0.5, 2.0, n)
    elif domain == "away0":
        v = rng.choice([-1.0, 1.0], n) * rng.uniform(0.25, 1.25, n)
    elif domain == "small":
        v = rng.uniform(-0.1, 0.1, n)
    elif domain == "large":
        v = rng.choice([-1.0, 1.0], n) * rng.uniform(700, 900, n)
    elif domain == "distinct":
        v = rng.permutation(np.linspace(-1.5, 1.5, n))
    elif domain == "ties":
        v = rng.integers(-2, 3, n) * 0.5
    elif domain == "ints":
        v = rng.integers(-1, 2, n).astype(np.float64)
    elif domain == "mask":
        v = rng.integers(0, 2, n).astype(np.float64)
    else:
        raise ValueError(f"unknown domain {domain!r}")
    return torch.tensor(np.round(v, 6), dtype=torch.float64).reshape(shape)


def dims(x, axes):
    """The dims of a keep-dims reduction: every axis when axes is empty."""
    return tuple(axes) if axes else tuple(range(x.dim()))


def conv_input_grad(gy, w, p):
    """A_wᵀ gy for an input of size p["size"]: conv_transpose2d with the output padding that gives that size."""
    s, pad = p["stride"], p["padding"]
    op = [p["size"][i] - ((gy.shape[2 + i] - 1) * s - 2 * pad + w.shape[2 + i]) for i in (0, 1)]
    return F.conv_transpose2d(gy, w, stride=s, padding=pad, output_padding=tuple(op))


def conv_weight_grad(x, gy, p):
    """The gradient of conv2d with respect to a p["size"] weight, as a differentiable function of x and gy."""
    w0 = torch.zeros(gy.shape[1], x.shape[1], *p["size"], dtype=torch.float64, requires_grad=True)
    y = F.conv2d(x, w0, stride=p["stride"], padding=p["padding"])
    (gw,) = torch.autograd.grad(y, w0, gy, create_graph=True)
    return gw


def reflection_pad_adjoint(g, pad):
    """The VJP of reflection padding: g (padded) folded back onto an unpadded input."""
    l, r, t, b = pad
    shape = list(g.shape)
    shape[-2] -= t + b
    shape[-1] -= l + r
    x0 = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    (gx,) = torch.autograd.grad(F.pad(x0, tuple(pad), mode="reflect"), x0, g, create_graph=True)
    return gx


def constant_pad(x, before, after):
    pairs = []
    for b, a in zip(reversed(before), reversed(after)):  # F.pad lists the last axis first
        pairs += [b, a]
    return F.pad(x, pairs)


def opt(x, i):
    return x[i] if len(x) > i else None


# Each op of package ops, by its Go name, as PyTorch computes it: (inputs, params) -> output.
OPS = {
    "Add": lambda x, p: x[0] + x[1],
    "Sub": lambda x, p: x[0] - x[1],
    "Mul": lambda x, p: x[0] * x[1],
    "Div": lambda x, p: x[0] / x[1],
    "AddScalar": lambda x, p: x[0] + p["c"],
    "MulScalar": lambda x, p: x[0] * p["c"],
    "PowScalar": lambda x, p: x[0] ** p["c"],
    "Neg": lambda x, p: -x[0],
    "Exp": lambda x, p: torch.exp(x[0]),
    "Log": lambda x, p: torch.log(x[0]),
    "Sqrt": lambda x, p: torch.sqrt(x[0]),
    "Rsqrt": lambda x, p: torch.rsqrt(x[0]),
    "Tanh": lambda x, p: torch.tanh(x[0]),
    "Abs": lambda x, p: torch.abs(x[0]),
    "ReLU": lambda x, p: F.relu(x[0]),
    "LeakyReLU": lambda x, p: F.leaky_relu(x[0], p["alpha"]),
    "Greater": lambda x, p: (x[0] > x[1]).double(),
    "Equal": lambda x, p: (x[0] == x[1]).double(),
    "Less": lambda x, p: (x[0] < x[1]).double(),
    "GreaterScalar": lambda x, p: (x[0] > p["c"]).double(),
    "Sign": lambda x, p: torch.sign(x[0]),
    "Full": lambda x, p: torch.full_like(x[0], p["c"]),
    "Where": lambda x, p: torch.where(x[0] != 0, x[1], x[2]),
    "Sum": lambda x, p: torch.sum(x[0], dim=dims(x[0], p["axes"]), keepdim=True),
    "Mean": lambda x, p: torch.mean(x[0], dim=dims(x[0], p["axes"]), keepdim=True),
    "Max": lambda x, p: torch.amax(x[0], dim=dims(x[0], p["axes"]), keepdim=True),
    "Min": lambda x, p: torch.amin(x[0], dim=dims(x[0], p["axes"]), keepdim=True),
    "SumAll": lambda x, p: torch.sum(x[0]),
    "MeanAll": lambda x, p: torch.mean(x[0]),
    "SumTo": lambda x, p: x[0].sum_to_size(p["shape"]),
    "Reshape": lambda x, p: x[0].reshape(p["shape"]),
    "Expand": lambda x, p: x[0].expand(p["shape"]),
    "Permute": lambda x, p: x[0].permute(p["perm"]),
    "Slice": lambda x, p: x[0][tuple(slice(s, e) for s, e in zip(p["start"], p["end"]))],
    "SliceAxis": lambda x, p: x[0].narrow(p["axis"], p["from"], p["to"] - p["from"]),
    "Pad": lambda x, p: constant_pad(x[0], p["before"], p["after"]),
    "Concat": lambda x, p: torch.cat(x, p["axis"]),
    "Stack": lambda x, p: torch.stack(x, p["axis"]),
    "Conv2d": lambda x, p: F.conv2d(x[0], x[1], opt(x, 2), stride=p["stride"], padding=p["padding"]),
    "Conv2dInputGrad": lambda x, p: conv_input_grad(x[0], x[1], p),
    "Conv2dWeightGrad": lambda x, p: conv_weight_grad(x[0], x[1], p),
    "ConvTranspose2d": lambda x, p: F.conv_transpose2d(
        x[0], x[1], opt(x, 2), stride=p["stride"], padding=p["padding"], output_padding=p["output_padding"]),
    "ReflectionPad2d": lambda x, p: F.pad(x[0], tuple(p["pad"]), mode="reflect"),
    "ReflectionPad2dAdjoint": lambda x, p: reflection_pad_adjoint(x[0], p["pad"]),
    "InstanceNorm2d": lambda x, p: F.instance_norm(x[0], weight=opt(x, 1), bias=opt(x, 2), eps=p["eps"]),
    "InstanceNormBackward": lambda x, p: instance_norm_backward(x[0], x[1], x[2]),
    "BatchNorm2d": lambda x, p: F.batch_norm(x[0], None, None, weight=opt(x, 1), bias=opt(x, 2), training=True, eps=p["eps"]),
    "BCEWithLogitsLoss": lambda x, p: F.binary_cross_entropy_with_logits(x[0], x[1].expand_as(x[0])),
    "MSELoss": lambda x, p: F.mse_loss(x[0], x[1].expand_as(x[0])),
    "L1Loss": lambda x, p: F.l1_loss(x[0], x[1].expand_as(x[0])),
}


def instance_norm_backward(g, y, r):
    """The fused op ops.InstanceNormBackward, written out: r*(g - mean(g) - y*mean(g*y)),
    means over each H x W plane (InstanceNorm2d's input gradient given its output y and scale r)."""
    return r * (g - g.mean(dim=(2, 3), keepdim=True) - y * (g * y).mean(dim=(2, 3), keepdim=True))


def enc(t):
    t = t.detach().contiguous().clone()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def zeros_if_none(g, like):
    return torch.zeros_like(like) if g is None else g


def golden(case):
    rng = np.random.default_rng(zlib.crc32(case["name"].encode()))
    params = case.get("params", {})
    specs = case["inputs"]
    xs = [draw(rng, s.get("domain", "normal"), s["shape"]) for s in specs]
    for x, s in zip(xs, specs):
        x.requires_grad_(not s.get("const", False))
    y = OPS[case["op"]](xs, params)
    rec = {"name": case["name"], "op": case["op"], "inputs": [enc(x) for x in xs], "output": enc(y)}
    if case["op"] in FORWARD_ONLY:
        return rec

    diff = [x for x in xs if x.requires_grad]
    u = draw(rng, "normal", list(y.shape)).requires_grad_()
    vjp = torch.autograd.grad(y, diff, u, create_graph=True, allow_unused=True)
    vjp = [zeros_if_none(g, x) for g, x in zip(vjp, diff)]
    ws = [draw(rng, "normal", list(x.shape)) for x in diff]
    phi = sum((w * g).sum() for w, g in zip(ws, vjp))
    gg = torch.autograd.grad(phi, diff + [u], allow_unused=True)
    gg = [zeros_if_none(g, x) for g, x in zip(gg, diff + [u])]

    # Per input: null for constant inputs.
    def per_input(vals):
        it = iter(vals)
        return [enc(next(it)) if x.requires_grad else None for x in xs]

    rec.update(u=enc(u), vjp=per_input(vjp), w=per_input(ws), gradgrad=per_input(gg[:-1]), gradgrad_u=enc(gg[-1]))
    return rec


def main():
    with open(TABLE) as f:
        cases = json.load(f)["cases"]
    names = [c["name"] for c in cases]
    if len(set(names)) != len(names):
        raise SystemExit("duplicate case names in " + TABLE)
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):  # drop the files of cases that left the table
        if old.endswith(".json") and old[:-5] not in names:
            os.remove(os.path.join(OUT, old))
    for case in cases:
        if case["op"] not in OPS:
            raise SystemExit(f"case {case['name']}: no PyTorch equivalent for op {case['op']}")
        with open(os.path.join(OUT, case["name"] + ".json"), "w") as f:
            json.dump(golden(case), f, separators=(",", ":"))
            f.write("\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
