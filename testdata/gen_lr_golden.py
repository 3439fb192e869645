#!/usr/bin/env python3
"""Writes testdata/lr/golden.json: the learning rate each epoch trains at under each --lr_policy of
pytorch-CycleGAN-and-pix2pix (models/networks.py, get_scheduler), computed with torch.optim.lr_scheduler,
for the Go test cyclegan/schedule_test.go.

Run from anywhere with Debian's PyTorch:  /usr/bin/python3 testdata/gen_lr_golden.py

The schedulers are made as get_scheduler makes them and stepped as the reference's update_learning_rate
steps them, once at the end of every epoch (the plateau scheduler with the metric 0, BaseModel.metric,
which CycleGAN never changes); the rate recorded for an epoch is the optimiser's during its iterations:
  linear   LambdaLR(lambda epoch: 1 - max(0, epoch + epoch_count - n_epochs) / float(n_epochs_decay + 1))
  step     StepLR(step_size=lr_decay_iters, gamma=0.1)
  plateau  ReduceLROnPlateau(mode='min', factor=0.2, threshold=0.01, patience=5), step(0)
  cosine   CosineAnnealingLR(T_max=n_epochs, eta_min=0)
for a run started at epoch 1 (epoch_count 1).
"""

import json
import os

import torch
from torch.optim import lr_scheduler

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "lr", "golden.json")

CONFIGS = [
    # Long enough for the plateau rate to stop falling (a fall of at most eps = 1e-8 is not made).
    {"lr": 2e-4, "n_epochs": 20, "n_epochs_decay": 40, "lr_decay_iters": 7},
    {"lr": 0.5, "n_epochs": 3, "n_epochs_decay": 5, "lr_decay_iters": 2},
]


def scheduler(policy, opt, c):
    if policy == "linear":
        def lambda_rule(epoch):
            return 1.0 - max(0, epoch + 1 - c["n_epochs"]) / float(c["n_epochs_decay"] + 1)
        return lr_scheduler.LambdaLR(opt, lr_lambda=lambda_rule)
    if policy == "step":
        return lr_scheduler.StepLR(opt, step_size=c["lr_decay_iters"], gamma=0.1)
    if policy == "plateau":
        return lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.2, threshold=0.01, patience=5)
    if policy == "cosine":
        return lr_scheduler.CosineAnnealingLR(opt, T_max=c["n_epochs"], eta_min=0)
    raise ValueError(policy)


def rates(policy, c):
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=c["lr"], betas=(0.5, 0.999))
    s = scheduler(policy, opt, c)
    out = []
    for epoch in range(1, c["n_epochs"] + c["n_epochs_decay"] + 1):
        out.append(opt.param_groups[0]["lr"])
        # ... the epoch's iterations (optimizer.step() before scheduler.step(), as in training) ...
        opt.step()
        if policy == "plateau":
            s.step(0)
        else:
            s.step()
    return out


def main():
    cases = []
    for c in CONFIGS:
        case = dict(c)
        for policy in ["linear", "step", "plateau", "cosine"]:
            case[policy] = rates(policy, c)
        cases.append(case)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
