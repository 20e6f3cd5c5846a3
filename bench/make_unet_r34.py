#!/usr/bin/python3
"""A realistic segmentation network for bench/detect.sh: a U-Net with a
ResNet-34-style encoder (7x7 stem, max pool, basic residual blocks 3-4-6-3 of
64-128-256-512 channels, batch norm), a decoder of nearest x2 upsampling,
skip concatenation and two 3x3 conv-BN-ReLU per level (256-128-64-32-16
channels) and a 3x3 head with a sigmoid: 24.4 M parameters, the shape of the
usual "Unet(resnet34)" building model. Random weights (seed 0); the head's
bias is set so that about 15% of the pixels of a sample of the scene come out
above 0.5, so that the footprints are blobs, as a trained model's would be,
rather than none or one. Exported to ONNX (opset 13, dynamic N, H, W; batch
norm folded into the convolutions by the exporter).

    make_unet_r34.py OUT.onnx SCENE.tif
"""

import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from osgeo import gdal


def cbr(cin, cout, k=3, s=1):
    return [nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True)]


class Basic(nn.Module):
    def __init__(self, cin, cout, s):
        super().__init__()
        self.body = nn.Sequential(*cbr(cin, cout, 3, s)[:2], nn.ReLU(inplace=True),
                                  nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(cout))
        self.skip = (nn.Sequential(nn.Conv2d(cin, cout, 1, s, bias=False), nn.BatchNorm2d(cout))
                     if s != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        return F.relu(self.body(x) + self.skip(x))


def stage(cin, cout, n, s):
    return nn.Sequential(Basic(cin, cout, s), *[Basic(cout, cout, 1) for _ in range(n - 1)])


class UNetR34(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*cbr(3, 64, 7, 2))                   # 1/2
        self.l1 = stage(64, 64, 3, 1)                                  # 1/4 (after pool)
        self.l2 = stage(64, 128, 4, 2)                                 # 1/8
        self.l3 = stage(128, 256, 6, 2)                                # 1/16
        self.l4 = stage(256, 512, 3, 2)                                # 1/32
        dec, cin = [], 512
        for skip, cout in ((256, 256), (128, 128), (64, 64), (64, 32), (0, 16)):
            dec.append(nn.Sequential(*cbr(cin + skip, cout), *cbr(cout, cout)))
            cin = cout
        self.dec = nn.ModuleList(dec)
        self.head = nn.Conv2d(16, 1, 3, 1, 1)

    def logits(self, x):
        s0 = self.stem(x)
        s1 = self.l1(F.max_pool2d(s0, 3, 2, 1))
        s2 = self.l2(s1)
        s3 = self.l3(s2)
        y = self.l4(s3)
        for d, skip in zip(self.dec, (s3, s2, s1, s0, None)):
            y = F.interpolate(y, scale_factor=2.0, mode="nearest")
            y = d(y if skip is None else torch.cat([y, skip], 1))
        return self.head(y)

    def forward(self, x):
        return torch.sigmoid(self.logits(x))


def main():
    out, scene = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    net = UNetR34().eval()
    ds = gdal.Open(scene)
    n = min(512, ds.RasterXSize, ds.RasterYSize)
    x = torch.from_numpy(ds.ReadAsArray(0, 0, n, n)[:3].astype(np.float32)[None] / 255.0)
    with torch.no_grad():
        lg = net.logits(x)
        net.head.bias -= torch.quantile(lg.flatten()[::7], 0.85)
    torch.onnx.export(net, torch.zeros(1, 3, 256, 256), out, opset_version=13,
                      input_names=["image"], output_names=["building"],
                      dynamic_axes={"image": {0: "n", 2: "h", 3: "w"},
                                    "building": {0: "n", 2: "h", 3: "w"}},
                      do_constant_folding=True)
    print("%s: U-Net / ResNet-34 encoder, %.1f M parameters" %
          (out, sum(p.numel() for p in net.parameters()) / 1e6))


if __name__ == "__main__":
    main()
