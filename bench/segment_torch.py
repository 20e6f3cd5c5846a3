#!/usr/bin/python3
"""Sliding-window segmentation the way it is written today with PyTorch:
read the raster with GDAL, cut it into tiles with overlap, run the network
on each tile (torch.no_grad, batch 2, torch.set_num_threads), blend the
overlaps with the same weights as eoproc (raised cosine across the middle
half of the overlap, 1e-6 in its outer quarter), write the probability and
the class GeoTIFFs with GDAL. The whole raster is held in memory (as most
scripts do).

    segment_torch.py MODEL.pt SRC OUT.tif TILE OVERLAP THREADS
"""

import math
import pathlib
import sys
import time

import numpy as np
import torch
from osgeo import gdal

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from train_demo_model import UNet  # noqa: E402


def ramp(t, o, lo, hi):
    i = np.arange(t, dtype=np.float64)

    def r(d):
        x = d + 0.5 - o / 4
        v = 0.5 - 0.5 * np.cos(math.pi * np.clip(x, 0, o / 2) / (o / 2)) if o else np.ones_like(d)
        return v

    w = (r(i) if lo else 1) * (r(t - 1 - i) if hi else 1)
    return np.maximum(w, 1e-6).astype(np.float32)


def sliding_window(net, img, t, o, nbatch, scale=1.0):
    """The blended probability (h x w float32) of the one-channel network net
    over img (bands x h x w, any dtype, times scale as the model's input) in
    tiles of t with overlap o, nbatch tiles per run; and the tile count."""
    _, h, w = img.shape
    step = t - o
    ky = [k for k in range(0, max(h - t, 0) // step + 2) if k == 0 or (k - 1) * step + t < h]
    kx = [k for k in range(0, max(w - t, 0) // step + 2) if k == 0 or (k - 1) * step + t < w]
    acc = np.zeros((h, w), np.float32)
    wsum = np.zeros((h, w), np.float32)
    tiles = [(y, x) for y in ky for x in kx]
    with torch.no_grad():
        for b in range(0, len(tiles), nbatch):
            batch = tiles[b : b + nbatch]
            x = np.zeros((len(batch), img.shape[0], t, t), np.float32)
            for j, (y, xk) in enumerate(batch):
                part = img[:, y * step : y * step + t, xk * step : xk * step + t]
                pad = ((0, 0), (0, t - part.shape[1]), (0, t - part.shape[2]))
                x[j] = np.pad(part, pad, mode="reflect")  # mirrored past the end, as eoproc
                if scale != 1.0:
                    x[j] *= scale
            p = net(torch.from_numpy(x)).numpy()[:, 0]
            for j, (y, xk) in enumerate(batch):
                y0, x0 = y * step, xk * step
                wy = np.broadcast_to(ramp(t, o, y > 0, y0 + t < h), (t,))  # a scalar: one tile
                wx = np.broadcast_to(ramp(t, o, xk > 0, x0 + t < w), (t,))
                hh, ww = min(t, h - y0), min(t, w - x0)
                wt = (wy[:, None] * wx[None, :])[:hh, :ww]
                acc[y0 : y0 + hh, x0 : x0 + ww] += wt * p[j, :hh, :ww]
                wsum[y0 : y0 + hh, x0 : x0 + ww] += wt
    acc /= wsum
    return acc, len(tiles)


def main():
    model, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
    t, o, threads = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    torch.set_num_threads(threads)
    net = UNet()
    net.load_state_dict(torch.load(model))
    net.eval()
    t0 = time.time()
    ds = gdal.Open(src)
    img = ds.ReadAsArray().astype(np.float32) / 255.0
    _, h, w = img.shape
    prob, ntiles = sliding_window(net, img, t, o, 2)
    drv = gdal.GetDriverByName("GTiff")
    opts = ["TILED=YES", "COMPRESS=ZSTD", "BLOCKXSIZE=512", "BLOCKYSIZE=512"]
    for path, arr, dt in ((out, prob, gdal.GDT_Float32),
                          (out[:-4] + "_classes.tif", (prob >= 0.5).astype(np.uint8), gdal.GDT_Byte)):
        o_ds = drv.Create(path, w, h, 1, dt, opts)
        o_ds.SetGeoTransform(ds.GetGeoTransform())
        o_ds.SetProjection(ds.GetProjection())
        o_ds.GetRasterBand(1).WriteArray(arr)
        o_ds = None
    print("torch_s %.2f tiles %d" % (time.time() - t0, ntiles))


if __name__ == "__main__":
    main()
