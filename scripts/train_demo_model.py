#!/usr/bin/python3
"""Train the demo building-segmentation model and export it to ONNX.

    /usr/bin/python3 scripts/train_demo_model.py [--out models/buildings.onnx]
        [--scenes 160] [--iters 1500] [--seed 0]

Renders synthetic aerial scenes (models/synth_scene.py: roofs of varied
shapes, colours and orientations, shadows, roads, paved lots, trees, grass)
from seeds 0 .. scenes-1, trains a compact U-Net (3 levels, 16-32-64
channels, batch norm, ~120 k parameters) on random 96 x 96 crops with flips
and rotations (Adam, binary cross-entropy + Dice), on the CPU with Debian's
python3-torch, and exports it to ONNX (opset 13) with dynamic batch, height
and width (any multiple of 4) and a sigmoid at the end: the output is the
building probability, one channel. Input: RGB scaled to [0, 1]
(`eoproc segment --scale 1/255`).

Held-out scenes (seeds from synth_scene.HELD_OUT_SEED up) are never used for
training; the IoU printed at the end is PyTorch's on them, the test suite
measures eoproc's own (tests/python/test_segment.py).
"""

import argparse
import pathlib
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "models"))
import synth_scene  # noqa: E402


def block(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    def __init__(self, base=16):
        super().__init__()
        c1, c2, c3 = base, base * 2, base * 4
        self.e1, self.e2, self.e3 = block(3, c1), block(c1, c2), block(c2, c3)
        self.u2 = nn.ConvTranspose2d(c3, c2, 2, stride=2)
        self.d2 = block(c2 * 2, c2)
        self.u1 = nn.ConvTranspose2d(c2, c1, 2, stride=2)
        self.d1 = block(c1 * 2, c1)
        self.head = nn.Conv2d(c1, 1, 1)

    def logits(self, x):
        x1 = self.e1(x)
        x2 = self.e2(F.max_pool2d(x1, 2))
        x3 = self.e3(F.max_pool2d(x2, 2))
        y = self.d2(torch.cat([self.u2(x3), x2], 1))
        y = self.d1(torch.cat([self.u1(y), x1], 1))
        return self.head(y)

    def forward(self, x):
        return torch.sigmoid(self.logits(x))


def batch(rng, imgs, masks, n, crop):
    xs, ys = [], []
    for _ in range(n):
        k = rng.integers(len(imgs))
        h, w = masks[k].shape
        y0, x0 = rng.integers(0, h - crop + 1), rng.integers(0, w - crop + 1)
        x = imgs[k][y0 : y0 + crop, x0 : x0 + crop]
        y = masks[k][y0 : y0 + crop, x0 : x0 + crop]
        r = rng.integers(4)
        x, y = np.rot90(x, r), np.rot90(y, r)
        if rng.random() < 0.5:
            x, y = x[:, ::-1], y[:, ::-1]
        xs.append(x.transpose(2, 0, 1))
        ys.append(y[None])
    x = torch.from_numpy(np.ascontiguousarray(np.stack(xs))).float() / 255.0
    y = torch.from_numpy(np.ascontiguousarray(np.stack(ys))).float()
    return x, y


def iou(pred, truth):
    inter = np.logical_and(pred, truth).sum()
    union = np.logical_or(pred, truth).sum()
    return inter / max(union, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / "models" / "buildings.onnx"))
    ap.add_argument("--scenes", type=int, default=160)
    ap.add_argument("--iters", type=int, default=1500)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    rng = np.random.default_rng(args.seed)

    t0 = time.time()
    scenes = [synth_scene.render_scene(s, 256) for s in range(args.scenes)]
    imgs = [s[0] for s in scenes]
    masks = [s[1] for s in scenes]
    print("rendered %d scenes in %.0f s" % (len(scenes), time.time() - t0), flush=True)

    net = UNet()
    print("parameters: %d" % sum(p.numel() for p in net.parameters()), flush=True)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=args.iters)
    net.train()
    t0 = time.time()
    for it in range(args.iters):
        x, y = batch(rng, imgs, masks, args.batch, args.crop)
        logit = net.logits(x)
        p = torch.sigmoid(logit)
        dice = 1 - (2 * (p * y).sum() + 1) / (p.sum() + y.sum() + 1)
        loss = F.binary_cross_entropy_with_logits(logit, y) + dice
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if it % 100 == 0 or it == args.iters - 1:
            print("iter %d loss %.4f (%.0f s)" % (it, loss.item(), time.time() - t0), flush=True)

    net.eval()
    ious = []
    with torch.no_grad():
        for s in range(synth_scene.HELD_OUT_SEED, synth_scene.HELD_OUT_SEED + 8):
            rgb, m = synth_scene.render_scene(s, 256)
            x = torch.from_numpy(rgb.transpose(2, 0, 1).copy()).float()[None] / 255.0
            ious.append(iou(net(x)[0, 0].numpy() > 0.5, m > 0))
    print("held-out IoU (PyTorch, 8 scenes of 256 px): %.4f" % float(np.mean(ious)), flush=True)

    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 3, 128, 128)
    torch.onnx.export(
        net,
        dummy,
        str(out),
        opset_version=13,
        input_names=["image"],
        output_names=["building"],
        dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}, "building": {0: "n", 2: "h", 3: "w"}},
        do_constant_folding=True,
    )
    print("wrote %s (%d bytes)" % (out, out.stat().st_size), flush=True)


if __name__ == "__main__":
    main()
