"""Generate an 8192 x 8192 building mask (uint8, 1 = building, nodata 0)
with about 20,000 buildings: rotated rectangles and L-shapes of 6-40 m on a
0.5 m grid (UTM 33N), with ragged (noisy) edges, as a segmentation model
would give. Usage: make_buildings.py OUT.tif [SIZE] [COUNT] [SEED]"""

import sys

import numpy as np
from osgeo import gdal, osr

out = sys.argv[1]
size = int(sys.argv[2]) if len(sys.argv) > 2 else 8192
count = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 1)

arr = np.zeros((size, size), np.uint8)
cell = size / np.sqrt(count)  # one building per cell, jittered
n = 0
for gy in np.arange(cell / 2, size, cell):
    for gx in np.arange(cell / 2, size, cell):
        if n >= count:
            break
        w, h = rng.uniform(12, 40), rng.uniform(12, 30)  # pixels (0.5 m)
        ang = rng.uniform(0, np.pi)
        cx = gx + rng.uniform(-cell / 6, cell / 6)
        cy = gy + rng.uniform(-cell / 6, cell / 6)
        r = int(np.hypot(w, h) / 2) + 3
        x0, x1 = max(int(cx) - r, 0), min(int(cx) + r, size)
        y0, y1 = max(int(cy) - r, 0), min(int(cy) + r, size)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        dx, dy = xx + 0.5 - cx, yy + 0.5 - cy
        u = dx * np.cos(ang) + dy * np.sin(ang)
        v = -dx * np.sin(ang) + dy * np.cos(ang)
        inside = (np.abs(u) <= w / 2) & (np.abs(v) <= h / 2)
        if rng.random() < 0.4:  # L-shape: cut a corner quadrant
            inside &= ~((u > 0) & (v > 0))
        noise = rng.random(inside.shape) < 0.15
        edge = (np.abs(np.abs(u) - w / 2) < 1) | (np.abs(np.abs(v) - h / 2) < 1)
        inside &= ~(noise & edge)  # ragged edges, no specks outside
        arr[y0:y1, x0:x1] |= inside.astype(np.uint8)
        n += 1

drv = gdal.GetDriverByName("GTiff")
ds = drv.Create(out, size, size, 1, gdal.GDT_Byte, ["TILED=YES", "COMPRESS=DEFLATE"])
ds.SetGeoTransform((500000.0, 0.5, 0.0, 5000000.0, 0.0, -0.5))
srs = osr.SpatialReference()
srs.ImportFromEPSG(32633)
ds.SetProjection(srs.ExportToWkt())
b = ds.GetRasterBand(1)
b.SetNoDataValue(0)
b.WriteArray(arr)
ds = None
print("%s: %d x %d, %d buildings drawn" % (out, size, size, n))
