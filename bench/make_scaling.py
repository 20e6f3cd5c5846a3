#!/usr/bin/python3
"""Inputs of bench/scaling.sh, one size and layout at a time:

    make_scaling.py SIZE LAYOUT DIR      (LAYOUT: striped | tiled)

DIR/img.tif   4-band uint16 (R, G, B, NIR), SIZE x SIZE, 0.5 m pixels in
              EPSG:32637, uncompressed, pixel-interleaved; striped: one
              row per strip (GDAL's default for a plain GeoTIFF), tiled:
              256 x 256 tiles. Smooth fields plus noise, deterministic.
DIR/mask.tif  uint8 building mask of the same size and layout: about one
              rectangle per 24 x 24 pixels (ragged sizes, some touching),
              the way a segmentation's class raster looks.
DIR/aoi.geojson  a polygon over about 60% of the raster, with a notch and
              a hole, in the raster's CRS (named in the file).
Written in blocks of rows, so the generator's memory does not grow with
SIZE (BigTIFF past 4 GiB)."""

import json
import os
import sys

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()


def main():
    size, layout, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    os.makedirs(out, exist_ok=True)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32637)
    x0, y0, res = 400000.0, 6200000.0, 0.5
    opts = ["BIGTIFF=IF_SAFER", "INTERLEAVE=PIXEL"]
    if layout == "tiled":
        opts += ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"]
    elif layout == "striped":
        opts += ["BLOCKYSIZE=1"]
    else:
        sys.exit("layout: striped or tiled")
    drv = gdal.GetDriverByName("GTiff")
    img = drv.Create(os.path.join(out, "img.tif"), size, size, 4, gdal.GDT_UInt16, opts)
    msk = drv.Create(os.path.join(out, "mask.tif"), size, size, 1, gdal.GDT_Byte, opts)
    for ds in (img, msk):
        ds.SetGeoTransform((x0, res, 0, y0, 0, -res))
        ds.SetProjection(srs.ExportToWkt())
    rng = np.random.default_rng(size)
    step = 1024
    xs = np.arange(size, dtype=np.float32)
    # building grid: cells of 24 px, a rectangle of random size in each
    cells = (size + 23) // 24
    bw = rng.integers(6, 22, size=(cells, cells))
    bh = rng.integers(6, 22, size=(cells, cells))
    keep = rng.random((cells, cells)) < 0.7
    for r0 in range(0, size, step):
        rows = min(step, size - r0)
        ys = np.arange(r0, r0 + rows, dtype=np.float32)[:, None]
        base = 3000 + 1500 * np.sin(xs / 700.0)[None, :] * np.cos(ys / 900.0)
        noise = rng.integers(0, 400, size=(4, rows, size), dtype=np.uint16)
        for b in range(4):
            band = (base * (0.6 + 0.2 * b) + noise[b]).clip(1, 10000).astype(np.uint16)
            img.GetRasterBand(b + 1).WriteArray(band, 0, r0)
        yy = np.arange(r0, r0 + rows)[:, None]
        cy, oy = yy // 24, yy % 24
        cx, ox = (np.arange(size) // 24)[None, :], (np.arange(size) % 24)[None, :]
        m = keep[cy, cx] & (oy < bh[cy, cx]) & (ox < bw[cy, cx])
        msk.GetRasterBand(1).WriteArray(m.astype(np.uint8), 0, r0)
    img = msk = None
    e = size * res
    ring = [[x0 + 0.1 * e, y0 - 0.1 * e], [x0 + 0.9 * e, y0 - 0.12 * e],
            [x0 + 0.88 * e, y0 - 0.9 * e], [x0 + 0.5 * e, y0 - 0.6 * e],
            [x0 + 0.12 * e, y0 - 0.88 * e], [x0 + 0.1 * e, y0 - 0.1 * e]]
    hole = [[x0 + 0.3 * e, y0 - 0.3 * e], [x0 + 0.3 * e, y0 - 0.4 * e],
            [x0 + 0.4 * e, y0 - 0.4 * e], [x0 + 0.4 * e, y0 - 0.3 * e],
            [x0 + 0.3 * e, y0 - 0.3 * e]]
    fc = {"type": "FeatureCollection",
          "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32637"}},
          "features": [{"type": "Feature", "properties": {},
                        "geometry": {"type": "Polygon", "coordinates": [ring, hole]}}]}
    with open(os.path.join(out, "aoi.geojson"), "w") as f:
        json.dump(fc, f)


if __name__ == "__main__":
    main()
