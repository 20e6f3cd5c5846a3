"""Make a benchmark input: the Landsat 7 scene's bands 3, 2, 1 as RGB uint8,
resampled (cubic) to N x N, plus +-2 of noise so that it does not compress
like a gradient; an uncompressed GeoTIFF with 512 x 512 tiles.

    /usr/bin/python3 bench/make_rgb.py L7_ETMs.tif out.tif N [--square]

--square makes the pixels square (gdalwarp resamples non-square ones).
"""
import sys

import numpy as np
from osgeo import gdal


def main():
    src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    square = "--square" in sys.argv[4:]
    tmp = gdal.Translate("/vsimem/up.tif", src, bandList=[3, 2, 1], width=n, height=n,
                         resampleAlg="cubic")
    out = gdal.GetDriverByName("GTiff").Create(dst, n, n, 3, gdal.GDT_Byte,
                                                ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512"])
    gt = list(tmp.GetGeoTransform())
    if square:
        gt[5] = -gt[1]
    out.SetGeoTransform(gt)
    out.SetProjection(tmp.GetProjection())
    rng = np.random.default_rng(0)
    for b in range(3):
        out.GetRasterBand(b + 1).SetColorInterpretation(gdal.GCI_RedBand + b)
        for y in range(0, n, 1024):
            a = tmp.GetRasterBand(b + 1).ReadAsArray(0, y, n, 1024).astype(np.int16)
            a += rng.integers(-2, 3, a.shape, dtype=np.int16)
            out.GetRasterBand(b + 1).WriteArray(a.clip(0, 255).astype(np.uint8), 0, y)
    out = None
    gdal.Unlink("/vsimem/up.tif")


if __name__ == "__main__":
    main()
