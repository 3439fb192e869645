#!/usr/bin/python3
"""Writes the golden files of the network test (testdata/networks/), read by cyclegan/networks_golden_test.go.

Run with Debian's PyTorch:  /usr/bin/python3 testdata/gen_networks_golden.py

The classes below are copies of pytorch-CycleGAN-and-pix2pix's models/networks.py (get_norm_layer,
ResnetGenerator, ResnetBlock, UnetGenerator, UnetSkipConnectionBlock, NLayerDiscriminator,
PixelDiscriminator; init_weights with init_type 'normal', gain 0.02), with their module order, so that
the state-dict keys are the reference's. For each case:

  <case>.safetensors  the state dict (weights as F32, the running statistics of batch norms set to
                      random values, num_batches_tracked 3, as I64 as PyTorch keeps it)
  <case>.json         the network's configuration; with x the input (N, 3, S, S), x[i] = sin(0.5 + 0.731 i)
                      over the flat index i, and u[i] = cos(0.3 + 0.417 i) shaped like the output:
                        eval         the output in evaluation mode (running statistics, no dropout);
                        train        (no dropout only) the output in training mode, from the same weights;
                        grad         d sum(train * u) / dx;
                        running      each batch norm's running_mean, running_var, num_batches_tracked
                                     after that one training-mode forward;
                      each output as out[:, :, ::stride, ::stride] (stride 1 but for the U-Nets), in float64.
"""
import functools
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_cyclegan_golden import save_safetensors  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "networks")


class Identity(nn.Module):
    def forward(self, x):
        return x


def get_norm_layer(norm_type="instance"):
    if norm_type == "batch":
        norm_layer = functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    elif norm_type == "instance":
        norm_layer = functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    elif norm_type == "none":
        def norm_layer(x):
            return Identity()
    else:
        raise NotImplementedError("normalization layer [%s] is not found" % norm_type)
    return norm_layer


def uses_bias(norm_layer):
    if type(norm_layer) == functools.partial:
        return norm_layer.func == nn.InstanceNorm2d
    return norm_layer == nn.InstanceNorm2d


class ResnetBlock(nn.Module):
    def __init__(self, dim, padding_type, norm_layer, use_dropout, use_bias):
        super().__init__()
        self.conv_block = self.build_conv_block(dim, padding_type, norm_layer, use_dropout, use_bias)

    def build_conv_block(self, dim, padding_type, norm_layer, use_dropout, use_bias):
        assert padding_type == "reflect"
        conv_block = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=use_bias),
                      norm_layer(dim), nn.ReLU(True)]
        if use_dropout:
            conv_block += [nn.Dropout(0.5)]
        conv_block += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=use_bias), norm_layer(dim)]
        return nn.Sequential(*conv_block)

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, ngf=64, norm_layer=nn.BatchNorm2d, use_dropout=False, n_blocks=6, padding_type="reflect"):
        super().__init__()
        use_bias = uses_bias(norm_layer)
        model = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=use_bias), norm_layer(ngf), nn.ReLU(True)]
        n_downsampling = 2
        for i in range(n_downsampling):
            mult = 2 ** i
            model += [nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1, bias=use_bias),
                      norm_layer(ngf * mult * 2), nn.ReLU(True)]
        mult = 2 ** n_downsampling
        for i in range(n_blocks):
            model += [ResnetBlock(ngf * mult, padding_type=padding_type, norm_layer=norm_layer, use_dropout=use_dropout, use_bias=use_bias)]
        for i in range(n_downsampling):
            mult = 2 ** (n_downsampling - i)
            model += [nn.ConvTranspose2d(ngf * mult, int(ngf * mult / 2), kernel_size=3, stride=2, padding=1, output_padding=1, bias=use_bias),
                      norm_layer(int(ngf * mult / 2)), nn.ReLU(True)]
        model += [nn.ReflectionPad2d(3)]
        model += [nn.Conv2d(ngf, output_nc, kernel_size=7, padding=0)]
        model += [nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, input):
        return self.model(input)


class UnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, num_downs, ngf=64, norm_layer=nn.BatchNorm2d, use_dropout=False):
        super().__init__()
        unet_block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, input_nc=None, submodule=None, norm_layer=norm_layer, innermost=True)
        for i in range(num_downs - 5):
            unet_block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, input_nc=None, submodule=unet_block, norm_layer=norm_layer, use_dropout=use_dropout)
        unet_block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, input_nc=None, submodule=unet_block, norm_layer=norm_layer)
        unet_block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, input_nc=None, submodule=unet_block, norm_layer=norm_layer)
        unet_block = UnetSkipConnectionBlock(ngf, ngf * 2, input_nc=None, submodule=unet_block, norm_layer=norm_layer)
        self.model = UnetSkipConnectionBlock(output_nc, ngf, input_nc=input_nc, submodule=unet_block, outermost=True, norm_layer=norm_layer)

    def forward(self, input):
        return self.model(input)


class UnetSkipConnectionBlock(nn.Module):
    def __init__(self, outer_nc, inner_nc, input_nc=None, submodule=None, outermost=False, innermost=False, norm_layer=nn.BatchNorm2d, use_dropout=False):
        super().__init__()
        self.outermost = outermost
        use_bias = uses_bias(norm_layer)
        if input_nc is None:
            input_nc = outer_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
        downrelu = nn.LeakyReLU(0.2, True)
        downnorm = norm_layer(inner_nc)
        uprelu = nn.ReLU(True)
        upnorm = norm_layer(outer_nc)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1)
            down = [downconv]
            up = [uprelu, upconv, nn.Tanh()]
            model = down + [submodule] + up
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
            down = [downrelu, downconv]
            up = [uprelu, upconv, upnorm]
            model = down + up
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
            down = [downrelu, downconv, downnorm]
            up = [uprelu, upconv, upnorm]
            if use_dropout:
                model = down + [submodule] + up + [nn.Dropout(0.5)]
            else:
                model = down + [submodule] + up
        self.model = nn.Sequential(*model)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class NLayerDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf=64, n_layers=3, norm_layer=nn.BatchNorm2d):
        super().__init__()
        use_bias = uses_bias(norm_layer)
        kw, padw = 4, 1
        sequence = [nn.Conv2d(input_nc, ndf, kernel_size=kw, stride=2, padding=padw), nn.LeakyReLU(0.2, True)]
        nf_mult = 1
        for n in range(1, n_layers):
            nf_mult_prev, nf_mult = nf_mult, min(2 ** n, 8)
            sequence += [nn.Conv2d(ndf * nf_mult_prev, ndf * nf_mult, kernel_size=kw, stride=2, padding=padw, bias=use_bias),
                         norm_layer(ndf * nf_mult), nn.LeakyReLU(0.2, True)]
        nf_mult_prev, nf_mult = nf_mult, min(2 ** n_layers, 8)
        sequence += [nn.Conv2d(ndf * nf_mult_prev, ndf * nf_mult, kernel_size=kw, stride=1, padding=padw, bias=use_bias),
                     norm_layer(ndf * nf_mult), nn.LeakyReLU(0.2, True)]
        sequence += [nn.Conv2d(ndf * nf_mult, 1, kernel_size=kw, stride=1, padding=padw)]
        self.model = nn.Sequential(*sequence)

    def forward(self, input):
        return self.model(input)


class PixelDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf=64, norm_layer=nn.BatchNorm2d):
        super().__init__()
        use_bias = uses_bias(norm_layer)
        self.net = [
            nn.Conv2d(input_nc, ndf, kernel_size=1, stride=1, padding=0),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, kernel_size=1, stride=1, padding=0, bias=use_bias),
            norm_layer(ndf * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, kernel_size=1, stride=1, padding=0, bias=use_bias)]
        self.net = nn.Sequential(*self.net)

    def forward(self, input):
        return self.net(input)


def init_weights(net, init_gain=0.02):
    """networks.init_weights with init_type 'normal'."""
    def init_func(m):
        classname = m.__class__.__name__
        if hasattr(m, "weight") and (classname.find("Conv") != -1 or classname.find("Linear") != -1):
            nn.init.normal_(m.weight.data, 0.0, init_gain)
            if hasattr(m, "bias") and m.bias is not None:
                nn.init.constant_(m.bias.data, 0.0)
        elif classname.find("BatchNorm2d") != -1:
            nn.init.normal_(m.weight.data, 1.0, init_gain)
            nn.init.constant_(m.bias.data, 0.0)
    net.apply(init_func)


# name: (kind, config, batch, side, stride of the outputs written)
CASES = {
    "G_resnet_batch": ("G", dict(netG="resnet", ngf=4, n_blocks=2, norm="batch", dropout=False), 2, 16, 1),
    "G_resnet_batch_dropout": ("G", dict(netG="resnet", ngf=4, n_blocks=2, norm="batch", dropout=True), 2, 16, 1),
    "G_resnet_none": ("G", dict(netG="resnet", ngf=4, n_blocks=2, norm="none", dropout=False), 2, 16, 1),
    "G_resnet_instance_dropout": ("G", dict(netG="resnet", ngf=4, n_blocks=1, norm="instance", dropout=True), 1, 16, 1),
    "G_unet_128_batch": ("G", dict(netG="unet_128", ngf=2, norm="batch", dropout=False), 1, 128, 8),
    "G_unet_128_batch_dropout": ("G", dict(netG="unet_128", ngf=2, norm="batch", dropout=True), 1, 128, 8),
    "G_unet_128_instance": ("G", dict(netG="unet_128", ngf=2, norm="instance", dropout=False), 1, 128, 8),
    "D_n_layers_batch": ("D", dict(netD="n_layers", ndf=4, n_layers_D=3, norm="batch"), 2, 32, 1),
    "D_n_layers_none": ("D", dict(netD="n_layers", ndf=4, n_layers_D=2, norm="none"), 2, 16, 1),
    "D_pixel_batch": ("D", dict(netD="pixel", ndf=4, norm="batch"), 2, 8, 1),
    "D_pixel_instance": ("D", dict(netD="pixel", ndf=4, norm="instance"), 1, 8, 1),
}


def build(kind, c):
    norm = get_norm_layer(c["norm"])
    if kind == "G":
        if c["netG"] == "resnet":
            return ResnetGenerator(3, 3, c["ngf"], norm_layer=norm, use_dropout=c["dropout"], n_blocks=c["n_blocks"])
        return UnetGenerator(3, 3, {"unet_128": 7, "unet_256": 8}[c["netG"]], c["ngf"], norm_layer=norm, use_dropout=c["dropout"])
    if c["netD"] == "n_layers":
        return NLayerDiscriminator(3, c["ndf"], n_layers=c["n_layers_D"], norm_layer=norm)
    return PixelDiscriminator(3, c["ndf"], norm_layer=norm)


def wave(shape, a, b, f):
    n = int(np.prod(shape))
    return torch.from_numpy(f(a + b * np.arange(n, dtype=np.float64)).reshape(shape))


def enc(t, stride):
    t = t.detach()[:, :, ::stride, ::stride].contiguous()
    return {"shape": list(t.shape), "data": [round(v, 15) for v in t.reshape(-1).tolist()]}


def main():
    torch.set_num_threads(1)
    os.makedirs(HERE, exist_ok=True)
    for old in os.listdir(HERE):
        os.remove(os.path.join(HERE, old))
    g = torch.Generator().manual_seed(3)
    for i, (name, (kind, c, batch, side, stride)) in enumerate(sorted(CASES.items())):
        torch.manual_seed(100 + i)
        net = build(kind, c)
        init_weights(net)
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(0.5 + 1.5 * torch.rand(m.running_var.shape, generator=g))
                m.num_batches_tracked.fill_(3)
        # Weights as float32 (what the file holds), computed in float64.
        net.load_state_dict({k: (v.float().double() if v.is_floating_point() else v) for k, v in net.state_dict().items()})
        save_safetensors(os.path.join(HERE, name + ".safetensors"), net.state_dict())
        net = net.double()
        x = wave((batch, 3, side, side), 0.5, 0.731, np.sin)
        rec = {"kind": kind, "config": c, "batch": batch, "side": side, "stride": stride}
        net.eval()
        with torch.no_grad():
            rec["eval"] = enc(net(x), stride)
        if not c.get("dropout"):
            net.train()
            xv = x.clone().requires_grad_()
            y = net(xv)
            u = wave(tuple(y.shape), 0.3, 0.417, np.cos)
            (gx,) = torch.autograd.grad((y * u).sum(), xv)
            rec["train"] = enc(y, stride)
            rec["grad"] = enc(gx, stride)
            rec["running"] = {k: v.double().reshape(-1).tolist() for k, v in net.state_dict().items()
                              if k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
        with open(os.path.join(HERE, name + ".json"), "w") as f:
            json.dump(rec, f, separators=(",", ":"))
            f.write("\n")
    print("wrote", HERE)


if __name__ == "__main__":
    main()
