"""A rendered scene as web-map imagery: a zoom-18 {z}/{x}/{y} PNG pyramid
(XYZ and TMS), the same pixels as a GeoTIFF in EPSG:3857, its ground truth
and an AOI inside it (numpy and GDAL's Python bindings only).

    s = write_pyramid(folder, grid=2)   # 1024 x 1024 px near Moscow
    s["dir"] / "xyz", s["dir"] / "tms", s["dir"] / "scene.tif", s["aoi"] (GeoJSON)

The scenes come from synth_scene.render_scene with seeds from HELD_OUT_SEED
+ 700 up, which the demo model never saw in training. Used by
tests/python/test_detect.py and scripts/demo.sh.
"""

import json
import math
import pathlib
import sys

import numpy as np
from osgeo import gdal, osr

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from synth_scene import HELD_OUT_SEED, render_scene  # noqa: E402

Z = 18
R = 6378137.0
HALF = math.pi * R
RES = 2 * HALF / (256 * 2**Z)  # metres per pixel at zoom 18


def tile_of(lon, lat, z=Z):
    """The XYZ tile holding a point (the slippy-map formula)."""
    n = 2**z
    return (int((lon + 180) / 360 * n),
            int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))


def _write_tiles(root, rgb, tx, ty, tms=False):
    mem, png = gdal.GetDriverByName("MEM"), gdal.GetDriverByName("PNG")
    n = rgb.shape[0] // 256
    for i in range(n):
        for j in range(n):
            row = ty + i
            if tms:
                row = 2**Z - 1 - row
            d = root / str(Z) / str(tx + j)
            d.mkdir(parents=True, exist_ok=True)
            t = mem.Create("", 256, 256, 3, gdal.GDT_Byte)
            for b in range(3):
                t.GetRasterBand(b + 1).WriteArray(rgb[i * 256:(i + 1) * 256,
                                                      j * 256:(j + 1) * 256, b])
            png.CreateCopy(str(d / ("%d.png" % row)), t)
    if tms:
        (root / "tilemapresource.xml").write_text("<TileMap version=\"1.0.0\"/>\n")


def write_pyramid(folder, grid=2, size=512, inset=20, lon=37.6, lat=55.75):
    """grid x grid scenes of size pixels; the AOI is inset pixels inside the
    edge. Returns dir, gt, H, truth, aoi, tx, ty (the top-left tile)."""
    d = pathlib.Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    H = grid * size
    rgb = np.zeros((H, H, 3), np.uint8)
    truth = np.zeros((H, H), np.uint8)
    for i in range(grid):
        for j in range(grid):
            a, m = render_scene(HELD_OUT_SEED + 700 + i * grid + j, size)
            rgb[i * size:(i + 1) * size, j * size:(j + 1) * size] = a
            truth[i * size:(i + 1) * size, j * size:(j + 1) * size] = m
    tx, ty = tile_of(lon, lat)
    x0, y0 = -HALF + tx * 256 * RES, HALF - ty * 256 * RES
    gt = (x0, RES, 0, y0, 0, -RES)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    ds = gdal.GetDriverByName("GTiff").Create(str(d / "scene.tif"), H, H, 3, gdal.GDT_Byte,
                                              ["TILED=YES"])
    ds.SetGeoTransform(gt)
    ds.SetProjection(srs.ExportToWkt())
    for b in range(3):
        ds.GetRasterBand(b + 1).WriteArray(rgb[:, :, b])
    ds = None
    _write_tiles(d / "xyz", rgb, tx, ty)
    _write_tiles(d / "tms", rgb, tx, ty, tms=True)

    def ll(px, py):
        X, Y = x0 + px * RES, y0 - py * RES
        return [X / R * 180 / math.pi, math.degrees(2 * math.atan(math.exp(Y / R)) - math.pi / 2)]

    ring = [ll(inset, H - inset), ll(H - inset, H - inset), ll(H - inset, inset),
            ll(inset, inset), ll(inset, H - inset)]
    aoi = {"type": "Polygon", "coordinates": [ring]}
    (d / "aoi.geojson").write_text(json.dumps(aoi))
    swapped = {"type": "Polygon", "coordinates": [[[y, x] for x, y in ring][::-1]]}
    (d / "swapped.geojson").write_text(json.dumps(swapped))
    np.save(d / "truth.npy", truth)
    return {"dir": d, "gt": gt, "H": H, "truth": truth, "aoi": aoi, "tx": tx, "ty": ty}


if __name__ == "__main__":
    s = write_pyramid(sys.argv[1], grid=int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    print("%d x %d px at zoom %d, tiles from %d/%d/%d: %s" % (s["H"], s["H"], Z, Z, s["tx"],
                                                              s["ty"], s["dir"]))
