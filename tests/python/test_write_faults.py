"""Write-fault loops: the Nth write, fsync or rename of a command fails as on
a full disk (tests/faults/failio.c, an LD_PRELOAD shim built beside the
library), for every N until the command has no Nth such call. Each failing
run must end with a non-zero status and one line naming the output and the
id io.Write, leave nothing in the output folder, and (in the ASan run, whose
CLI has leak detection on) leak nothing; the run without a fault must write
what the independent reference says (GDAL's read of the input, numpy,
gdal.Polygonize)."""

import json
import os
import pathlib
import re
import subprocess

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

gdal.UseExceptions()
MAX_N = 400


@pytest.fixture(scope="module")
def shim():
    lib = pathlib.Path(os.environ["EOPROC_LIBRARY"]).resolve().parent / "failio.so"
    assert lib.is_file(), "%s is missing: build the tests (EOPROC_TESTS=ON)" % lib
    return str(lib)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A 3-band uint16 raster of 600 x 400 (several COG tiles and an overview)
    and a class raster of 24 x 24 with two classes and a hole."""
    d = tmp_path_factory.mktemp("faults_in")
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32725)
    rng = np.random.default_rng(3)
    img = rng.integers(0, 4000, (3, 400, 600)).astype(np.uint16)
    ds = gdal.GetDriverByName("GTiff").Create(str(d / "img.tif"), 600, 400, 3, gdal.GDT_UInt16)
    ds.SetGeoTransform((500000, 30, 0, 9000000, 0, -30))
    ds.SetProjection(srs.ExportToWkt())
    for b in range(3):
        ds.GetRasterBand(b + 1).WriteArray(img[b])
    ds = None
    cls = np.zeros((24, 24), np.uint8)
    cls[2:8, 2:9] = 1
    cls[12:20, 10:22] = 2
    cls[14:16, 12:14] = 0
    ds = gdal.GetDriverByName("GTiff").Create(str(d / "cls.tif"), 24, 24, 1, gdal.GDT_Byte)
    ds.SetGeoTransform((500000, 10, 0, 9000000, 0, -10))
    ds.SetProjection(srs.ExportToWkt())
    ds.GetRasterBand(1).WriteArray(cls)
    ds = None
    return {"img": d / "img.tif", "imgdata": img, "cls": d / "cls.tif"}


def fault_loop(cli, shim, tmp_path, args, out_name):
    """Run `eoproc ARGS... OUT` failing the Nth call for N = 1, 2, ... until
    a run has no Nth call; returns (the clean run's output path, N)."""
    env = dict(os.environ)
    env["LD_PRELOAD"] = (env.get("LD_PRELOAD", "") + " " + shim).strip()
    log = tmp_path / "injected.log"
    env["EOPROC_FAILIO_LOG"] = str(log)
    for n in range(1, MAX_N + 1):
        out_dir = tmp_path / ("n%d" % n)
        out_dir.mkdir()
        out = out_dir / out_name
        env["EOPROC_FAILIO_NTH"] = str(n)
        if log.exists():
            log.unlink()
        p = subprocess.run([cli, "--quiet", *map(str, args), str(out)], env=env,
                           capture_output=True, text=True, timeout=300)
        injected = log.read_text().split() if log.exists() else []
        if not injected:
            assert p.returncode == 0, (n, p.stderr)
            return out, n
        what = "%s failing at call %d" % (injected[0], n)
        assert p.returncode != 0, "succeeded with %s" % what
        err = p.stderr.strip()
        assert "\n" not in err and "Sanitizer" not in err, (what, err)
        assert re.search(r"\[io\.Write\]$", err) and out_name in err, (what, err)
        assert sorted(os.listdir(out_dir)) == [], (what, os.listdir(out_dir))
    pytest.fail("still failing calls after %d: raise MAX_N" % MAX_N)


def test_cog_writer(cli, shim, small, tmp_path):
    out, n = fault_loop(cli, shim, tmp_path, ["cog", small["img"], "--blocksize", 256],
                        "img_cog.tif")
    assert n > 2  # the loop did fail writes (and the rename) before succeeding
    got = gdal.Open(str(out)).ReadAsArray()
    assert np.array_equal(got, small["imgdata"])


def test_band_math_cog(cli, shim, small, tmp_path):
    out, n = fault_loop(cli, shim, tmp_path, ["calc", small["img"], "b1 - b2"], "diff.tif")
    assert n > 2
    a = small["imgdata"].astype(np.float32)
    assert np.array_equal(gdal.Open(str(out)).ReadAsArray(), a[0] - a[1])


def _gdal_polygons(path):
    """(class, pixels) of each polygon gdal.Polygonize finds (4-connected)."""
    ds = gdal.Open(str(path))
    band = ds.GetRasterBand(1)
    mem = ogr.GetDriverByName("Memory").CreateDataSource("")
    lyr = mem.CreateLayer("p")
    lyr.CreateField(ogr.FieldDefn("class", ogr.OFTInteger))
    gdal.Polygonize(band, None, lyr, 0)
    px = abs(ds.GetGeoTransform()[1] * ds.GetGeoTransform()[5])
    return sorted((f.GetField("class"), round(f.GetGeometryRef().GetArea() / px))
                  for f in lyr)


@pytest.mark.parametrize("ext", ["geojson", "gpkg", "fgb"])
def test_vector_writers(cli, shim, small, tmp_path, ext):
    out, n = fault_loop(cli, shim, tmp_path, ["polygonize", small["cls"],
                                              "--connectivity", 4], "cls." + ext)
    assert n > 2
    ds = ogr.Open(str(out))
    got = sorted((f.GetField("class"), f.GetField("pixels")) for f in ds.GetLayer(0))
    assert got == _gdal_polygons(small["cls"])
