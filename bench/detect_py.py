#!/usr/bin/python3
"""Building footprints for an AOI the way a Python user writes it today with
Debian's packages, the reference pipeline of bench/detect.sh:

- python3-rasterio opens the tile pyramid through GDAL (a <GDAL_WMS> XML
  whose ServerUrl is the folder's file:// {z}/{x}/{y} template) and reads the
  AOI's bounding box at zoom 18 into one numpy array;
- a PyTorch sliding window of the network (tile, overlap and batch as
  eoproc's, the same raised-cosine blending as bench/segment_torch.py, input
  scaled by 1/255, pixels past the window's end mirrored); the network is the
  ONNX file's graph run op by op with torch.nn.functional on its weights
  (bench/onnx_torch.py), so both tools run the very same weights;
- threshold 0.5 inside the AOI (rasterio.features.geometry_mask),
  rasterio.features.shapes (4-connectivity) of class 1, then shapely: holes
  under FILL_HOLES m2 filled, simplify(SIMPLIFY, preserve_topology=True) in
  EPSG:3857 units (eoproc's tolerance is in the raster CRS's units too),
  features under MIN_AREA m2 dropped (ground area: the Mercator area times
  cos(latitude)^2), reprojected to EPSG:4326 with pyproj and written as GeoJSON.

    detect_py.py WMS.xml AOI.geojson MODEL.onnx OUT.geojson [--tile 512]
        [--overlap 64] [--batch 1] [--threads 2] [--min-area 4] [--fill-holes 4]
        [--simplify 0.3]

Prints one JSON line: seconds per stage (read, infer, vectorize), pixels,
model tiles and features.
"""

import argparse
import json
import math
import pathlib
import sys
import time

import numpy as np
import pyproj
import rasterio
import rasterio.features
import rasterio.warp
import rasterio.windows
import torch
from shapely.geometry import Polygon, mapping, shape
from shapely.ops import transform

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from onnx_torch import OnnxTorch  # noqa: E402
from segment_torch import sliding_window  # noqa: E402

R = 6378137.0


def ground_scale2(geom):
    """cos(latitude)^2 at the geometry's centroid: Mercator area to m2."""
    lat = 2 * math.atan(math.exp(geom.centroid.y / R)) - math.pi / 2
    return math.cos(lat) ** 2


def main():
    ap = argparse.ArgumentParser()
    for a in ("wms", "aoi", "model", "out"):
        ap.add_argument(a)
    for opt, kind, default in (("tile", int, 512), ("overlap", int, 64), ("batch", int, 1),
                               ("threads", int, 2), ("min-area", float, 4),
                               ("fill-holes", float, 4), ("simplify", float, 0.3)):
        ap.add_argument("--" + opt, type=kind, default=default)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    net = OnnxTorch(a.model)
    times = {}

    # 1. read the AOI's bounding box at the pyramid's zoom
    t0 = time.perf_counter()
    aoi = json.loads(pathlib.Path(a.aoi).read_text())
    aoi = aoi.get("geometry", aoi)
    aoi_m = rasterio.warp.transform_geom("EPSG:4326", "EPSG:3857", aoi)
    with rasterio.open(a.wms) as src:
        f = src.window(*shape(aoi_m).bounds)
        c0, r0 = math.floor(f.col_off + 1e-6), math.floor(f.row_off + 1e-6)
        win = rasterio.windows.Window(c0, r0, math.ceil(f.col_off + f.width - 1e-6) - c0,
                                      math.ceil(f.row_off + f.height - 1e-6) - r0)
        tf = src.window_transform(win)
        img = src.read((1, 2, 3), window=win)
    _, h, w = img.shape
    inside = rasterio.features.geometry_mask([aoi_m], (h, w), tf, invert=True)
    times["read"] = time.perf_counter() - t0

    # 2. sliding window, blended
    t0 = time.perf_counter()
    acc, ntiles = sliding_window(net, img, a.tile, a.overlap, a.batch, 1 / 255.0)
    del img
    classes = ((acc >= 0.5) & inside).astype(np.uint8)
    del acc
    times["infer"] = time.perf_counter() - t0

    # 3. polygons, filters, simplification, GeoJSON
    t0 = time.perf_counter()
    to_ll = pyproj.Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True).transform
    feats = []
    for geom, value in rasterio.features.shapes(classes, mask=classes == 1, connectivity=4,
                                                transform=tf):
        g = shape(geom)
        k2 = ground_scale2(g)
        if g.interiors:
            g = Polygon(g.exterior, [r for r in g.interiors
                                     if Polygon(r).area * k2 >= a.fill_holes])
        g = g.simplify(a.simplify, preserve_topology=True)
        area = g.area * k2
        if g.is_empty or area < a.min_area:
            continue
        feats.append({"type": "Feature", "id": len(feats) + 1,
                      "properties": {"class": int(value), "area_m2": round(area, 3)},
                      "geometry": mapping(transform(to_ll, g))})
    with open(a.out, "w") as f:
        json.dump({"type": "FeatureCollection", "features": feats}, f)
    times["vectorize"] = time.perf_counter() - t0
    print(json.dumps({"seconds": {k: round(v, 2) for k, v in times.items()}, "pixels": h * w,
                      "model_tiles": ntiles, "features": len(feats)}))


if __name__ == "__main__":
    main()
