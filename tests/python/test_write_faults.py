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
# The detect job's loop runs a job (and resumes it) per N: about 230 N, 10
# minutes on a loaded machine. CI fails every N up to FIRST_EVERY (the making
# of the store) and then every STRIDE-th; EOPROC_FAULT_STRIDE=1 fails every N
# (the exhaustive run: README, Development, "Write faults").
FIRST_EVERY = 24
STRIDE = max(1, int(os.environ.get("EOPROC_FAULT_STRIDE", "10")))


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


@pytest.fixture(scope="module")
def detect_scene(tmp_path_factory, cli):
    """A 512 x 512 zoom-18 XYZ pyramid of a rendered scene (models/synth_pyramid.py),
    its AOI, and the GeoJSON of a detect run without the shim (whose buildings
    test_detect.py checks against the rendered truth)."""
    import sys
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "models"))
    from synth_pyramid import write_pyramid
    d = tmp_path_factory.mktemp("faults_detect")
    s = write_pyramid(d, grid=1, size=512)
    ref = d / "ref.geojson"
    p = subprocess.run([cli, "--quiet", "detect", str(d / "xyz"), str(d / "aoi.geojson"), str(ref),
                        "--zoom", "18", "--partition-tiles", "1"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["partitions"] > 1  # partition-level writes are exercised
    return {"xyz": s["dir"] / "xyz", "aoi": d / "aoi.geojson", "ref": ref.read_bytes()}


def test_detect_job_store(cli, shim, detect_scene, tmp_path):
    """The detect job's SQLite store (and the GeoJSON it ends in) under the
    same loop. A failing run exits with one io.Write line naming the job or
    the output and leaves no output; the job folder holds either nothing or a
    store that `eoproc job resume` completes into the output of a run without
    faults (the job is resumable, not half-written). A run may succeed despite
    its fault only where SQLite itself recovers (a checkpoint at close, whose
    data stays in the write-ahead log): then the output and the store's status
    must still be right."""
    env = dict(os.environ)
    env["LD_PRELOAD"] = (env.get("LD_PRELOAD", "") + " " + shim).strip()
    log = tmp_path / "injected.log"
    env["EOPROC_FAILIO_LOG"] = str(log)
    tolerated = 0
    for n in range(1, MAX_N + 1):
        if n > FIRST_EVERY and (n - FIRST_EVERY) % STRIDE:
            continue
        d = tmp_path / ("n%d" % n)
        d.mkdir()
        job, out = d / "job", d / "o.geojson"
        env["EOPROC_FAILIO_NTH"] = str(n)
        if log.exists():
            log.unlink()
        p = subprocess.run([cli, "--quiet", "detect", str(detect_scene["xyz"]),
                            str(detect_scene["aoi"]), str(out), "--zoom", "18",
                            "--partition-tiles", "1", "--job", str(job)],
                           env=env, capture_output=True, text=True, timeout=300)
        injected = log.read_text().split() if log.exists() else []
        what = "%s failing at call %d" % (injected[0] if injected else "nothing", n)
        if p.returncode == 0:
            assert out.read_bytes() == detect_scene["ref"], what
            st = subprocess.run([cli, "job", "status", str(job)], capture_output=True, text=True)
            assert json.loads(st.stdout)["status"] == "OK", (what, st.stdout)
            if not injected:
                break
            tolerated += 1
            continue
        assert injected, (n, p.stderr)
        err = p.stderr.strip()
        assert "\n" not in err and "Sanitizer" not in err, (what, err)
        assert re.search(r"\[io\.Write\]$", err), (what, err)
        assert ("job %s:" % job) in err or "o.geojson" in err, (what, err)
        assert not out.exists(), what
        left = sorted(os.listdir(job)) if job.exists() else []
        if "job.sqlite" not in left:
            assert left == [], (what, left)  # no half-made store
            continue
        r = subprocess.run([cli, "--quiet", "job", "resume", str(job)], capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, (what, r.stderr)
        assert out.read_bytes() == detect_scene["ref"], what
    else:
        pytest.fail("still failing calls after %d: raise MAX_N" % MAX_N)
    assert n > 100 and tolerated < n // (4 * STRIDE) + 2, (n, tolerated)
