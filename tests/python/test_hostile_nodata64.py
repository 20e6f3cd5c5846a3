"""64-bit nodata (issue 16, point 8).

Int64 / UInt64 nodata values beyond 2^53 do not fit a double: 2^53 + 1
rounds to 2^53 and 2^64 - 1 to 2^64. eoproc reads and writes them with
GDAL's 64-bit nodata calls, so `cog` and `clip` keep the exact value in the
GDAL_NODATA tag, fill the pixels outside the AOI with it, and print nothing
on stderr (GDAL warns "returns an approximate value" when the double getter
is used on such a band). The reference is gdalinfo -json (GDAL's own 64-bit
getters) and GDAL's reading of the pixels."""

import json

import numpy as np
import pytest
from osgeo import gdal, osr

from helpers import gdalinfo_json, run_cli

gdal.UseExceptions()

CASES = [
    ("uint64", 2**64 - 1),
    ("uint64", 2**53 + 1),
    ("int64", -(2**63) + 1),
    ("int64", -(2**53) - 1),
    ("int64", 2**63 - 1),
]


def make(path, dtype, nodata):
    """An 8 x 8 raster of dtype in EPSG:32633 whose first row is nodata."""
    gdt = gdal.GDT_UInt64 if dtype == "uint64" else gdal.GDT_Int64
    ds = gdal.GetDriverByName("GTiff").Create(str(path), 8, 8, 1, gdt)
    ds.SetGeoTransform([500000, 10, 0, 4000080, 0, -10])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    a = np.arange(64, dtype=dtype).reshape(8, 8)
    a[0, :] = nodata
    b = ds.GetRasterBand(1)
    b.WriteArray(a)
    if dtype == "uint64":
        b.SetNoDataValueAsUInt64(nodata)
    else:
        b.SetNoDataValueAsInt64(nodata)
    ds = None
    return a


def tag_nodata(path):
    """The band's nodata as GDAL reads it exactly (gdalinfo uses the 64-bit
    getters; it prints UInt64 values as strings)."""
    v = gdalinfo_json(path)["bands"][0].get("noDataValue")
    return None if v is None else int(v)


@pytest.mark.parametrize("dtype,nodata", CASES)
def test_cog_keeps_64bit_nodata(cli, tmp_path, dtype, nodata):
    src = tmp_path / "src.tif"
    a = make(src, dtype, nodata)
    assert tag_nodata(src) == nodata  # the input is what the test means
    out = tmp_path / "out.tif"
    p = run_cli(cli, "--quiet", "cog", src, out)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert tag_nodata(out) == nodata
    got = gdal.Open(str(out)).ReadAsArray()
    assert got.dtype == np.dtype(dtype)
    assert np.array_equal(got, a)


@pytest.mark.parametrize("dtype,nodata", CASES)
def test_clip_fills_with_exact_64bit_nodata(cli, tmp_path, dtype, nodata):
    src = tmp_path / "src.tif"
    a = make(src, dtype, nodata)
    # the right half of the raster (columns 4..7), kept on the whole extent
    aoi = {"type": "Polygon", "coordinates": [[[500040, 4000000], [500080, 4000000],
                                               [500080, 4000080], [500040, 4000080],
                                               [500040, 4000000]]]}
    out = tmp_path / "clip.tif"
    p = run_cli(cli, "--quiet", "clip", "--no-crop", "--crs", "EPSG:32633", src,
                json.dumps(aoi), out)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    res = json.loads(p.stdout)
    assert res["nodata"] == nodata
    assert tag_nodata(out) == nodata
    got = gdal.Open(str(out)).ReadAsArray()
    want = a.copy()
    want[:, :4] = nodata
    assert got.dtype == np.dtype(dtype)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("dtype,nodata", CASES)
def test_info_reports_exact_64bit_nodata(cli, tmp_path, dtype, nodata):
    src = tmp_path / "src.tif"
    make(src, dtype, nodata)
    p = run_cli(cli, "info", src)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert json.loads(p.stdout)["bands"][0]["nodata"] == nodata
