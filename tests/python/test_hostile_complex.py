"""Complex rasters in band math (issue 16, point 7).

index, calc and zonal evaluate on real numbers. A complex band (CInt16,
CInt32, CFloat32, CFloat64) used to be read as its real part alone, a
silent wrong answer; it is refused with a one-line `unsupported` error
naming the file, the band and GDAL's type name, and no output is written.
A real band of the same file next to it is no excuse (the band used
decides), and a real raster of the same values still works (checked
against numpy)."""

import json

import numpy as np
import pytest
from osgeo import gdal, osr

from helpers import assert_cli_error, run_cli

gdal.UseExceptions()


def make(path, types):
    """An 8 x 8 raster in EPSG:32633, one band per GDAL type name in types,
    band k holding (k + 1) * (1 + i) + 3j (the imaginary part dropped for
    real types)."""
    mem = gdal.GetDriverByName("MEM").Create("", 8, 8, 0)
    mem.SetGeoTransform([500000, 10, 0, 4000080, 0, -10])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    mem.SetProjection(srs.ExportToWkt())
    vals = []
    for k, t in enumerate(types):
        mem.AddBand(gdal.GetDataTypeByName(t))
        v = (k + 1) * (1 + np.arange(64, dtype=np.float64).reshape(8, 8))
        a = v + 3j if t.startswith("C") else v
        mem.GetRasterBand(k + 1).WriteArray(a)
        vals.append(v)
    gdal.GetDriverByName("GTiff").CreateCopy(str(path), mem)
    return vals


COMPLEX = ["CInt16", "CInt32", "CFloat32", "CFloat64"]


@pytest.mark.parametrize("ctype", COMPLEX)
def test_calc_refuses_complex(cli, tmp_path, ctype):
    src = tmp_path / "c.tif"
    make(src, [ctype, ctype])
    out = tmp_path / "o.tif"
    p = run_cli(cli, "--quiet", "calc", src, "b1 + b2", out)
    msg = assert_cli_error(p, "unsupported", names=ctype)
    assert "band 1" in msg and str(src) in msg
    assert not out.exists()


@pytest.mark.parametrize("ctype", COMPLEX)
def test_index_refuses_complex_band_used(cli, tmp_path, ctype):
    # band 1 real, band 2 complex (a VRT: GeoTIFF has one type): NDVI reads
    # both, so it is refused and the message names band 2
    make(tmp_path / "r.tif", ["Float32"])
    make(tmp_path / "k.tif", [ctype])
    vrt = gdal.BuildVRT(str(tmp_path / "c.vrt"), [str(tmp_path / "r.tif"), str(tmp_path / "k.tif")],
                        separate=True)
    vrt = None
    src = tmp_path / "c.vrt"
    out = tmp_path / "o.tif"
    p = run_cli(cli, "--quiet", "index", "--bands", "red=1,nir=2", src, "ndvi", out)
    msg = assert_cli_error(p, "unsupported", names=ctype)
    assert "band 2" in msg
    assert not out.exists()
    # the real band alone is fine: calc b1 equals the values GDAL wrote
    p = run_cli(cli, "--quiet", "calc", src, "b1 * 2", out)
    assert p.returncode == 0, p.stderr
    got = gdal.Open(str(out)).ReadAsArray()
    want = 2 * (1 + np.arange(64, dtype=np.float32).reshape(8, 8))
    assert np.array_equal(got, want)


def test_zonal_refuses_complex(cli, tmp_path):
    src = tmp_path / "c.tif"
    make(src, ["CFloat32"])
    aoi = {"type": "Polygon", "coordinates": [[[500000, 4000000], [500080, 4000000],
                                               [500080, 4000080], [500000, 4000080],
                                               [500000, 4000000]]]}
    p = run_cli(cli, "zonal", "--band", "1", "--crs", "EPSG:32633", src, json.dumps(aoi))
    assert_cli_error(p, "unsupported", names="CFloat32")
