"""eoproc detect (issue 12): building footprints from imagery in one call, run
as a job over partitions.

The scene is rendered here with models/synth_scene.py (held-out seeds the
demo model never saw) as a 1024 x 1024 RGB image on the zoom-18 web-mercator
grid near Moscow, written both as a GeoTIFF and as a {z}/{x}/{y} PNG
pyramid with GDAL. References: the rendered truth mask (IoU, with GDAL's
rasterizer), and the single-pass run for the partitioned ones (the same
features, areas to 1e-9, the same rings after normalising their start).
"""

import json
import os
import pathlib
import random
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import numpy as np
import pytest
from osgeo import gdal, ogr, osr
from scipy import ndimage

import eoproc
from helpers import assert_cli_error, polygon_area_km2, run_cli
from helpers import detect_features as _features
from helpers import same_features as _same_features

gdal.UseExceptions()

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "models"))

from synth_pyramid import write_pyramid  # noqa: E402

INSET = 20  # the AOI inset from the scene's edge (pixels), as write_pyramid draws it


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """1024 x 1024 px at z18: scene.tif, xyz/, tms/, truth, aoi.geojson."""
    return write_pyramid(tmp_path_factory.mktemp("detect"), grid=2, size=512)


@pytest.fixture(scope="module")
def single(scene, cli):
    """The single-pass run on the XYZ pyramid (one partition): result, features."""
    out = scene["dir"] / "single.geojson"
    p = run_cli(cli, "detect", scene["dir"] / "xyz", scene["dir"] / "aoi.geojson", out,
                "--zoom", 18, "--partition-tiles", 0, "--precision", 15)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["status"] == "OK" and res["coverage"] == 1 and res["partitions"] == 1
    return res, _features(out)


def test_partitions_equal_single_pass(scene, single, cli, tmp_path):
    """Several partition sizes, 1 and 2 threads: the single pass's features."""
    src, aoi = scene["dir"] / "xyz", scene["dir"] / "aoi.geojson"
    runs = {}
    for parts, threads in [(1, 1), (2, 2)]:
        out = tmp_path / ("p%d_t%d.geojson" % (parts, threads))
        p = run_cli(cli, "detect", src, aoi, out, "--zoom", 18, "--partition-tiles", parts,
                    "--precision", 15, "--threads", threads)
        assert p.returncode == 0, p.stderr
        runs[parts] = (json.loads(p.stdout), _features(out))
        _same_features(runs[parts][1], single[1])
    assert runs[1][0]["partitions"] == 9 and runs[2][0]["partitions"] == 4
    # features cut by a seam were merged: they come from several partitions
    assert len({f["properties"]["partition"] for f in runs[1][1]}) > 4
    # every model tile on the grid that meets the AOI ran once, whatever the
    # partitions: the tiles on a seam are not run again for the next one
    assert single[0]["model_tiles"] == _grid_tiles(scene)
    for parts in runs:
        assert runs[parts][0]["model_tiles"] == _grid_tiles(scene), parts
    e = eoproc.estimate(src, scene["aoi"], zoom=18, partition_tiles=1)
    assert e["model_tiles"] == _grid_tiles(scene)


def _grid_tiles(scene, tile=512, overlap=64):
    """Tiles at multiples of tile - overlap that meet the AOI (INSET px
    inside the scene), up to the first that reaches the scene's edge."""
    H, step = scene["H"], tile - overlap
    ks = []
    for k in range(H // step + 1):
        if k * step < H - INSET and k * step + tile > INSET:
            ks.append(k)
        if k * step + tile >= H:
            break
    return len(ks) ** 2


def _iou_share(scene, path):
    """Share of truth buildings (away from the AOI's edge) matched at IoU >= 0.5."""
    H = scene["H"]
    ds = gdal.GetDriverByName("MEM").Create("", H, H, 1, gdal.GDT_Int32)
    ds.SetGeoTransform(scene["gt"])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    ds.SetProjection(srs.ExportToWkt())
    v = ogr.Open(str(path))
    gdal.RasterizeLayer(ds, [1], v.GetLayer(), options=["ATTRIBUTE=id"])
    pred = ds.GetRasterBand(1).ReadAsArray()
    lab, n = ndimage.label(scene["truth"])
    m = INSET + 2
    total = ok = 0
    for k, sl in enumerate(ndimage.find_objects(lab), 1):
        if sl[0].start < m or sl[1].start < m or sl[0].stop > H - m or sl[1].stop > H - m:
            continue
        t = lab == k
        best = 0.0
        for i in np.unique(pred[t]):
            if i:
                p = pred == i
                best = max(best, (p & t).sum() / (p | t).sum())
        total += 1
        ok += best >= 0.5
    return ok / total, total


def test_iou_with_only_src_aoi_out_zoom(scene, cli, tmp_path):
    """The README call: nothing but source, AOI, output and zoom."""
    out = tmp_path / "b.geojson"
    p = run_cli(cli, "detect", scene["dir"] / "xyz", scene["dir"] / "aoi.geojson", out,
                "--zoom", 18)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["tiles"]["fetched"] >= 16 and res["tiles"]["missing"] == 0
    share, n = _iou_share(scene, out)
    assert n >= 40 and share >= 0.95, (share, n)
    feats = _features(out)
    props = feats[0]["properties"]
    assert set(props) >= {"id", "class", "class_name", "score", "area_m2", "perimeter_m",
                          "partition"}
    assert all(f["properties"]["class"] != 0 for f in feats)  # no background
    assert all(0.5 <= f["properties"]["score"] <= 1 for f in feats)


@pytest.mark.skipif(" avx512_bf16" not in open("/proc/cpuinfo").read()
                    or os.environ.get("EOPROC_SIMD", "") not in ("", "avx512"),
                    reason="this CPU has no AVX512_BF16 (bf16 runs as fp32)")
def test_iou_bf16_as_good_as_fp32(scene, cli, tmp_path):
    """--model-precision bf16 (--precision is the GeoJSON decimals): footprints match the truth as well as FP32's (issue 18)."""
    shares = {}
    for prec in ("fp32", "bf16"):
        out = tmp_path / (prec + ".geojson")
        p = run_cli(cli, "-v", "detect", scene["dir"] / "xyz", scene["dir"] / "aoi.geojson", out,
                    "--zoom", 18, "--model-precision", prec)
        assert p.returncode == 0, p.stderr
        assert "precision bf16" not in p.stderr  # no fallback warning: BF16 ran
        shares[prec], n = _iou_share(scene, out)
    assert n >= 40 and shares["fp32"] >= 0.95
    assert shares["bf16"] >= shares["fp32"] - 1.0 / n, shares


def test_python_detect_returns_feature_collection(scene, single):
    """One Python call; a host's open tile dataset works as the source."""
    ds = eoproc.open_tiles(scene["dir"] / "xyz", zoom=18, aoi=scene["aoi"])
    r = eoproc.detect(ds, scene["aoi"], partition_tiles=2, precision=15)
    fc = r["geojson"]
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == r["features"]
    _same_features(fc["features"], single[1])


def test_estimate_names_the_tiles_and_partitions(scene, cli):
    e = eoproc.estimate(scene["dir"] / "xyz", scene["aoi"], zoom=18, price_per_km2=2.5,
                        partition_tiles=1)
    cover = eoproc.tiles_cover(scene["aoi"], 18)
    assert e["tiles"] == len(cover["tiles"] if isinstance(cover, dict) else cover)
    assert e["partitions"] == 9
    assert e["aoi_km2"] == pytest.approx(polygon_area_km2(scene["aoi"]["coordinates"]), rel=1e-6)
    assert e["cost"] == pytest.approx(round(e["aoi_km2"] * 2.5, 2))
    assert e["gflop"] > 0 and e["expected_seconds"] > 0
    p = run_cli(cli, "detect", scene["dir"] / "xyz", scene["dir"] / "aoi.geojson", "x.geojson",
                "--zoom", 18, "--estimate")
    assert p.returncode == 0 and json.loads(p.stdout)["partitions"] == 1
    assert not os.path.exists("x.geojson")


def test_tms_folder(scene, cli, tmp_path):
    """tilemapresource.xml: read as TMS by default; forced XYZ names the cause."""
    src, aoi = scene["dir"] / "tms", scene["dir"] / "aoi.geojson"
    p = run_cli(cli, "detect", src, aoi, tmp_path / "t.geojson", "--zoom", 18)
    assert p.returncode == 0, p.stderr
    out = tmp_path / "u.geojson"
    p = run_cli(cli, "detect", src, aoi, out, "--zoom", 18, "--scheme", "xyz")
    msg = assert_cli_error(p, ["source.NoDataInAOI"])
    assert "tilemapresource.xml" in msg and "TMS" in msg and not out.exists()
    p = run_cli(cli, "detect", scene["dir"] / "xyz", aoi, out, "--zoom", 18, "--scheme", "tms")
    assert "--scheme xyz" in assert_cli_error(p, ["source.NoDataInAOI"])


def test_swapped_aoi_names_the_cause(scene, cli, tmp_path):
    out = tmp_path / "s.geojson"
    for src, extra in [(scene["dir"] / "xyz", ["--zoom", 18]), (scene["dir"] / "scene.tif", [])]:
        p = run_cli(cli, "detect", src, scene["dir"] / "swapped.geojson", out, *extra)
        assert "latitude" in assert_cli_error(p, ["source.NoDataInAOI"])
        assert not out.exists()


def test_input_scale_warning(scene):
    r = eoproc.detect(scene["dir"] / "scene.tif", scene["aoi"], scale=1)
    assert any("scale" in w for w in r.get("warnings", [])), r.get("warnings")


@pytest.mark.parametrize(
    "args, ids, names",
    [
        (["--max-area-km2", "0.05"], ["aoi.TooLarge"], "0.05"),
        (["--max-tiles", "3"], ["aoi.TooLarge"], "max_tiles"),
        (["--max-pixel-size", "0.1"], ["source.PixelSizeTooHigh"], "0.100"),
        (["--model", "/nonexistent.onnx"], ["io.NotFound", "io.Read"], "nonexistent"),
        (["--blocks", "simplify=maybe"], ["param.Invalid"], "simplify=maybe"),
        (["--zoom", "40"], ["param.Invalid"], "zoom"),
    ],
)
def test_bad_input_one_line_nothing_left(scene, cli, tmp_path, args, ids, names):
    out = tmp_path / "o.geojson"
    job = tmp_path / "job"
    base = ["--zoom", 18] if "--zoom" not in args else []
    p = run_cli(cli, "detect", scene["dir"] / "xyz", scene["dir"] / "aoi.geojson", out, *base,
                *args, "--job", job)
    assert_cli_error(p, ids, names=names)
    assert not out.exists() and not job.exists()


def test_bad_model_file(scene, cli, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage" * 10)
    out = tmp_path / "o.geojson"
    p = run_cli(cli, "detect", scene["dir"] / "scene.tif", scene["dir"] / "aoi.geojson", out,
                "--model", bad)
    assert_cli_error(p, ["model.Invalid"])
    assert not out.exists()


def _attempts(job):
    with closing(sqlite3.connect(str(job / "job.sqlite"))) as db, db:
        return {i: (s, a) for i, s, a in db.execute("SELECT id, status, attempts FROM partitions")}


def test_kill_and_resume(scene, single, cli, tmp_path):
    """SIGKILL at ten random moments (EOPROC_KILLS), resume each time: the
    clean run's output, and no partition that had finished ran again."""
    src, aoi = scene["dir"] / "xyz", scene["dir"] / "aoi.geojson"
    rng = random.Random(int(os.environ.get("EOPROC_KILL_SEED", "12")))
    kills = int(os.environ.get("EOPROC_KILLS", "10"))
    for k in range(kills):
        job, out = tmp_path / ("job%d" % k), tmp_path / ("o%d.geojson" % k)
        proc = subprocess.Popen([cli, "detect", str(src), str(aoi), str(out), "--zoom", "18",
                                 "--partition-tiles", "1", "--job", str(job), "--quiet",
                                 "--precision", "15"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.15, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if not (job / "job.sqlite").exists():
            continue  # killed before the job was made: nothing to resume
        before = _attempts(job)
        st = json.loads(run_cli(cli, "job", "status", job).stdout)
        assert st["status"] in ("IN_PROGRESS", "OK", "UNPROCESSED")
        p = run_cli(cli, "job", "resume", job)
        assert p.returncode == 0, p.stderr
        after = _attempts(job)
        for i, (s, a) in before.items():
            if s == "OK":
                assert after[i] == (s, a), "partition %d ran again" % i
            assert after[i][0] == "OK"
        _same_features(_features(out), single[1])
        st = json.loads(run_cli(cli, "job", "status", job).stdout)
        assert st["status"] == "OK" and st["percentCompleted"] == 100


def test_corrupt_tile_fails_its_partitions_then_restart(scene, single, cli, tmp_path):
    """One corrupt tile: only the partitions reading it fail, naming it;
    after the fix, restart reruns only those and gives the clean output."""
    import shutil

    src = tmp_path / "xyz"
    shutil.copytree(scene["dir"] / "xyz", src)
    aoi = scene["dir"] / "aoi.geojson"
    # the scene's corner tile: only the partitions whose reads (with their
    # margin of one model tile) reach it may fail
    tile = src / "18" / str(scene["tx"]) / ("%d.png" % scene["ty"])
    good = tile.read_bytes()
    tile.write_bytes(good[:200])  # truncated PNG
    job, out = tmp_path / "job", tmp_path / "o.geojson"
    p = run_cli(cli, "detect", src, aoi, out, "--zoom", 18, "--partition-tiles", 1, "--job", job,
                "--precision", 15)
    msg = assert_cli_error(p, None)
    assert "18/%d/%d" % (scene["tx"], scene["ty"]) in msg or str(tile) in msg, msg
    assert not out.exists()
    st = json.loads(run_cli(cli, "job", "status", job).stdout)
    assert st["status"] == "FAILED"
    failed = {e["partition"] for e in st["errors"]}
    assert 0 < len(failed) < st["partitions"]["total"]
    assert st["partitions"]["done"] == st["partitions"]["total"] - len(failed)
    before = _attempts(job)
    tile.write_bytes(good)
    p = run_cli(cli, "job", "restart", job)
    assert p.returncode == 0, p.stderr
    after = _attempts(job)
    for i, (s, a) in before.items():
        assert after[i] == ("OK", a + 1 if i in failed else a)
    _same_features(_features(out), single[1])


def test_job_api_partition_by_partition(scene, single, tmp_path):
    """What a distributed driver does: run partitions by id, then finalize."""
    job = tmp_path / "job"
    with pytest.raises(eoproc.Error) as e:
        eoproc.Job(job)
    assert e.value.id == "io.NotFound"
    # make the job, cancel it at once from the progress callback
    with pytest.raises(eoproc.Error) as e:
        eoproc.detect(scene["dir"] / "xyz", scene["aoi"], tmp_path / "o.geojson", job=job,
                      zoom=18, partition_tiles=1, precision=15, progress=lambda f, s: True)
    assert e.value.id == "cancelled"
    with eoproc.Job(job) as j:
        parts = j.partitions()
        assert len(parts) == 9
        for p in reversed(parts):
            j.run_partition(p["id"])
        assert j.status()["partitions"]["done"] == 9
        r = j.finalize()
        assert r["features"] > 20 and j.status()["status"] == "OK"
    _same_features(_features(tmp_path / "o.geojson"), single[1])


def test_job_create_never_replaces_and_leaves_nothing(scene, tmp_path):
    """A second create in a folder holding a job is refused naming the job
    and changes nothing there; a create failing at any of the library's
    allocations (eo_exp_fail_alloc, all of them before the store's
    temporary is made) leaves no folder behind, and the first n that gets
    through gives the whole job: the store and its lock, nothing beside."""
    import ctypes
    from eoproc import _lib

    args = (scene["dir"] / "xyz", scene["aoi"])
    opts = dict(zoom=18, partition_tiles=1)
    job = tmp_path / "job"
    eoproc.Job.create(job, *args, tmp_path / "o.geojson", **opts).close()
    before = sorted(os.listdir(job))
    store = (job / "job.sqlite").read_bytes()
    with pytest.raises(eoproc.Error) as e:
        eoproc.Job.create(job, *args, tmp_path / "o2.geojson", **opts)
    assert e.value.id == "state.Invalid" and "already holds a job" in str(e.value)
    assert sorted(os.listdir(job)) == before and (job / "job.sqlite").read_bytes() == store
    fail = _lib.lib.eo_exp_fail_alloc
    fail.restype, fail.argtypes = ctypes.c_int64, [ctypes.c_int64]
    failures = 0
    try:
        for n in range(1, 3000):
            where = tmp_path / ("f%d" % n)
            fail(n)
            try:
                eoproc.Job.create(where, *args, tmp_path / "o3.geojson", **opts).close()
            except eoproc.Error as err:
                fail(0)
                assert err.id == "memory.Exhausted", (n, err.id, str(err))
                assert not where.exists(), (n, os.listdir(where))
                failures += 1
                continue
            fail(0)
            assert sorted(os.listdir(where)) == before, n  # whole, nothing beside it
            break
    finally:
        fail(0)
    assert failures > 10
